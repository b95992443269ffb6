// NVDLA-like weight-stationary dataflow on a ResNet-18 3x3 convolution (conv2_x).
// Output channels K are spread over clusters of 16 PEs, input channels C over
// the PEs of a cluster; each PE holds a 3x3 filter slice while the input
// window slides over Y and X.
Network resnet18 {
Layer conv2_x {
Type: CONV
Dimensions { K: 64, C: 64, R: 3, S: 3, Y: 56, X: 56 }
Dataflow {
  SpatialMap(1,1) K;
  TemporalMap(16,16) C;
  TemporalMap(Sz(R),Sz(R)) R;
  TemporalMap(Sz(S),Sz(S)) S;
  TemporalMap(Sz(R),1) Y;
  TemporalMap(Sz(S),1) X;
  Cluster(16,P);
  SpatialMap(1,1) C;
  TemporalMap(Sz(R),1) Y;
  TemporalMap(Sz(S),1) X;
  TemporalMap(Sz(R),Sz(R)) R;
  TemporalMap(Sz(S),Sz(S)) S;
}
}
}
