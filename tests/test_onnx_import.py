"""ONNX import: graphs built in code with onnx.helper, layers and MACs checked exactly."""
from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from gamma.errors import GammaInputError  # noqa: E402
from gamma.onnx_import import SkippedOp, import_onnx_to_csv, layers_from_onnx, summarize_skipped  # noqa: E402
from gamma.workload import load_model  # noqa: E402

# ---------------------------------------------------------------------------
# Graph building helpers
# ---------------------------------------------------------------------------

class GraphBuilder:
    """Tiny helper: adds nodes and float initializers, then saves a model."""

    def __init__(self):
        self.nodes = []
        self.inits = []
        self.count = 0

    def fresh(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def weight(self, name, shape):
        self.inits.append(numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name))
        return name

    def ints(self, name, values):
        self.inits.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    def node(self, op, inputs, name=None, **attrs):
        name = name or self.fresh(op.lower())
        out = f"{name}_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def conv(self, x, c_in, c_out, k, stride=1, pad=0, group=1, name=None, **attrs):
        name = name or self.fresh("conv")
        w = self.weight(f"{name}_w", [c_out, c_in // group, k, k])
        kwargs = dict(kernel_shape=[k, k], strides=[stride, stride], group=group, **attrs)
        if "auto_pad" not in attrs:
            kwargs["pads"] = [pad] * 4
        return self.node("Conv", [x, w], name=name, **kwargs)

    def save(self, tmp_path, inputs, output, filename="net.onnx", opset=17):
        graph = helper.make_graph(
            self.nodes, "g", inputs,
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
            initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        path = tmp_path / filename
        onnx.save(model, str(path))
        return path


def image_input(shape, name="input"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def total_macs(layers):
    return sum(layer.macs for layer in layers)


def keys(layers):
    return [layer.shape_key for layer in layers]


# ---------------------------------------------------------------------------
# 1. A small conv net
# ---------------------------------------------------------------------------

def build_small_convnet(tmp_path):
    g = GraphBuilder()
    x = g.conv("input", 3, 16, 3, stride=2, pad=1, name="stem")            # 32 -> 16
    x = g.node("Relu", [x])
    x = g.conv(x, 16, 16, 3, pad=1, group=16, name="depthwise")           # 16 -> 16
    x = g.conv(x, 16, 32, 3, pad=1, group=2, name="grouped")              # 16 -> 16
    x = g.conv(x, 32, 64, 1, name="pointwise")
    x = g.node("GlobalAveragePool", [x])
    x = g.node("Flatten", [x], axis=1)
    w = g.weight("fc_w", [10, 64])
    b = g.weight("fc_b", [10])
    y = g.node("Gemm", [x, w, b], name="fc", transB=1)
    return g.save(tmp_path, [image_input([1, 3, 32, 32])], y)


def test_small_convnet_layers_and_macs(tmp_path):
    layers, skipped = layers_from_onnx(build_small_convnet(tmp_path))
    got = [(layer.name, layer.type, layer.K, layer.C, layer.Y, layer.X, layer.R, layer.S, layer.stride,
            layer.N) for layer in layers]
    assert got == [
        ("stem", "CONV", 16, 3, 34, 34, 3, 3, 2, 1),
        ("depthwise", "DSCONV", 1, 16, 18, 18, 3, 3, 1, 1),
        ("grouped", "CONV", 32, 8, 18, 18, 3, 3, 1, 1),
        ("pointwise", "CONV", 64, 32, 16, 16, 1, 1, 1, 1),
        ("fc", "FC", 10, 64, 1, 1, 1, 1, 1, 1),
    ]
    assert [layer.Yo for layer in layers[:4]] == [16, 16, 16, 16]
    expected = (16 * 3 * 16 * 16 * 9       # stem
                + 16 * 16 * 16 * 9         # depthwise
                + 32 * 8 * 16 * 16 * 9     # grouped, 2 groups of 8 -> 16 channels
                + 64 * 32 * 16 * 16        # pointwise
                + 10 * 64)                 # fc
    assert total_macs(layers) == expected == 1_262_208
    assert [op.op_type for op in skipped] == ["Relu", "GlobalAveragePool", "Flatten"]
    assert summarize_skipped(skipped) == (
        "skipped 3 ops the cost model does not cover: Relu x1, GlobalAveragePool x1, Flatten x1")


def test_summarize_skipped_counts_each_type_once():
    ops = [SkippedOp("a", "Relu"), SkippedOp("b", "Add"), SkippedOp("c", "Relu")]
    assert summarize_skipped(ops) == "skipped 3 ops the cost model does not cover: Relu x2, Add x1"
    assert summarize_skipped([]) == ""


def test_import_onnx_to_csv_round_trips(tmp_path):
    csv_path = tmp_path / "net.csv"
    layers, _ = import_onnx_to_csv(build_small_convnet(tmp_path), csv_path)
    assert keys(load_model(csv_path)) == keys(layers)


@pytest.mark.parametrize("auto_pad, size, k, stride, expected_y", [
    ("SAME_UPPER", 15, 3, 2, 17),   # ceil(15/2)=8 outputs: (8-1)*2+3-15 = 2 padding
    ("SAME_LOWER", 16, 3, 2, 17),   # 8 outputs: 1 padding
    ("SAME_UPPER", 7, 1, 1, 7),
    ("VALID", 15, 3, 2, 15),
])
def test_auto_pad(tmp_path, auto_pad, size, k, stride, expected_y):
    g = GraphBuilder()
    y = g.conv("input", 4, 8, k, stride=stride, auto_pad=auto_pad, name="c")
    layers, _ = layers_from_onnx(g.save(tmp_path, [image_input([1, 4, size, size])], y))
    (layer,) = layers
    assert (layer.Y, layer.X, layer.R, layer.stride) == (expected_y, expected_y, k, stride)
    assert layer.Yo == -(-size // stride) if auto_pad != "VALID" else (size - k) // stride + 1


def test_asymmetric_pads_and_batch(tmp_path):
    g = GraphBuilder()
    w = g.weight("w", [8, 4, 3, 5])
    y = g.node("Conv", ["input", w], name="c", kernel_shape=[3, 5], pads=[0, 1, 2, 3])
    layers, _ = layers_from_onnx(g.save(tmp_path, [image_input([2, 4, 10, 12])], y))
    assert keys(layers) == [("CONV", 8, 4, 12, 16, 3, 5, 1, 2, 1)]
    with pytest.raises(GammaInputError, match="batch N=2"):
        import_onnx_to_csv(tmp_path / "net.onnx", tmp_path / "net.csv")


def test_depthwise_multiplier_gives_one_dsconv_per_multiple(tmp_path):
    g = GraphBuilder()
    y = g.conv("input", 8, 24, 3, pad=1, group=8, name="dw")
    layers, _ = layers_from_onnx(g.save(tmp_path, [image_input([1, 8, 10, 10])], y))
    assert [layer.name for layer in layers] == ["dw#1", "dw#2", "dw#3"]
    assert set(keys(layers)) == {("DSCONV", 1, 8, 12, 12, 3, 3, 1, 1, 1)}
    assert total_macs(layers) == 24 * 1 * 10 * 10 * 9


def test_symbolic_batch_is_one(tmp_path):
    g = GraphBuilder()
    y = g.conv("input", 3, 8, 3, name="c")
    layers, _ = layers_from_onnx(g.save(tmp_path, [image_input(["batch", 3, 9, 9])], y))
    assert keys(layers) == [("CONV", 8, 3, 9, 9, 3, 3, 1, 1, 1)]


def test_dynamic_image_size_needs_input_shapes(tmp_path):
    g = GraphBuilder()
    y = g.conv("input", 3, 8, 3, name="c")
    path = g.save(tmp_path, [image_input(["batch", 3, "h", "w"])], y)
    with pytest.raises(GammaInputError, match=r"net\.onnx: node c: input 'input' has unresolved size"):
        layers_from_onnx(path)
    layers, _ = layers_from_onnx(path, input_shapes={"input": [1, 3, 9, 9]})
    assert keys(layers) == [("CONV", 8, 3, 9, 9, 3, 3, 1, 1, 1)]


# ---------------------------------------------------------------------------
# 2. A transformer block
# ---------------------------------------------------------------------------

def build_transformer_block(tmp_path, batch, seq, d, heads, ffn):
    dk = d // heads
    g = GraphBuilder()
    split = g.ints("split_shape", [batch, seq, heads, dk])
    merge = g.ints("merge_shape", [batch, seq, d])

    q = g.node("MatMul", ["input", g.weight("wq", [d, d])], name="q_proj")
    k = g.node("MatMul", ["input", g.weight("wk", [d, d])], name="k_proj")
    v = g.node("MatMul", ["input", g.weight("wv", [d, d])], name="v_proj")
    q = g.node("Transpose", [g.node("Reshape", [q, split])], perm=[0, 2, 1, 3])   # b,h,s,dk
    k = g.node("Transpose", [g.node("Reshape", [k, split])], perm=[0, 2, 3, 1])   # b,h,dk,s
    v = g.node("Transpose", [g.node("Reshape", [v, split])], perm=[0, 2, 1, 3])   # b,h,s,dk
    scores = g.node("MatMul", [q, k], name="scores")
    probs = g.node("Softmax", [scores], axis=-1)
    ctx = g.node("MatMul", [probs, v], name="context")
    ctx = g.node("Reshape", [g.node("Transpose", [ctx], perm=[0, 2, 1, 3]), merge])
    out = g.node("MatMul", [ctx, g.weight("wo", [d, d])], name="out_proj")
    h = g.node("Add", ["input", out])
    h1 = g.node("MatMul", [h, g.weight("w1", [d, ffn])], name="ffn1")
    h1 = g.node("Relu", [h1])
    h2 = g.node("MatMul", [h1, g.weight("w2", [ffn, d])], name="ffn2")
    y = g.node("Add", [h, h2])
    return g.save(tmp_path, [image_input([batch, seq, d])], y)


@pytest.mark.parametrize("batch", [1, 2])
def test_transformer_block_layers_and_macs(tmp_path, batch):
    seq, d, heads, ffn = 8, 16, 2, 64
    dk = d // heads
    layers, skipped = layers_from_onnx(build_transformer_block(tmp_path, batch, seq, d, heads, ffn))

    def gemm(name, m, k, n):
        return (name, "GEMM", m, k, n)

    got = [(layer.name, layer.type, layer.Y, layer.C, layer.K) for layer in layers]
    bs = batch * seq   # shared weights: the batch folds into M
    per_head = batch * heads
    assert got == (
        [gemm("q_proj", bs, d, d), gemm("k_proj", bs, d, d), gemm("v_proj", bs, d, d)]
        + [gemm(f"scores#{i + 1}", seq, dk, seq) for i in range(per_head)]
        + [gemm(f"context#{i + 1}", seq, seq, dk) for i in range(per_head)]
        + [gemm("out_proj", bs, d, d), gemm("ffn1", bs, d, ffn), gemm("ffn2", bs, ffn, d)])
    for layer in layers:
        assert (layer.X, layer.R, layer.S, layer.N) == (1, 1, 1, 1)
    expected = (batch * (4 * seq * d * d                       # q, k, v, out projections
                         + 2 * heads * seq * dk * seq          # QK^T and scores x V
                         + 2 * seq * d * ffn))                 # FFN
    assert total_macs(layers) == expected
    assert total_macs(layers) == {1: 26_624, 2: 53_248}[batch]
    assert Counter(op.op_type for op in skipped) == Counter(
        {"Reshape": 4, "Transpose": 4, "Softmax": 1, "Add": 2, "Relu": 1})


def test_matmul_shared_left_operand_folds_into_n(tmp_path):
    g = GraphBuilder()
    y = g.node("MatMul", [g.weight("a", [4, 6]), "input"], name="mm")
    layers, _ = layers_from_onnx(g.save(tmp_path, [image_input([3, 6, 5])], y))
    assert [(layer.type, layer.Y, layer.C, layer.K) for layer in layers] == [("GEMM", 4, 6, 15)]
    assert total_macs(layers) == 3 * 4 * 6 * 5


def test_gemm_transposes_and_batch_rows(tmp_path):
    g = GraphBuilder()
    y = g.node("Gemm", ["input", g.weight("b", [7, 5])], name="gemm", transA=1)
    layers, _ = layers_from_onnx(g.save(tmp_path, [image_input([7, 3])], y))
    assert [(layer.type, layer.Y, layer.C, layer.K) for layer in layers] == [("GEMM", 3, 7, 5)]


def test_a_node_beyond_the_size_limits_is_named(tmp_path):
    g = GraphBuilder()
    y = g.node("Gemm", ["input", g.weight("b", [7, 5])], name="huge_rows")
    path = g.save(tmp_path, [image_input([100_000, 7])], y)
    with pytest.raises(GammaInputError) as err:
        layers_from_onnx(path)
    assert str(err.value).startswith(f"{path}: node huge_rows: layer ")
    assert "exceeds the limit 65536" in str(err.value)


# ---------------------------------------------------------------------------
# 3. ResNet-18, hand-built like torchvision's export, against the zoo
# ---------------------------------------------------------------------------

def build_resnet18(tmp_path):
    g = GraphBuilder()

    def conv_bn(x, c_in, c_out, k, stride, pad, relu=True):
        x = g.conv(x, c_in, c_out, k, stride=stride, pad=pad)
        x = g.node("BatchNormalization", [x, g.weight(g.fresh("s"), [c_out]), g.weight(g.fresh("b"), [c_out]),
                                          g.weight(g.fresh("m"), [c_out]), g.weight(g.fresh("v"), [c_out])])
        return g.node("Relu", [x]) if relu else x

    x = conv_bn("input", 3, 64, 7, 2, 3)
    x = g.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c_in = 64
    for c_out, first_stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        for block in range(2):
            stride = first_stride if block == 0 else 1
            out = conv_bn(x, c_in, c_out, 3, stride, 1)
            out = conv_bn(out, c_out, c_out, 3, 1, 1, relu=False)
            shortcut = x
            if stride != 1 or c_in != c_out:
                shortcut = conv_bn(x, c_in, c_out, 1, stride, 0, relu=False)
            x = g.node("Relu", [g.node("Add", [out, shortcut])])
            c_in = c_out
    x = g.node("GlobalAveragePool", [x])
    x = g.node("Flatten", [x], axis=1)
    y = g.node("Gemm", [x, g.weight("fc_w", [1000, 512]), g.weight("fc_b", [1000])], name="fc", transB=1)
    return g.save(tmp_path, [image_input([1, 3, 224, 224])], y, filename="resnet18.onnx")


def _conv(k, c, y, r, stride=1):
    return ("CONV", k, c, y, y, r, r, stride, 1, 1)


#: torchvision ResNet-18 at 224x224, padded input sizes (GAMMA order: conv1,
#: conv2, then the 1x1 downsample of each block).
RESNET18 = (
    [_conv(64, 3, 230, 7, 2)]
    + [_conv(64, 64, 58, 3)] * 4
    + [_conv(128, 64, 58, 3, 2), _conv(128, 128, 30, 3), _conv(128, 64, 56, 1, 2)]
    + [_conv(128, 128, 30, 3)] * 2
    + [_conv(256, 128, 30, 3, 2), _conv(256, 256, 16, 3), _conv(256, 128, 28, 1, 2)]
    + [_conv(256, 256, 16, 3)] * 2
    + [_conv(512, 256, 16, 3, 2), _conv(512, 512, 9, 3), _conv(512, 256, 14, 1, 2)]
    + [_conv(512, 512, 9, 3)] * 2
    + [("FC", 1000, 512, 1, 1, 1, 1, 1, 1, 1)]
)


def test_resnet18_layers(tmp_path):
    layers, skipped = layers_from_onnx(build_resnet18(tmp_path))
    assert keys(layers) == RESNET18
    assert total_macs(layers) == 1_814_073_344   # torchvision's 1.81 GMACs
    counts = Counter(op.op_type for op in skipped)
    assert counts == Counter({"BatchNormalization": 20, "Relu": 17, "Add": 8, "MaxPool": 1,
                              "GlobalAveragePool": 1, "Flatten": 1})


def test_resnet18_matches_the_zoo(tmp_path):
    layers, _ = layers_from_onnx(build_resnet18(tmp_path))
    assert keys(layers) == keys(load_model("resnet18"))


# ---------------------------------------------------------------------------
# 4. Errors
# ---------------------------------------------------------------------------

def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("K,C,Y,X,R,S,T\n64,3,224,224,7,7,1\n")
    with pytest.raises(GammaInputError, match=r"notes\.onnx"):
        layers_from_onnx(path)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(GammaInputError, match=r"empty\.onnx"):
        layers_from_onnx(empty)
    with pytest.raises(GammaInputError, match=r"missing\.onnx: ONNX file does not exist"):
        layers_from_onnx(tmp_path / "missing.onnx")


def test_missing_onnx_package(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "onnx" or m.startswith("onnx.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(GammaInputError, match=r"pip install -e \.\[onnx\]"):
        layers_from_onnx(tmp_path / "net.onnx")


def test_asymmetric_stride_names_the_node(tmp_path):
    g = GraphBuilder()
    w = g.weight("w", [8, 3, 3, 3])
    y = g.node("Conv", ["input", w], name="odd_conv", kernel_shape=[3, 3], strides=[1, 2])
    path = g.save(tmp_path, [image_input([1, 3, 9, 9])], y)
    with pytest.raises(GammaInputError, match=r"net\.onnx: node odd_conv: strides \[1, 2\] differ"):
        layers_from_onnx(path)


def test_dilation_is_refused(tmp_path):
    g = GraphBuilder()
    y = g.conv("input", 3, 8, 3, name="dilated", dilations=[2, 2])
    with pytest.raises(GammaInputError, match=r"node dilated: dilations \[2, 2\]"):
        layers_from_onnx(g.save(tmp_path, [image_input([1, 3, 9, 9])], y))


def test_inconsistent_shapes_are_reported(tmp_path):
    g = GraphBuilder()
    y = g.node("MatMul", ["input", g.weight("w", [5, 4])], name="mm")
    with pytest.raises(GammaInputError, match=r"net\.onnx"):
        layers_from_onnx(g.save(tmp_path, [image_input([2, 3])], y))


def test_graph_without_layers(tmp_path):
    g = GraphBuilder()
    y = g.node("Relu", ["input"])
    with pytest.raises(GammaInputError, match="no Conv, Gemm or MatMul"):
        layers_from_onnx(g.save(tmp_path, [image_input([2, 3])], y))
