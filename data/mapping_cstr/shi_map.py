# shi_map: ShiDianNao-like output-stationary dataflow.  Output rows (Y') are
# spread over clusters and output columns (X') over the PEs of a cluster; each
# PE keeps one output pixel of one output channel and accumulates it over all
# input channels and the whole filter.
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {"sp": np.array(["Y"])}
mapping_cstr["L1"] = {"sp": np.array(["X"]),
                      "K": 1,
                      "C": "C",
                      "Y": 1,
                      "X": 1,
                      "R": "R",
                      "S": "S"}
