"""The shipped model zoo (``data/model/*.csv``).

Every convolutional model is the torchvision architecture at a 224x224 input
and batch 1, each layer with its true stride and its *padded* input size
(``Y = H + 2*pad``), so that ``(Y - R) // stride + 1`` is the true output size.
GAMMA's own files lacked both (ResNet-18's stride-2 convolutions were listed
as stride-1 ones on the larger input), and its ``resnext50_32x4d.csv`` was a
copy of ``wide_resnet50.csv``.

Choices the file format forces:

* Grouped convolutions that are not depthwise (ResNeXt-50 32x4d's 3x3 convs,
  groups=32) are written as ONE CONV row with ``K`` = all output channels and
  ``C`` = input channels per group (``width // 32``).  That row computes
  exactly the true MACs, ``K * (C_in / g) * Y' * X' * R * S``; repeating a
  per-group CONV row g times would give the same MACs with 32 times the rows.
* Depthwise convolutions (MobileNetV2, MnasNet, ShuffleNetV2) are DSCONV rows
  with ``K = 1`` and the channels in ``C``.
* Multi-head attention in ``transformer.csv`` is a batch of per-head GEMMs,
  which a GEMM row cannot hold; by the same rule as grouped convolutions the
  heads sit side by side in ``N`` while the reduction ``K`` stays per head:
  ``Q K^T`` is ``M=L, N=h*L, K=d_k`` and ``softmax(.) V`` is ``M=L, N=h*d_k,
  K=L``.  Both give the true MACs.
* Classifier layers are FC rows (T=0); SqueezeNet's classifier is a 1x1 conv.

Model choices: ``squeezenet`` is SqueezeNet 1.0 (7x7 stem, the paper's
network; torchvision ``squeezenet1_0``); ``googlenet`` is torchvision's
GoogLeNet (Inception v1) without the auxiliary classifiers (inference), whose
third inception branch uses a 3x3 convolution where the paper has 5x5 (the
5x5 version is 1.58 GMACs); ``densenet`` is DenseNet-121 (GAMMA's 160-row
file matches DenseNet-161's layer count); ``mnasnet`` is ``mnasnet1_0``;
``shufflenet_v2`` is the 1.0x model.  ``transformer`` is the base model of
"Attention is all you need" (d_model 512, 8 heads, d_ff 2048, 6 encoder and
6 decoder layers) at source and target length 512, every projection,
attention and FFN GEMM of the 12 layers (8 per encoder layer, 14 per decoder
layer: 132 rows; GAMMA's had 96, i.e. 12 encoder-like layers), without the
embedding and the final vocabulary projection.  The six small GEMM/FC files
keep GAMMA's shapes verbatim, with a stride column of 1.
"""
from collections import Counter

import pytest

from gamma.workload import MODEL_DIR, available_models, load_model

#: name -> (layers, {type: count}, published MACs, tolerance, what the figure counts)
ZOO = {
    "alexnet": (8, {"CONV": 5, "FC": 3}, 0.714e9, 0.02,
                "torchvision model card 0.71 'GFLOPS' (conv + linear multiply-adds)"),
    "vgg16": (16, {"CONV": 13, "FC": 3}, 15.47e9, 0.02,
              "torchvision 15.47; VGG paper's 15.5 G multiply-adds"),
    "resnet18": (21, {"CONV": 20, "FC": 1}, 1.81e9, 0.02,
                 "torchvision 1.81; ResNet paper's 1.8 G FLOPs (multiply-adds)"),
    "resnet50": (54, {"CONV": 53, "FC": 1}, 4.09e9, 0.02,
                 "torchvision 4.09 (v1.5, stride in the 3x3); paper's 3.8 G is v1"),
    "wide_resnet50": (54, {"CONV": 53, "FC": 1}, 11.40e9, 0.02, "torchvision wide_resnet50_2 11.40"),
    "resnext50_32x4d": (54, {"CONV": 53, "FC": 1}, 4.23e9, 0.02,
                        "torchvision 4.23; ResNeXt paper's 4.2 G FLOPs (multiply-adds)"),
    "mobilenet_v2": (53, {"CONV": 35, "DSCONV": 17, "FC": 1}, 300e6, 0.02,
                     "MobileNetV2 paper 300 M multiply-adds; torchvision 0.30"),
    "mnasnet": (53, {"CONV": 35, "DSCONV": 17, "FC": 1}, 315e6, 0.03,
                "torchvision mnasnet1_0 0.31; MnasNet paper 312-315 M multiply-adds"),
    "shufflenet_v2": (57, {"CONV": 37, "DSCONV": 19, "FC": 1}, 146e6, 0.02,
                      "ShuffleNetV2 paper 1.0x 146 M FLOPs (multiply-adds); torchvision 0.14"),
    "squeezenet": (26, {"CONV": 26}, 0.82e9, 0.02, "torchvision squeezenet1_0 0.82"),
    "googlenet": (58, {"CONV": 57, "FC": 1}, 1.50e9, 0.02,
                  "torchvision 1.50; Inception v1 paper ~1.5 G multiply-adds"),
    "densenet": (121, {"CONV": 120, "FC": 1}, 2.83e9, 0.03,
                 "torchvision densenet121 2.83; often quoted as 2.9"),
}

