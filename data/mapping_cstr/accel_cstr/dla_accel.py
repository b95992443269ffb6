# dla_accel: NVDLA-like hardware.  Clusters receive inputs over a bus and
# never reduce with each other (so K, Y', X' may be parallel across clusters);
# inside a cluster the MACs are fed by FIFOs and reduce over an adder tree
# (so C, R or S are parallel, and the Y'/X' tiles follow the filter size).
accel_cstr = {}
accel_cstr["L2"] = {"inbuffer": "ScratchPad",
                    "outbuffer": "ScratchPad",
                    "weightbuffer": "ScratchPad",
                    "distrNoc": "Bus",
                    "reduceNoc": "Temporal"}
accel_cstr["L1"] = {"inbuffer": "FIFO",
                    "outbuffer": "FIFO",
                    "weightbuffer": "FIFO",
                    "distrNoc": "Systolic",
                    "reduceNoc": "AdderTree"}
