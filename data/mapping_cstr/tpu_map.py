# tpu_map: GAMMA's data/mapping_cstr/tpu_map.py constraint, value for value.
# TPU-like systolic array, run on each layer's im2col GEMM (lowered by the file name).
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "sp": np.array(["K"]),
    "order": ["R", "S", "X"],
    "X": 1,
    "R": 1,
    "S": 1,
}
mapping_cstr["L1"] = {
    "sp": np.array(["C"]),
    "sp_sz": 16,
    "order": ["K", "C", "Y", "R", "S", "X"],
    "K": 1,
    "C": 1,
    "Y": 1,
    "X": 1,
    "R": 1,
    "S": 1,
}
