"""Which dimensions each tensor of a layer type depends on (maestro-model.md §2.1).

The cost model works in *variable space*: the dimensions that appear in the
layer's input tensors (input activations and filter), numbered in MAESTRO's
alphabetical order (``C < G < K < N < R < S < X < Y``).  MAESTRO appends the
directives it adds for missing dimensions in that order, so the numbering is
part of the semantics.  Output dimensions are always a subset of these.

The coupling is data: :data:`TENSOR_DIMS` lists, per layer type, the dimensions
of the three tensors in MAESTRO's order (the order matters where MAESTRO scans a
tensor's dimensions, e.g. to find its spatially mapped dimension).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gamma.workload import Layer

#: Tensor dimensions per layer type, without the batch dimension ``N``.
#: GEMM and FC are stored CONV-like in :class:`~gamma.workload.Layer`
#: (``K = N_gemm``, ``C = K_gemm``, ``Y = M``) and TRCONV only differs from CONV
#: in a stride MAESTRO's analysis never reads, so all three use the CONV row.
TENSOR_DIMS = {
    "CONV": {"input": ("C", "Y", "X"), "filter": ("K", "C", "R", "S"),
             "output": ("K", "Y", "X")},
    "DSCONV": {"input": ("C", "Y", "X"), "filter": ("C", "R", "S"),
               "output": ("C", "Y", "X")},
    "NGCONV": {"input": ("G", "C", "Y", "X"), "filter": ("G", "K", "C", "R", "S"),
               "output": ("G", "K", "C", "Y", "X")},
}
TENSOR_DIMS["GEMM"] = TENSOR_DIMS["FC"] = TENSOR_DIMS["TRCONV"] = TENSOR_DIMS["CONV"]

#: MAESTRO's own ``Type: GEMM`` layer (dimensions M, N, K, stored as Y, K, C):
#: tensors input (M, K), filter (K, N), output (M, N), and no sliding window.
#: GAMMA writes GEMM layers as CONV instead, whose Y is a sliding dimension
#: (with R = 1); the two forms score differently when a spatial tile of M leaves
#: a partial edge, so the form is chosen explicitly (``gemm_form``).
MAESTRO_GEMM_DIMS = {"input": ("Y", "C"), "filter": ("C", "K"), "output": ("Y", "K")}
GEMM_FORMS = ("conv", "maestro")

#: Sliding-window pairs ``(reference, sliding)``: output rows ``Y' = Y - R + 1``.
OVERLAPS = (("Y", "R"), ("X", "S"))

#: Order in which the tensors are processed (input-class tensors, then output).
TENSORS = ("input", "filter", "output")


@dataclass(frozen=True)
class LayerSpec:
    """A layer in the cost model's variable space.

    Attributes
    ----------
    layer : Layer
    names : tuple of str
        Variable names, alphabetical (MAESTRO's order for added directives).
    index : dict
        Name -> variable index.
    coupled : dict
        Tensor name -> bool ndarray of shape (V,), the tensor's dimensions.
    coupled_order : dict
        Tensor name -> tuple of variable indices in MAESTRO's order for that tensor.
    sizes : ndarray of shape (V,), int64
        Layer dimension sizes (Y and X are input rows/columns).
    sliding : ndarray of shape (V,), int64
        For a reference variable (Y, X) the index of its sliding variable (R, S),
        else -1.
    stride : int
        Outer stride of Y and X.
    """

    layer: Layer
    names: tuple
    index: dict
    coupled: dict
    coupled_order: dict
    sizes: np.ndarray
    sliding: np.ndarray
    stride: int

    @property
    def num_vars(self) -> int:
        return len(self.names)


def layer_spec(layer: Layer, gemm_form: str = "conv") -> LayerSpec:
    """Build the variable-space description of ``layer``.

    ``gemm_form`` applies to GEMM layers: ``"conv"`` (GAMMA's CONV text, the
    default) or ``"maestro"`` (a ``Type: GEMM`` layer of a MAESTRO file).
    """
    if gemm_form not in GEMM_FORMS:
        raise ValueError(f"gemm_form must be one of {GEMM_FORMS}, got {gemm_form!r}")
    native = layer.type == "GEMM" and gemm_form == "maestro"
    dims = {name: list(names) for name, names in TENSOR_DIMS[layer.type].items()}
    if layer.N > 1:
        dims["input"].insert(0, "N")
        dims["output"].insert(0, "N")
    names = tuple(sorted(set(dims["input"]) | set(dims["filter"])))
    index = {name: i for i, name in enumerate(names)}
    all_sizes = {"N": layer.N, "G": layer.G, "K": layer.K, "C": layer.C, "Y": layer.Y,
                 "X": layer.X, "R": layer.R, "S": layer.S}
    coupled = {}
    for tensor in TENSORS:
        mask = np.zeros(len(names), dtype=bool)
        mask[[index[d] for d in dims[tensor]]] = True
        coupled[tensor] = mask
    sliding = np.full(len(names), -1, dtype=np.int64)
    for ref, slide in OVERLAPS:
        if not native:
            sliding[index[ref]] = index[slide]
    order = MAESTRO_GEMM_DIMS if native else dims
    return LayerSpec(
        layer=layer, names=names, index=index, coupled=coupled,
        coupled_order={t: tuple(index[d] for d in order[t]) for t in TENSORS},
        sizes=np.array([all_sizes[n] for n in names], dtype=np.int64),
        sliding=sliding, stride=layer.stride)
