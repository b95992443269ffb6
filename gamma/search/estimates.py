"""Cheap analytic estimates of a mapping's runtime and buffer needs, no cost model.

The search uses them to pick what to score, never as a result:

* :func:`estimate` (runtime, L1, L2) ranks the structured candidates of the
  first generation (:func:`gamma.search.seeding.seeded_population`) and, when
  latency comes first, the draws that compete for a slot of a generation
  (screening, :class:`gamma.search.trust.HonestStrategy`).  Its rank
  correlation with the cost model over a run's children is 0.91-0.99.
* :func:`l1_need` is exactly the cost model's L1 requirement for unstrided
  layers: a draw whose innermost tile overflows L1 is never scored.

Under ``trust="undercount"`` the ranking uses MAESTRO's own pricing instead
(:func:`gamma.search.undercount.priced_estimate`), which sees its edge effects.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gamma.mapping import NUM_DIMS, C, K, Population, R, S, X, Y, units_per_level

if TYPE_CHECKING:
    from gamma.search.space import SearchSpace


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
    n, levels = pop.par.shape
    rows = np.arange(n)
    units = units_per_level(pop, space.num_pes)
    act = pop.active()
    steps = np.ones(n)
    outer_steps = np.ones(n)
    for level in range(levels):
        parent = (np.broadcast_to(space.sizes, (n, NUM_DIMS)) if level == 0
                  else pop.tile[:, level - 1]).astype(float)
        tile = pop.tile[:, level].astype(float)
        ratio = parent / tile
        p = pop.par[:, level]
        ratio[rows, p] = np.ceil(np.ceil(parent[rows, p] / tile[rows, p]) / units[:, level])
        factor = np.where(act[:, level], np.prod(ratio, axis=1), 1.0)
        steps *= factor
        outer_steps *= np.where(act[:, level] & (level < pop.levels - 1), factor, 1.0)
    inner = pop.tile[rows, pop.levels - 1].astype(float)
    work = np.prod(inner, axis=1)
    cycles = steps * work / space.layer.stride ** 2 + outer_steps
    l1 = l1_need(pop, space)
    top = pop.tile[:, 0].astype(float)
    p0 = pop.par[:, 0]
    top[rows, p0] = np.minimum(top[rows, p0] * units[:, 0], space.sizes[p0])
    l2 = 2 * footprint(top, space.layer.type)
    return cycles, l1, l2


def l1_need(pop: Population, space: SearchSpace) -> np.ndarray:
    """(P,) float: L1 elements per PE, MAESTRO's double-buffered innermost tile.

    Exactly the cost model's ``l1_size_req`` for unstrided layers; MAESTRO's
    stride rewrite sizes strided tiles otherwise, so for those it is only an
    estimate.
    """
    inner = pop.tile[np.arange(len(pop)), pop.levels - 1].astype(float)
    return 2 * footprint(inner, space.layer.type)


def footprint(t: np.ndarray, layer_type: str) -> np.ndarray:
    """Input + weight + output elements of tiles ``t`` (P, 6), MAESTRO-style."""
    rows = t[:, Y] + t[:, R] - 1
    cols = t[:, X] + t[:, S] - 1
    if layer_type == "DSCONV":
        return t[:, C] * rows * cols * 2 + t[:, C] * t[:, R] * t[:, S]
    return t[:, C] * rows * cols + t[:, K] * t[:, C] * t[:, R] * t[:, S] + t[:, K] * rows * cols
