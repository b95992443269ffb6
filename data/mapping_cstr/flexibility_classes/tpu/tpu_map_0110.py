# tpu_map_0110: TPU-like systolic array on the im2col GEMM: K across 16-PE columns, C along a column.
# Flexibility class 0110 (1 = free): ordering fixed, parallelization free, array shape free, tiling fixed; the L1 order and tiles stay fixed.
import numpy as np

lower_to_gemm = True

mapping_cstr = {}
mapping_cstr["L2"] = {
    "order": ["Y", "X", "R", "S", "C", "K"],
    "K": 1,
    "C": "C",
    "Y": 1,
    "X": "X",
    "R": "R",
    "S": "S",
}
mapping_cstr["L1"] = {
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": 1,
    "C": 1,
    "Y": 1,
    "X": "X",
    "R": "R",
    "S": "S",
}
