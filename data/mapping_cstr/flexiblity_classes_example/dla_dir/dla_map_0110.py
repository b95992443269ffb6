# dla_map_0110: GAMMA's data/mapping_cstr/flexiblity_classes_example/dla_dir/dla_map_0110.py constraint, value for value.
# NVDLA-like weight stationary: K across clusters, C across the PEs of a cluster.
# Flexibility class 0110 (bits: ordering, parallelization, array shape, tiling; 1 = left free).

mapping_cstr = {}
mapping_cstr["L2"] = {
    "order": ["K", "C", "Y", "X", "R"],
    "K": 1,
    "C": 64,
    "Y": "R",
    "X": "S",
    "R": "R",
    "S": "S",
}
mapping_cstr["L1"] = {
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": "K",
    "C": 1,
    "Y": "R",
    "X": "S",
    "R": "R",
    "S": "S",
}
