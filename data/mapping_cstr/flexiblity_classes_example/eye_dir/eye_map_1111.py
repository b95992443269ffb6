# eye_map_1111: GAMMA's data/mapping_cstr/flexiblity_classes_example/eye_dir/eye_map_1111.py constraint, value for value.
# Eyeriss-like row stationary: Y' across clusters, R and Y' across the PEs of a cluster.
# Flexibility class 1111 (bits: ordering, parallelization, array shape, tiling; 1 = left free).

mapping_cstr = {}
mapping_cstr["L2"] = {
}
mapping_cstr["L1"] = {
    "order": ["Y", "R", "S", "X", "K", "C"],
    "K": "K",
    "C": 1,
    "Y": 1,
    "X": "X",
    "R": 1,
    "S": "S",
}
