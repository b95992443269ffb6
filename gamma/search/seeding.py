"""The first generation: PE-filling structured mappings, ranked by estimate, and random ones.

GAMMA starts from random mappings; most of them leave PEs idle or overflow
the buffers.  :func:`seeded_population` instead draws a large pool of
*structured* candidates (:func:`structured_population`: cluster sizes that
fill the PEs, parallel tiles spread evenly over the units), ranks those whose
estimated buffers fit by estimated runtime (the strategy's ranking, see
:mod:`gamma.search.trust`) and keeps the best distinct ones; a third of the
population stays random, for diversity.  No cost-model call is made.
"""
from __future__ import annotations

import numpy as np

from gamma.mapping import NUM_DIMS, C, K, Population, X, Y, random_divisor, units_per_level
from gamma.search.estimates import estimate
from gamma.search.params import GAParams
from gamma.search.rowset import RowSet
from gamma.search.space import SearchSpace, draw_cluster, random_population, repair
from gamma.search.trust import HonestStrategy
from gamma.search.variation import mutate_pe

#: Cluster sizes of structured candidates' "small cluster" draws (2 to 8 PEs).
SMALL_CLUSTERS = (2, 9)
#: Multipliers ``k`` of a structured parallel tile ``ceil(parent / (units·k))``:
#: mostly 1 (one chunk per unit), sometimes 2 to 4 chunks per unit.
SPREAD_FACTORS = (1, 1, 1, 2, 3, 4)


def structured_population(space: SearchSpace, n: int, rng: np.random.Generator,
                          params: GAParams) -> Population:
    """``n`` mappings built to keep every PE busy.

    Cluster sizes leave few PEs idle (or, a share ``params.small_cluster``, are
    2 to 8); each level's parallel tile spreads the parent tile evenly over
    the level's units (``ceil(parent / (units·k))``, small ``k``; at the top
    level a share ``params.unit_parallel`` takes 1); other tiles are divisors of
    the parent tile, the innermost level's biased small (they set the per-PE
    buffer).
    """
    pop = random_population(space, n, rng)
    if space.codesign:
        pop.pes[:] = space.num_pes      # built for the whole array; mutate_pe then shrinks it
    if space.exact_only and space.layer.stride > 1:
        # Strided layers: channel parallelism at the top level seeds better
        # than rows or columns (measured at 20 x 10 on the strided layers of
        # resnet18/50 and mobilenet_v2; equal at 100 x 20).
        channels = space.par_choices[np.isin(space.par_choices, (K, C))]
        rows_or_cols = np.isin(pop.par[:, 0], (Y, X))
        if len(channels) and rows_or_cols.any():
            pop.par[rows_or_cols, 0] = rng.choice(channels, rows_or_cols.sum())
    rows = np.arange(n)
    remaining = np.full(n, space.num_pes)
    for level in range(1, space.slevel_max):
        budget = remaining // 2 if level < space.slevel_max - 1 else remaining
        c = draw_cluster(space, rng, budget)
        # or: the number of chunks of the level's parallel dimension
        size = space.sizes[pop.par[:, level]]
        chunks = np.ceil(size / (1 + (rng.random(n) * size).astype(np.int64))).astype(np.int64)
        c = np.where((rng.random(n) < 0.5) & (chunks <= budget), chunks, c)
        # or a small cluster (2 to 8): its spatial edge is where MAESTRO's pricing is cheap
        small = rng.integers(*SMALL_CLUSTERS, n)
        c = np.where((rng.random(n) < params.small_cluster) & (small <= budget), small, c)
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
        full = rng.random((n, NUM_DIMS)) < np.where(innermost, params.full_tile_innermost, params.full_tile)
        tile = np.where(full, parent, np.where(innermost & (rng.random((n, 1)) < 0.5), small, divisor))
        p = pop.par[:, level]
        k = rng.choice(SPREAD_FACTORS, n)
        spread = np.maximum(np.ceil(parent[rows, p] / (units[:, level] * k)), 1)
        # or, at the top level, one element per unit (vgg16 layer 2's best mappings
        # spread Y' 1 per unit over 84 clusters, edge step included)
        tile[rows, p] = np.where((rng.random(n) < params.unit_parallel) & (level == 0), 1, spread)
        pop.tile[:, level] = tile
    return repair(pop, space, rng)


