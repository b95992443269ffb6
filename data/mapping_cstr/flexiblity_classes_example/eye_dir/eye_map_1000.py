# eye_map_1000: GAMMA's data/mapping_cstr/flexiblity_classes_example/eye_dir/eye_map_1000.py constraint, value for value.
# Eyeriss-like row stationary: Y' across clusters, R and Y' across the PEs of a cluster.
# Flexibility class 1000 (bits: ordering, parallelization, array shape, tiling; 1 = left free).
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "sp": np.array(["Y"]),
    "K": 16,
    "C": 1,
    "Y": 1,
    "X": 1,
    "R": "R",
    "S": "S",
}
mapping_cstr["L1"] = {
    "sp": np.array(["R"]),
    "sp2": np.array(["Y"]),
    "sp_sz": 16,
    "order": ["Y", "R", "S", "X", "K", "C"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": "X",
    "R": 1,
    "S": "S",
}
