# eye_map_1011: Eyeriss-like row stationary: R output rows per cluster, one output row per PE.
# Flexibility class 1011 (1 = free): ordering free, parallelization fixed, array shape free, tiling free; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "sp": np.array(["Y"]),
}
mapping_cstr["L1"] = {
    "sp": np.array(["R"]),
    "sp2": np.array(["Y"]),
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": "X",
    "S": "S",
}
