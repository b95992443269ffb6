# eye_accel: Eyeriss-like hardware.  Rows of PEs are fed by multicast buses
# and do not reduce with each other (K, Y', X' parallel across clusters);
# inside a cluster partial sums are passed along the column (reduce and
# forward), and the scratchpads are fed by a bus, leaving R or S parallel.
accel_cstr = {}
accel_cstr["L2"] = {"inbuffer": "ScratchPad",
                    "outbuffer": "ScratchPad",
                    "weightbuffer": "ScratchPad",
                    "distrNoc": "Bus",
                    "reduceNoc": "Temporal"}
accel_cstr["L1"] = {"inbuffer": "ScratchPad",
                    "outbuffer": "ScratchPad",
                    "weightbuffer": "ScratchPad",
                    "distrNoc": "Bus",
                    "reduceNoc": "ReduceAndFoward"}
