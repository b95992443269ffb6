# tpu_gemm_map: TPU-like weight-stationary systolic array.  Every layer is run as
# the GEMM of its im2col lowering (lower_to_gemm); output channels (K) are
# spread over 16-PE columns, the reduction dimension (C = R*S*C) over the PEs
# of a column, one element per PE.
# A variant of GAMMA's tpu_map (which ships, value for value, as tpu_map.py).
import numpy as np

lower_to_gemm = True

mapping_cstr = {}
mapping_cstr["L2"] = {"sp": np.array(["K"])}
mapping_cstr["L1"] = {"sp": np.array(["C"]),
                      "sp_sz": 16,
                      "K": 1,
                      "C": 1,
                      "Y": 1,
                      "X": 1,
                      "R": 1,
                      "S": 1}
