// Eyeriss-like row-stationary dataflow on a ResNet-18 3x3 convolution.
// Each cluster of 3 PEs computes one output row: PE r keeps filter row r
// stationary and reads input row y + r, the three partial rows being summed
// across the cluster.  Clusters work on different output rows.
Network resnet18 {
Layer conv2_x {
Type: CONV
Dimensions { K: 64, C: 64, R: 3, S: 3, Y: 56, X: 56 }
Dataflow {
  TemporalMap(4,4) K;
  TemporalMap(4,4) C;
  SpatialMap(1,1) Y';
  TemporalMap(Sz(S),1) X;
  TemporalMap(Sz(R),Sz(R)) R;
  TemporalMap(Sz(S),Sz(S)) S;
  Cluster(3,P);
  TemporalMap(1,1) K;
  TemporalMap(1,1) C;
  SpatialMap(1,1) R;
  TemporalMap(Sz(R),Sz(R)) Y;
  TemporalMap(Sz(S),1) X;
  TemporalMap(Sz(S),Sz(S)) S;
}
}
}
