"""GAMMA's genetic operators and a local search, as NumPy functions over whole populations.

Every operator takes a :class:`~gamma.mapping.Population`, the layer's
:class:`~gamma.search.space.SearchSpace`, an ``rng`` and its rate (from
:class:`~gamma.search.params.GAParams`, the only source of rates), and
returns a new population (its input is never modified).  Operators may
leave tiles inconsistent across levels; :func:`~gamma.search.space.repair`
(run after each generation's variation) clamps inner tiles to the outer
ones, fixes cluster sizes and re-applies the constraints.

GAMMA (``gamma.py``) names: crossover = ``crossover_tile``, reorder =
``swap_order``, tile mutation = ``mutate_tile``, parallel-dim mutation =
``mutate_par``, growth = ``born_cluster``, aging = ``kill_cluster``.
Differences: growth and aging work under any constraint; mutations favour
values that keep samples useful (divisors, fitting the cluster's units) and
never touch a value a constraint fixes.  :func:`mutate_pe` is DiGamma's
PE-count mutation (co-design); :func:`neighbour` is a local search of our own.
"""
from __future__ import annotations

import numpy as np

from gamma.mapping import NO_DIM, NUM_DIMS, Population, divisor_table, random_divisor, units_per_level
from gamma.search import kernels
from gamma.search.params import GAParams
from gamma.search.space import (
    SearchSpace,
    cluster_product,
    coin,
    draw_cluster,
    new_tile,
    random_level,
    repair,
)


def crossover(mom: Population, dad: Population, space: SearchSpace, rng, *,
              rate: float, level_rate: float) -> tuple[Population, Population]:
    """GAMMA's tile crossover, plus a whole-level swap.

    With probability ``rate`` a pair swaps the tiles of one random
    dimension at every level (each child keeps its own loop order and
    parallelism) and, in co-design, half the time its PE counts; with probability
    ``level_rate`` it also swaps one whole level (parallel dims, cluster size,
    order and tiles) both parents use.
    """
    a, b = mom.copy(), dad.copy()
    n = len(a)
    rows = np.flatnonzero(coin(rng, n, rate))
    choices = np.flatnonzero(space.sizes > 1)
    if len(choices) and len(rows):
        d = rng.choice(choices, len(rows))
        a.tile[rows, :, d], b.tile[rows, :, d] = dad.tile[rows, :, d], mom.tile[rows, :, d]
        if space.codesign:      # the PE-count gene crosses over too, half the time
            swap = rows[rng.random(len(rows)) < 0.5]
            a.pes[swap], b.pes[swap] = dad.pes[swap], mom.pes[swap]
    rows = np.flatnonzero(coin(rng, n, level_rate))
    if len(rows):
        lvl = random_level(rng, np.minimum(mom.levels, dad.levels)[rows])
        for name in ("par", "par2", "cluster", "order", "tile"):
            src_a, src_b = getattr(mom, name), getattr(dad, name)
            getattr(a, name)[rows, lvl] = src_b[rows, lvl]
            getattr(b, name)[rows, lvl] = src_a[rows, lvl]
    return a, b


def reorder(pop: Population, space: SearchSpace, rng, *, rate: float) -> Population:
    """GAMMA's ``swap_order``: swap two loops of one level (free positions only)."""
    out = pop.copy()
    rows = np.flatnonzero(coin(rng, len(pop), rate))
    lvl = random_level(rng, pop.levels[rows])
    free = space.free_order_slots[lvl]
    i = (rng.random(len(rows)) * free).astype(np.int64)
    j = (rng.random(len(rows)) * free).astype(np.int64)
    a, b = out.order[rows, lvl, i], out.order[rows, lvl, j]
    out.order[rows, lvl, i], out.order[rows, lvl, j] = b, a
    return out


