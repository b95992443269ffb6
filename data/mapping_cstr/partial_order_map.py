# partial_order_map: a partly constrained accelerator, to show the format.  The
# outer level may parallelise K or Y'; clusters hold 16 PEs that parallelise
# C, one input channel per PE.  The partial order pins the four INNERMOST L1
# loops to Y', X', R, S (K and C take the two outer positions, in any order).
# A variant of GAMMA's example_map (which ships, value for value, as example_map.py).
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {"sp": np.array(["K", "Y"])}
mapping_cstr["L1"] = {"sp": np.array(["C"]),
                      "sp_sz": 16,
                      "order": ["Y", "X", "R", "S"],
                      "C": 1,
                      "R": "R",
                      "S": "S"}
