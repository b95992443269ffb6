"""Read an ONNX network into :class:`~gamma.workload.Layer` objects.

The ``onnx`` package is an optional extra (``pip install -e .[onnx]``); it is
imported only when a model is read.  Shapes come from
``onnx.shape_inference.infer_shapes`` (with data propagation, so ``Reshape``
targets computed from constants resolve), weight shapes from the initializers.

What becomes a layer
--------------------
``Conv`` (and the quantized ``ConvInteger`` / ``QLinearConv``), 2-D or 1-D:

* ``group == 1`` → one ``CONV`` layer, ``K`` = output channels, ``C`` = input
  channels.
* Depthwise, ``group == C_in`` with one input channel per group:

  - ``C_out == C_in`` → one ``DSCONV`` layer (``K = 1``, ``C`` = channels);
  - channel multiplier ``m = C_out / C_in > 1`` → ``m`` identical ``DSCONV``
    layers with ``C = C_in`` (each one is a depthwise pass producing one output
    per input channel; together they compute exactly ``m·C_in·Y'·X'·R·S``
    MACs, and identical shapes are searched once).

* Grouped, ``1 < group < C_in`` → one ``CONV`` layer with ``K`` = all output
  channels and ``C`` = input channels *per group* (``C_in / group``).  Its MACs
  ``K·(C_in/g)·Y'·X'·R·S`` are exactly what the grouped convolution computes
  (this is how the zoo writes ResNeXt-style layers); the cost model sees one
  dense convolution of that size, so input reuse across groups is not modelled.

* Padding is folded into the input size: ``Y = H + pad_top + pad_bottom`` and
  ``X = W + pad_left + pad_right``, from ``pads`` or from ``auto_pad``
  (``SAME_UPPER``/``SAME_LOWER`` pad to ``ceil(H / stride)`` outputs, ``VALID``
  pads nothing).  A 1-D convolution ``[N, C, L]`` becomes ``Y = R = 1``.
* The layer has one stride: different strides along H and W, a dilation other
  than 1 and 3-D convolutions raise :class:`GammaInputError` naming the node
  (they are not skipped, since dropping a convolution would under-report the
  model's cost).
* A batch ``N > 1`` becomes the layer's ``N``.

``Gemm`` (``Y = A'·B'``, honouring ``transA``/``transB``) and ``MatMul`` (and
``MatMulInteger`` / ``QLinearMatMul``) give an ``M x K`` times ``K x N``
product:

* ``M == 1`` (a batch-1 classifier head) → an ``FC`` layer (``K = N``,
  ``C = K``), as GAMMA's model files write fully connected layers; otherwise a
  ``GEMM`` layer (``Y = M``, ``K = N``, ``C = K``).  Both compute ``M·N·K``
  MACs.  A ``Gemm``'s first dimension (usually the batch) is its ``M``.
* MatMul with leading (batch) dimensions, numpy broadcasting, ``B`` products
  in all:

  - right operand 2-D (shared weights, e.g. ``[1, seq, d] x [d, d]``) → one
    layer with the batch folded into ``M := B·M``;
  - left operand without batch but right operand batched → one layer with the
    batch folded into ``N := B·N`` (``A·[B_1 … B_b]``);
  - both batched (attention ``Q·Kᵀ`` and ``scores·V`` per head) → ``B``
    identical GEMM layers of ``M x K x N`` (exactly ``B·M·K·N`` MACs; identical
    shapes are searched once).

Every other node (pooling, elementwise, activations, normalization, reshape,
``ConvTranspose``, control flow, …) is returned as a :class:`SkippedOp`;
:func:`summarize_skipped` turns them into one line.

Shapes: a symbolic or unknown *first* dimension of a graph input is taken as a
batch of 1; any other dimension the shape inference cannot resolve (e.g. a
dynamic image size or sequence length) raises :class:`GammaInputError` naming
the file, the node and the tensor -- pass ``input_shapes`` to fix them.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gamma.errors import GammaInputError
from gamma.workload import Layer, write_model

#: Node types turned into convolution layers, with the input index of X and W.
_CONV_OPS = {"Conv": (0, 1), "ConvInteger": (0, 1), "QLinearConv": (0, 3)}
#: Node types turned into matrix products, with the input index of A and B.
_MATMUL_OPS = {"MatMul": (0, 1), "MatMulInteger": (0, 1), "QLinearMatMul": (0, 3)}

_INSTALL_HINT = "install the onnx extra: pip install -e .[onnx]"


@dataclass(frozen=True)
class SkippedOp:
    """A node that does not become a layer (the cost model does not cover it)."""

    name: str
    op_type: str
    reason: str = ""


def _import_onnx():
    try:
        import onnx
        import onnx.shape_inference
    except ImportError:
        raise GammaInputError(f"reading ONNX models needs the onnx package; {_INSTALL_HINT}") from None
    return onnx


# ---------------------------------------------------------------------------
# Loading and shapes
# ---------------------------------------------------------------------------

def _load(onnx, path: Path, input_shapes):
    if not path.is_file():
        raise GammaInputError(f"{path}: ONNX file does not exist")
    try:
        # Only initializer shapes are needed: leave external weight files alone.
        model = onnx.load(str(path), load_external_data=False)
    except Exception as err:  # protobuf raises several unrelated types
        raise GammaInputError(f"{path}: not a readable ONNX model ({type(err).__name__}: {err})") from None
    if not model.HasField("graph") or not model.opset_import:
        raise GammaInputError(f"{path}: not an ONNX model (no graph or no opset); "
                              "expected a .onnx file exported by a framework")
    _fix_input_shapes(model, path, input_shapes or {})
    # Strict shape inference also checks every standard node against its
    # schema (inputs, attributes, types); onnx.checker is not run since it
    # rejects harmless omissions such as graph outputs without a shape.
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as err:
        raise GammaInputError(f"{path}: invalid ONNX model, shape inference failed: "
                              f"{_one_line(err)}") from None
    return model


def _one_line(err: Exception) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _fix_input_shapes(model, path: Path, input_shapes: dict) -> None:
    """Apply ``input_shapes`` and take a symbolic leading dimension as batch 1."""
    initializers = {init.name for init in model.graph.initializer}
    graph_inputs = {inp.name: inp for inp in model.graph.input if inp.name not in initializers}
    for name in input_shapes:
        if name not in graph_inputs:
            raise GammaInputError(f"{path}: input_shapes names {name!r}, which is not a graph input "
                                  f"(inputs: {', '.join(graph_inputs) or 'none'})")
    for name, inp in graph_inputs.items():
        tensor = inp.type.tensor_type
        if not inp.type.HasField("tensor_type"):
            continue
        if name in input_shapes:
            sizes = [int(v) for v in input_shapes[name]]
            if any(v < 1 for v in sizes):
                raise GammaInputError(f"input_shapes[{name!r}]: sizes must be positive, got {sizes}")
            tensor.shape.ClearField("dim")
            for v in sizes:
                tensor.shape.dim.add().dim_value = v
            continue
        if tensor.HasField("shape") and len(tensor.shape.dim) >= 2:
            first = tensor.shape.dim[0]
            if not first.HasField("dim_value") or first.dim_value < 1:
                first.Clear()
                first.dim_value = 1


class _Shapes:
    """Known tensor shapes by name (``None`` for a dimension not resolved)."""

    def __init__(self, model, path: Path):
        self.path = path
        self.shapes: dict[str, list] = {}
        graph = model.graph
        for info in list(graph.input) + list(graph.value_info) + list(graph.output):
            if info.type.HasField("tensor_type") and info.type.tensor_type.HasField("shape"):
                self.shapes[info.name] = [d.dim_value if d.HasField("dim_value") else None
                                          for d in info.type.tensor_type.shape.dim]
        for init in graph.initializer:
            self.shapes[init.name] = list(init.dims)
        for node in graph.node:
            if node.op_type == "Constant":
                for attr in node.attribute:
                    if attr.name == "value" and attr.HasField("t"):
                        self.shapes[node.output[0]] = list(attr.t.dims)

    def get(self, tensor: str, node_label: str, what: str) -> list[int]:
        shape = self.shapes.get(tensor)
        if shape is None:
            raise GammaInputError(
                f"{self.path}: node {node_label}: the shape of {what} {tensor!r} could not be inferred; "
                "export the model with fixed input sizes (or pass input_shapes)")
        if any(v is None or v < 1 for v in shape):
            shown = "x".join("?" if v is None else str(v) for v in shape)
            raise GammaInputError(
                f"{self.path}: node {node_label}: {what} {tensor!r} has unresolved size {shown}; "
                "export the model with fixed input sizes (or pass input_shapes)")
        return shape

    def maybe(self, tensor: str):
        shape = self.shapes.get(tensor)
        if shape is None or any(v is None or v < 1 for v in shape):
            return None
        return shape


def _attrs(onnx, node) -> dict:
    return {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}


# ---------------------------------------------------------------------------
# Node conversion
# ---------------------------------------------------------------------------

def _conv_layers(onnx, node, label: str, shapes: _Shapes) -> list[Layer]:
    x_index, w_index = _CONV_OPS[node.op_type]
    x_shape = shapes.get(node.input[x_index], label, "input")
    w_shape = shapes.get(node.input[w_index], label, "weight")
    where = f"{shapes.path}: node {label}"
    rank = len(x_shape) - 2
    if rank not in (1, 2):
        raise GammaInputError(f"{where}: only 1-D and 2-D convolutions are supported, "
                              f"got a {rank}-D convolution (input {x_shape})")
    if len(w_shape) != len(x_shape):
        raise GammaInputError(f"{where}: weight shape {w_shape} does not match input shape {x_shape}")
    attrs = _attrs(onnx, node)
    n, c_in = x_shape[0], x_shape[1]
    spatial = list(x_shape[2:])
    c_out, c_per_group = w_shape[0], w_shape[1]
    kernel = list(w_shape[2:])
    group = int(attrs.get("group", 1))
    strides = list(attrs.get("strides", [1] * rank))
    dilations = list(attrs.get("dilations", [1] * rank))
    if len(set(strides)) != 1:
        raise GammaInputError(f"{where}: strides {strides} differ along the axes; a layer has one "
                              "stride for rows and columns")
    if any(d != 1 for d in dilations):
        raise GammaInputError(f"{where}: dilations {dilations} are not supported (only 1)")
    stride = int(strides[0])
    if group < 1 or c_in % group or c_out % group or c_per_group * group != c_in:
        raise GammaInputError(f"{where}: group={group} does not fit {c_in} input channels, "
                              f"{c_out} output channels and weight shape {w_shape}")

    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad in ("", "NOTSET"):
        pads = list(attrs.get("pads", [0] * (2 * rank)))
        padded = [spatial[i] + pads[i] + pads[i + rank] for i in range(rank)]
    elif auto_pad == "VALID":
        padded = spatial
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        padded = []
        for size, k in zip(spatial, kernel, strict=True):
            out = math.ceil(size / stride)
            padded.append(size + max((out - 1) * stride + k - size, 0))
    else:
        raise GammaInputError(f"{where}: unknown auto_pad {auto_pad!r}")

    if rank == 1:
        y, x, r, s = 1, padded[0], 1, kernel[0]
    else:
        (y, x), (r, s) = padded, kernel
    if r > y or s > x:
        raise GammaInputError(f"{where}: kernel {kernel} is larger than the padded input {padded}")

    out_shape = shapes.maybe(node.output[0])
    expected = [(y - r) // stride + 1, (x - s) // stride + 1][-rank:]
    if out_shape is not None and list(out_shape[2:]) != expected:
        raise GammaInputError(f"{where}: output size {out_shape[2:]} does not match the computed "
                              f"{expected} (padded input {padded}, kernel {kernel}, stride {stride})")

    def make(kind, k, c, name):
        return Layer(kind, K=k, C=c, Y=y, X=x, R=r, S=s, stride=stride, N=n, name=name)

    if group == 1:
        return [make("CONV", c_out, c_in, label)]
    if group == c_in and c_per_group == 1:
        multiplier = c_out // c_in
        if multiplier == 1:
            return [make("DSCONV", 1, c_in, label)]
        return [make("DSCONV", 1, c_in, f"{label}#{i + 1}") for i in range(multiplier)]
    return [make("CONV", c_out, c_per_group, label)]


def _product_layer(m: int, k: int, n: int, name: str) -> Layer:
    if m == 1:
        return Layer("FC", K=n, C=k, Y=1, X=1, R=1, S=1, name=name)
    return Layer("GEMM", K=n, C=k, Y=m, X=1, R=1, S=1, name=name)


def _gemm_layers(onnx, node, label: str, shapes: _Shapes) -> list[Layer]:
    a = shapes.get(node.input[0], label, "input A")
    b = shapes.get(node.input[1], label, "input B")
    where = f"{shapes.path}: node {label}"
    if len(a) != 2 or len(b) != 2:
        raise GammaInputError(f"{where}: Gemm inputs must be 2-D, got {a} and {b}")
    attrs = _attrs(onnx, node)
    m, k = (a[1], a[0]) if attrs.get("transA", 0) else (a[0], a[1])
    kb, n = (b[1], b[0]) if attrs.get("transB", 0) else (b[0], b[1])
    if k != kb:
        raise GammaInputError(f"{where}: inner sizes differ ({a} x {b}, transA="
                              f"{attrs.get('transA', 0)}, transB={attrs.get('transB', 0)})")
    return [_product_layer(m, k, n, label)]


def _matmul_layers(node, label: str, shapes: _Shapes) -> list[Layer]:
    a_index, b_index = _MATMUL_OPS[node.op_type]
    a = list(shapes.get(node.input[a_index], label, "input A"))
    b = list(shapes.get(node.input[b_index], label, "input B"))
    where = f"{shapes.path}: node {label}"
    if not a or not b:
        raise GammaInputError(f"{where}: MatMul of a scalar ({a} x {b})")
    if len(a) == 1:
        a = [1] + a
    if len(b) == 1:
        b = b + [1]
    m, k = a[-2:]
    kb, n = b[-2:]
    if k != kb:
        raise GammaInputError(f"{where}: inner sizes differ ({a} x {b})")
    a_batch, b_batch = a[:-2], b[:-2]
    batch = []
    for i in range(1, max(len(a_batch), len(b_batch)) + 1):
        da = a_batch[-i] if i <= len(a_batch) else 1
        db = b_batch[-i] if i <= len(b_batch) else 1
        if da != db and 1 not in (da, db):
            raise GammaInputError(f"{where}: batch dimensions {a_batch} and {b_batch} do not broadcast")
        batch.append(max(da, db))
    count = math.prod(batch)
    a_count, b_count = math.prod(a_batch), math.prod(b_batch)
    if count == 1 or b_count == 1:
        return [_product_layer(count * m, k, n, label)]      # shared right operand: fold into M
    if a_count == 1:
        return [_product_layer(m, k, count * n, label)]      # shared left operand: fold into N
    return [_product_layer(m, k, n, f"{label}#{i + 1}") for i in range(count)]


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def layers_from_onnx(path: str | Path, *, input_shapes: dict[str, list[int]] | None = None
                     ) -> tuple[list[Layer], list[SkippedOp]]:
    """Read an ONNX model and return its layers and the nodes that are not layers.

    Parameters
    ----------
    path : str or Path
        The ``.onnx`` file.
    input_shapes : dict, optional
        Fixed shapes for graph inputs with dynamic sizes, e.g.
        ``{"input": [1, 3, 224, 224]}``.

    Returns
    -------
    (layers, skipped)
        Layers in graph order (named after their nodes; ``name#i`` for a node
        that gives several layers) and one :class:`SkippedOp` per other node.

    Raises
    ------
    GammaInputError
        Naming the file: missing ``onnx`` package, unreadable or invalid file,
        shapes inference could not resolve, unsupported convolutions
        (different strides per axis, dilation, 3-D).
    """
    onnx = _import_onnx()
    path = Path(path)
    model = _load(onnx, path, input_shapes)
    shapes = _Shapes(model, path)
    layers: list[Layer] = []
    skipped: list[SkippedOp] = []
    for index, node in enumerate(model.graph.node):
        label = node.name or f"{node.op_type}_{index}"
        if node.domain not in ("", "ai.onnx"):
            skipped.append(SkippedOp(label, node.op_type, f"custom domain {node.domain}"))
            continue
        try:
            if node.op_type in _CONV_OPS:
                layers.extend(_conv_layers(onnx, node, label, shapes))
            elif node.op_type == "Gemm":
                layers.extend(_gemm_layers(onnx, node, label, shapes))
            elif node.op_type in _MATMUL_OPS:
                layers.extend(_matmul_layers(node, label, shapes))
            else:
                skipped.append(SkippedOp(label, node.op_type))
        except GammaInputError as err:
            if str(err).startswith(str(path)):
                raise
            # A layer the node describes is refused (e.g. beyond the size limits): say which node.
            raise GammaInputError(f"{path}: node {label}: {err}") from None
    if not layers:
        raise GammaInputError(f"{path}: no Conv, Gemm or MatMul nodes; nothing for the cost model "
                              f"({summarize_skipped(skipped) or 'the graph is empty'})")
    return layers, skipped


def summarize_skipped(skipped: list[SkippedOp]) -> str:
    """One line listing each skipped op type once with its count (first-seen order).

    Example: ``"skipped 5 ops the cost model does not cover: Relu x3, MaxPool x1,
    Flatten x1"``.  Returns ``""`` when nothing was skipped.
    """
    if not skipped:
        return ""
    counts = Counter(op.op_type for op in skipped)
    parts = ", ".join(f"{op_type} x{count}" for op_type, count in counts.items())
    noun = "op" if len(skipped) == 1 else "ops"
    return f"skipped {len(skipped)} {noun} the cost model does not cover: {parts}"


def import_onnx_to_csv(onnx_path: str | Path, csv_path: str | Path, *,
                       input_shapes: dict[str, list[int]] | None = None
                       ) -> tuple[list[Layer], list[SkippedOp]]:
    """Read an ONNX model and write its layers as a model file (``K,C,Y,X,R,S,T,stride``).

    The model-file format has no batch column, so a model whose layers have a
    batch ``N > 1`` (convolutions of a batch > 1 export) is refused rather than
    written with the batch silently dropped; GEMM/FC layers carry their batch in
    ``M`` and are always written.

    Returns the layers written and the operators skipped.
    """
    layers, skipped = layers_from_onnx(onnx_path, input_shapes=input_shapes)
    batched = [layer for layer in layers if layer.N > 1]
    if batched:
        raise GammaInputError(
            f"{onnx_path}: layer {batched[0].name!r} has batch N={batched[0].N}, which a model file "
            "cannot hold; export the model with batch 1 (or pass input_shapes)")
    write_model(csv_path, layers)
    return layers, skipped