def mutate_tile(pop: Population, space: SearchSpace, rng, *, rate: float, loci: int) -> Population:
    """GAMMA's ``mutate_tile``: ``loci`` attempts per individual, each with
    probability ``rate``, to redraw one free tile of one level within its
    parent tile (see :func:`new_tile`)."""
    out = pop.copy()
    units = units_per_level(out, space.num_pes)
    # bounds are parent tiles, at most max_tile once repaired (a larger table if not)
    table, count = divisor_table(int(max(space.max_tile.max(), out.tile.max(initial=1))))
    for _ in range(loci):
        rows = np.flatnonzero(coin(rng, len(out), rate))
        if not len(rows):
            continue
        lvl = kernels.pick_levels(out.levels, rows, rng.random(len(rows)), 0)
        ok = kernels.tile_loci_ok(out.par, rows, lvl, space.free_tiles, space.split_tiles)
        rows, lvl = rows[ok], lvl[ok]
        n = len(rows)
        if not n:
            continue
        r = rng.random(n)
        if space.use_factor:
            d, bound, u = kernels.tile_loci(out.tile, out.par, units, rows, lvl, r,
                                            space.free_tiles, space.split_tiles, space.max_tile)
            out.tile[rows, lvl, d] = new_tile(out.tile[rows, lvl, d], bound, space, rng, u)
            continue
        # the draws of new_tile, in its order: divisor, uniform, step, k, kind
        kernels.redraw_tiles(out.tile, out.par, units, rows, lvl, r, rng.random(n), rng.random(n),
                             rng.integers(0, 4, n), rng.integers(1, 5, n), rng.integers(0, 4, n),
                             space.free_tiles, space.split_tiles, space.max_tile, table, count)
    return out


def mutate_par(pop: Population, space: SearchSpace, rng, *, rate: float,
               refit_rate: float) -> Population:
    """Parallel-dimension mutation.

    Half the time a level gets a new parallel dimension (and, with probability
    ``refit_rate``, as in GAMMA's header mutation, that dimension's tile is
    refitted to the level's units);
    otherwise two levels swap their parallel dimensions (GAMMA's
    ``mutate_par``).  Constrained choices (``sp``) are restored by
    :func:`repair`.
    """
    out = pop.copy()
    rows = np.flatnonzero(coin(rng, len(pop), rate))
    if not len(rows):
        return out
    swap = (rng.random(len(rows)) < 0.5) & (pop.levels[rows] >= 2)
    sr = rows[swap]
    if len(sr):
        a = random_level(rng, pop.levels[sr])
        b = (a + 1 + (rng.random(len(sr)) * (pop.levels[sr] - 1)).astype(np.int64)) % pop.levels[sr]
        out.par[sr, a], out.par[sr, b] = pop.par[sr, b], pop.par[sr, a]
    nr = rows[~swap]
    if len(nr):
        lvl = random_level(rng, pop.levels[nr])
        d = rng.choice(space.par_choices, len(nr))
        kernels.set_parallel(out.par, out.tile, out.cluster, out.levels, out.pes, space.num_pes,
                             nr, lvl, d, rng.random(len(nr)), refit_rate, space.free_tiles,
                             space.split_tiles, space.sizes)
    return out


