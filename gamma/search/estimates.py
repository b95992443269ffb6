"""Cheap analytic estimates of a mapping's runtime and buffer needs, no cost model.

The search uses them to pick what to score, never as a result:

* :func:`estimate` (runtime, L1, L2) ranks the structured candidates of the
  first generation (:func:`gamma.search.seeding.seeded_population`) and, when
  latency comes first, the draws that compete for a slot of a generation
  (screening, :class:`gamma.search.trust.HonestStrategy`).  Its rank
  correlation with the cost model over a run's children is 0.91-0.99.
* :func:`l1_need` is the cost model's L1 requirement (exactly for unstrided
  layers): a draw whose innermost tile overflows L1 is never scored.

Under ``trust="undercount"`` the ranking uses MAESTRO's own pricing instead
(:func:`gamma.search.undercount.priced_estimate`), which sees its edge effects.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gamma.mapping import C, K, Population, R, S, X, Y, units_per_level
from gamma.search import kernels

if TYPE_CHECKING:
    from gamma.search.space import SearchSpace
    from gamma.workload import Layer


def estimate(pop: Population, space: SearchSpace):
    """Cheap analytic estimate of runtime and buffer needs (no cost model).

    Temporal loops cost their share of the parent tile (edges are cheap in
    MAESTRO); a spatial loop costs ``ceil(chunks / units)`` steps; the
    innermost tile product is the per-PE work per step; every step above the
    innermost level adds about one cycle of fill.  Buffer sizes follow
    MAESTRO's double-buffered tile sizes.  Used only to pick the seeds of the
    initial population and screen draws.

    Returns
    -------
    cycles, l1, l2 : ndarray of shape (P,), float
    """
    rows = np.arange(len(pop))
    units = units_per_level(pop, space.num_pes)
    cycles = kernels.estimate_cycles(pop.tile, pop.par, units, pop.levels, space.sizes,
                                     space.layer.stride)
    l1 = l1_need(pop, space)
    top = pop.tile[:, 0].astype(float)
    p0 = pop.par[:, 0]
    top[rows, p0] = np.minimum(top[rows, p0] * units[:, 0], space.sizes[p0])
    l2 = 2 * footprint(top, space.layer)
    return cycles, l1, l2


def l1_need(pop: Population, space: SearchSpace) -> np.ndarray:
    """(P,) float: L1 elements per PE, MAESTRO's double-buffered innermost tile.

    Exactly the cost model's ``l1_size_req`` for unstrided layers; on strided
    ones a ``Y'`` tile of ``t`` rows spans ``(t - 1) * stride + R`` input rows,
    which equals it for nearly every exactly analysed mapping (not always for
    a filter narrower than the stride, where MAESTRO sizes windows its own way).
    """
    inner = pop.tile[np.arange(len(pop)), pop.levels - 1].astype(float)
    return 2 * footprint(inner, space.layer)


def footprint(t: np.ndarray, layer: Layer) -> np.ndarray:
    """Input + weight + output elements of tiles ``t`` (P, 6) of ``layer``, MAESTRO-style:
    the Y'/X' tiles' input windows at the layer's stride (at most the rows and columns
    that feed an output), outputs counted over them."""
    rows = np.minimum((t[:, Y] - 1) * layer.stride + t[:, R], layer.Yi)
    cols = np.minimum((t[:, X] - 1) * layer.stride + t[:, S], layer.Xi)
    if layer.type == "DSCONV":
        return t[:, C] * rows * cols * 2 + t[:, C] * t[:, R] * t[:, S]
    return t[:, C] * rows * cols + t[:, K] * t[:, C] * t[:, R] * t[:, S] + t[:, K] * rows * cols
