"""The search strategy for ``trust="undercount"`` and ``"any"``: MAESTRO's own pricing.

When runtimes below the busiest PE's work count (GAMMA's ground, reading
MAESTRO as it is), the best-scoring mappings are tile pairs that MAESTRO
prices below their honest cost: a child level's edge step is sized from the
full parent tile (``T mod t``), also under the parent's own, shorter edge
step.  :class:`PricedStrategy` seeks them:

* draws are ranked by :func:`priced_rank` (MAESTRO's pricing, edge quirks
  included) instead of the honest estimate, with more draws per slot
  (``GAParams.screen_priced``);
* seeds get several cheap-edge moves (:func:`edge_tile`) before ranking;
* variation and local search add cheap-edge moves (``GAParams.edge``,
  ``GAParams.move_edge``).

This module is imported only by :func:`gamma.search.trust.strategy_for`
for those trust levels.
"""
from __future__ import annotations

import numpy as np

from gamma.mapping import NUM_DIMS, Population, R, S, X, Y, divisor_table, units_per_level
from gamma.search.space import SearchSpace, coin, parent_tiles, repair
from gamma.search.trust import HonestStrategy


class PricedStrategy(HonestStrategy):
    """Seek what MAESTRO prices cheaply (see the module doc)."""

    @property
    def edge_share(self) -> float:
        return self.params.move_edge

    @property
    def draws(self) -> int:
        return self.params.screen_priced

    def screen_key(self, pop: Population, space: SearchSpace) -> np.ndarray:
        return priced_rank(pop, space)

    def prepare_seeds(self, candidates: Population, space: SearchSpace, rng) -> Population:
        # MAESTRO's cheapest pricings combine several cheap edges, at several
        # levels and dimensions: seldom drawn, or bred, all at once.
        most = self.params.seed_edge_moves
        moves = rng.integers(0, most + 1, len(candidates))
        for i in range(most):
            more = moves > i
            candidates.put(more, repair(edge_tile(candidates.take(more), space, rng, rate=1.0,
                                                     split=self.params.edge_split), space, rng))
        return candidates

    def seed_ranking(self, candidates: Population, space: SearchSpace, cycles) -> tuple[np.ndarray, float]:
        return priced_rank(candidates, space), 0.0

    def extra_variation(self, kids: Population, space: SearchSpace, rng) -> Population:
        return edge_tile(kids, space, rng, rate=self.params.edge, split=self.params.edge_split)

    def edge_moves(self, pop: Population, space: SearchSpace, rng) -> Population:
        return edge_tile(pop, space, rng, rate=1.0, split=self.params.edge_split)



def priced_estimate(pop: Population, space: SearchSpace) -> np.ndarray:
    """(P,) float: compute cycles as MAESTRO prices them, its edge quirks included.

    :func:`estimate` is honest; this one follows how MAESTRO sizes its
    iteration cases (Init, Steady, Edge), dimension by dimension:

    * an edge step's tile is the level's *static* edge, ``parent mod tile`` of
      the full parent tile, even under the parent's own, shorter edge step;
    * a SpatialMap's edge step counts its active units from the full parent
      tile as well; when that count is one, the whole step is priced at the
      edge tile (the regular units' full tiles are not seen);
    * at the innermost level such a spatial edge tile of Y'/X', when the
      parent tile leaves one, counts input rows/columns (R - 1 or S - 1 more).

    Each call of the innermost level adds one cycle of fill; NoC and off-chip
    delays are left out (bandwidth-bound mappings are underestimated).  On a
    search's children within 1 % of MACs / PEs it matches the cost model to
    0.005 % for nine in ten (CONV, depthwise, 1x1 and GEMM layers), on cheap
    edges (:func:`edge_tile`) to 0.1 %.  Ranks draws when undercounts count.
    """
    n, levels = pop.par.shape
    rows = np.arange(n)
    act = pop.active()
    sizes = np.broadcast_to(space.sizes, (n, NUM_DIMS)).astype(float)
    # Level-static parent and tile of every dimension, (P, L, 6); an unused
    # level keeps its parent whole.
    parent = np.empty((n, levels, NUM_DIMS))
    tile = np.empty_like(parent)
    above = sizes
    for level in range(levels):
        t = np.where(act[:, level, None], np.minimum(pop.tile[:, level], above), above)
        parent[:, level], tile[:, level] = above, t
        above = t
    edge = parent % tile
    leaves_edge = edge > 0
    edge = np.where(leaves_edge, edge, tile)
    units = units_per_level(pop, space.num_pes).astype(float)[:, :, None]
    spread = parent > tile * units
    rest = parent - np.floor(np.floor(parent / tile) / units) * tile * units
    edge_units = np.where(spread, np.maximum(np.floor(rest / tile), 1), np.ceil(parent / tile))
    is_par = np.zeros((n, levels, NUM_DIMS), dtype=bool)
    is_par[rows[:, None], np.arange(levels)[None, :], pop.par] = True
    is_par &= act[:, :, None]
    halo = np.zeros(NUM_DIMS)
    halo[Y], halo[X] = space.sizes[R] - 1, space.sizes[S] - 1
    geometry = (tile, units, edge_units, is_par, leaves_edge, halo)

    def priced(level, size, full, at_edge, innermost):
        return _priced_call(geometry, level, size, full, at_edge, innermost)

    last = pop.levels - 1

    def walk(calls: bool) -> np.ndarray:
        # Bottom-up: the cycles of a call of each level over a full and over an
        # edge tile of its parent; with ``calls``, the innermost level's calls
        # count 1 each (the product is then the number of those calls).
        full_below = edge_below = tile[:, levels - 1]
        for level in range(levels - 1, -1, -1):
            innermost = (last == level)[:, None]
            full = np.where(innermost, tile[:, level], full_below)
            at_edge = np.where(innermost, edge[:, level], edge_below)
            over = (sizes,) if level == 0 else (parent[:, level], edge[:, level - 1])
            cycles = [np.where(innermost & calls, 1.0, priced(level, size, full, at_edge, innermost))
                      for size in over]
            full_below, edge_below = cycles[0], cycles[-1]
        return np.prod(full_below, axis=1)

    # Each call of the innermost level starts with one cycle of fill.
    return (walk(False) + walk(True)) / space.layer.stride ** 2


