# tpu_accel: TPU-like systolic array, run on each layer's im2col GEMM
# (lower_to_gemm).  Columns get data systolically and do not reduce with each
# other (K, Y', X' parallel across columns); along a column partial sums are
# reduced and forwarded (C parallel), with FIFO operand buffers.
lower_to_gemm = True

accel_cstr = {}
accel_cstr["L2"] = {"inbuffer": "ScratchPad",
                    "outbuffer": "ScratchPad",
                    "weightbuffer": "ScratchPad",
                    "distrNoc": "Systolic",
                    "reduceNoc": "Temporal"}
accel_cstr["L1"] = {"inbuffer": "FIFO",
                    "outbuffer": "FIFO",
                    "weightbuffer": "FIFO",
                    "distrNoc": "Systolic",
                    "reduceNoc": "ReduceAndFoward"}
