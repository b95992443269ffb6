"""Searches over partitions: the repaired genetic search (ours) and its baselines.

All searches spend the same budget of *evaluated partitions* (calls of the cost
model per candidate, valid or not) and return a :class:`SearchResult`.

* ``ga``: a genetic search whose children are repaired by CP-SAT into the
  nearest valid partition (:class:`~gamma.partition.repair.Repairer`), with
  elitism and a local step on the best partition (moving one layer across a
  stage boundary) each generation.
* ``random``: random partitions that respect the layer order (sorted random
  stages) on random chiplet orders; those that overflow a chiplet's memory are
  evaluated and discarded.
* ``anneal``: simulated annealing over the same moves, invalid partitions
  penalized.
* ``exact``: :func:`chain_optimum` (dynamic programme over cut points, chains on
  identical chiplets) or :func:`gamma.partition.repair.solve_exact` (CP-SAT).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from gamma.partition.model import Problem, evaluate, objective_value, rank_order

METHODS = ("ga", "random", "anneal", "exact")


@dataclass
class SearchResult:
    """Best partition found and how it was found."""

    method: str
    stage: np.ndarray
    place: np.ndarray
    scores: dict
    evaluations: int
    seconds: float
    proven: bool = False
    bound: float = float("nan")
    history: list = field(default_factory=list)   # (evaluations, best primary value)


class _Counter:
    """Evaluates populations and keeps the best valid partition and the history."""

    def __init__(self, problem: Problem, objective: str, budget: int):
        self.problem, self.objective, self.budget = problem, objective, budget
        self.used = 0
        self.best = None
        self.least = None
        self.history: list = []

    @property
    def left(self) -> int:
        return self.budget - self.used

    def __call__(self, stage: np.ndarray, place: np.ndarray) -> dict:
        scores = evaluate(self.problem, stage, place)
        self.used += len(stage)
        top = int(rank_order(scores, self.objective)[0])
        one = {k: v[top:top + 1] for k, v in scores.items()}
        if self.least is None or one["violation"][0] < self.least[2]["violation"][0]:
            self.least = (stage[top].copy(), place[top].copy(), one)
        if scores["valid"][top] and (self.best is None or _better(one, self.best[2], self.objective)):
            self.best = (stage[top].copy(), place[top].copy(), one)
        if self.best is not None:
            self.history.append((self.used, float(objective_value(self.best[2], self.objective)[0])))
        return scores

    def result(self, method: str, start: float) -> SearchResult:
        if self.best is None:      # nothing valid: the least violating, flagged invalid
            stage, place, scores = self.least
            return SearchResult(method, stage, place, {k: v[0] for k, v in scores.items()},
                                self.used, time.perf_counter() - start, history=self.history)
        stage, place, scores = self.best
        return SearchResult(method, stage, place, {k: v[0] for k, v in scores.items()},
                            self.used, time.perf_counter() - start, history=self.history)


def _better(a: dict, b: dict, objective: str) -> bool:
    both = {k: np.concatenate([a[k], b[k]])
            for k in ("period", "latency", "energy", "violation", "stage_time")}
    return int(rank_order(both, objective)[0]) == 0 and not all(
        np.array_equal(a[k], b[k]) for k in ("period", "latency", "energy", "stage_time"))


# ---------------------------------------------------------------------------
# Candidates and variation
# ---------------------------------------------------------------------------

def canonical(stage: np.ndarray, place: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number the used stages 0, 1, ... in order, their chiplets first in ``place``."""
    pop, n = place.shape
    rows = np.arange(pop)[:, None]
    used = np.zeros((pop, n), dtype=bool)
    used[np.broadcast_to(rows, stage.shape), stage] = True
    new_id = np.cumsum(used, axis=1) - 1
    order = np.argsort(~used, axis=1, kind="stable")        # used stages first, in order
    return new_id[rows, stage], place[rows, order]


def random_partitions(rng: np.random.Generator, pop: int, layers: int, n: int):
    """Sorted random stages (respect any topological layer order) on random chiplet orders."""
    stage = np.sort(rng.integers(0, n, size=(pop, layers)), axis=1)
    place = np.argsort(rng.random((pop, n)), axis=1)
    return canonical(stage, place)


