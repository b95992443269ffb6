# dla_map_0001: NVDLA-like weight stationary: K across clusters, C across the 16 PEs of a cluster.
# Flexibility class 0001 (1 = free): ordering fixed, parallelization fixed, array shape fixed, tiling free; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "sp": np.array(["K"]),
    "order": ["K", "C", "R", "S", "Y", "X"],
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
