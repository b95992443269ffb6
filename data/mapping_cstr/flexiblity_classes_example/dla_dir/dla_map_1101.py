# dla_map_1101: GAMMA's data/mapping_cstr/flexiblity_classes_example/dla_dir/dla_map_1101.py constraint, value for value.
# NVDLA-like weight stationary: K across clusters, C across the PEs of a cluster.
# Flexibility class 1101 (bits: ordering, parallelization, array shape, tiling; 1 = left free).

mapping_cstr = {}
mapping_cstr["L2"] = {
}
mapping_cstr["L1"] = {
    "sp_sz": 64,
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": "K",
    "C": 1,
    "Y": "R",
    "X": "S",
    "R": "R",
    "S": "S",
}