#: Transformer base: 6 encoder + 6 decoder layers at L = 512.
L, D, H, DK, DFF = 512, 512, 8, 64, 2048
ENC_MACS = 4 * L * D * D + 2 * L * L * D + 2 * L * D * DFF
DEC_MACS = 8 * L * D * D + 4 * L * L * D + 2 * L * D * DFF

#: The six small GEMM/FC files, GAMMA's shapes as (M, N, K) or (O, I).
SMALL = {
    "BERT_m": ("GEMM", [(512, 768, 768), (512, 64, 512), (64, 512, 512), (512, 768, 768),
                        (512, 768, 3072), (512, 3072, 768)]),
    "ALBERT_m": ("GEMM", [(512, 4096, 4096), (512, 64, 512), (64, 512, 512),
                          (512, 4096, 16384), (512, 16384, 4096)]),
    "T5_m": ("GEMM", [(512, 512, 512), (512, 64, 512), (64, 512, 512), (512, 512, 512),
                      (512, 512, 2048), (512, 2048, 512)]),
    "dlrmRMC1_m": ("FC", [(256, 256), (128, 256), (32, 128), (256, 256), (64, 256), (1, 64)]),
    "ncf_m": ("FC", [(256, 128), (128, 64), (256, 256), (256, 256), (256, 256), (128, 256),
                     (256, 128), (128, 64), (64, 128), (128, 2048), (2048, 128), (2048, 128)]),
}

ALL = sorted([*ZOO, "transformer", *SMALL, "example"])


def convs(name):
    return [layer for layer in load_model(name) if layer.type in ("CONV", "DSCONV")]


def macs(name):
    return sum(layer.macs for layer in load_model(name))


# ---------------------------------------------------------------- every file
@pytest.mark.parametrize("name", ALL)
def test_loads_with_exact_header(name):
    text = (MODEL_DIR / f"{name}.csv").read_text()
    assert text.splitlines()[0] == "K,C,Y,X,R,S,T,stride"
    assert all(len(line.split(",")) == 8 for line in text.splitlines() if line)
    assert load_model(name)
    assert name in available_models()


@pytest.mark.parametrize("name", sorted(ZOO))
def test_conv_rows_are_consistent(name):
    for layer in convs(name):
        assert layer.Y == layer.X and layer.R == layer.S
        assert layer.Yo >= 1
        if layer.type == "DSCONV":
            assert layer.K == 1


# ----------------------------------------------------- counts and MAC totals
@pytest.mark.parametrize("name", sorted(ZOO))
def test_layer_counts(name):
    n_layers, types, *_ = ZOO[name]
    layers = load_model(name)
    assert len(layers) == n_layers
    assert dict(Counter(layer.type for layer in layers)) == types


@pytest.mark.parametrize("name", sorted(ZOO))
def test_total_macs_match_published(name):
    _, _, published, tolerance, _what = ZOO[name]
    assert macs(name) == pytest.approx(published, rel=tolerance)