def seeded_population(space: SearchSpace, n: int, rng: np.random.Generator,
                      strategy: HonestStrategy, *, l1_size: float, l2_size: float,
                      pool: int | None = None, area_fits=None, default_pes: int = 0) -> Population:
    """An initial population: about two thirds PE-filling seeds, a third random.

    ``pool`` (default ``params.seed_pool``) structured candidates are drawn
    and prepared by the strategy; those whose estimated buffers fit (and,
    given ``area_fits(pes, l1, l2) -> bool array``, whose estimated area
    does) are ranked by the strategy's key and the best distinct ones kept,
    but a share ``seed_unranked`` of the seeds is drawn among the other
    fitting candidates (the estimate's ranking is only close).  The rest of
    the population is random; its first member has every free tile 1
    (GAMMA's unit base).  In co-design the candidates' PE counts come from
    :func:`~gamma.search.variation.mutate_pe` (as DiGamma's first
    generation); ``default_pes`` is the PE count of the others for ``area_fits``.
    """
    params = strategy.params
    if n <= 0:
        return random_population(space, 0, rng)
    n_random = max(int(n * params.random_share), 1) if n > 1 else 0
    candidates = structured_population(space, max(params.seed_pool if pool is None else pool, n),
                                       rng, params)
    if space.codesign:
        candidates = repair(mutate_pe(candidates, space, rng, params, rate=1.0), space, rng)
    candidates = strategy.prepare_seeds(candidates, space, rng)
    cycles, l1, l2 = estimate(candidates, space)
    cycles, unranked = strategy.seed_ranking(candidates, space, cycles)
    fits = (l1 <= l1_size) & (l2 <= l2_size)
    if area_fits is not None:
        pes = np.where(candidates.pes > 0, candidates.pes, default_pes or space.num_pes)
        fits &= area_fits(pes, l1, l2)
    pick = _pick_seeds(candidates, cycles, fits, n - n_random, unranked, rng)
    seeds = candidates.take(pick)
    return Population.concatenate([seeds, _unit_base(space, n - len(seeds), rng)])


def _pick_seeds(candidates: Population, key, fits, n_seeds: int, unranked: float, rng) -> np.ndarray:
    """Indices of ``n_seeds`` distinct candidates: the fitting ones of least ``key``,
    but a share ``unranked`` drawn among the other fitting ones."""
    order = np.lexsort((key, ~fits))
    order = order[~RowSet().duplicates(candidates.packed()[order])]     # first of each mapping
    n_best = n_seeds - int(n_seeds * unranked)
    extra = order[n_best:max(int(fits.sum()), n_best)]
    extra = extra[rng.permutation(len(extra))[:n_seeds - n_best]]
    pick = np.concatenate([order[:n_best], extra])
    if len(pick) < n_seeds:
        pick = np.concatenate([pick, order[n_best:][~np.isin(order[n_best:], pick)][:n_seeds - len(pick)]])
    return pick


def _unit_base(space: SearchSpace, n: int, rng) -> Population:
    """``n`` random mappings, the first with every free tile 1 and every free
    inner cluster of one unit.

    As GAMMA's unit-base individuals: such a mapping fits the smallest
    buffers and splits no filter over PEs, so even a tiny budget has a
    feasible, exactly analysed candidate to grow from (the estimates can be
    wrong; an Eyeriss-like constraint on a strided layer is exact only with
    clusters of one unit: without this, ``eye_map`` on resnet18's stem found
    no trusted mapping in 9 of 20 seeds at 20 x 10, with it in none).
    Channels, not rows or columns, go parallel.
    """
    rest = random_population(space, n, rng)
    if len(rest):
        rest.tile[0] = 1
        rest.cluster[0, 1:] = 1
        channels = [d for d in space.par_choices if d in (K, C)]
        if channels:
            rest.par[0] = channels[0]
        rest = repair(rest, space, rng)
    return rest


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