def balanced_seed(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Cut the layer order into the N stages of about equal compute (mean over chiplet types),
    on chiplets in order (neighbours on the ring and on the snake-numbered mesh)."""
    work = problem.costs.latency.mean(axis=1)
    n = problem.package.count
    share = np.cumsum(work) - work / 2
    stage = np.minimum((share / work.sum() * n).astype(np.int64), n - 1)
    return canonical(stage[None], np.arange(n)[None])


def mutate(rng: np.random.Generator, problem: Problem, stage: np.ndarray, place: np.ndarray):
    """One random move per candidate (vectorized over the population):

    * 50 %: move a boundary, a random edge's consumer takes its producer's stage or back;
    * 15 %: split or merge, every layer from a random one on moves one stage later / earlier;
    * 15 %: a random layer to a random stage;
    * 20 %: swap the chiplets of two stages.
    """
    g, n = problem.graph, problem.package.count
    stage, place = stage.copy(), place.copy()
    pop, layers = stage.shape
    rows = np.arange(pop)
    kind = rng.random(pop)
    if len(g.src):
        e = rng.integers(0, len(g.src), pop)
        forward = rng.random(pop) < 0.5
        u, v = g.src[e], g.dst[e]
        sel = kind < 0.5
        target = np.where(forward, v, u)
        source = np.where(forward, u, v)
        stage[rows[sel], target[sel]] = stage[rows[sel], source[sel]]
    sel = (kind >= 0.5) & (kind < 0.65)
    first = rng.integers(0, layers, pop)
    step = np.where(rng.random(pop) < 0.5, 1, -1)
    shift = (np.arange(layers)[None, :] >= first[:, None]) & sel[:, None]
    stage = np.clip(stage + shift * step[:, None], 0, n - 1)
    sel = (kind >= 0.65) & (kind < 0.8)
    layer = rng.integers(0, layers, pop)
    stage[rows[sel], layer[sel]] = rng.integers(0, n, pop)[sel]
    sel = kind >= 0.8
    a, b = rng.integers(0, n, pop), rng.integers(0, n, pop)
    pa, pb = place[rows, a].copy(), place[rows, b].copy()
    place[rows[sel], a[sel]] = pb[sel]
    place[rows[sel], b[sel]] = pa[sel]
    return stage, place


def crossover(rng: np.random.Generator, stage_a, place_a, stage_b, place_b):
    """One-point crossover along the layer order; the chiplet order of either parent."""
    pop, layers = stage_a.shape
    cut = rng.integers(1, max(2, layers), pop)[:, None]
    stage = np.where(np.arange(layers)[None, :] < cut, stage_a, stage_b)
    place = np.where((rng.random(pop) < 0.5)[:, None], place_a, place_b)
    return stage, place


def boundary_moves(problem: Problem, stage: np.ndarray, place: np.ndarray):
    """Every partition one layer away across a stage boundary (for the local step).

    Returns ``(stages, places, moved)``: ``moved[i]`` is the layer move ``i`` moves.
    """
    g = problem.graph
    cross = np.flatnonzero(stage[g.src] != stage[g.dst])
    if not len(cross):
        return stage[None], place[None], np.array([-1])
    moves = np.repeat(stage[None], 2 * len(cross), axis=0)
    k = np.arange(len(cross))
    moves[2 * k, g.dst[cross]] = stage[g.src[cross]]
    moves[2 * k + 1, g.src[cross]] = stage[g.dst[cross]]
    moved = np.empty(2 * len(cross), dtype=np.int64)
    moved[2 * k], moved[2 * k + 1] = g.dst[cross], g.src[cross]
    return moves, np.repeat(place[None], len(moves), axis=0), moved


def swap_moves(stage: np.ndarray, place: np.ndarray, slowest: int):
    """The slowest stage's chiplet swapped with each other chiplet (for the local step)."""
    n = len(place)
    others = np.array([s for s in range(n) if s != slowest], dtype=np.int64)
    places = np.repeat(place[None], len(others), axis=0)
    rows = np.arange(len(others))
    places[rows, slowest] = place[others]
    places[rows, others] = place[slowest]
    return np.repeat(stage[None], len(others), axis=0), places


def cascade_moves(problem: Problem, stage: np.ndarray, place: np.ndarray, slowest: int):
    """Unload the slowest stage along the pipeline: for every other stage ``t``, each stage
    from ``slowest`` to ``t`` passes one layer on towards ``t`` (its last layer in the layer
    order when ``t`` is later, its first when earlier).  A single boundary move cannot
    leave a plateau where the stages are balanced but the cut points are not; these can.
    """
    used = np.unique(stage)
    first = np.array([np.flatnonzero(stage == k)[0] for k in used])
    last = np.array([np.flatnonzero(stage == k)[-1] for k in used])
    b = int(np.searchsorted(used, slowest))
    moves = []
    for t in range(len(used)):
        if t == b or abs(t - b) == 1:          # one step is a boundary move already
            continue
        move = stage.copy()
        ks = range(b, t) if t > b else range(b, t, -1)
        for k in ks:
            layer, to = (last[k], used[k + 1]) if t > b else (first[k], used[k - 1])
            move[layer] = to
        moves.append(move)
    if not moves:
        return np.zeros((0, len(stage)), np.int64), np.zeros((0, len(place)), np.int64)
    return np.array(moves), np.repeat(place[None], len(moves), axis=0)


# ---------------------------------------------------------------------------
# The searches
# ---------------------------------------------------------------------------

def _tournament(rng, order_rank: np.ndarray, count: int) -> np.ndarray:
    a = rng.integers(0, len(order_rank), count)
    b = rng.integers(0, len(order_rank), count)
    return np.where(order_rank[a] < order_rank[b], a, b)


def _repair_all(repairer, problem, stage, place, valid, keep=None):
    """Repair the invalid rows (one CP-SAT model each); ``keep[i]``: a layer row ``i`` must keep."""
    stage, place = stage.copy(), place.copy()
    for i in np.flatnonzero(~valid):        # only invalid children reach the solver
        stage[i], place[i] = repairer.repair(stage[i], place[i],
                                             -1 if keep is None else int(keep[i]))
    return canonical(stage, place)


def _quick_valid(problem: Problem, stage, place) -> np.ndarray:
    g, pkg = problem.graph, problem.package
    ok = np.all(stage[:, g.src] <= stage[:, g.dst], axis=1)
    n = pkg.count
    flat = (np.arange(len(stage))[:, None] * n + stage).ravel()
    weights = np.bincount(flat, np.broadcast_to(g.weights, stage.shape).ravel(),
                          minlength=len(stage) * n).reshape(-1, n)
    return ok & np.all(weights <= pkg.capacity[place], axis=1)


def run_ga(problem: Problem, objective: str, budget: int, seed: int = 0, *,
           num_pop: int = 32, repair_time: float = 2.0) -> SearchResult:
    """Genetic search with CP-SAT repair (ours); ``budget`` evaluated partitions."""
    from gamma.partition.repair import Repairer

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    count = _Counter(problem, objective, budget)
    repairer = Repairer(problem, repair_time, seed)
    layers, n = problem.graph.num_layers, problem.package.count
    num_pop = max(2, min(num_pop, budget))
    # seeds: the compute-balanced cut, and everything on one chiplet (the repair spreads it
    # over as few stages as the memory allows: short latency, little link traffic)
    seed_stage, seed_place = balanced_seed(problem)
    seed_stage = np.vstack([seed_stage, np.zeros((1, layers), np.int64)])
    seed_place = np.vstack([seed_place, np.arange(n)[None]])
    stage, place = random_partitions(rng, max(0, num_pop - 2), layers, n)
    stage, place = np.vstack([seed_stage, stage])[:num_pop], np.vstack([seed_place, place])[:num_pop]
    stage, place = _repair_all(repairer, problem, stage, place, _quick_valid(problem, stage, place))
    scores = count(stage, place)
    while count.left > 0:
        order = rank_order(scores, objective)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        best = int(order[0])
        local_s, local_p, moved = boundary_moves(problem, stage[best], place[best])
        slowest = int(np.argmax(scores["stage_time"][best]))
        far_s, far_p = cascade_moves(problem, stage[best], place[best], slowest)
        swap_s, swap_p = swap_moves(stage[best], place[best], slowest)
        local_s = np.vstack([local_s, far_s, swap_s])
        local_p = np.vstack([local_p, far_p, swap_p])
        moved = np.concatenate([moved, np.full(len(far_s) + len(swap_s), -1)])
        room = max(0, count.left // 2)
        local_s, local_p, moved = local_s[:room], local_p[:room], moved[:room]
        kids = max(0, min(num_pop, count.left - len(local_s)))
        ia, ib = _tournament(rng, rank, kids), _tournament(rng, rank, kids)
        cs, cp_ = crossover(rng, stage[ia], place[ia], stage[ib], place[ib])
        mutated = rng.random(kids) < 0.8
        ms, mp = mutate(rng, problem, cs, cp_)
        cs = np.where(mutated[:, None], ms, cs)
        cp_ = np.where(mutated[:, None], mp, cp_)
        keep = np.concatenate([moved, np.full(kids, -1)])
        cs, cp_ = np.vstack([local_s, cs]), np.vstack([local_p, cp_])
        cs, cp_ = _repair_all(repairer, problem, cs, cp_, _quick_valid(problem, cs, cp_), keep)
        if not len(cs):
            break
        new = count(cs, cp_)
        stage, place, scores = _survive(problem, objective, num_pop, (stage, place, scores),
                                        (cs, cp_, new))
    result = count.result("ga", start)
    result.scores["repairs"] = repairer.calls
    return result


def _survive(problem, objective, size, old, new):
    """The best ``size`` distinct partitions of parents and children."""
    stage = np.vstack([old[0], new[0]])
    place = np.vstack([old[1], new[1]])
    scores = {k: np.concatenate([old[2][k], new[2][k]]) for k in old[2]}
    order = rank_order(scores, objective)
    key = np.hstack([stage, place])[order]
    _, first = np.unique(key, axis=0, return_index=True)
    keep = order[np.sort(first)][:size]
    return stage[keep], place[keep], {k: v[keep] for k, v in scores.items()}


def run_random(problem: Problem, objective: str, budget: int, seed: int = 0,
               batch: int = 256) -> SearchResult:
    """Random partitions in the layer order on random chiplet orders."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    count = _Counter(problem, objective, budget)
    while count.left > 0:
        stage, place = random_partitions(rng, min(batch, count.left), problem.graph.num_layers,
                                         problem.package.count)
        count(stage, place)
    return count.result("random", start)


def run_anneal(problem: Problem, objective: str, budget: int, seed: int = 0, *,
               t_start: float = 0.05, t_end: float = 1e-4, penalty: float = 100.0) -> SearchResult:
    """Simulated annealing from a random partition with :func:`mutate`'s moves.

    Cost: the objective's primary value relative to the start's, plus ``penalty``
    per unit of violation; temperatures fall
    geometrically from ``t_start`` to ``t_end`` over the budget.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    count = _Counter(problem, objective, budget)
    stage, place = random_partitions(rng, 1, problem.graph.num_layers, problem.package.count)
    scores = count(stage, place)
    scale = float(objective_value(scores, objective)[0]) or 1.0

    def cost(s):
        return objective_value(s, objective)[0] / scale + s["violation"][0] * penalty

    current = cost(scores)
    steps = max(1, budget - 1)
    for i in range(steps):
        temp = t_start * (t_end / t_start) ** (i / steps)
        ns, np_ = canonical(*mutate(rng, problem, stage, place))
        new_scores = count(ns, np_)
        new = cost(new_scores)
        if new <= current or rng.random() < np.exp((current - new) / temp):
            stage, place, current = ns, np_, new
    return count.result("anneal", start)


def chain_optimum(problem: Problem, objective: str) -> SearchResult | None:
    """Proven optimum of a chain on identical chiplets by dynamic programming over cut points.

    Consecutive stages go on neighbouring chiplets (1 hop, the least possible,
    on the ring and on the snake-numbered mesh), so only the cuts are chosen:
    ``best[k][j]`` is the best cost of the first ``j`` layers in ``k`` stages,
    combined by ``max`` (period) or ``+`` (latency, energy).  None when the
    graph is not a chain or the chiplets differ.
    """
    g, pkg = problem.graph, problem.package
    if not (g.is_chain and pkg.identical) or g.num_layers == 0:
        return None
    start = time.perf_counter()
    layers, n = g.num_layers, pkg.count
    lat = np.concatenate([[0], np.cumsum(problem.costs.latency[:, pkg.kinds[0]])]).astype(float)
    eng = np.concatenate([[0], np.cumsum(problem.costs.energy[:, pkg.kinds[0]])])
    wsum = np.concatenate([[0], np.cumsum(g.weights)])
    one_hop = problem.transfer_cycles(np.ones(len(g.src), dtype=np.int64)).astype(float)
    link_e = g.elements * pkg.link_energy
    into = np.concatenate([[0.0], one_hop])           # receive cost of a stage starting at i
    out = np.concatenate([one_hop, [0.0]])            # send cost of a stage ending before j
    combine = np.maximum if objective == "throughput" else np.add
    best = np.full((n + 1, layers + 1), np.inf)
    arg = np.zeros((n + 1, layers + 1), dtype=np.int64)
    best[0, 0] = 0.0
    cap = pkg.capacity[0]
    for k in range(1, n + 1):
        for j in range(1, layers + 1):
            i = np.arange(j)
            if objective == "energy":
                seg = eng[j] - eng[i] + (link_e[j - 1] if j < layers else 0.0)
            else:
                seg = lat[j] - lat[i] + into[i] + out[j - 1]
            seg = np.where(wsum[j] - wsum[i] <= cap, seg, np.inf)
            cand = combine(best[k - 1, i], seg)
            arg[k, j] = int(np.argmin(cand))
            best[k, j] = cand[arg[k, j]]
    k = int(np.argmin(best[1:, layers])) + 1
    if not np.isfinite(best[k, layers]):
        return None
    stage = np.zeros(layers, dtype=np.int64)
    j = layers
    for s in range(k, 0, -1):
        i = arg[s, j]
        stage[i:j] = s - 1
        j = i
    place = np.arange(n, dtype=np.int64)
    scores = evaluate(problem, stage[None], place[None])
    value = float(objective_value(scores, objective)[0])
    return SearchResult("exact", stage, place, {key: v[0] for key, v in scores.items()}, 0,
                        time.perf_counter() - start, proven=True, bound=value)


def run_exact(problem: Problem, objective: str, time_limit: float = 60.0,
              seed: int = 0) -> SearchResult:
    """The chain DP where it applies, else CP-SAT to optimality within ``time_limit``."""
    found = chain_optimum(problem, objective)
    if found is not None:
        return found
    from gamma.errors import GammaInputError
    from gamma.partition.repair import solve_exact

    outcome = solve_exact(problem, objective, time_limit, seed)
    if outcome.stage is None:
        raise GammaInputError(f"--method exact: CP-SAT found no valid partition in {time_limit:g} s "
                              "(raise --time_limit or --chiplet_mem)")
    scores = evaluate(problem, outcome.stage[None], outcome.place[None])
    return SearchResult("exact", outcome.stage, outcome.place, {k: v[0] for k, v in scores.items()},
                        0, outcome.seconds, proven=outcome.proven, bound=outcome.bound)


def run_method(problem: Problem, method: str, objective: str, budget: int, seed: int = 0, *,
               time_limit: float = 60.0, num_pop: int = 32) -> SearchResult:
    """Dispatch ``--method``."""
    if method == "ga":
        return run_ga(problem, objective, budget, seed, num_pop=num_pop)
    if method == "random":
        return run_random(problem, objective, budget, seed)
    if method == "anneal":
        return run_anneal(problem, objective, budget, seed)
    if method == "exact":
        return run_exact(problem, objective, time_limit, seed)
    raise ValueError(f"unknown method {method!r}")
