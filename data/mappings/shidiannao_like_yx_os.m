// ShiDianNao-like output-stationary dataflow on a ResNet-18 3x3 convolution.
// Output rows Y' are spread over clusters and output columns X' over the PEs of
// a cluster, so every PE keeps one output pixel while C, R and S are reduced
// in place; neighbouring PEs share the overlapping input window.
Network resnet18 {
Layer conv2_x {
Type: CONV
Dimensions { K: 64, C: 64, R: 3, S: 3, Y: 56, X: 56 }
Dataflow {
  TemporalMap(1,1) K;
  SpatialMap(1,1) Y';
  TemporalMap(8,8) X';
  TemporalMap(Sz(R),Sz(R)) R;
  TemporalMap(Sz(S),Sz(S)) S;
  TemporalMap(64,64) C;
  Cluster(8,P);
  SpatialMap(1,1) X';
  TemporalMap(1,1) Y';
  TemporalMap(1,1) C;
  TemporalMap(Sz(R),Sz(R)) R;
  TemporalMap(Sz(S),Sz(S)) S;
}
}
}
