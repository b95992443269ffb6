# eye_accel: GAMMA's data/mapping_cstr/advanced_cstr/accel_cstr/eye_accel.py constraint, value for value.
# Eyeriss-like hardware: buffer and NoC kinds per level.
# gamma.plugins.translate_accel turns the kinds into a mapping constraint.

accel_cstr = {}
accel_cstr["L2"] = {
    "distrNoc": "Bus",
    "inbuffer": "ScratchPad",
    "outbuffer": "ScratchPad",
    "reduceNoc": "ReduceAndFoward",
    "weightbuffer": "ScratchPad",
}
accel_cstr["L1"] = {
    "distrNoc": "Bus",
    "inbuffer": "ScratchPad",
    "outbuffer": "ScratchPad",
    "reduceNoc": "Temporal",
    "weightbuffer": "ScratchPad",
}
