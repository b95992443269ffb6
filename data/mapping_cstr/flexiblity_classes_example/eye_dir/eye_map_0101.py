# eye_map_0101: GAMMA's data/mapping_cstr/flexiblity_classes_example/eye_dir/eye_map_0101.py constraint, value for value.
# Eyeriss-like row stationary: Y' across clusters, R and Y' across the PEs of a cluster.
# Flexibility class 0101 (bits: ordering, parallelization, array shape, tiling; 1 = left free).

mapping_cstr = {}
mapping_cstr["L2"] = {
    "order": ["Y", "X", "C", "K", "R"],
}
mapping_cstr["L1"] = {
    "sp_sz": 16,
    "order": ["Y", "R", "S", "X", "K", "C"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": "X",
    "R": 1,
    "S": "S",
}