def _priced_call(geometry, level, size, full, at_edge, innermost) -> np.ndarray:
    """(P, 6) cycles of a call of ``level`` over ``size`` as MAESTRO prices it, given the
    cycles of a full (``full``) and of an edge (``at_edge``) step of the level below.

    ``geometry`` is :func:`priced_estimate`'s per-level tiles, units, edge units,
    spatial flags, edge flags and the input halo.
    """
    tile, units, edge_units, is_par, leaves_edge, halo = geometry
    t, u = tile[:, level], units[:, level]
    steady = np.floor((size - t) / t)
    temporal = (np.where(size < t, at_edge, full)
                + np.where((t < size) & (steady > 0), steady, 0) * full
                + np.where((size >= t) & ((steady + 1) * t < size), at_edge, 0))
    cover = t * u
    folds = np.trunc((np.trunc((size - t) / t) + 1) / u) - 1
    has_steady = (cover < size) & (folds > 0)
    edge_fold = (size > cover) & ((folds + 2) * cover > size) & ((folds + 1) * cover != size)
    remaining = size - (folds + 1) * cover
    partial = np.where(remaining < t, 1, np.floor(remaining / t)) * t < remaining
    tail = np.where(innermost & leaves_edge[:, level], at_edge + halo, at_edge)
    edge_step = np.where(edge_units[:, level] == 1, tail,
                         np.maximum(full, np.where(partial, tail, 0)))
    spatial = (np.where(size < cover, edge_step, full) + np.where(has_steady, folds, 0) * full
               + np.where(edge_fold, edge_step, 0))
    return np.where(is_par[:, level], spatial, temporal)


def priced_rank(pop: Population, space: SearchSpace) -> np.ndarray:
    """(P,) float: :func:`priced_estimate` as a ranking key, lower is better.

    When only exact analyses count (``space.exact_only``), a runtime below
    MACs / PEs is rejected by the cost model, so estimates below that bound
    are reflected about it: the mappings priced just above the bound rank first.
    """
    cycles = priced_estimate(pop, space)
    if space.exact_only:
        pes = np.where(pop.pes > 0, pop.pes, space.num_pes)
        bound = space.layer.macs / pes
        cycles = np.where(cycles < bound, 2 * bound - cycles, cycles)
    return cycles


