"""Field numbers of the compiled kernel's working arrays (rows of ``row_int`` /
``row_bool``: one column per case-class row; columns of ``call_int``: one row per
level call).  Module-level integers are compile-time constants in numba code."""

# Case-class rows: int64 fields.
R_C, R_WEIGHT, R_KEY, R_PSUMS, R_MACS, R_EGRESS, R_INPUT, R_FILTER = 0, 1, 2, 3, 4, 5, 6, 7
R_IS_EDGE, R_SUB_NORMAL, R_SUB_EE, R_COMPUTE = 8, 9, 10, 11
NUM_ROW_INTS = 12
# Case-class rows: bool fields.
B_EXITS, B_SP_EDGE, B_SP_EE, B_VALID = 0, 1, 2, 3
NUM_ROW_BOOLS = 4
# Level calls: level, rows, runtime, L1 sizes (K_L1 .. K_L1 + 2), error flags,
# state masks over loop positions (:mod:`gamma.costmodel.cases`).
K_LEVEL, K_ROW0, K_ROW1, K_RUNTIME, K_L1 = 0, 1, 2, 3, 4
K_OVERFLOW, K_SILENT = 7, 8
K_HAS_STEADY, K_HAS_EDGE, K_UNROLLED, K_INIT_EDGE, K_EDGE_EE = 9, 10, 11, 12, 13
# The own steps of the earlier directive of a dimension mapped twice (cases.iteration_states).
K_PH_STEADY, K_PH_EDGE, K_PH_WEIGHT = 14, 15, 16
NUM_CALL_INTS = 17
