"""OR-Tools CP-SAT models: the repair of candidate partitions and the exact optimum.

:class:`Repairer` moves an invalid candidate to the *nearest* valid partition:
the fewest stage steps over all layers (``sum |stage - stage0|``) plus one per
stage moved to another chiplet, under every dependency going forward and every
stage's weights fitting its chiplet.  :func:`solve_exact` finds the best
partition outright (small graphs), with a time limit and the bound it proves.

OR-Tools is an optional dependency (``pip install -e .[partition]``), imported
only here and only when a model is built.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gamma.errors import GammaInputError
from gamma.partition.model import Problem

#: Energy is rounded to this many units per nJ in the exact model (CP-SAT is integral).
ENERGY_SCALE = 1000


def cp_model():
    """The ``ortools.sat.python.cp_model`` module, or a one-line error naming the fix."""
    try:
        from ortools.sat.python import cp_model as module
    except ImportError:
        raise GammaInputError("partition: --method ga and exact need OR-Tools; install it with "
                              "pip install -e .[partition]  (or pip install ortools)") from None
    return module


def _solver(time_limit: float, seed: int):
    solver = cp_model().CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = 1      # the search calls it many times; one core each
    solver.parameters.random_seed = int(seed) % (2**31)
    return solver


def _capacity(problem: Problem) -> np.ndarray:
    """Chiplet memories with "unlimited" as the whole model's weights (keeps CP-SAT's numbers small)."""
    total = int(problem.graph.weights.sum())
    return np.where(problem.package.memory > 0, problem.package.memory, total).astype(np.int64)


class Repairer:
    """Nearest valid partition of a candidate, found by CP-SAT.

    Parameters
    ----------
    problem : Problem
    time_limit : float
        Seconds per repair; the best valid partition found by then is used.
    seed : int
    window : int
        Stages a layer may move in the first, smaller model.
    """

    def __init__(self, problem: Problem, time_limit: float = 2.0, seed: int = 0,
                 window: int = 2):
        self.problem = problem
        self.window = window
        self._memo: dict = {}
        self.time_limit = time_limit
        self.seed = seed
        self.calls = 0
        self.seconds = 0.0

    def repair(self, stage: np.ndarray, place: np.ndarray, keep: int = -1
               ) -> tuple[np.ndarray, np.ndarray]:
        """The nearest valid ``(stage, place)``; raises GammaInputError if none exists.

        ``keep``: a layer whose stage must not change (a move to make room
        for rather than undo); -1 for none.  If the move cannot be kept, it
        is dropped.

        The solver first looks within ``window`` stages of each layer's own (the
        nearest valid partition almost always lies there, and the model is
        several times smaller), then, if nothing is valid there, everywhere.
        Repairs are remembered: a candidate met again costs nothing.
        """
        key = stage.tobytes() + place.tobytes() + bytes(str(keep), "ascii")
        if key in self._memo:
            return self._memo[key]
        begin = time.perf_counter()
        self.calls += 1
        found = None
        n = self.problem.package.count
        tries = [(self.window, keep), (n, keep)] + ([(n, -1)] if keep >= 0 else [])
        for window, kept in tries:
            found = self._solve(stage, place, window, kept)
            if found is not None:
                break
        self.seconds += time.perf_counter() - begin
        if found is None:
            raise GammaInputError(self._why_none())
        self._memo[key] = found
        return found

    def _solve(self, stage, place, window: int, keep: int):
        g, n = self.problem.graph, self.problem.package.count
        cap = _capacity(self.problem)
        cp = cp_model()
        m = cp.CpModel()
        stage = [int(s) for s in stage]
        allowed = [range(max(0, s - window), min(n, s + window + 1)) for s in stage]
        if keep >= 0:
            allowed[keep] = range(stage[keep], stage[keep] + 1)
        b = [{s: m.new_bool_var("") for s in allowed[i]} for i in range(g.num_layers)]
        z = [[m.new_bool_var("") for _ in range(n)] for _ in range(n)]
        for row in b:
            m.add_exactly_one(row.values())
        for s in range(n):
            m.add_exactly_one(z[s])
            m.add_exactly_one([z[t][s] for t in range(n)])
        level = [sum(s * v for s, v in row.items() if s) for row in b]
        for u, v in zip(g.src.tolist(), g.dst.tolist(), strict=True):
            m.add(level[u] <= level[v])
        weights = g.weights.tolist()
        for s in range(n):
            m.add(sum(weights[i] * b[i][s] for i in range(g.num_layers) if s in b[i])
                  <= sum(int(cap[c]) * z[s][c] for c in range(n)))
        moves = [abs(s - stage[i]) * v for i, row in enumerate(b) for s, v in row.items()
                 if s != stage[i]]
        swaps = [z[s][int(place[s])].Not() for s in range(n)]
        # among equally near partitions, the best balanced (slowest stage's compute, mean
        # over chiplet types): a tie-break, worth less than one step of distance
        work = self.problem.costs.latency.mean(axis=1).round().astype(np.int64).tolist()
        slowest = m.new_int_var(0, sum(work), "")
        for s in range(n):
            m.add(slowest >= sum(work[i] * b[i][s] for i in range(g.num_layers) if s in b[i]))
        m.minimize((sum(work) + 1) * (sum(moves) + sum(swaps)) + slowest)
        for i, row in enumerate(b):
            for s, v in row.items():
                m.add_hint(v, s == stage[i])
        for s in range(n):
            for c in range(n):
                m.add_hint(z[s][c], c == int(place[s]))
        solver = _solver(self.time_limit, self.seed + self.calls)
        status = solver.solve(m)
        if status not in (cp.OPTIMAL, cp.FEASIBLE):
            return None
        new_stage = np.array([next(s for s, v in row.items() if solver.value(v)) for row in b],
                             dtype=np.int64)
        new_place = np.array([[solver.value(x) for x in row].index(1) for row in z], dtype=np.int64)
        return new_stage, new_place

    def _why_none(self) -> str:
        total = int(self.problem.graph.weights.sum())
        cap = int(_capacity(self.problem).sum())
        if total > cap:
            return (f"--chiplet_mem: the model's weights ({total} elements) exceed the "
                    f"{self.problem.package.count} chiplets' memory ({cap} elements); "
                    "raise --chiplet_mem or --chiplets")
        return (f"--chiplet_mem: no partition fits the weights within {self.time_limit:g} s "
                "of the constraint solver (the memory is too tight for the layer order); "
                "raise --chiplet_mem or --chiplets")


@dataclass
class ExactResult:
    """Outcome of :func:`solve_exact` or the chain dynamic programme."""

    stage: np.ndarray | None
    place: np.ndarray | None
    proven: bool
    bound: float          # proven lower bound on the objective's primary value
    seconds: float
    method: str


def solve_exact(problem: Problem, objective: str, time_limit: float = 60.0,
                seed: int = 0) -> ExactResult:
    """The best partition by CP-SAT: chiplet of each layer, chiplet order, stage times.

    Variables: ``x[i, c]`` layer ``i`` on chiplet ``c``; ``pos[c]`` the
    chiplet's place in the pipeline (all different); ``w[e, a, b]`` edge ``e``
    crosses from ``a`` to ``b`` (forcing ``pos[a] < pos[b]``).  The stage time
    of ``c`` adds its layers' latencies and the transfers of the edges it sends
    or receives, as :func:`gamma.partition.model.evaluate` counts them.
    """
    start = time.perf_counter()
    cp = cp_model()
    g, pkg, costs = problem.graph, problem.package, problem.costs
    n, layers = pkg.count, g.num_layers
    m = cp.CpModel()
    x = [[m.new_bool_var("") for _ in range(n)] for _ in range(layers)]
    for row in x:
        m.add_exactly_one(row)
    pos = [m.new_int_var(0, n - 1, "") for _ in range(n)]
    m.add_all_different(pos)
    cap = _capacity(problem)
    for c in range(n):
        m.add(sum(int(g.weights[i]) * x[i][c] for i in range(layers)) <= int(cap[c]))
    horizon = int(costs.latency.max(axis=1).sum()) + 1
    compute = [sum(int(costs.latency[i, pkg.kinds[c]]) * x[i][c] for i in range(layers))
               for c in range(n)]
    send = [[] for _ in range(n)]
    recv = [[] for _ in range(n)]
    energy = [int(round(costs.energy[i, pkg.kinds[c]] * ENERGY_SCALE)) * x[i][c]
              for i in range(layers) for c in range(n)]
    crossings = []
    for e, (u, v) in enumerate(zip(g.src.tolist(), g.dst.tolist(), strict=True)):
        per = int(np.ceil(g.elements[e] / pkg.link_bw))
        for a in range(n):
            for b_ in range(n):
                if a == b_:
                    continue
                w = m.new_bool_var("")
                m.add_bool_or([x[u][a].Not(), x[v][b_].Not(), w])
                m.add(pos[a] < pos[b_]).only_enforce_if(w)
                cycles = per + int(pkg.hops[a, b_]) * int(pkg.link_latency)
                horizon += 2 * cycles
                send[a].append(cycles * w)
                recv[b_].append(cycles * w)
                energy.append(int(round(g.elements[e] * pkg.hops[a, b_] * pkg.link_energy
                                        * ENERGY_SCALE)) * w)
                crossings.append((a, b_, w))
    stage_time = []
    for c in range(n):
        t = m.new_int_var(0, horizon, "")
        m.add(t == compute[c] + sum(send[c]) + sum(recv[c]))
        stage_time.append(t)
    if objective == "throughput":
        period = m.new_int_var(0, horizon, "")
        m.add_max_equality(period, stage_time)
        m.minimize(period)
    elif objective == "latency":
        begin = [m.new_int_var(0, horizon, "") for _ in range(n)]
        span = m.new_int_var(0, horizon, "")
        for c in range(n):
            m.add(span >= begin[c] + stage_time[c])
        for a, b_, w in crossings:
            m.add(begin[b_] >= begin[a] + stage_time[a]).only_enforce_if(w)
        m.minimize(span)
    else:
        m.minimize(sum(energy))
    solver = _solver(time_limit, seed)
    solver.parameters.num_workers = 2
    status = solver.solve(m)
    seconds = time.perf_counter() - start
    if status not in (cp.OPTIMAL, cp.FEASIBLE):
        return ExactResult(None, None, False, float(solver.best_objective_bound), seconds, "cp-sat")
    stage, place = _decode(solver, x, pos)
    bound = float(solver.best_objective_bound)
    if objective == "energy":
        bound /= ENERGY_SCALE
    return ExactResult(stage, place, status == cp.OPTIMAL, bound, seconds, "cp-sat")


def _decode(solver, x, pos) -> tuple[np.ndarray, np.ndarray]:
    """``(stage, place)`` of a solution: used chiplets in pipeline order are stages 0, 1, ..."""
    n = len(pos)
    chip = np.array([[solver.value(v) for v in row].index(1) for row in x], dtype=np.int64)
    order = sorted(range(n), key=lambda c: solver.value(pos[c]))
    used = [c for c in order if np.any(chip == c)]
    place = np.array(used + [c for c in order if c not in used], dtype=np.int64)
    rank = {c: i for i, c in enumerate(place.tolist())}
    return np.array([rank[c] for c in chip.tolist()], dtype=np.int64), place
