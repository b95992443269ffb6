# eye_map_0100: Eyeriss-like row stationary: R output rows per cluster, one output row per PE.
# Flexibility class 0100 (1 = free): ordering fixed, parallelization free, array shape fixed, tiling fixed; the L1 order and tiles stay fixed.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": 1,
    "C": 1,
    "Y": "R",
    "X": "X",
    "R": "R",
    "S": "S",
}
mapping_cstr["L1"] = {
    "sp_sz": "R",
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": "X",
    "S": "S",
}
