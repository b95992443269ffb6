num_pes: 168
l1_size_cstr: 512
l2_size_cstr: 108000
noc_bw_cstr: 64
offchip_bw_cstr: 1000
NoC_NumHops: 1
