"""GAMMA's genetic operators, written as NumPy functions over whole populations.

Every operator takes a :class:`~gamma.mapping.Population`, the layer's
:class:`SearchSpace` and an ``rng``, and returns a new population (its input
is never modified).  Operators may leave tiles inconsistent across levels;
:func:`repair` (run after each generation's variation) clamps inner tiles to
the outer ones, fixes cluster sizes and re-applies the constraints.

GAMMA (``gamma.py``) names: crossover = ``crossover_tile``, reorder =
``swap_order``, tile mutation = ``mutate_tile``, parallel-dim mutation =
``mutate_par``, growth = ``born_cluster``, aging = ``kill_cluster``.
Differences: growth and aging work under any constraint; mutations favour
values that keep samples useful (divisors, fitting the cluster's units) and
never touch a value a constraint fixes.

Co-design (``SearchSpace.codesign``): ``num_pes`` is the PE limit and every
individual carries its own PE count (``Population.pes``), kept by
:func:`repair` a multiple of its cluster sizes' product (#clusters x cluster
size, DiGamma's encoding) and changed by :func:`mutate_pe` (DiGamma's
``mutate_pe``: tied to the top level's parallel tile and the cluster size).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gamma import constraints as cst
from gamma.constraints import MappingConstraint
from gamma.mapping import (
    DIM_INDEX,
    NO_DIM,
    NUM_DIMS,
    C,
    K,
    Population,
    R,
    S,
    X,
    Y,
    dim_sizes,
    divisor_table,
    parallel_choices,
    random_divisor,
    units_per_level,
)
from gamma.workload import Layer

#: Share of :func:`seeded_population`'s seeds drawn among the fitting candidates
#: regardless of their estimated runtime, when only honest runtimes count.
SEED_UNRANKED = 0.1

#: Share of :func:`structured_population`'s top levels whose parallel tile is 1.
UNIT_PARALLEL = 0.2

#: Share of :func:`structured_population`'s inner levels with a small cluster (2 to 8).
SMALL_CLUSTER = 0.25

#: Share of :func:`neighbour` moves that are :func:`edge_tile` moves.
EDGE_SHARE = 0.2

#: When undercounts count, each of :func:`seeded_population`'s candidates gets
#: 0 to this many :func:`edge_tile` moves before they are ranked.
SEED_EDGE_MOVES = 8


@dataclass(frozen=True)
class SearchSpace:
    """Everything about one layer's map space that the operators need.

    Parameters
    ----------
    layer : Layer
    num_pes : int
        PEs of the hardware; in co-design, the PE limit.
    slevel_min, slevel_max : int
        Fewest and most levels (1 to 3).
    constraint : MappingConstraint
    fixed_cluster : int
        If > 0, every inner level's cluster size (``--fixedCluster``).
    par_rs : bool
        R and S may be parallel dimensions (``--parRS``).
    use_factor : bool
        Tiles are divisors of their parent tile (``--use_factor``).
    l1_size : float
        L1 capacity per PE, elements.  If the constraint keeps the filter
        whole and even the smallest tiles with a whole filter overflow it
        (AlexNet's 11x11 layer on 512 elements), R and S become parallel
        choices, as with ``--parRS``, so a level can split the filter.
    exact_only : bool
        Only exact analyses count (caps strided layers' Y'/X' tiles).
    undercount_ok : bool
        MAESTRO's runtime counts even where it is below the busiest PE's work
        (``GAConfig.allow_undercount``, GAMMA's ground): the operators then also
        seek the tile pairs MAESTRO prices below their honest cost
        (:func:`edge_tile`).
    codesign : bool
        Each individual has its own PE count in ``[1, num_pes]`` (``Population.pes``).
    """

    layer: Layer
    num_pes: int
    slevel_min: int = 2
    slevel_max: int = 2
    constraint: MappingConstraint = cst.MAESTRO_CSTR
    fixed_cluster: int = 0
    par_rs: bool = False
    use_factor: bool = False
    l1_size: float = float("inf")
    exact_only: bool = True
    undercount_ok: bool = False
    codesign: bool = False

    @cached_property
    def sizes(self) -> np.ndarray:
        """Dimension sizes ``K, C, Y', X', R, S`` (:func:`gamma.mapping.dim_sizes`)."""
        return dim_sizes(self.layer)

    @cached_property
    def max_tile(self) -> np.ndarray:
        """Largest tile of each dimension at the outermost level.

        The dimension sizes, except that a strided layer's Y'/X' tiles are at
        most the stride when only exact analyses count: MAESTRO's stride
        rewrite over-counts the MACs of larger output tiles (inexact analysis).
        A Y'/X' tile that the constraint fixes at some level to more than the
        stride (a dimension name, or a larger int) is not capped: the
        constraint wins, and the inexact-analysis penalty ranks the result.
        """
        bound = self.sizes.copy()
        if self.exact_only and self.layer.stride > 1:
            for d in (Y, X):
                if not self._fixed_above(d, self.layer.stride):
                    bound[d] = min(bound[d], self.layer.stride)
        return bound

    def _fixed_above(self, d: int, limit: int) -> bool:
        """Whether the constraint fixes dim ``d``'s tile at some level to possibly more than ``limit``."""
        for level in range(self.slevel_max):
            for dim, value in self.constraint.level(level).tiles:
                if DIM_INDEX[dim] == d and not (isinstance(value, int) and value <= limit):
                    return True
        return False

    @cached_property
    def par_choices(self) -> np.ndarray:
        return parallel_choices(self.layer, self.par_rs or self.filter_must_split)

    @cached_property
    def filter_must_split(self) -> bool:
        """The whole filter cannot fit L1 however small the other tiles (see ``l1_size``)."""
        fixed = {d for d, _ in self.constraint.every_level.tiles}
        if not {"R", "S"} & fixed:
            return False
        smallest = np.ones((1, NUM_DIMS))
        smallest[0, R], smallest[0, S] = self.layer.R, self.layer.S
        return bool(2 * _footprint(smallest, self.layer.type)[0] > self.l1_size)

    @cached_property
    def split_tiles(self) -> np.ndarray:
        """(L, 6) bool: fixed tiles a level may still change while mapping that dim spatially."""
        out = np.zeros((self.slevel_max, NUM_DIMS), dtype=bool)
        for level in range(self.slevel_max):
            for dim in self.constraint.level(level).temporal_only:
                out[level, DIM_INDEX[dim]] = True
        return out & (self.sizes > 1)

    @cached_property
    def free_tiles(self) -> np.ndarray:
        """(L, 6) bool: tiles a mutation may change (size > 1, not fixed by a constraint)."""
        free = np.broadcast_to(self.sizes > 1, (self.slevel_max, NUM_DIMS)).copy()
        for level in range(self.slevel_max):
            for dim, _ in self.constraint.level(level).tiles:
                free[level, DIM_INDEX[dim]] = False
        return free

    @cached_property
    def free_order_slots(self) -> np.ndarray:
        """(L,) number of leading loop positions a constraint leaves free."""
        return np.array([NUM_DIMS - len(self.constraint.level(level).order or ())
                         for level in range(self.slevel_max)])

    @cached_property
    def good_clusters(self) -> np.ndarray:
        """Cluster sizes that leave at most 10 % of the PEs idle (``floor(P/c)·c >= 0.9 P``)."""
        c = np.arange(1, self.num_pes + 1)
        return c[(self.num_pes // c) * c >= 0.9 * self.num_pes]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _coin(rng, n, rate) -> np.ndarray:
    return rng.random(n) < rate


def _random_level(rng, levels, low=0) -> np.ndarray:
    """A random used level >= low per individual (``low`` if it has no such level)."""
    span = np.maximum(levels - low, 1)
    return low + (rng.random(len(levels)) * span).astype(np.int64)


def _parent_tiles(pop: Population, space: SearchSpace, rows, level) -> np.ndarray:
    """(len(rows), 6) tiles of the parent of ``level`` (the layer sizes above level 0)."""
    parent = pop.tile[rows, np.maximum(level - 1, 0)]
    return np.where((level == 0)[:, None], space.sizes[None, :], parent)


def _draw_cluster(space: SearchSpace, rng, budget: np.ndarray) -> np.ndarray:
    """Cluster sizes <= budget: half from the PE-filling sizes, half uniform."""
    budget = np.maximum(np.asarray(budget, dtype=np.int64), 1)
    uniform = 1 + (rng.random(budget.shape) * budget).astype(np.int64)
    good = space.good_clusters
    pick = good[(rng.random(budget.shape) * len(good)).astype(np.int64)]
    value = np.where(rng.random(budget.shape) < 0.5, pick, uniform)
    return np.minimum(value, budget)


def _new_tile(old, bound, space: SearchSpace, rng, units=None) -> np.ndarray:
    """New tile sizes within ``[1, bound]``.

    A mix of GAMMA's uniform draw, a divisor of the bound, a local step
    (doubling, halving, ±1) and, for parallel loops, a size that spreads the
    bound evenly over ``units`` (``ceil(bound / (units·k))``).
    """
    old = np.asarray(old, dtype=np.int64)
    bound = np.maximum(np.asarray(bound, dtype=np.int64), 1)
    divisor = random_divisor(bound, rng)
    if space.use_factor:
        return divisor
    n = old.shape
    uniform = 1 + (rng.random(n) * bound).astype(np.int64)
    step = rng.integers(0, 4, n)
    local = np.select([step == 0, step == 1, step == 2], [old * 2, old // 2, old + 1], old - 1)
    k = rng.integers(1, 5, n)
    spread = np.ceil(bound / (k * (1 if units is None else np.maximum(units, 1)))).astype(np.int64)
    kind = rng.integers(0, 4, n)
    value = np.select([kind == 0, kind == 1, kind == 2], [uniform, divisor, local], spread)
    return np.clip(value, 1, bound)


# ---------------------------------------------------------------------------
# initial populations
# ---------------------------------------------------------------------------

def random_population(space: SearchSpace, n: int, rng: np.random.Generator) -> Population:
    """``n`` random mappings, as GAMMA's ``reinit_pop`` (then repaired).

    Levels are drawn in ``[slevel_min, slevel_max]``; parallel dimensions,
    loop orders and tiles uniformly (tiles of a level within its parent's).
    """
    levels = space.slevel_max
    shape = (n, levels)
    par = rng.choice(space.par_choices, size=shape)
    order = np.argsort(rng.random((n, levels, NUM_DIMS)), axis=2)
    tile = np.empty((n, levels, NUM_DIMS), dtype=np.int64)
    bound = np.broadcast_to(space.max_tile, (n, NUM_DIMS))
    for level in range(levels):
        if space.use_factor:
            tile[:, level] = random_divisor(bound, rng)
        else:
            tile[:, level] = 1 + (rng.random((n, NUM_DIMS)) * bound).astype(np.int64)
        bound = tile[:, level]
    cluster = _draw_cluster(space, rng, np.full(shape, space.num_pes))
    pes = (1 + (rng.random(n) * space.num_pes).astype(np.int64) if space.codesign
           else np.zeros(n, dtype=np.int64))
    pop = Population(par=par.astype(np.int64), par2=np.full(shape, NO_DIM, dtype=np.int64),
                     cluster=cluster, order=order.astype(np.int64), tile=tile,
                     levels=rng.integers(space.slevel_min, space.slevel_max + 1, n), pes=pes)
    return repair(pop, space, rng)


def structured_population(space: SearchSpace, n: int, rng: np.random.Generator) -> Population:
    """``n`` mappings built to keep every PE busy.

    Cluster sizes leave few PEs idle (or, a share :data:`SMALL_CLUSTER`, are
    2 to 8); each level's parallel tile spreads the parent tile evenly over
    the level's units (``ceil(parent / (units·k))``, small ``k``; at the top
    level a share :data:`UNIT_PARALLEL` takes 1); other tiles are divisors of
    the parent tile, the innermost level's biased small (they set the per-PE
    buffer).
    """
    pop = random_population(space, n, rng)
    if space.codesign:
        pop.pes[:] = space.num_pes      # built for the whole array; mutate_pe then shrinks it
    if space.exact_only and space.layer.stride > 1:
        # MAESTRO miscounts the MACs of nearly every strided mapping whose top
        # level spreads Y' or X' over the clusters: seed channel parallelism.
        channels = space.par_choices[np.isin(space.par_choices, (K, C))]
        rows_or_cols = np.isin(pop.par[:, 0], (Y, X))
        if len(channels) and rows_or_cols.any():
            pop.par[rows_or_cols, 0] = rng.choice(channels, rows_or_cols.sum())
    rows = np.arange(n)
    remaining = np.full(n, space.num_pes)
    for level in range(1, space.slevel_max):
        budget = remaining // 2 if level < space.slevel_max - 1 else remaining
        c = _draw_cluster(space, rng, budget)
        # or: the number of chunks of the level's parallel dimension
        size = space.sizes[pop.par[:, level]]
        chunks = np.ceil(size / (1 + (rng.random(n) * size).astype(np.int64))).astype(np.int64)
        c = np.where((rng.random(n) < 0.5) & (chunks <= budget), chunks, c)
        # or a small cluster (2 to 8): its spatial edge is where MAESTRO's pricing is cheap
        small = rng.integers(2, 9, n)
        c = np.where((rng.random(n) < SMALL_CLUSTER) & (small <= budget), small, c)
        pop.cluster[:, level] = np.maximum(c, 1)
        remaining = remaining // np.maximum(c, 1)
    pop = repair(pop, space, rng)
    units = units_per_level(pop, space.num_pes)
    last = pop.levels - 1
    for level in range(space.slevel_max):
        parent = (np.broadcast_to(space.sizes, (n, NUM_DIMS)) if level == 0
                  else pop.tile[:, level - 1])
        divisor = random_divisor(parent, rng)
        innermost = (level == last)[:, None]
        small = random_divisor(divisor, rng)
        full = rng.random((n, NUM_DIMS)) < np.where(innermost, 0.1, 0.35)
        tile = np.where(full, parent, np.where(innermost & (rng.random((n, 1)) < 0.5), small, divisor))
        p = pop.par[:, level]
        k = rng.choice([1, 1, 1, 2, 3, 4], n)
        spread = np.maximum(np.ceil(parent[rows, p] / (units[:, level] * k)), 1)
        # or, at the top level, one element per unit (vgg16 layer 2's best mappings
        # spread Y' 1 per unit over 84 clusters, edge step included)
        tile[rows, p] = np.where((rng.random(n) < UNIT_PARALLEL) & (level == 0), 1, spread)
        pop.tile[:, level] = tile
    return repair(pop, space, rng)


def estimate(pop: Population, space: SearchSpace):
    """Cheap analytic estimate of runtime and buffer needs (no cost model).

    Temporal loops cost their share of the parent tile (edges are cheap in
    MAESTRO); a spatial loop costs ``ceil(chunks / units)`` steps; the
    innermost tile product is the per-PE work per step; every step above the
    innermost level adds about one cycle of fill.  Buffer sizes follow
    MAESTRO's double-buffered tile sizes.  Used only to pick the seeds of the
    initial population.

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
    l2 = 2 * _footprint(top, space.layer.type)
    return cycles, l1, l2


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

    def priced(level, size, full, at_edge, innermost):
        """Cycles of a call of ``level`` over ``size``, given the cycles of a
        full and of an edge step of the level below."""
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


def l1_need(pop: Population, space: SearchSpace) -> np.ndarray:
    """(P,) float: L1 elements per PE, MAESTRO's double-buffered innermost tile.

    Exactly the cost model's ``l1_size_req`` for unstrided layers; MAESTRO's
    stride rewrite sizes strided tiles otherwise, so for those it is only an
    estimate.
    """
    inner = pop.tile[np.arange(len(pop)), pop.levels - 1].astype(float)
    return 2 * _footprint(inner, space.layer.type)


def _footprint(t: np.ndarray, layer_type: str) -> np.ndarray:
    """Input + weight + output elements of tiles ``t`` (P, 6), MAESTRO-style."""
    rows = t[:, Y] + t[:, R] - 1
    cols = t[:, X] + t[:, S] - 1
    if layer_type == "DSCONV":
        return t[:, C] * rows * cols * 2 + t[:, C] * t[:, R] * t[:, S]
    return t[:, C] * rows * cols + t[:, K] * t[:, C] * t[:, R] * t[:, S] + t[:, K] * rows * cols


def seeded_population(space: SearchSpace, n: int, rng: np.random.Generator, *,
                      l1_size: float, l2_size: float, pool: int = 4000, area_fits=None,
                      default_pes: int = 0) -> Population:
    """An initial population: about two thirds PE-filling seeds, one third random.

    The first random member has every free tile 1 (GAMMA's unit base).

    ``pool`` structured candidates are drawn; those whose estimated buffers
    fit (and, given ``area_fits(pes, l1, l2) -> bool array``, whose estimated
    area does) are ranked by estimated runtime and the best distinct ones are
    kept.  For honest runtimes the estimate is :func:`estimate`, and a share
    :data:`SEED_UNRANKED` of the seeds is drawn among the other fitting
    candidates instead.  When undercounts count, each candidate first gets 0
    to :data:`SEED_EDGE_MOVES` cheap edges (:func:`edge_tile`) and the ranking
    is :func:`priced_rank`, which sees MAESTRO's edge pricing.  The rest of
    the population is random, for diversity.  No cost-model call is made.  In
    co-design the structured candidates' PE counts come from :func:`mutate_pe`
    (as DiGamma's first generation); ``default_pes`` is the PE count of
    non-co-design candidates for ``area_fits``.
    """
    if n <= 0:
        return random_population(space, 0, rng)
    n_random = max(n // 3, 1) if n > 1 else 0
    candidates = structured_population(space, max(pool, n), rng)
    if space.codesign:
        candidates = repair(mutate_pe(candidates, space, rng, rate=1.0), space, rng)
    if space.undercount_ok:
        # MAESTRO's cheapest pricings combine several cheap edges, at several
        # levels and dimensions: seldom drawn, or bred, all at once.
        moves = rng.integers(0, SEED_EDGE_MOVES + 1, len(candidates))
        for i in range(SEED_EDGE_MOVES):
            more = moves > i
            candidates.put(more, repair(edge_tile(candidates.take(more), space, rng), space, rng))
    cycles, l1, l2 = estimate(candidates, space)
    unranked = SEED_UNRANKED
    if space.undercount_ok:
        cycles, unranked = priced_rank(candidates, space), 0.0
    fits = (l1 <= l1_size) & (l2 <= l2_size)
    if area_fits is not None:
        pes = np.where(candidates.pes > 0, candidates.pes, default_pes or space.num_pes)
        fits &= area_fits(pes, l1, l2)
    order = np.lexsort((cycles, ~fits))
    rows = candidates.packed()[order]
    _, first = np.unique(rows.view(np.dtype((np.void, 8 * rows.shape[1]))).ravel(), return_index=True)
    order = order[np.sort(first)]
    # Most seeds are the best estimated; for honest runtimes a few are drawn
    # among the rest that fit, as the estimate's ranking is only close.
    n_seeds = n - n_random
    n_best = n_seeds - int(n_seeds * unranked)
    fitting = int(fits.sum())
    extra = order[n_best:max(fitting, n_best)]
    extra = extra[rng.permutation(len(extra))[:n_seeds - n_best]]
    pick = np.concatenate([order[:n_best], extra])
    if len(pick) < n_seeds:
        pick = np.concatenate([pick, order[n_best:][~np.isin(order[n_best:], pick)][:n_seeds - len(pick)]])
    seeds = candidates.take(pick)
    rest = random_population(space, n - len(seeds), rng)
    if len(rest):
        # As GAMMA's unit-base individuals: one mapping with every free tile 1,
        # which fits the smallest buffers, so even a tiny budget has a
        # feasible candidate to grow from (the estimate above can be wrong).
        # Channels, not rows or columns, go parallel: with a stride, MAESTRO
        # miscounts the MACs of most mappings that spread Y' or X' over PEs.
        rest.tile[0] = 1
        channels = [d for d in space.par_choices if d in (K, C)]
        if channels:
            rest.par[0] = channels[0]
        rest = repair(rest, space, rng)
    return Population.concatenate([seeds, rest])


# ---------------------------------------------------------------------------
# variation
# ---------------------------------------------------------------------------

def _cluster_product(pop: Population) -> np.ndarray:
    """(P,) product of the used inner levels' cluster sizes (PEs per top-level cluster)."""
    clusters = np.where(pop.active(), np.maximum(pop.cluster, 1), 1)
    clusters[:, 0] = 1
    return np.prod(clusters, axis=1)


def mutate_pe(pop: Population, space: SearchSpace, rng, *, rate: float = 0.5) -> Population:
    """DiGamma's PE-count mutation (co-design only; otherwise a copy).

    The PE count is #clusters x cluster size (``cl``, the product of the inner
    levels' cluster sizes).  The useful number of top-level clusters is
    ``ceil(D / T)`` for the top level's parallel dimension ``D`` and its tile
    ``T`` (more clusters would idle), at most ``num_pes // cl``.  Most draws
    (60 %) take, as DiGamma, a cluster count from the upper half of that
    useful range; 25 % move the count by one or two clusters; 15 % draw it
    uniformly up to ``num_pes // cl`` (and then refit ``T`` to it, so the new
    PEs are used).  The result is a multiple of ``cl``, at most ``num_pes``.
    """
    out = pop.copy()
    if not space.codesign:
        return out
    rows = np.flatnonzero(_coin(rng, len(pop), rate))
    if not len(rows):
        return out
    n = len(rows)
    cl = _cluster_product(out)[rows]
    most = np.maximum(space.num_pes // cl, 1)
    p0 = out.par[rows, 0]
    dim = space.sizes[p0]
    useful = np.ceil(dim / np.maximum(out.tile[rows, 0, p0], 1)).astype(np.int64)
    top = np.clip(useful, 1, most)
    low = np.maximum(top // 2, 1)
    upper_half = low + (rng.random(n) * (top - low + 1)).astype(np.int64)
    old = np.maximum(out.pes[rows] // cl, 1)
    step = rng.choice([-2, -1, 1, 2], n)
    uniform = 1 + (rng.random(n) * most).astype(np.int64)
    kind = rng.random(n)
    count = np.where(kind < 0.6, upper_half, np.where(kind < 0.85, old + step, uniform))
    count = np.clip(count, 1, most)
    out.pes[rows] = count * cl
    refit = (kind >= 0.85) & (space.free_tiles[0, p0] | space.split_tiles[0, p0])
    fit = np.maximum(np.ceil(dim / count), 1).astype(np.int64)
    out.tile[rows[refit], 0, p0[refit]] = np.minimum(fit[refit], space.max_tile[p0[refit]])
    return out


def refit_parallel(pop: Population, space: SearchSpace) -> Population:
    """A copy whose top-level parallel tile no longer leaves top-level units idle.

    For mappings carried over from another PE count (warm starts): where the
    top level's parallel dimension has fewer chunks (``ceil(D / T)``) than
    the level has units, ``T`` becomes ``ceil(D / units)``.
    """
    out = pop.copy()
    if not len(out):
        return out
    rows = np.arange(len(out))
    units = units_per_level(out, space.num_pes)[:, 0]
    p0 = out.par[:, 0]
    dim = space.sizes[p0]
    chunks = np.ceil(dim / np.maximum(out.tile[rows, 0, p0], 1))
    fit = np.maximum(np.ceil(dim / np.maximum(units, 1)), 1).astype(np.int64)
    ok = (chunks < units) & (space.free_tiles[0, p0] | space.split_tiles[0, p0])
    out.tile[rows[ok], 0, p0[ok]] = np.minimum(fit[ok], space.max_tile[p0[ok]])
    return out


def crossover(mom: Population, dad: Population, space: SearchSpace, rng, *,
              rate: float = 0.6, level_rate: float = 0.2) -> tuple[Population, Population]:
    """GAMMA's tile crossover, plus a whole-level swap.

    With probability ``rate`` a pair swaps the tiles of one random
    dimension at every level (each child keeps its own loop order and
    parallelism) and, in co-design, half the time its PE counts; with probability
    ``level_rate`` it also swaps one whole level (parallel dims, cluster size,
    order and tiles) both parents use.
    """
    a, b = mom.copy(), dad.copy()
    n = len(a)
    rows = np.flatnonzero(_coin(rng, n, rate))
    choices = np.flatnonzero(space.sizes > 1)
    if len(choices) and len(rows):
        d = rng.choice(choices, len(rows))
        a.tile[rows, :, d], b.tile[rows, :, d] = dad.tile[rows, :, d], mom.tile[rows, :, d]
        if space.codesign:      # the PE-count gene crosses over too, half the time
            swap = rows[rng.random(len(rows)) < 0.5]
            a.pes[swap], b.pes[swap] = dad.pes[swap], mom.pes[swap]
    rows = np.flatnonzero(_coin(rng, n, level_rate))
    if len(rows):
        lvl = _random_level(rng, np.minimum(mom.levels, dad.levels)[rows])
        for name in ("par", "par2", "cluster", "order", "tile"):
            src_a, src_b = getattr(mom, name), getattr(dad, name)
            getattr(a, name)[rows, lvl] = src_b[rows, lvl]
            getattr(b, name)[rows, lvl] = src_a[rows, lvl]
    return a, b


def reorder(pop: Population, space: SearchSpace, rng, *, rate: float = 0.5) -> Population:
    """GAMMA's ``swap_order``: swap two loops of one level (free positions only)."""
    out = pop.copy()
    rows = np.flatnonzero(_coin(rng, len(pop), rate))
    lvl = _random_level(rng, pop.levels[rows])
    free = space.free_order_slots[lvl]
    i = (rng.random(len(rows)) * free).astype(np.int64)
    j = (rng.random(len(rows)) * free).astype(np.int64)
    a, b = out.order[rows, lvl, i], out.order[rows, lvl, j]
    out.order[rows, lvl, i], out.order[rows, lvl, j] = b, a
    return out


def mutate_tile(pop: Population, space: SearchSpace, rng, *, rate: float = 0.5,
                loci: int = 3) -> Population:
    """GAMMA's ``mutate_tile``: ``loci`` attempts per individual, each with
    probability ``rate``, to redraw one free tile of one level within its
    parent tile (see :func:`_new_tile`)."""
    out = pop.copy()
    free = space.free_tiles
    units = units_per_level(out, space.num_pes)
    for _ in range(loci):
        rows = np.flatnonzero(_coin(rng, len(out), rate))
        if not len(rows):
            continue
        lvl = _random_level(rng, out.levels[rows])
        spatial = np.arange(NUM_DIMS) == out.par[rows, lvl][:, None]
        weights = (free[lvl] | (space.split_tiles[lvl] & spatial)).astype(float)
        ok = weights.sum(axis=1) > 0
        rows, lvl, weights = rows[ok], lvl[ok], weights[ok]
        if not len(rows):
            continue
        cum = np.cumsum(weights, axis=1)
        d = (rng.random((len(rows), 1)) * cum[:, -1:] >= cum).sum(axis=1)
        bound = np.where(lvl == 0, space.max_tile[d], out.tile[rows, np.maximum(lvl - 1, 0), d])
        is_par = out.par[rows, lvl] == d
        u = np.where(is_par, units[rows, lvl], 1)
        out.tile[rows, lvl, d] = _new_tile(out.tile[rows, lvl, d], bound, space, rng, u)
    return out


def mutate_par(pop: Population, space: SearchSpace, rng, *, rate: float = 0.2) -> Population:
    """Parallel-dimension mutation.

    Half the time a level gets a new parallel dimension (and, as in GAMMA's
    header mutation, that dimension's tile is refitted to the level's units);
    otherwise two levels swap their parallel dimensions (GAMMA's
    ``mutate_par``).  Constrained choices (``sp``) are restored by
    :func:`repair`.
    """
    out = pop.copy()
    rows = np.flatnonzero(_coin(rng, len(pop), rate))
    if not len(rows):
        return out
    swap = (rng.random(len(rows)) < 0.5) & (pop.levels[rows] >= 2)
    sr = rows[swap]
    if len(sr):
        a = _random_level(rng, pop.levels[sr])
        b = (a + 1 + (rng.random(len(sr)) * (pop.levels[sr] - 1)).astype(np.int64)) % pop.levels[sr]
        out.par[sr, a], out.par[sr, b] = pop.par[sr, b], pop.par[sr, a]
    nr = rows[~swap]
    if len(nr):
        lvl = _random_level(rng, pop.levels[nr])
        d = rng.choice(space.par_choices, len(nr))
        out.par[nr, lvl] = d
        units = units_per_level(out, space.num_pes)[nr, lvl]
        parent = _parent_tiles(out, space, nr, lvl)[np.arange(len(nr)), d]
        fit = np.maximum(np.ceil(parent / units), 1).astype(np.int64)
        refit = (space.free_tiles[lvl, d] | space.split_tiles[lvl, d]) & (rng.random(len(nr)) < 0.7)
        out.tile[nr[refit], lvl[refit], d[refit]] = fit[refit]
    return out


def mutate_cluster(pop: Population, space: SearchSpace, rng, *, rate: float = 0.2) -> Population:
    """Cluster-size mutation of a random inner level (no-op with ``--fixedCluster``).

    Half the new sizes are PE-filling sizes, half divisors of
    ``min(parent tile of the parallel dim, PEs)`` as in GAMMA; the level's
    parallel tile is then refitted to the new size half of the time.
    """
    out = pop.copy()
    rows = np.flatnonzero(_coin(rng, len(pop), rate) & (pop.levels >= 2))
    if space.fixed_cluster or not len(rows):
        return out
    lvl = _random_level(rng, pop.levels[rows], low=1)
    p = pop.par[rows, lvl]
    parent = pop.tile[rows, lvl - 1, p]
    gamma_like = random_divisor(np.clip(parent, 1, space.num_pes), rng)
    others = np.prod(np.where(out.active()[rows], np.maximum(out.cluster[rows], 1), 1), axis=1)
    others //= np.maximum(out.cluster[rows, lvl], 1)
    filling = _draw_cluster(space, rng, space.num_pes // np.maximum(others, 1))
    c = np.where(rng.random(len(rows)) < 0.5, filling, gamma_like)
    out.cluster[rows, lvl] = c
    refit = (rng.random(len(rows)) < 0.5) & (space.free_tiles[lvl, p] | space.split_tiles[lvl, p])
    fit = np.maximum(np.ceil(parent / np.maximum(c, 1)), 1).astype(np.int64)
    out.tile[rows[refit], lvl[refit], p[refit]] = fit[refit]
    return out


def grow(pop: Population, space: SearchSpace, rng, *, rate: float = 0.2) -> Population:
    """GAMMA's growth (``born_cluster``): add an innermost level.

    The new level splits the old innermost level's tile over a new cluster:
    it gets a random parallel dimension whose tile spreads the parent tile
    over the cluster, the other tiles equal to the parent's, a random order.
    """
    out = pop.copy()
    rows = np.flatnonzero(_coin(rng, len(pop), rate) & (pop.levels < space.slevel_max))
    if not len(rows):
        return out
    new = pop.levels[rows]
    used = np.prod(np.where(pop.active()[rows], np.maximum(pop.cluster[rows], 1), 1), axis=1)
    c = (space.fixed_cluster if space.fixed_cluster
         else _draw_cluster(space, rng, np.maximum(space.num_pes // used, 1)))
    d = rng.choice(space.par_choices, len(rows))
    parent = pop.tile[rows, new - 1]
    tile = parent.copy()
    tile[np.arange(len(rows)), d] = np.maximum(np.ceil(parent[np.arange(len(rows)), d] / c), 1)
    out.tile[rows, new] = tile
    out.par[rows, new] = d
    out.par2[rows, new] = NO_DIM
    out.cluster[rows, new] = c
    out.order[rows, new] = np.argsort(rng.random((len(rows), NUM_DIMS)), axis=1)
    out.levels[rows] += 1
    return out


def age(pop: Population, space: SearchSpace, rng, *, rate: float = 0.1) -> Population:
    """GAMMA's aging (``kill_cluster``): drop the innermost level."""
    out = pop.copy()
    rows = _coin(rng, len(pop), rate) & (pop.levels > space.slevel_min)
    out.levels[rows] -= 1
    return out


# ---------------------------------------------------------------------------
# repair
# ---------------------------------------------------------------------------

def repair(pop: Population, space: SearchSpace, rng) -> Population:
    """Make every individual a well-formed mapping that meets the constraints (in place).

    * levels within ``[slevel_min, slevel_max]``;
    * tiles within ``[1, parent tile]`` (level 0: the layer size);
    * parallel dims among the allowed ones, ``par2`` different from ``par``;
    * cluster sizes >= 1 (or ``--fixedCluster``), their product at most the PE count;
    * the constraint re-applied, then tiles clamped again;
    * co-design: PE counts a multiple of the cluster sizes' product, at most the PE limit
      (otherwise 0: the hardware's).
    """
    np.clip(pop.levels, space.slevel_min, space.slevel_max, out=pop.levels)
    bad = ~np.isin(pop.par, space.par_choices)
    pop.par[bad] = rng.choice(space.par_choices, int(bad.sum()))
    pop.par2[pop.par2 == pop.par] = NO_DIM
    _clamp_tiles(pop, space)
    cluster = pop.cluster
    cluster[:, 0] = 0
    if space.fixed_cluster:
        cluster[:, 1:] = space.fixed_cluster
    np.clip(cluster[:, 1:], 1, space.num_pes, out=cluster[:, 1:])
    act = pop.active()
    for level in range(1, pop.max_levels):
        rest = np.where(act, cluster, 1)
        rest[:, [0, level]] = 1
        others = np.prod(rest, axis=1)
        cluster[:, level] = np.maximum(np.minimum(cluster[:, level], space.num_pes // others), 1)
    cst.apply(pop, space.constraint, space.layer, space.num_pes, rng=rng)
    if _raise_parents(pop, space):
        cst.apply(pop, space.constraint, space.layer, space.num_pes, rng=rng)
    _clamp_tiles(pop, space)
    if space.codesign:
        # #clusters x cluster size, within [cluster size, PE limit]
        cl = _cluster_product(pop)
        pes = np.where(pop.pes > 0, pop.pes, space.num_pes)
        pop.pes[:] = np.clip(pes // cl, 1, np.maximum(space.num_pes // cl, 1)) * cl
    else:
        pop.pes[:] = 0
    return pop


def _raise_parents(pop: Population, space: SearchSpace) -> bool:
    """Lift outer tiles below a constraint-fixed inner tile (e.g. ``"Y": "R"`` under a Y' tile
    smaller than R), so that clamping keeps the fixed value; True if anything changed."""
    changed = False
    for level in range(pop.max_levels - 1, 0, -1):
        fixed = ~space.free_tiles[level] & (space.sizes > 1)
        if not fixed.any():
            continue
        child, parent = pop.tile[:, level], pop.tile[:, level - 1]
        low = fixed[None, :] & (child > parent) & pop.active()[:, level:level + 1]
        if low.any():
            parent[low] = child[low]
            changed = True
    np.minimum(pop.tile[:, 0], space.max_tile, out=pop.tile[:, 0])
    return changed


def _clamp_tiles(pop: Population, space: SearchSpace) -> None:
    np.clip(pop.tile[:, 0], 1, space.max_tile, out=pop.tile[:, 0])
    for level in range(1, pop.max_levels):
        np.clip(pop.tile[:, level], 1, pop.tile[:, level - 1], out=pop.tile[:, level])


def edge_tile(pop: Population, space: SearchSpace, rng, *, rate: float = 1.0) -> Population:
    """Give one level's tile a cheap *edge* over its child level (a copy; not repaired).

    MAESTRO sizes a child level's edge step from the full parent tile ``T``
    (``T mod t``), also under the parent's own, shorter edge step, so some
    tile pairs score well below their honest cost while the analysis stays
    exact: undercounts (runtime below the busiest PE's MACs), sought only
    when they count (``SearchSpace.undercount_ok``).  With a parent tile ``T`` over a child tile ``t``
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
    rows = np.flatnonzero(_coin(rng, len(pop), rate) & (pop.levels >= 2))
    if not len(rows):
        return out
    n = len(rows)
    lvl = (rng.random(n) * (pop.levels[rows] - 1)).astype(np.int64)
    parent = _parent_tiles(out, space, rows, lvl)
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
    m = np.maximum(np.where(rng.random(n) < 0.3, m_split, m_near), 1).astype(np.int64)
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


def neighbour(pop: Population, space: SearchSpace, rng) -> Population:
    """Local search: one small move per individual (GAMMA has no such operator).

    Mostly one free tile of one level takes a neighbouring value (±1,
    doubled, halved, or the next divisor of its parent tile up or down) or,
    for a share :data:`EDGE_SHARE`, a cheap edge over its child (:func:`edge_tile`);
    otherwise an inner level's cluster size moves by ±1, or two adjacent free
    loops of a level swap.  Applied to copies of the best mappings, this
    explores their immediate surroundings, where MAESTRO's edge effects make
    single tile values matter.
    """
    out = pop.copy()
    n = len(out)
    if not n:
        return out
    rows = np.arange(n)
    lvl = _random_level(rng, out.levels)
    kind = rng.random(n)
    # tiles
    spatial = np.arange(NUM_DIMS) == out.par[rows, lvl][:, None]
    weights = (space.free_tiles[lvl] | (space.split_tiles[lvl] & spatial)).astype(float)
    cum = np.cumsum(weights, axis=1)
    d = np.minimum((rng.random((n, 1)) * cum[:, -1:] >= cum).sum(axis=1), NUM_DIMS - 1)
    bound = np.where(lvl == 0, space.max_tile[d], out.tile[rows, np.maximum(lvl - 1, 0), d])
    old = out.tile[rows, lvl, d]
    table, count = divisor_table(int(max(bound.max(), 1)))
    divs = table[bound]
    valid = np.arange(divs.shape[1])[None, :] < count[bound][:, None]
    up = np.where(valid & (divs > old[:, None]), divs, bound[:, None]).min(axis=1)
    down = np.where(valid & (divs < old[:, None]), divs, 1).max(axis=1)
    move = rng.integers(0, 6, n)
    value = np.choose(move, [old + 1, old - 1, old * 2, old // 2, up, down])
    edge_share = EDGE_SHARE if space.undercount_ok else 0.0
    tiles = (kind < 0.8 - edge_share) & (cum[:, -1] > 0)
    out.tile[rows[tiles], lvl[tiles], d[tiles]] = np.clip(value, 1, bound)[tiles]
    # cluster sizes
    inner = (kind >= 0.8) & (kind < 0.9) & (out.levels >= 2) & (space.fixed_cluster == 0)
    c_lvl = np.maximum(lvl, 1)
    step = np.where(rng.random(n) < 0.5, 1, -1)
    out.cluster[rows[inner], c_lvl[inner]] += step[inner]
    # PE count (co-design): one top-level cluster more or less, instead of a tile move
    if space.codesign:
        pe_move = kind < 0.15
        tiles &= ~pe_move
        out.tile[rows[pe_move], lvl[pe_move], d[pe_move]] = pop.tile[rows[pe_move], lvl[pe_move],
                                                                     d[pe_move]]
        cl = _cluster_product(out)
        count = np.maximum(out.pes // cl, 1) + np.where(rng.random(n) < 0.5, 1, -1)
        out.pes[pe_move] = (np.maximum(count, 1) * cl)[pe_move]
    # adjacent loops
    swap = (kind >= 0.9) & (space.free_order_slots[lvl] >= 2)
    i = (rng.random(n) * np.maximum(space.free_order_slots[lvl] - 1, 1)).astype(np.int64)
    sr, sl, si = rows[swap], lvl[swap], i[swap]
    a, b = out.order[sr, sl, si], out.order[sr, sl, si + 1]
    out.order[sr, sl, si], out.order[sr, sl, si + 1] = b, a
    # "one above a multiple of the inner tile" (see edge_tile)
    edge = np.flatnonzero((kind >= 0.8 - edge_share) & (kind < 0.8))
    if len(edge):
        out.tile[edge] = edge_tile(out.take(edge), space, rng).tile
    return repair(out, space, rng)


def vary(parents: Population, space: SearchSpace, rng, rates: dict | None = None) -> Population:
    """One generation's offspring: crossover of consecutive parent pairs, then
    reorder, tile / parallel-dim / cluster (/ PE-count in co-design) mutation,
    edge moves (:func:`edge_tile`), growth, aging, repair."""
    r = {"crossover": 0.6, "level_crossover": 0.2, "reorder": 0.5, "tile": 0.5, "par": 0.2,
         "cluster": 0.2, "grow": 0.2, "age": 0.1, "pe": 0.5,
         "edge": 0.3 if space.undercount_ok else 0.0, **(rates or {})}
    half = len(parents) // 2
    a, b = crossover(parents.take(slice(0, half)), parents.take(slice(half, 2 * half)), space, rng,
                     rate=r["crossover"], level_rate=r["level_crossover"])
    kids = Population.concatenate([a, b, parents.take(slice(2 * half, len(parents)))])
    kids = reorder(kids, space, rng, rate=r["reorder"])
    kids = mutate_tile(kids, space, rng, rate=r["tile"])
    kids = mutate_par(kids, space, rng, rate=r["par"])
    kids = mutate_cluster(kids, space, rng, rate=r["cluster"])
    if space.codesign:
        kids = mutate_pe(kids, space, rng, rate=r.get("pe", 0.5))
    kids = edge_tile(kids, space, rng, rate=r["edge"])
    kids = grow(kids, space, rng, rate=r["grow"])
    kids = age(kids, space, rng, rate=r["age"])
    return repair(kids, space, rng)
