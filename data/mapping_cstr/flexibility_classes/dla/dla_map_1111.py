# dla_map_1111: NVDLA-like weight stationary: K across clusters, C across the 16 PEs of a cluster.
# Flexibility class 1111 (1 = free): ordering free, parallelization free, array shape free, tiling free; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {}
mapping_cstr["L1"] = {
    "order": ["C", "Y", "X", "R", "S", "K"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": 1,
    "R": "R",
    "S": "S",
}
