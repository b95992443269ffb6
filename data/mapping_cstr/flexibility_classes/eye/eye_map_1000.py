# eye_map_1000: Eyeriss-like row stationary: R output rows per cluster, one output row per PE.
# Flexibility class 1000 (1 = free): ordering free, parallelization fixed, array shape fixed, tiling fixed; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "sp": np.array(["Y"]),
    "K": 1,
    "C": 1,
    "Y": "R",
    "X": "X",
    "R": "R",
    "S": "S",
}
mapping_cstr["L1"] = {
    "sp": np.array(["R"]),
    "sp2": np.array(["Y"]),
    "sp_sz": "R",
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": "X",
    "S": "S",
}
