# eyeriss_rs_map: Eyeriss-like row-stationary dataflow.  The outer level spreads
# output rows (Y') over clusters; a cluster of R PEs maps filter rows (R) and
# output rows (Y') in parallel (a 2-D level: sp and sp2).
# A variant of GAMMA's eye_map (which ships, value for value, as eye_map.py).
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {"sp": np.array(["Y"])}
mapping_cstr["L1"] = {"sp": np.array(["R"]),
                      "sp2": np.array(["Y"]),
                      "sp_sz": "R"}
