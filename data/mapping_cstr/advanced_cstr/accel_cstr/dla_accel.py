# dla_accel: GAMMA's data/mapping_cstr/advanced_cstr/accel_cstr/dla_accel.py constraint, value for value.
# NVDLA-like hardware: buffer and NoC kinds per level.
# gamma.plugins.translate_accel turns the kinds into a mapping constraint.

accel_cstr = {}
accel_cstr["L2"] = {
    "distrNoc": "Systolic",
    "inbuffer": "ScratchPad",
    "outbuffer": "ScratchPad",
    "reduceNoc": "Temporal",
    "weightbuffer": "ScratchPad",
}
accel_cstr["L1"] = {
    "distrNoc": "Systolic",
    "inbuffer": "FIFO",
    "outbuffer": "FIFO",
    "reduceNoc": "ReduceAndFoward",
    "weightbuffer": "FIFO",
}