def edge_tile(pop: Population, space: SearchSpace, rng, *, rate: float, split: float) -> Population:
    """Give one level's tile a cheap *edge* over its child level (a copy; not repaired).

    MAESTRO sizes a child level's edge step from the full parent tile ``T``
    (``T mod t``), also under the parent's own, shorter edge step, so some
    tile pairs score well below their honest cost while the analysis stays
    exact: undercounts (runtime below the busiest PE's MACs), sought only
    when they count.  With a parent tile ``T`` over a child tile ``t``
    that the child spreads over ``c`` units (``c = 1`` when the child maps the
    dimension temporally), the cheap pairs have an edge ``e = T mod (t·c)``
    of ``1`` (temporal child: resnet18 layer 2's K tile 33 over 4 scores 1.0047
    of the bound where 32 scores 1.037) or just above one unit's tile,
    ``t < e < 2t`` (spatial child: K 22 over ``K3*`` on 3 PEs, 1.002).

    With probability ``rate`` an individual with at least two levels gets, at
    a random non-innermost level ``l`` and a free dimension, either a new
    parent tile ``T = t·c·m + e`` (``m`` for a few steps or near the current
    ``T``; ``e`` as above) or, half the time, a new child tile at ``l + 1``
    that makes ``T``'s edge cheap (the nearest such ``t`` above or below).
    """
    out = pop.copy()
    rows = np.flatnonzero(coin(rng, len(pop), rate) & (pop.levels >= 2))
    if not len(rows):
        return out
    n = len(rows)
    lvl = (rng.random(n) * (pop.levels[rows] - 1)).astype(np.int64)
    parent = parent_tiles(out, space, rows, lvl)
    cur, child = out.tile[rows, lvl], out.tile[rows, lvl + 1]
    room = space.free_tiles[lvl] & (parent >= 3) & (cur >= 2)
    cum = np.cumsum(room, axis=1)
    ok = cum[:, -1] > 0
    d = np.minimum((rng.random((n, 1)) * np.maximum(cum[:, -1:], 1) >= cum).sum(axis=1),
                   NUM_DIMS - 1)
    r = np.arange(n)
    P, T, t = parent[r, d], cur[r, d], np.maximum(child[r, d], 1)
    spatial = out.par[rows, lvl + 1] == d
    c = np.where(spatial, np.maximum(units_per_level(out, space.num_pes)[rows, lvl + 1], 1), 1)
    span = t * c
    # (a) a new parent tile T = span·m + e
    e_sp = t + 1 + (rng.random(n) * np.maximum(np.minimum(t, span - t) - 1, 1)).astype(np.int64)
    e = np.where(spatial & (span > t + 1), e_sp, 1)
    steps = rng.integers(2, 6, n)
    m_split = np.floor(P / (steps * span))
    m_near = np.floor(T / span) + rng.choice([-1, 0, 0, 1], n)
    m = np.maximum(np.where(rng.random(n) < split, m_split, m_near), 1).astype(np.int64)
    value = span * m + e
    parent_ok = ok & (value < P) & (value > t)
    # (b) a new child tile t' that makes T's edge cheap
    mode_b = rng.random(n) < 0.5
    new_child = np.zeros(n, dtype=np.int64)
    child_ok = np.zeros(n, dtype=bool)
    fixed_child = ~space.free_tiles[lvl + 1, d] & ~(space.split_tiles[lvl + 1, d] & spatial)
    which = np.flatnonzero(mode_b & ok & ~fixed_child)
    above, below = _cheap_child_tiles(T[which], t[which], c[which], spatial[which])
    found = (above > 0) | (below > 0)
    # the nearest cheap child tile above or below the current one, either when both exist
    second = rng.random(int(found.sum())) * 2 >= 1
    pick = np.where(above > 0, above, below)
    pick[found] = np.where((above[found] > 0) & (below[found] > 0) & second, below[found], pick[found])
    new_child[which[found]] = pick[found]
    child_ok[which[found]] = True
    use_b = mode_b & child_ok
    use_a = ~use_b & parent_ok
    out.tile[rows[use_a], lvl[use_a], d[use_a]] = value[use_a]
    out.tile[rows[use_b], lvl[use_b] + 1, d[use_b]] = new_child[use_b]
    return out


def _cheap_child_tiles(T, t, c, spatial, cells: int = 1 << 22):
    """For parent tiles ``T`` over child tiles ``t`` (each spread over ``c`` units,
    ``spatial`` or not), the nearest child tiles at or above ``t`` and below it
    whose edge ``T mod (tile·c)`` is cheap (:func:`edge_tile`); 0 where none.

    A temporal child's cheap tiles (edge 1, ``c = 1``) are the divisors of
    ``T - 1`` from 2 up; for a spatial child every tile below ``T`` is tried at
    once, in row blocks of at most ``cells``."""
    above = np.zeros(len(T), dtype=np.int64)
    below = np.zeros(len(T), dtype=np.int64)
    if not len(T):
        return above, below
    temporal = np.flatnonzero(~spatial)
    if len(temporal):
        table, count = divisor_table(int(max(T.max() - 1, 1)))
        divs = table[T[temporal] - 1]
        good = (np.arange(divs.shape[1]) < count[T[temporal] - 1][:, None]) & (divs >= 2)
        good &= T[temporal, None] > 1
        above[temporal], below[temporal] = _nearest(divs, good, t[temporal])
    rows = np.flatnonzero(spatial)
    if not len(rows):
        return above, below
    cand = np.arange(1, max(int(T[rows].max()), 1), dtype=np.int64)[None, :]
    step = max(cells // max(cand.shape[1], 1), 1)
    for lo in range(0, len(rows), step):
        part = rows[lo:lo + step]
        edge = T[part, None] % (cand * c[part, None])
        good = (edge > cand) & (edge < 2 * cand) & (cand < T[part, None])
        above[part], below[part] = _nearest(np.broadcast_to(cand, good.shape), good, t[part])
    return above, below


def _nearest(values, good, t):
    """Per row, the least ``good`` value at or above ``t`` and the greatest below it (0: none)."""
    high = good & (values >= t[:, None])
    big = np.iinfo(np.int64).max
    above = np.where(high.any(axis=1), np.where(high, values, big).min(axis=1), 0)
    below = np.where(good & ~high, values, 0).max(axis=1)
    return above, below