def mutate_cluster(pop: Population, space: SearchSpace, rng, *, rate: float) -> Population:
    """Cluster-size mutation of a random inner level (no-op with ``--fixedCluster``).

    Half the new sizes are PE-filling sizes, half divisors of
    ``min(parent tile of the parallel dim, PEs)`` as in GAMMA; the level's
    parallel tile is then refitted to the new size half of the time.
    """
    out = pop.copy()
    rows = np.flatnonzero(coin(rng, len(pop), rate) & (pop.levels >= 2))
    if space.fixed_cluster or not len(rows):
        return out
    lvl = random_level(rng, pop.levels[rows], low=1)
    p = pop.par[rows, lvl]
    parent = pop.tile[rows, lvl - 1, p]
    gamma_like = random_divisor(np.clip(parent, 1, space.num_pes), rng)
    others = np.prod(np.where(out.active()[rows], np.maximum(out.cluster[rows], 1), 1), axis=1)
    others //= np.maximum(out.cluster[rows, lvl], 1)
    filling = draw_cluster(space, rng, space.num_pes // np.maximum(others, 1))
    c = np.where(rng.random(len(rows)) < 0.5, filling, gamma_like)
    out.cluster[rows, lvl] = c
    refit = (rng.random(len(rows)) < 0.5) & (space.free_tiles[lvl, p] | space.split_tiles[lvl, p])
    fit = np.maximum(np.ceil(parent / np.maximum(c, 1)), 1).astype(np.int64)
    out.tile[rows[refit], lvl[refit], p[refit]] = fit[refit]
    return out


def mutate_pe(pop: Population, space: SearchSpace, rng, params: GAParams, *, rate: float) -> Population:
    """DiGamma's PE-count mutation (co-design only; otherwise a copy).

    The PE count is #clusters x cluster size (``cl``, the product of the inner
    levels' cluster sizes).  The useful number of top-level clusters is
    ``ceil(D / T)`` for the top level's parallel dimension ``D`` and its tile
    ``T`` (more clusters would idle), at most ``num_pes // cl``.  Most draws
    (``params.pe_upper_half``) take, as DiGamma, a cluster count from the
    upper half of that useful range; ``params.pe_step`` move the count by one
    or two clusters; the rest draw it uniformly up to ``num_pes // cl`` (and
    then refit ``T`` to it, so the new PEs are used).  The result is a
    multiple of ``cl``, at most ``num_pes``.
    """
    out = pop.copy()
    if not space.codesign:
        return out
    rows = np.flatnonzero(coin(rng, len(pop), rate))
    if not len(rows):
        return out
    n = len(rows)
    cl = cluster_product(out)[rows]
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
    upper = params.pe_upper_half
    count = np.where(kind < upper, upper_half, np.where(kind < upper + params.pe_step, old + step, uniform))
    count = np.clip(count, 1, most)
    out.pes[rows] = count * cl
    refit = (kind >= upper + params.pe_step) & (space.free_tiles[0, p0] | space.split_tiles[0, p0])
    fit = np.maximum(np.ceil(dim / count), 1).astype(np.int64)
    out.tile[rows[refit], 0, p0[refit]] = np.minimum(fit[refit], space.max_tile[p0[refit]])
    return out


def grow(pop: Population, space: SearchSpace, rng, *, rate: float) -> Population:
    """GAMMA's growth (``born_cluster``): add an innermost level.

    The new level splits the old innermost level's tile over a new cluster:
    it gets a random parallel dimension whose tile spreads the parent tile
    over the cluster, the other tiles equal to the parent's, a random order.
    """
    out = pop.copy()
    rows = np.flatnonzero(coin(rng, len(pop), rate) & (pop.levels < space.slevel_max))
    if not len(rows):
        return out
    new = pop.levels[rows]
    used = np.prod(np.where(pop.active()[rows], np.maximum(pop.cluster[rows], 1), 1), axis=1)
    c = (space.fixed_cluster if space.fixed_cluster
         else draw_cluster(space, rng, np.maximum(space.num_pes // used, 1)))
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


def age(pop: Population, space: SearchSpace, rng, *, rate: float) -> Population:
    """GAMMA's aging (``kill_cluster``): drop the innermost level."""
    out = pop.copy()
    rows = coin(rng, len(pop), rate) & (pop.levels > space.slevel_min)
    out.levels[rows] -= 1
    return out


def neighbour(pop: Population, space: SearchSpace, rng, strategy) -> Population:
    """Local search: one small move per individual (GAMMA has no such operator).

    Each individual makes one move, of a kind drawn by the shares of
    ``strategy.params``: its PE count by one top-level cluster (``move_pe``,
    co-design only), a strategy move (``strategy.edge_share``, e.g. a cheap
    edge), an inner cluster size ±1 (``move_cluster``), two adjacent free
    loops swapped (``move_swap``), or else one free tile of one level to a
    neighbouring value (±1, doubled, halved, or the next divisor of its
    parent tile up or down).  Applied to copies of the best mappings, this
    explores their immediate surroundings, where single tile values matter.
    """
    out = pop.copy()
    n = len(out)
    if not n:
        return out
    params = strategy.params
    rows = np.arange(n)
    lvl = random_level(rng, out.levels)
    # one uniform draw per individual, cut into consecutive intervals, one per kind of move
    kind = rng.random(n)
    pe_end = params.move_pe if space.codesign else 0.0
    swap_start = 1.0 - params.move_swap
    cluster_start = swap_start - params.move_cluster
    edge_start = cluster_start - strategy.edge_share
    d, value, bound, free = _neighbour_tiles(out, space, rng, rows, lvl)
    tiles = (kind >= pe_end) & (kind < edge_start) & free
    out.tile[rows[tiles], lvl[tiles], d[tiles]] = np.clip(value, 1, bound)[tiles]
    inner = ((kind >= cluster_start) & (kind < swap_start) & (out.levels >= 2)
             & (space.fixed_cluster == 0))
    c_lvl = np.maximum(lvl, 1)
    step = np.where(rng.random(n) < 0.5, 1, -1)
    out.cluster[rows[inner], c_lvl[inner]] += step[inner]
    if space.codesign:
        pe_move = kind < pe_end
        cl = cluster_product(out)
        count = np.maximum(out.pes // cl, 1) + np.where(rng.random(n) < 0.5, 1, -1)
        out.pes[pe_move] = (np.maximum(count, 1) * cl)[pe_move]
    slots = space.free_order_slots[lvl]
    swap = (kind >= swap_start) & (slots >= 2)
    i = (rng.random(n) * np.maximum(slots - 1, 1)).astype(np.int64)
    sr, sl, si = rows[swap], lvl[swap], i[swap]
    a, b = out.order[sr, sl, si], out.order[sr, sl, si + 1]
    out.order[sr, sl, si], out.order[sr, sl, si + 1] = b, a
    edge = np.flatnonzero((kind >= edge_start) & (kind < cluster_start))
    if len(edge):
        out.tile[edge] = strategy.edge_moves(out.take(edge), space, rng).tile
    return repair(out, space, rng)


def _neighbour_tiles(pop: Population, space: SearchSpace, rng, rows, lvl):
    """For :func:`neighbour`: per individual a free tile ``d`` of level ``lvl``, a
    neighbouring value, its bound, and whether the level has a free tile at all."""
    n = len(rows)
    spatial = np.arange(NUM_DIMS) == pop.par[rows, lvl][:, None]
    weights = (space.free_tiles[lvl] | (space.split_tiles[lvl] & spatial)).astype(float)
    cum = np.cumsum(weights, axis=1)
    d = np.minimum((rng.random((n, 1)) * cum[:, -1:] >= cum).sum(axis=1), NUM_DIMS - 1)
    bound = np.where(lvl == 0, space.max_tile[d], pop.tile[rows, np.maximum(lvl - 1, 0), d])
    old = pop.tile[rows, lvl, d]
    table, count = divisor_table(int(max(bound.max(), 1)))
    divs = table[bound]
    valid = np.arange(divs.shape[1])[None, :] < count[bound][:, None]
    up = np.where(valid & (divs > old[:, None]), divs, bound[:, None]).min(axis=1)
    down = np.where(valid & (divs < old[:, None]), divs, 1).max(axis=1)
    move = rng.integers(0, 6, n)
    value = np.choose(move, [old + 1, old - 1, old * 2, old // 2, up, down])
    return d, value, bound, cum[:, -1] > 0


def vary(parents: Population, space: SearchSpace, rng, strategy) -> Population:
    """One generation's offspring: crossover of consecutive parent pairs, then
    reorder, tile / parallel-dim / cluster (/ PE-count in co-design) mutation,
    the strategy's own moves, growth, aging, repair; rates from ``strategy.params``."""
    r = strategy.params
    half = len(parents) // 2
    a, b = crossover(parents.take(slice(0, half)), parents.take(slice(half, 2 * half)), space, rng,
                     rate=r.crossover, level_rate=r.level_crossover)
    kids = Population.concatenate([a, b, parents.take(slice(2 * half, len(parents)))])
    kids = reorder(kids, space, rng, rate=r.reorder)
    kids = mutate_tile(kids, space, rng, rate=r.tile, loci=r.tile_loci)
    kids = mutate_par(kids, space, rng, rate=r.par, refit_rate=r.par_refit)
    kids = mutate_cluster(kids, space, rng, rate=r.cluster)
    if space.codesign:
        kids = mutate_pe(kids, space, rng, r, rate=r.pe)
    kids = strategy.extra_variation(kids, space, rng)
    kids = grow(kids, space, rng, rate=r.grow)
    kids = age(kids, space, rng, rate=r.age)
    return repair(kids, space, rng)
