"""The layer graph of a model: layers in dependency order and the tensors between them.

A model file (CSV) is a chain: layer ``i`` feeds layer ``i + 1``.  An ONNX
model keeps its real graph: an edge joins two layers when a tensor produced by
the first reaches the second, possibly through operators the cost model does
not cover (ReLU, Add, pooling...), so ResNet's skip connections are edges.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gamma.errors import GammaInputError
from gamma.workload import Layer


def weight_elements(layer: Layer) -> int:
    """Weights (elements) the layer keeps on its chiplet."""
    if layer.type == "DSCONV":
        return layer.C * layer.R * layer.S
    if layer.type in ("GEMM", "FC"):
        return layer.K * layer.C            # a (K x N) operand: C = K rows, K = N columns
    return layer.G * layer.K * layer.C * layer.R * layer.S


def output_elements(layer: Layer) -> int:
    """Elements of the layer's output tensor (what a link carries to its consumers)."""
    if layer.type == "GEMM":
        return layer.Y * layer.K            # M x N
    if layer.type == "FC":
        return layer.N * layer.K
    channels = layer.C if layer.type == "DSCONV" else layer.G * layer.K
    return layer.N * channels * layer.Yo * layer.Xo


@dataclass(frozen=True)
class LayerGraph:
    """Layers in a topological order and the edges between them.

    Attributes
    ----------
    layers : list of Layer
    src, dst : ndarray of int64, shape (edges,)
        Edge ``e`` carries layer ``src[e]``'s output to layer ``dst[e]``;
        ``src[e] < dst[e]`` always (the layer order is topological).
    elements : ndarray of int64, shape (edges,)
        Elements carried by each edge.
    weights : ndarray of int64, shape (layers,)
        Weight elements of each layer.
    """

    layers: list
    src: np.ndarray
    dst: np.ndarray
    elements: np.ndarray
    weights: np.ndarray

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def is_chain(self) -> bool:
        """Every edge joins consecutive layers and every consecutive pair is joined."""
        n = self.num_layers
        return (len(self.src) == n - 1 and bool(np.all(self.dst - self.src == 1)))

    def predecessors(self) -> list[np.ndarray]:
        return [self.src[self.dst == v] for v in range(self.num_layers)]

    def successors(self) -> list[np.ndarray]:
        return [self.dst[self.src == u] for u in range(self.num_layers)]


def make_graph(layers: list[Layer], edges: list[tuple[int, int]]) -> LayerGraph:
    """A :class:`LayerGraph` from layers and ``(producer, consumer)`` index pairs."""
    pairs = sorted(set(edges))
    for u, v in pairs:
        if not 0 <= u < v < len(layers):
            raise ValueError(f"edge {u}->{v} does not go forward in the layer order")
    src = np.array([u for u, _ in pairs], dtype=np.int64)
    dst = np.array([v for _, v in pairs], dtype=np.int64)
    out = np.array([output_elements(layer) for layer in layers], dtype=np.int64)
    return LayerGraph(layers=list(layers), src=src, dst=dst,
                      elements=out[src] if len(src) else np.zeros(0, np.int64),
                      weights=np.array([weight_elements(x) for x in layers], dtype=np.int64))


def chain_graph(layers: list[Layer]) -> LayerGraph:
    """Layer ``i`` feeds layer ``i + 1`` (a model file)."""
    return make_graph(layers, [(i, i + 1) for i in range(len(layers) - 1)])


def onnx_graph(path: str | Path) -> LayerGraph:
    """The layers of an ONNX model and the true edges between them (skip connections kept).

    The layers are those of :func:`gamma.onnx_import.layers_from_onnx` (same
    order); a node that becomes several layers feeds and is fed as a whole.
    Other operators are fused into the latest layer among their inputs, so a
    residual ``Add(conv3, skip)`` makes the edge ``skip -> conv3`` and its
    consumers read ``conv3``'s chiplet.
    """
    from gamma.onnx_import import layers_from_onnx
    try:
        import onnx
    except ImportError:
        raise GammaInputError(f"{path}: reading ONNX needs the onnx package "
                              "(pip install -e .[onnx])") from None
    layers, _ = layers_from_onnx(path)
    graph = onnx.load(str(path), load_external_data=False).graph
    by_name: dict[str, list[int]] = {}
    for index, layer in enumerate(layers):
        base = layer.name.split("#")[0]
        by_name.setdefault(base, []).append(index)
    producer: dict[str, int] = {}          # tensor -> ONNX node index
    for n, node in enumerate(graph.node):
        for tensor in node.output:
            producer[tensor] = n
    labels = [node.name or f"{node.op_type}_{n}" for n, node in enumerate(graph.node)]
    edges: set[tuple[int, int]] = set()
    owners: dict[int, int | None] = {}     # non-layer node -> the layer it runs with

    def owner_of(tensor: str) -> int | None:
        """The layer holding ``tensor``: its producer, or the layer its producer runs with."""
        n = producer.get(tensor)
        if n is None:
            return None                          # a graph input or a weight
        if labels[n] in by_name:
            return by_name[labels[n]][-1]
        if n not in owners:
            # an operator the cost model does not cover (ReLU, Add, pooling...) runs with the
            # latest layer among its inputs; the other inputs are sent there (a skip connection)
            found = {o for o in map(owner_of, graph.node[n].input) if o is not None}
            owners[n] = max(found) if found else None
            edges.update((o, owners[n]) for o in found if o != owners[n])
        return owners[n]

    for n, node in enumerate(graph.node):
        for v in by_name.get(labels[n], ()):
            edges.update((u, v) for u in map(owner_of, node.input) if u is not None)
    return make_graph(layers, sorted(edges))


def load_graph(model: str) -> LayerGraph:
    """``--model``: a zoo name or CSV (a chain) or an ONNX file (its graph)."""
    if str(model).lower().endswith(".onnx"):
        if not Path(model).is_file():
            raise GammaInputError(f"--model {model}: no such ONNX file")
        return onnx_graph(model)
    from gamma.run import load_layers
    return chain_graph(load_layers(model))
