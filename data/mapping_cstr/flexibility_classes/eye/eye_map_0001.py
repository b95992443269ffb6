# eye_map_0001: Eyeriss-like row stationary: R output rows per cluster, one output row per PE.
# Flexibility class 0001 (1 = free): ordering fixed, parallelization fixed, array shape fixed, tiling free; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "sp": np.array(["Y"]),
    "order": ["K", "C", "Y", "X", "R", "S"],
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
