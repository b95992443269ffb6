"""Compiled (numba) arithmetic of the search's operators.

The operators of :mod:`gamma.search.variation` and :mod:`gamma.search.space`
draw their random numbers with NumPy (so a seed gives the same run whatever
runs them) and hand the deterministic work between draws to these kernels:
one compiled loop over the candidates instead of a dozen NumPy calls on
arrays of a few hundred entries, whose fixed cost per call dominated.
Every kernel reproduces the NumPy expression it replaces bit for bit
(same float operations, truncation and floor division), so results do not
depend on which path ran.  Arrays are int64 unless stated; nothing here
draws random numbers.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def tile_values(old, bound, units, divisor, uniform, step, k, kind):
    """New tile sizes from the draws of :func:`~gamma.search.space.new_tile`, shape (n,).

    ``old``, ``bound`` (>= 1), ``units`` (>= 1) and ``divisor`` (a divisor of
    the bound) are int64; ``uniform`` in [0, 1); ``step`` in 0..3 picks the
    local move (double, halve, +1, -1), ``k`` in 1..4 the spread factor,
    ``kind`` in 0..3 the value (uniform, divisor, local, spread).
    """
    n = old.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        b = bound[i]
        s = step[i]
        if s == 0:
            local = old[i] * 2
        elif s == 1:
            local = old[i] // 2
        elif s == 2:
            local = old[i] + 1
        else:
            local = old[i] - 1
        c = kind[i]
        if c == 0:
            value = 1 + np.int64(uniform[i] * b)
        elif c == 1:
            value = divisor[i]
        elif c == 2:
            value = local
        else:
            value = np.int64(np.ceil(b / (k[i] * units[i])))
        out[i] = max(min(value, b), 1)
    return out


@njit(cache=True)
def tile_loci_ok(par, rows, lvl, free, split):
    """(n,) bool: whether level ``lvl[i]`` of row ``rows[i]`` has a tile a mutation may
    change (a free tile, or a split tile of its parallel dimension)."""
    n = rows.shape[0]
    ok = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        level = lvl[i]
        p = par[rows[i], level]
        for d in range(free.shape[1]):
            if free[level, d] or (split[level, d] and d == p):
                ok[i] = True
                break
    return ok


@njit(cache=True)
def tile_loci(tile, par, units, rows, lvl, r, free, split, max_tile):
    """The dimension, bound and units of each tile mutation (:func:`mutate_tile`).

    Row ``rows[i]`` redraws at level ``lvl[i]`` the dimension picked by
    ``r[i]`` in [0, 1) among the changeable ones (as
    ``(r * total >= cumsum(weights)).sum()``); its bound is the parent tile
    (level 0: ``max_tile``), its units the level's units when the dimension
    is the parallel one, else 1.  Returns ``d, bound, units``, each (n,).
    """
    n = rows.shape[0]
    dims = free.shape[1]
    d_out = np.empty(n, dtype=np.int64)
    bound = np.empty(n, dtype=np.int64)
    u = np.empty(n, dtype=np.int64)
    for i in range(n):
        row, level = rows[i], lvl[i]
        p = par[row, level]
        total = 0.0
        for d in range(dims):
            if free[level, d] or (split[level, d] and d == p):
                total += 1.0
        x = r[i] * total
        cum, d = 0.0, 0
        for j in range(dims):
            if free[level, j] or (split[level, j] and j == p):
                cum += 1.0
            if x >= cum:
                d += 1
        d_out[i] = d
        bound[i] = max_tile[d] if level == 0 else tile[row, level - 1, d]
        u[i] = units[row, level] if p == d else 1
    return d_out, bound, u


@njit(cache=True)
def clamp_tiles(tile, max_tile):
    """In place: level-0 tiles within ``[1, max_tile]``, inner ones within ``[1, parent tile]``."""
    n, levels, dims = tile.shape
    for i in range(n):
        for d in range(dims):
            tile[i, 0, d] = max(min(tile[i, 0, d], max_tile[d]), 1)
        for level in range(1, levels):
            for d in range(dims):
                tile[i, level, d] = max(min(tile[i, level, d], tile[i, level - 1, d]), 1)


@njit(cache=True)
def units_per_level(cluster, levels, pes, num_pes):
    """Sub-units of each level, shape (P, L) (:func:`gamma.mapping.units_per_level`):
    level 0 ``max(PEs // prod(inner clusters), 1)``, PEs the ``pes`` gene or ``num_pes``;
    level ``l >= 1`` its cluster size; unused levels 1."""
    n, width = cluster.shape
    units = np.ones((n, width), dtype=np.int64)
    for i in range(n):
        used = levels[i]
        product = 1
        for level in range(1, min(used, width)):
            units[i, level] = cluster[i, level]
            product *= cluster[i, level]
        if used > 0:
            pe = pes[i] if pes[i] > 0 else num_pes
            # a cluster size 0 (before repair) leaves one unit, as NumPy's x // 0 == 0 does
            units[i, 0] = max(pe // product, 1) if product != 0 else 1
    return units


@njit(cache=True)
def estimate_cycles(tile, par, units, levels, sizes, stride):
    """(P,) float: the runtime estimate of :func:`gamma.search.estimates.estimate`.

    Per used level the product over dimensions of ``parent / tile`` (the
    parallel one: ``ceil(ceil(parent / tile) / units)``) multiplies the
    steps; the outer levels' steps add about a cycle each; the innermost
    tile's volume is the work per step, divided by ``stride**2``.  The
    products run over the dimensions in order, as NumPy's ``prod`` does.
    """
    n, width, dims = tile.shape
    out = np.empty(n, dtype=np.float64)
    square = stride * stride
    for i in range(n):
        steps = 1.0
        outer = 1.0
        used = levels[i]
        for level in range(width):
            if level >= used:
                continue
            p = par[i, level]
            factor = 1.0
            for d in range(dims):
                parent = np.float64(sizes[d] if level == 0 else tile[i, level - 1, d])
                t = np.float64(tile[i, level, d])
                if d == p:
                    ratio = np.ceil(np.ceil(parent / t) / units[i, level])
                else:
                    ratio = parent / t
                factor = ratio if d == 0 else factor * ratio
            steps *= factor
            if level < used - 1:
                outer *= factor
        work = 1.0
        for d in range(dims):
            v = np.float64(tile[i, used - 1, d])
            work = v if d == 0 else work * v
        out[i] = steps * work / square + outer
    return out


@njit(cache=True)
def packed_rows(par, par2, cluster, order, tile, levels, pes):
    """(P, 15·L) int64: :meth:`gamma.mapping.Population.packed` — per individual
    ``par``, ``par2``, ``cluster`` (its level-0 slot holding ``pes``), ``order`` and
    ``tile`` of each level, unused levels written as -2."""
    n, width = par.shape
    dims = order.shape[2]
    out = np.empty((n, width * (3 + 2 * dims)), dtype=np.int64)
    for i in range(n):
        used = levels[i]
        for level in range(width):
            on = level < used
            out[i, level] = par[i, level] if on else -2
            out[i, width + level] = par2[i, level] if on else -2
            out[i, 2 * width + level] = cluster[i, level] if on else -2
            base = 3 * width + level * dims
            for d in range(dims):
                out[i, base + d] = order[i, level, d] if on else -2
                out[i, base + width * dims + d] = tile[i, level, d] if on else -2
        out[i, 2 * width] = pes[i]
    return out


@njit(cache=True)
def set_parallel(par, tile, cluster, levels, pes, num_pes, rows, lvl, d, draw, refit_rate,
                 free, split, sizes):
    """In place: level ``lvl[i]`` of row ``rows[i]`` maps dimension ``d[i]`` in parallel,
    and where ``draw[i] < refit_rate`` and a mutation may change that tile, the tile
    spreads the parent tile (level 0: the layer size) over the level's units,
    ``max(ceil(parent / units), 1)`` (:func:`~gamma.search.variation.mutate_par`)."""
    width = par.shape[1]
    for i in range(rows.shape[0]):
        row, level, dim = rows[i], lvl[i], d[i]
        par[row, level] = dim
        if not ((free[level, dim] or split[level, dim]) and draw[i] < refit_rate):
            continue
        used = levels[row]
        if level == 0:
            product = 1
            for inner in range(1, min(used, width)):
                product *= cluster[row, inner]
            pe = pes[row] if pes[row] > 0 else num_pes
            units = max(pe // product, 1) if product != 0 else 1
            parent = sizes[dim]
        else:
            units = cluster[row, level] if level < used else 1
            parent = tile[row, level - 1, dim]
        tile[row, level, dim] = max(np.int64(np.ceil(parent / units)), 1)


@njit(cache=True)
def pick_levels(levels, rows, draw, low):
    """A random used level ``>= low`` of each row, as :func:`~gamma.search.space.random_level`:
    ``low + int(draw * max(levels - low, 1))``."""
    n = rows.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = low + np.int64(draw[i] * max(levels[rows[i]] - low, 1))
    return out


@njit(cache=True)
def redraw_tiles(tile, par, units, rows, lvl, r, rdiv, uniform, step, k, kind, free, split,
                 max_tile, table, count):
    """In place: one tile mutation per row (:func:`~gamma.search.variation.mutate_tile`).

    The dimension and bound are those of :func:`tile_loci` (draw ``r``); the new
    value is :func:`tile_values`'s, its divisor option the ``int(rdiv * count)``-th
    divisor of the bound (``table``/``count``: :func:`gamma.mapping.divisor_table`).
    """
    d, bound, u = tile_loci(tile, par, units, rows, lvl, r, free, split, max_tile)
    n = rows.shape[0]
    old = np.empty(n, dtype=np.int64)
    divisor = np.empty(n, dtype=np.int64)
    for i in range(n):
        b = max(bound[i], 1)
        bound[i] = b
        old[i] = tile[rows[i], lvl[i], d[i]]
        divisor[i] = table[b, np.int64(rdiv[i] * count[b])]
    value = tile_values(old, bound, u, divisor, uniform, step, k, kind)
    for i in range(n):
        tile[rows[i], lvl[i], d[i]] = value[i]


@njit(cache=True)
def directive_arrays(par, par2, cluster, order, tile, levels, code, depthwise):
    """The directive arrays of :func:`gamma.mapping.to_directives`.

    Per used level, one slot per loop in the level's order: the dimension's
    directive code (``code[dim]``, int8), its tile and whether it is mapped
    spatially (its ``par``/``par2``; in a depthwise layer, ``depthwise``, K has
    no slot and a level parallel in K maps C spatially).  The other slots are
    empty: code -1, size 0, not spatial.  Returns ``dim, size, spatial, cluster``.
    """
    n, width, dims = order.shape
    dim = np.full((n, width, dims), -1, dtype=np.int8)
    size = np.zeros((n, width, dims), dtype=np.int64)
    spatial = np.zeros((n, width, dims), dtype=np.bool_)
    clusters = np.zeros((n, width), dtype=np.int64)
    for i in range(n):
        for level in range(min(levels[i], width)):
            if level:
                clusters[i, level] = cluster[i, level]
            p, p2 = par[i, level], par2[i, level]
            slot = 0
            for j in range(dims):
                d = order[i, level, j]
                if depthwise and d == 0:            # K: no directive in a depthwise layer
                    continue
                dim[i, level, slot] = code[d]
                size[i, level, slot] = tile[i, level, d]
                spatial[i, level, slot] = (d == p) | (d == p2) | (depthwise and d == 1 and p == 0)
                slot += 1
    return dim, size, spatial, clusters


@njit(cache=True)
def repair_structure(levels, par, par2, tile, cluster, lo, hi, max_tile, num_pes, fixed_cluster):
    """In place, the first steps of :func:`~gamma.search.space.repair` (after the
    parallel dims' redraw): levels within ``[lo, hi]``, ``par2`` unset where it
    equals ``par``, tiles clamped (:func:`clamp_tiles`), cluster sizes ``fixed_cluster``
    (if > 0) or within ``[1, num_pes]``, each inner level's at most
    ``num_pes // (product of the other used inner levels')``, outer levels first."""
    n, width = par.shape
    for i in range(n):
        levels[i] = max(min(levels[i], hi), lo)
        for level in range(width):
            if par2[i, level] == par[i, level]:
                par2[i, level] = -1
        cluster[i, 0] = 0
        for level in range(1, width):
            c = fixed_cluster if fixed_cluster else cluster[i, level]
            cluster[i, level] = max(min(c, num_pes), 1)
        if width > 2:
            for level in range(1, width):
                others = 1
                for other in range(1, width):
                    if other != level and other < levels[i]:
                        others *= cluster[i, other]
                cluster[i, level] = max(min(cluster[i, level], num_pes // others), 1)
    clamp_tiles(tile, max_tile)


@njit(cache=True)
def raise_parents(tile, levels, fixed, max_tile):
    """In place: an outer tile below a constraint-fixed inner tile (``fixed``, (L, 6)
    bool) rises to it, deepest level first; then level-0 tiles at most ``max_tile``.
    Returns whether any tile rose."""
    n, width, dims = tile.shape
    changed = False
    for i in range(n):
        for level in range(width - 1, 0, -1):
            if level >= levels[i]:
                continue
            for d in range(dims):
                if fixed[level, d] and tile[i, level, d] > tile[i, level - 1, d]:
                    tile[i, level - 1, d] = tile[i, level, d]
                    changed = True
        for d in range(dims):
            tile[i, 0, d] = min(tile[i, 0, d], max_tile[d])
    return changed


@njit(cache=True)
def fit_pe_counts(pes, cluster, levels, num_pes):
    """In place (co-design): PE counts a multiple of the used inner levels' cluster
    product ``cl``, ``clip(pes // cl, 1, max(num_pes // cl, 1)) * cl`` (``pes`` 0:
    ``num_pes``)."""
    n, width = cluster.shape
    for i in range(n):
        cl = 1
        for level in range(1, min(levels[i], width)):
            cl *= max(cluster[i, level], 1)
        pe = pes[i] if pes[i] > 0 else num_pes
        pes[i] = max(min(pe // cl, max(num_pes // cl, 1)), 1) * cl


@njit(cache=True)
def rank_in_group(rows, by_hash, hashes):
    """(n,) each row's rank among the equal rows before it (0 for the first of its kind).

    ``by_hash``: the row indices sorted by ``hashes`` (their row hashes), stably, so
    equal rows, which share a hash, sit in one run in index order; rows of a run
    are compared exactly, so a hash collision cannot merge two kinds.
    """
    n, width = rows.shape
    rank = np.full(n, -1, dtype=np.int64)
    start = 0
    while start < n:
        end = start
        while end < n and hashes[by_hash[end]] == hashes[by_hash[start]]:
            end += 1
        for a in range(start, end):
            first = by_hash[a]
            if rank[first] >= 0:
                continue
            count = 0
            for b in range(a, end):
                other = by_hash[b]
                if rank[other] >= 0:
                    continue
                same = True
                for c in range(width):
                    if rows[first, c] != rows[other, c]:
                        same = False
                        break
                if same:
                    rank[other] = count
                    count += 1
        start = end
    return rank
