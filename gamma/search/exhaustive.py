"""Exact search (``--method exhaustive``): branch and bound over the whole map space.

::

    incumbent ← the GA's best with the run's budget (num_pop x epochs)
    families  ← every (levels, parallel dims, cluster sizes) of the map space,
                each with its proven busiest-PE bound (gamma.bounds), least first
    for each family, while time is left:
        if bound(family) >= incumbent latency: stop (every later family is pruned too)
        tiles  ← the tile chains (t_0 >= t_1 >= ... per dimension) whose product of
                 per-dimension busiest-PE shares can still beat the incumbent
                 (enumerated dimension by dimension, pruning partial products),
                 then those whose exact busiest PE (busiest_pe_macs / lanes) can
        score tiles x loop orders in batches with the cost model; update the incumbent
    proven optimal ⇔ nothing is left, or the incumbent meets a proven bound; else
    the proven bound is the least bound of the families left (and at least
    gamma.bounds' layer bound)

Loop orders: a temporal loop of one step (its tile the whole parent) is
placed outermost; where it sits changes neither the runtime nor the buffer
needs nor the feasibility (``tests/test_exhaustive.py`` checks it on random
mappings; energy may differ on strided layers), so only the orders of the
other loops are scored.  A constraint that pins loop orders turns this off.

Pruning uses ``runtime >= busiest / lanes``, which the default trust setting
enforces (undercounts are infeasible).  Under ``--allow_undercount`` or
``--allow_inexact`` nothing is pruned: the space is enumerated outright, the
optimum proven is the least of MAESTRO's prices, and ``lower_bound`` stays
the physical bound (so a gap below 1 shows a runtime no hardware reaches).
Only latency as the first objective is supported (ties are broken by the
second objective among the mappings scored, not proven).

The map space is the GA's: tiles of level 0 in ``[1, max_tile]`` (divisors
with ``--use_factor``), each level's tiles within its parent's, every loop
order, inner cluster sizes whose product is at most the PE count (or
``--fixedCluster``), and the mapping constraint (candidates it rejects are
not scored).  It grows as (tiles x orders)^levels: the exact proof is
practical for small layers; on large ones ``--time_limit`` returns the best
mapping with its proven bound.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import replace

import numpy as np

from gamma import constraints as cst
from gamma.bounds import layer_bounds, structure_bound, true_sizes
from gamma.hardware import Hardware
from gamma.mapping import DIM_INDEX, NO_DIM, NUM_DIMS, C, K, Population, R, S, X, Y, to_directives
from gamma.search import ga
from gamma.workload import Layer

#: Candidates scored per cost-model call.
BATCH = 4096


def families(space, num_pes: int) -> list[tuple[int, tuple, tuple]]:
    """Every ``(levels, parallel dims, inner cluster sizes)`` of the map space."""
    out = []
    pars = []
    for level in range(space.slevel_max):      # a constraint's ``sp`` replaces the choices
        sp = space.constraint.level(level).sp
        pars.append(sorted(DIM_INDEX[d] for d in sp) if sp else space.par_choices.tolist())
    for levels in range(space.slevel_min, space.slevel_max + 1):
        for clusters in _cluster_tuples(levels - 1, num_pes, space.fixed_cluster):
            for par in itertools.product(*pars[:levels]):
                out.append((levels, par, clusters))
    return out


def _cluster_tuples(count: int, num_pes: int, fixed: int):
    if fixed:
        sizes, left = [], num_pes
        for _ in range(count):       # as repair: each at most the PEs the others leave
            sizes.append(max(min(fixed, left), 1))
            left //= sizes[-1]
        yield tuple(sizes)
        return

    def rec(prefix, left):
        if len(prefix) == count:
            yield tuple(prefix)
            return
        for c in range(1, left + 1):
            yield from rec([*prefix, c], left // c)
    yield from rec([], num_pes)


def family_bound(layer: Layer, family, num_pes: int, lanes: int) -> int:
    """Cycles no mapping of ``family`` beats: ``ceil(prod_d ceil(n_d / U_d) / lanes)``."""
    levels, par, clusters = family
    units = np.ones(NUM_DIMS, dtype=np.int64)
    per_level = [max(num_pes // max(math.prod(clusters), 1), 1), *clusters]
    for p, u in zip(par, per_level, strict=True):
        units[C if (layer.type == "DSCONV" and p == K) else p] *= u
    sizes = true_sizes(layer)
    busiest = int(structure_bound(sizes, units[None, :])[0]) * (layer.macs // int(np.prod(sizes)))
    return -(-busiest // lanes)


def _chains(bound: int, levels: int, use_factor: bool) -> list[tuple]:
    """Non-increasing tile chains ``t_0 >= t_1 >= ...`` with ``t_0 <= bound``
    (each dividing its parent with ``use_factor``)."""
    chains = [(t,) for t in range(1, bound + 1)]
    for _ in range(levels - 1):
        chains = [(*ch, t) for ch in chains for t in range(1, ch[-1] + 1)
                  if not use_factor or ch[-1] % t == 0]
    if use_factor:
        chains = [ch for ch in chains if bound % ch[0] == 0]
    return chains


def _orders(space, levels: int) -> list[np.ndarray]:
    """Per level, the loop orders the constraint allows, shape (M, 6)."""
    out = []
    perms = np.array(list(itertools.permutations(range(NUM_DIMS))), dtype=np.int64)
    for level in range(levels):
        pinned = space.constraint.level(level).order
        keep = np.ones(len(perms), dtype=bool)
        if pinned:
            tail = np.array([DIM_INDEX[d] for d in pinned])
            keep = np.all(perms[:, NUM_DIMS - len(tail):] == tail, axis=1)
        out.append(perms[keep])
    return out


def _population(family, tiles: np.ndarray, orders: np.ndarray, width: int, space) -> Population:
    """Mappings of one family: ``tiles`` (N, levels, 6) with ``orders`` (N, levels, 6)."""
    levels, par, clusters = family
    n = len(tiles)
    full_tiles = np.ones((n, width, NUM_DIMS), dtype=np.int64)
    full_tiles[:, :levels] = tiles
    full_orders = np.broadcast_to(np.arange(NUM_DIMS), (n, width, NUM_DIMS)).copy()
    full_orders[:, :levels] = orders
    par_row = np.full(width, par[0], dtype=np.int64)
    par_row[:levels] = par
    par2_row = np.full(width, NO_DIM, dtype=np.int64)
    for level in range(levels):
        sp2 = space.constraint.level(level).sp2
        if sp2 is not None and DIM_INDEX[sp2] != par[level]:
            par2_row[level] = DIM_INDEX[sp2]
    cluster_row = np.zeros(width, dtype=np.int64)
    cluster_row[1:levels] = clusters
    cluster_row[levels:] = 1
    return Population(par=np.tile(par_row, (n, 1)), par2=np.tile(par2_row, (n, 1)),
                      cluster=np.tile(cluster_row, (n, 1)), order=full_orders, tile=full_tiles,
                      levels=np.full(n, levels, dtype=np.int64))


class _Deadline:
    def __init__(self, seconds: float):
        self.end = time.perf_counter() + seconds if seconds and seconds > 0 else math.inf

    def passed(self) -> bool:
        return time.perf_counter() >= self.end


def exhaustive_search(layer: Layer, hw: Hardware, cfg, rng: np.random.Generator, *,
                      evaluate=None, on_generation=None,
                      seeds: Population | None = None) -> ga.LayerResult:
    """Branch and bound over the map space of ``cfg`` (see module doc).

    ``seeds`` (e.g. a longer GA run's best mappings) warm-start the GA that
    sets the first incumbent: the better it is, the more is pruned.

    Returns
    -------
    LayerResult
        ``proven_optimal`` True when the whole space was enumerated or pruned
        (then ``lower_bound`` is the optimum's latency); otherwise the best
        mapping found and the proven ``lower_bound`` (cycles).
    """
    if cfg.fitness1 != "latency" or cfg.pareto or cfg.codesign:
        raise ValueError("the exhaustive search proves the optimum latency on fixed hardware: "
                         "fitness1 must be latency, without pareto or co-design")
    deadline = _Deadline(cfg.time_limit)
    warm = ga.LayerSearch(layer, hw, replace(cfg, method="gamma"), rng, evaluate=evaluate,
                          on_generation=on_generation, seeds=seeds)
    while warm.step():
        pass
    tracker = warm.tracker
    trusted = cfg.trust == "exact"
    space, pes, lanes = warm.space, hw.num_pes, max(int(hw.simd_lanes), 1)
    fams = families(space, pes)
    bounds = np.array([family_bound(layer, f, pes, lanes) for f in fams], dtype=np.int64)
    order = np.argsort(bounds, kind="stable")
    proven, left_bound = True, None
    generation = warm.generation
    for rank, fi in enumerate(order):
        incumbent = _incumbent(tracker)
        if trusted and bounds[fi] >= incumbent:
            break                       # sorted: every later family is pruned as well
        if deadline.passed():
            proven, left_bound = False, int(bounds[order[rank]])
            break
        done, generation = _explore(fams[fi], int(bounds[fi]), layer, hw, cfg, space, tracker,
                                    deadline, trusted, lanes, evaluate, generation)
        if not done:
            proven, left_bound = False, int(bounds[fi])
            break
    result = tracker.result()
    base = layer_bounds(layer, hw, cfg).latency_cycles
    best = result.best_scores["runtime"] if result.feasible else None
    if best is not None and trusted and best <= max(base, left_bound or 0):
        proven = True                   # the incumbent meets a proven bound
    result.proven_optimal = bool(proven and best is not None)
    if not trusted:
        # MAESTRO's prices may undercut what any hardware does: keep the physical bound, so
        # the gap shows it (below 1); "proven optimal" is then among MAESTRO's prices
        result.lower_bound = base
    elif result.proven_optimal:
        result.lower_bound = int(best)
    else:
        result.lower_bound = max(base, left_bound or 0)
        if best is not None:
            result.lower_bound = min(result.lower_bound, int(best))
    result.method = "exhaustive"
    return result


def _incumbent(tracker) -> float:
    s = tracker.best_scores
    if s is None or not bool(s["feasible"][0]):
        return math.inf
    return float(s["latency"][0])


def _explore(family, bound, layer, hw, cfg, space, tracker, deadline, trusted, lanes, evaluate,
             generation) -> tuple[bool, int]:
    """Score every mapping of one family not pruned; False if the deadline cut it short.

    Stops (done) as soon as the incumbent reaches the family's ``bound`` (cycles).
    """
    levels = family[0]
    chains = [np.array(_chains(int(space.max_tile[d]), levels, space.use_factor), dtype=np.int64)
              for d in range(NUM_DIMS)]
    limit = _busiest_limit(tracker, lanes) if trusted else math.inf
    weights = _dim_weights(layer, family, chains, hw.num_pes)
    pinned = any(space.constraint.level(lv).order for lv in range(levels))
    for combo in _combos(weights, limit / (layer.macs // int(np.prod(true_sizes(layer))))):
        tiles = np.stack([chains[d][combo[:, d]] for d in range(NUM_DIMS)], axis=2)
        for start in range(0, len(tiles), BATCH):
            if trusted and bound >= _incumbent(tracker):
                return True, generation
            if deadline.passed():
                return False, generation
            block = tiles[start:start + BATCH]
            if trusted:
                block = _below_incumbent(block, family, layer, hw, space, tracker, lanes)
            for cand in _with_orders(block, family, space, pinned):
                cand = cand.take(cst.check(cand, space.constraint, layer, hw.num_pes))
                if not len(cand):
                    continue
                if deadline.passed():
                    return False, generation
                table = ga.score(cand, layer, hw, cfg, evaluate)
                tracker.update(cand, table, generation)
                generation += 1
    return True, generation


def _busiest_limit(tracker, lanes: int) -> float:
    """Largest busiest-PE MACs a mapping may have and still beat the incumbent."""
    incumbent = _incumbent(tracker)
    return (incumbent - 1) * lanes if math.isfinite(incumbent) else math.inf


def _below_incumbent(tiles, family, layer, hw, space, tracker, lanes) -> np.ndarray:
    """The tile sets whose busiest PE (exact, order-free) leaves room to beat the incumbent."""
    from gamma.costmodel.busiest import busiest_pe_macs
    pop = _population(family, tiles, np.zeros_like(tiles) + np.arange(NUM_DIMS),
                      space.slevel_max, space)
    busiest = busiest_pe_macs(layer, to_directives(pop, layer), hw.num_pes)
    return tiles[busiest <= _busiest_limit(tracker, lanes)]


def _split_units(layer, family, num_pes: int) -> np.ndarray:
    """(levels, 6) units splitting each dimension at each level (1: temporal)."""
    levels, par, clusters = family
    per_level = [max(num_pes // max(math.prod(clusters), 1), 1), *clusters]
    units = np.ones((levels, NUM_DIMS), dtype=np.int64)
    for level, (p, u) in enumerate(zip(par, per_level, strict=True)):
        units[level, C if (layer.type == "DSCONV" and p == K) else p] = u
    return units


def _dim_weights(layer, family, chains, num_pes: int) -> list[np.ndarray]:
    """Per dimension, a lower bound of the busiest PE's share for each tile chain.

    K and C, and Y/X without a sliding window or stride: the first unit's
    exact share (it holds the most, :func:`_first_unit_share`).  Sliding
    dimensions (and R, S): ``ceil(n / U)``, the same for every chain.
    """
    units = _split_units(layer, family, num_pes)
    sizes = true_sizes(layer)
    plain = {K, C}
    if layer.stride == 1:
        plain |= {d for d, f in ((Y, R), (X, S)) if int(sizes[f]) == 1}
    out = []
    for d in range(NUM_DIMS):
        if d in plain and not (layer.type == "DSCONV" and d == K):
            out.append(_first_unit_share(chains[d], units[:, d], int(sizes[d])))
        else:
            share = -(-int(sizes[d]) // int(np.prod(units[:, d])))
            out.append(np.full(len(chains[d]), share, dtype=np.int64))
    return out


def _first_unit_share(chains: np.ndarray, units: np.ndarray, size: int) -> np.ndarray:
    """Indices of one dimension the first unit of every level receives, per chain, (M,).

    A level cuts each piece of length ``P`` into tiles of ``t`` (the last one
    ``P mod t``); a temporal level passes every tile down, a spatial one with
    ``U`` units gives unit 0 the tiles ``0, U, 2U, ...``.
    """
    levels = chains.shape[1]

    def share(piece, level):
        if level == levels:
            return piece
        t = np.minimum(chains[:, level], piece)
        rest = piece % t
        count = -(-piece // t)
        u = int(units[level])
        mine = -(-count // u)
        partial = (rest > 0) & ((count - 1) % u == 0)
        total = (mine - partial) * share(t, level + 1)
        if partial.any():
            total = total + np.where(partial, share(np.where(partial, rest, t), level + 1), 0)
        return total

    return share(np.full(len(chains), size, dtype=np.int64), 0)


def _combos(weights: list[np.ndarray], limit: float, cap: int = 1 << 20):
    """Blocks (N, 6) of chain indices, one per dimension, whose weight product is <= ``limit``."""
    order = [np.argsort(w, kind="stable") for w in weights]
    sorted_w = [w[o] for w, o in zip(weights, order, strict=True)]
    rest_min = [1.0] * (NUM_DIMS + 1)
    for d in range(NUM_DIMS - 1, -1, -1):
        rest_min[d] = rest_min[d + 1] * float(sorted_w[d][0])

    def grow(idx, prod, d):
        if d == NUM_DIMS:
            yield np.stack([order[k][idx[:, k]] for k in range(NUM_DIMS)], axis=1)
            return
        allowed = np.searchsorted(sorted_w[d], limit / (prod * rest_min[d + 1]), side="right")
        step = max(cap // max(int(allowed.max(initial=0)), 1), 1)
        for lo in range(0, len(idx), step):
            sub, sub_prod, sub_allowed = idx[lo:lo + step], prod[lo:lo + step], allowed[lo:lo + step]
            rows = np.repeat(np.arange(len(sub)), sub_allowed)
            cols = np.arange(len(rows)) - np.repeat(np.cumsum(sub_allowed) - sub_allowed, sub_allowed)
            if not len(rows):
                continue
            new = np.concatenate([sub[rows], cols[:, None]], axis=1)
            yield from grow(new, sub_prod[rows] * sorted_w[d][cols], d + 1)

    yield from grow(np.zeros((1, 0), dtype=np.int64), np.ones(1), 0)


def _with_orders(tiles, family, space, pinned: bool):
    """Populations of ``tiles`` with every loop order that can matter, in blocks.

    With no pinned order, a temporal loop of one step (its tile the whole
    parent) sits outermost, in dimension order: moving it changes no
    runtime, L1/L2 need or feasibility (tests/test_exhaustive.py checks it),
    so only the orders of the other loops are tried.
    """
    levels = family[0]
    if pinned or not len(tiles):
        orders = _orders(space, levels)
        groups = [(tiles, orders)]
    else:
        parent = np.concatenate([np.broadcast_to(space.sizes, (len(tiles), 1, NUM_DIMS)),
                                 tiles[:, :-1]], axis=1)
        movable = tiles >= parent
        for level, p in enumerate(family[1]):
            movable[:, level, p] = False
        keys, inverse = np.unique(movable.reshape(len(tiles), -1), axis=0, return_inverse=True)
        groups = [(tiles[inverse.ravel() == g], [_canonical_orders(key.reshape(levels, NUM_DIMS)[lv])
                                                   for lv in range(levels)])
                  for g, key in enumerate(keys)]
    for group_tiles, orders in groups:
        combos = np.array(list(itertools.product(*[range(len(o)) for o in orders])), dtype=np.int64)
        chosen = np.stack([orders[lv][combos[:, lv]] for lv in range(levels)], axis=1)
        step = max(BATCH // len(chosen), 1)
        for lo in range(0, len(group_tiles), step):
            t = group_tiles[lo:lo + step]
            for clo in range(0, len(chosen), BATCH):
                o = chosen[clo:clo + BATCH]
                yield _population(family, np.repeat(t, len(o), axis=0), np.tile(o, (len(t), 1, 1)),
                                  space.slevel_max, space)


def _canonical_orders(movable: np.ndarray) -> np.ndarray:
    """Orders with the ``movable`` dimensions first (ascending), the others in every order."""
    head = [d for d in range(NUM_DIMS) if movable[d]]
    rest = [d for d in range(NUM_DIMS) if not movable[d]]
    return np.array([head + list(p) for p in itertools.permutations(rest)], dtype=np.int64)
