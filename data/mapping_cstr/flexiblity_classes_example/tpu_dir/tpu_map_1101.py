# tpu_map_1101: GAMMA's data/mapping_cstr/flexiblity_classes_example/tpu_dir/tpu_map_1101.py constraint, value for value.
# TPU-like systolic array, run on each layer's im2col GEMM (lowered by the file name).
# Flexibility class 1101 (bits: ordering, parallelization, array shape, tiling; 1 = left free).

mapping_cstr = {}
mapping_cstr["L2"] = {
}
mapping_cstr["L1"] = {
    "sp_sz": 16,
    "order": ["K", "C", "Y", "R", "S", "X"],
    "K": 1,
    "C": 1,
    "Y": 1,
    "X": 1,
    "R": 1,
    "S": 1,
}
