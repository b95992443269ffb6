# dla_map_0100: NVDLA-like weight stationary: K across clusters, C across the 16 PEs of a cluster.
# Flexibility class 0100 (1 = free): ordering fixed, parallelization free, array shape fixed, tiling fixed; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "order": ["K", "C", "R", "S", "Y", "X"],
    "K": 1,
    "C": "C",
    "Y": 1,
    "X": 1,
    "R": "R",
    "S": "S",
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
