# nvdla_ws_map: NVDLA-like weight-stationary dataflow.  The outer level spreads
# output channels (K) over clusters; each cluster is a 16-MAC cell that
# spreads input channels (C) over its PEs (one weight per PE) and reduces
# them, with a fixed loop order.  Each step covers one output pixel (Y' = X' = 1),
# i.e. an R x S input window sliding by the stride: GAMMA's "Y": "R" / "X": "S"
# name that input window, and MAESTRO's NVDLA-style dataflow writes it as
# TemporalMap(Sz(R),1) Y.  An R x S output tile would read (2R-1) x (2S-1)
# inputs, and on strided layers MAESTRO cannot analyse it exactly.
# A variant of GAMMA's dla_map (which ships, value for value, as dla_map.py).
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {"sp": np.array(["K"])}
mapping_cstr["L1"] = {"sp": np.array(["C"]),
                      "sp_sz": 16,
                      "order": ["C", "Y", "X", "R", "S", "K"],
                      "K": "K",
                      "C": 1,
                      "Y": 1,
                      "X": 1,
                      "R": "R",
                      "S": "S"}
