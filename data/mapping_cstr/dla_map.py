# dla_map: NVDLA-like weight-stationary dataflow.  The outer level spreads
# output channels (K) over clusters; each cluster is a 16-MAC cell that
# spreads input channels (C) over its PEs (one weight per PE) and reduces
# them, with a fixed loop order and R x S output-pixel tiles.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {"sp": np.array(["K"])}
mapping_cstr["L1"] = {"sp": np.array(["C"]),
                      "sp_sz": 16,
                      "order": ["C", "Y", "X", "R", "S", "K"],
                      "K": "K",
                      "C": 1,
                      "Y": "R",
                      "X": "S",
                      "R": "R",
                      "S": "S"}
