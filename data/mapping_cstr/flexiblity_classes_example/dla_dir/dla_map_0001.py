# dla_map_0001: GAMMA's data/mapping_cstr/flexiblity_classes_example/dla_dir/dla_map_0001.py constraint, value for value.
# NVDLA-like weight stationary: K across clusters, C across the PEs of a cluster.
# Flexibility class 0001 (bits: ordering, parallelization, array shape, tiling; 1 = left free).
import numpy as np

mapping_cstr = {}
mapping_cstr["L2"] = {
    "sp": np.array(["K"]),
    "order": ["K", "C", "Y", "X", "R"],
}
mapping_cstr["L1"] = {
    "sp": np.array(["C"]),
    "sp_sz": 64,
    "order": ["K", "C", "Y", "X", "R", "S"],
    "K": "K",
    "C": 1,
    "Y": "R",
    "X": "S",
    "R": "R",
    "S": "S",
}
