# tpu_map_0011: TPU-like systolic array on the im2col GEMM: K across 16-PE columns, C along a column.
# Flexibility class 0011 (1 = free): ordering fixed, parallelization fixed, array shape free, tiling free; the L1 order and tiles stay fixed.
import numpy as np

lower_to_gemm = True

mapping_cstr = {}
mapping_cstr["L2"] = {
    "sp": np.array(["K"]),
    "order": ["Y", "X", "R", "S", "C", "K"],
}
mapping_cstr["L1"] = {
    "sp": np.array(["C"]),
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": 1,
    "C": 1,
    "Y": 1,
    "X": "X",
    "R": "R",
    "S": "S",
}
