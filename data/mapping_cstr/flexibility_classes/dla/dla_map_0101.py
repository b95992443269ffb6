# dla_map_0101: NVDLA-like weight stationary: K across clusters, C across the 16 PEs of a cluster.
# Flexibility class 0101 (1 = free): ordering fixed, parallelization free, array shape fixed, tiling free; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "order": ["K", "C", "R", "S", "Y", "X"],
}
mapping_cstr["L1"] = {
    "sp_sz": 16,
    "order": ["C", "Y", "X", "R", "S", "K"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": 1,
    "R": "R",
    "S": "S",
}
