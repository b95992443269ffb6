# dla_map_1000: NVDLA-like weight stationary: K across clusters, C across the 16 PEs of a cluster.
# Flexibility class 1000 (1 = free): ordering free, parallelization fixed, array shape fixed, tiling fixed; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "sp": np.array(["K"]),
    "K": 1,
    "C": "C",
    "Y": 1,
    "X": 1,
    "R": "R",
    "S": "S",
}
mapping_cstr["L1"] = {
    "sp": np.array(["C"]),
    "sp_sz": 16,
    "order": ["C", "Y", "X", "R", "S", "K"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": 1,
    "R": "R",
    "S": "S",
}
