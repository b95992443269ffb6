# eye_map_0111: Eyeriss-like row stationary: R output rows per cluster, one output row per PE.
# Flexibility class 0111 (1 = free): ordering fixed, parallelization free, array shape free, tiling free; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "order": ["K", "C", "Y", "X", "R", "S"],
}
mapping_cstr["L1"] = {
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": "X",
    "S": "S",
}