def test_exact_totals():
    """The totals the files give today, to catch any accidental edit."""
    assert macs("resnet18") == 1_814_073_344
    assert macs("resnet50") == 4_089_184_256
    assert macs("vgg16") == 15_470_264_320
    assert macs("alexnet") == 714_188_480
    assert macs("mobilenet_v2") == 300_774_272


def test_squeezenet_is_version_1_0():
    first = load_model("squeezenet")[0]
    assert (first.K, first.C, first.R, first.stride, first.Yo) == (96, 3, 7, 2, 109)
    last = load_model("squeezenet")[-1]
    assert (last.type, last.K, last.C, last.Y, last.R) == ("CONV", 1000, 512, 13, 1)


# ---------------------------------------------------------------- strides
def test_resnet18_strides():
    layers = load_model("resnet18")
    first = layers[0]
    assert (first.K, first.C, first.Y, first.R, first.stride, first.Yo) == (64, 3, 230, 7, 2, 112)
    strided = [(layer.K, layer.C, layer.Y, layer.R, layer.Yo) for layer in layers if layer.stride == 2]
    assert strided == [
        (64, 3, 230, 7, 112),
        (128, 64, 58, 3, 28), (128, 64, 56, 1, 28),
        (256, 128, 30, 3, 14), (256, 128, 28, 1, 14),
        (512, 256, 16, 3, 7), (512, 256, 14, 1, 7),
    ]
    # Every 3x3 conv is padded by one on each side.
    for layer in layers:
        if layer.R == 3:
            assert layer.Y in (58, 30, 16, 9)
    assert layers[-1].type == "FC" and (layers[-1].K, layers[-1].C) == (1000, 512)


@pytest.mark.parametrize("name", ["resnet50", "wide_resnet50", "resnext50_32x4d"])
def test_bottleneck_strides(name):
    layers = load_model(name)
    strided = [layer for layer in layers if layer.stride == 2]
    # stem + (3x3 and 1x1 downsample) in layers 2, 3, 4 (torchvision v1.5)
    assert len(strided) == 7
    assert [layer.R for layer in strided] == [7, 3, 1, 3, 1, 3, 1]
    assert [layer.Yo for layer in strided] == [112, 28, 28, 14, 14, 7, 7]
    assert layers[-1].type == "FC" and (layers[-1].K, layers[-1].C) == (1000, 2048)


def test_mobilenet_v2_strided_depthwise():
    layers = load_model("mobilenet_v2")
    assert (layers[0].type, layers[0].Y, layers[0].stride, layers[0].Yo) == ("CONV", 226, 2, 112)
    dw_strided = [(layer.C, layer.Y, layer.Yo) for layer in layers
                  if layer.type == "DSCONV" and layer.stride == 2]
    assert dw_strided == [(96, 114, 56), (144, 58, 28), (192, 30, 14), (576, 16, 7)]
    assert all(layer.stride == 1 for layer in layers if layer.type == "CONV" and layer.R == 1)
    assert layers[-2].K == 1280 and layers[-2].Y == 7


def test_mnasnet_kernels_and_strides():
    dws = [layer for layer in load_model("mnasnet") if layer.type == "DSCONV"]
    assert Counter(layer.R for layer in dws) == {3: 7, 5: 10}
    assert [(layer.C, layer.R, layer.Yo) for layer in dws if layer.stride == 2] == [
        (48, 3, 56), (72, 5, 28), (240, 5, 14), (576, 5, 7)]


def test_shufflenet_v2_strided_depthwise():
    layers = load_model("shufflenet_v2")
    dw_strided = [(layer.C, layer.Y, layer.Yo) for layer in layers
                  if layer.type == "DSCONV" and layer.stride == 2]
    # Each downsampling unit has two stride-2 depthwise convs (both branches).
    assert dw_strided == [(24, 58, 28), (58, 58, 28), (116, 30, 14), (116, 30, 14),
                          (232, 16, 7), (232, 16, 7)]


