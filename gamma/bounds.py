"""Proven lower bounds on the runtime and energy of every mapping of a layer.

A search reports a latency; :func:`layer_bounds` says how far that latency can
at most be from the best any mapping of the searched map space reaches, so a
result can be read as "within 3 % of optimal", not only "1.09 x MACs / PEs".

Runtime
-------
The cost model's runtime of a trusted mapping (exact analysis, not an
undercount: the default) is at least ``busiest / lanes`` cycles, ``busiest``
the MACs of the mapping's busiest PE (``Costs.undercount`` rejects the others).
The bound below is a lower bound of ``busiest`` over the whole map space.

*Why it holds.*  A level with ``U`` units cuts each parent tile of its
parallel dimension ``d`` into chunks handed out round robin; summed over the
parent tiles a level sees, some unit receives at least ``ceil(n / U)`` of the
``n`` indices of ``d`` it is given (pigeonhole), and the levels below split
that share again.  Levels split one dimension each, so the PEs' shares of
different dimensions are chosen independently and the PE that holds the
largest share of every dimension exists: its work is at least
``prod_d ceil(n_d / U_d)`` times the dimensions no level splits, ``U_d`` the
product of the units of the levels that split ``d``.  Here ``n_d`` counts
true indices: output rows ``(Y - R) // stride + 1`` (not MAESTRO's
stride-blind ``Y - R + 1``), and a PE computing some of them more than once
only works more.  Every mapping the search writes has at most ``slevel_max``
levels, one parallel dimension per level (from the space's choices or a
constraint's), inner cluster sizes whose product ``c`` is at most the PE
count and ``PEs // c`` top-level units: its unit counts ``U_d`` over at most
``slevel_max`` dimensions multiply to at most the PE count.  The bound is the
least ``prod_d ceil(n_d / U_d)`` over every such choice (a superset of the
map space, so the least is no larger than any mapping's), with
``--fixedCluster`` the exact unit counts.  A constraint with a second
parallel dimension per level (``sp2``: both dimensions split by the same unit
index) falls back to ``ceil(MACs / PEs)``, the busiest PE of any split.

Energy
------
For an exact analysis the cost model's energy (MAC units) is
``MACs + 1.68 * L1 + 18.61 * L2`` with every count non-negative, and each
MAC reads its input, weight and partial sum from L1 and writes the sum back
(``4 * MACs`` L1 accesses), while L2 is filled once with the whole input and
weight tensors and the whole output is read back once (at least the true
output, ``K * Y' * X'`` with the stride: MAESTRO's stride-blind output L2 read
``K * (Y - R + 1) * (X - S + 1)`` is larger, the stride-aware analysis counts
the true one): the bound is the sum of those.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from gamma.costmodel import hwcost
from gamma.mapping import DIM_INDEX, NUM_DIMS, C, K, parallel_choices
from gamma.workload import Layer

__all__ = ["LayerBound", "layer_bounds", "true_sizes", "busiest_lower_bound", "energy_lower_bound",
           "structure_bound", "allowed_parallel_dims", "gap"]


@dataclass(frozen=True)
class LayerBound:
    """Proven lower bounds for one layer on one hardware and map space.

    Attributes
    ----------
    latency_cycles : int
        No trusted mapping of the map space runs in fewer cycles.
    busiest_macs : int
        Fewest MACs the busiest PE of any mapping computes.
    energy_mac_units : float
        No exact analysis reports less energy (MAC units).
    energy_nj : float
        The same in nJ.
    average_cycles : int
        ``ceil(MACs / (PEs * lanes))``, the bound that ignores how the layer splits.
    """

    latency_cycles: int
    busiest_macs: int
    energy_mac_units: float
    energy_nj: float
    average_cycles: int


def true_sizes(layer: Layer) -> np.ndarray:
    """True index counts of the genome dimensions ``K, C, Y, X, R, S``, shape (6,), int64.

    Y and X count output rows/columns with the stride; a depthwise layer's K is 1.
    """
    k = 1 if layer.type == "DSCONV" else layer.K
    return np.array([k, layer.C, layer.Yo, layer.Xo, layer.R, layer.S], dtype=np.int64)


def allowed_parallel_dims(layer: Layer, space) -> np.ndarray:
    """Every dimension some level of the map space may split (a superset), int64.

    The space's parallel choices, the dimensions a constraint names as
    parallel, and C for a depthwise layer's K (which maps C spatially).
    """
    dims = set(parallel_choices(layer, True).tolist()) if space is None else set(
        space.par_choices.tolist())
    if space is not None:
        for level in range(space.slevel_max):
            c = space.constraint.level(level)
            if c.sp is not None:
                dims.update(DIM_INDEX[d] for d in c.sp)
    if layer.type == "DSCONV" and K in dims:
        dims.discard(K)
        dims.add(C)
    return np.array(sorted(dims), dtype=np.int64)


def _useful_units(n: int, limit: int) -> np.ndarray:
    """Unit counts ``U <= limit`` at which ``ceil(n / U)`` drops: ``ceil(n / q)`` for every quotient q."""
    q = np.unique(-(-n // np.arange(1, n + 1)))
    units = np.unique(-(-n // q))
    return units[units <= limit]


def structure_bound(sizes: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Busiest-PE MACs bound ``prod_d ceil(n_d / U_d)`` of unit-count vectors.

    Parameters
    ----------
    sizes : ndarray of shape (6,), int64
        True index counts (:func:`true_sizes`).
    units : ndarray of shape (M, 6), int64
        Units splitting each dimension (1: not split).

    Returns
    -------
    ndarray of shape (M,), int64
    """
    return np.prod(-(-sizes[None, :] // np.maximum(units, 1)), axis=1)


def busiest_lower_bound(layer: Layer, num_pes: int, *, slevel_max: int = 2, fixed_cluster: int = 0,
                        slevel_min: int = 1, space=None) -> int:
    """Fewest MACs the busiest PE computes over every mapping of the map space (see module doc)."""
    sizes = true_sizes(layer)
    extra = layer.macs // int(np.prod(sizes))          # batch and groups: never split
    if space is not None and any(space.constraint.level(i).sp2 is not None
                                 for i in range(space.slevel_max)):
        return -(-layer.macs // num_pes)
    dims = allowed_parallel_dims(layer, space)
    if fixed_cluster:
        best = None
        for levels in range(slevel_min, slevel_max + 1):
            if fixed_cluster ** (levels - 1) > num_pes:     # repair shrinks the clusters
                return busiest_lower_bound(layer, num_pes, slevel_max=slevel_max, space=space)
            per_level = [max(num_pes // fixed_cluster ** (levels - 1), 1)] + [fixed_cluster] * (levels - 1)
            for assign in itertools.product(dims.tolist(), repeat=levels):
                units = np.ones(NUM_DIMS, dtype=np.int64)
                for d, u in zip(assign, per_level, strict=True):
                    units[d] *= u
                value = int(structure_bound(sizes, units[None, :])[0])
                best = value if best is None else min(best, value)
        return best * extra
    best = int(np.prod(sizes))
    for k in range(1, min(slevel_max, len(dims)) + 1):
        for chosen in itertools.combinations(dims.tolist(), k):
            best = min(best, _best_split(sizes, list(chosen), num_pes))
    return best * extra


def _best_split(sizes: np.ndarray, dims: list[int], num_pes: int) -> int:
    """Least ``prod ceil(n_d / U_d)`` over unit counts of ``dims`` multiplying to at most ``num_pes``.

    All but the last dimension take their useful unit counts; the last one
    takes every PE left (more units never raise the bound).
    """
    head, last = dims[:-1], dims[-1]
    grids = np.meshgrid(*[_useful_units(int(sizes[d]), num_pes) for d in head],
                        indexing="ij") if head else []
    units = np.ones((grids[0].size if head else 1, NUM_DIMS), dtype=np.int64)
    for d, grid in zip(head, grids, strict=True):
        units[:, d] = grid.ravel()
    used = np.prod(units, axis=1)
    ok = used <= num_pes
    units = units[ok]
    units[:, last] = num_pes // used[ok]
    return int(structure_bound(sizes, units).min())


def energy_lower_bound(layer: Layer) -> float:
    """Least energy (MAC units) of any exact analysis of ``layer`` (see module doc)."""
    n, g = layer.N, (layer.G if layer.type == "NGCONV" else 1)
    inputs = n * g * layer.C * layer.Y * layer.X
    k = 1 if layer.type == "DSCONV" else layer.K
    weights = g * k * layer.C * layer.R * layer.S
    channels = layer.C if layer.type == "DSCONV" else g * k
    outputs = n * channels * layer.Yo * layer.Xo
    return float(layer.macs * (1 + 4 * hwcost.L1_ENERGY)
                 + hwcost.L2_ENERGY * (inputs + weights + outputs))


def layer_bounds(layer: Layer, hw, cfg=None) -> LayerBound:
    """The proven bounds of ``layer`` on ``hw`` for the map space of ``cfg``
    (a :class:`~gamma.search.ga.GAConfig`; None: 1 to 3 levels, any parallel dimension).

    In co-design (``cfg.pe_limit > 0``) the PE count is the limit: no
    candidate has more PEs, and fewer never lowers the busiest PE's work.
    """
    if cfg is None:
        busiest = busiest_lower_bound(layer, hw.num_pes, slevel_max=3)
        pes = hw.num_pes
    else:
        pes = cfg.pe_limit if cfg.pe_limit > 0 else hw.num_pes
        space = cfg.space(layer, hw)
        busiest = busiest_lower_bound(layer, pes, slevel_max=cfg.slevel_max,
                                      slevel_min=cfg.slevel_min,
                                      fixed_cluster=cfg.fixed_cluster, space=space)
    lanes = max(int(hw.simd_lanes), 1)
    energy = energy_lower_bound(layer)
    return LayerBound(latency_cycles=-(-busiest // lanes), busiest_macs=busiest,
                      energy_mac_units=energy, energy_nj=energy * hwcost.MAC_ENERGY_NJ,
                      average_cycles=-(-layer.macs // (pes * lanes)))


def gap(latency, bound) -> float:
    """``latency / bound`` (NaN when either is missing); below 1 only for untrusted runtimes."""
    if bound is None or not bound or latency is None or not math.isfinite(float(latency)):
        return math.nan
    return float(latency) / float(bound)