def test_alexnet_and_vgg16():
    alex = load_model("alexnet")
    assert (alex[0].Y, alex[0].R, alex[0].stride, alex[0].Yo) == (228, 11, 4, 55)
    assert [layer.Yo for layer in alex[:5]] == [55, 27, 13, 13, 13]
    assert [(layer.K, layer.C) for layer in alex[5:]] == [(4096, 9216), (4096, 4096), (1000, 4096)]
    vgg = load_model("vgg16")
    assert all(layer.stride == 1 and layer.Yo == layer.Y - 2 for layer in vgg[:13])
    assert [(layer.K, layer.C) for layer in vgg[13:]] == [(4096, 25088), (4096, 4096), (1000, 4096)]


def test_googlenet_and_densenet_shapes():
    goog = load_model("googlenet")
    assert (goog[0].Y, goog[0].stride, goog[0].Yo) == (230, 2, 112)
    assert sum(1 for layer in goog if layer.stride != 1) == 1
    dense = load_model("densenet")
    growth = [layer for layer in dense if layer.R == 3]
    assert len(growth) == 58 and all(layer.K == 32 and layer.C == 128 for layer in growth)
    # A transition (1x1 conv halving the channels) after 6, 12 and 24 dense layers.
    transitions = [(layer.K, layer.C, layer.Y) for layer in (dense[13], dense[38], dense[87])]
    assert transitions == [(128, 256, 56), (256, 512, 28), (512, 1024, 14)]
    assert [layer.Y for layer in (dense[14], dense[39], dense[88])] == [28, 14, 7]


# ------------------------------------------------------------ grouped convs
def test_resnext_differs_from_wide_resnet_only_in_grouped_convs():
    wide, rx = load_model("wide_resnet50"), load_model("resnext50_32x4d")
    assert wide != rx
    differing = [(w, x) for w, x in zip(wide, rx, strict=True) if w.shape_key != x.shape_key]
    assert len(differing) == 16  # one grouped 3x3 per bottleneck
    for w, x in differing:
        assert (w.R, x.R) == (3, 3) and w.K == x.K and x.C == w.C // 32
        assert x.macs * 32 == w.macs
    assert macs("wide_resnet50") > 2.5 * macs("resnext50_32x4d")


# -------------------------------------------------------------- GEMM / FC
def test_transformer():
    layers = load_model("transformer")
    assert len(layers) == 6 * 8 + 6 * 14
    assert all(layer.type == "GEMM" for layer in layers)
    assert macs("transformer") == 6 * ENC_MACS + 6 * DEC_MACS
    encoder = [(layer.Y, layer.K, layer.C) for layer in layers[:8]]  # (M, N, K)
    assert encoder == [(L, D, D)] * 3 + [(L, H * L, DK), (L, H * DK, L), (L, D, D),
                                         (L, DFF, D), (L, D, DFF)]
    ffn_in = [layer for layer in layers if (layer.Y, layer.K, layer.C) == (L, DFF, D)]
    assert len(ffn_in) == 12


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_gemm_and_fc_files_decode(name):
    kind, shapes = SMALL[name]
    layers = load_model(name)
    assert all(layer.type == kind and layer.stride == 1 for layer in layers)
    if kind == "GEMM":
        assert [(layer.Y, layer.K, layer.C) for layer in layers] == shapes
        assert [layer.describe() for layer in layers][0] == "GEMM M{} N{} K{}".format(*shapes[0])
        assert [layer.macs for layer in layers] == [m * n * k for m, n, k in shapes]
    else:
        assert [(layer.K, layer.C) for layer in layers] == shapes
        assert [layer.macs for layer in layers] == [o * i for o, i in shapes]


def test_bert_gemm_rows_written_back_unchanged():
    text = (MODEL_DIR / "BERT_m.csv").read_text().splitlines()
    rows = [[int(v) for v in line.split(",")] for line in text[1:] if line]
    assert [layer.to_gamma_row() for layer in load_model("BERT_m")] == rows


def test_example():
    layers = load_model("example")
    assert [layer.type for layer in layers] == ["CONV", "CONV", "DSCONV"]
    assert [layer.stride for layer in layers] == [1, 2, 1]
    assert [layer.Yo for layer in layers] == [32, 16, 16]
    assert layers[1].C == layers[0].K and layers[2].C == layers[1].K
