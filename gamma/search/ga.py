"""The GAMMA genetic algorithm for one layer, on whole-population arrays.

Scoring
-------
Every generation's candidates are decoded to :class:`~gamma.costmodel.directives.Directives`
and scored with **one** cost-model call.  A candidate is *feasible* if the
model found it valid, its analysis is exact (unless ``allow_inexact``) and its
L1/L2 requirements fit the hardware.  Infeasible candidates are not discarded
(GAMMA's death penalty made runs stall): they carry a *violation* — how far
they break the limits — and rank after every feasible one, least violation
first.

Objectives (all minimised): latency (cycles), energy (nJ), power (MAESTRO's
power units), EDP (nJ·cycles) and area (µm², :class:`~gamma.hardware.AreaModel`
with the buffers sized to the mapping's requirement, as GAMMA does).  By
default the order is lexicographic as in GAMMA (``fitness1``, ties broken by
``fitness2``); with ``pareto`` survival is NSGA-II (DEAP's ``selNSGA2``) and
the result is the Pareto front of the two.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
from deap import base, tools

from gamma import constraints as cst
from gamma.hardware import Hardware
from gamma.mapping import Population, to_directives
from gamma.search import operators as ops
from gamma.workload import Layer

OBJECTIVES = ("latency", "energy", "power", "EDP", "area")
OBJECTIVE_UNITS = {"latency": "cycles", "energy": "nJ", "power": "maestro_units",
                   "EDP": "nJ_cycles", "area": "um2"}


class NoFeasibleMapping(RuntimeError):
    """No candidate met the hardware limits within the sample budget."""


@dataclass(frozen=True)
class GAConfig:
    """Settings of one layer search (the search flags of the command line).

    Parameters
    ----------
    num_pop, epochs : int
        Population size and generations; the budget is ``num_pop * epochs`` samples.
    fitness1, fitness2 : str
        Objectives, from :data:`OBJECTIVES`.
    pareto : bool
        NSGA-II survival and a Pareto-front result instead of lexicographic order.
    method : str
        ``"gamma"`` (the genetic algorithm) or ``"random"`` (random search).
    slevel_min, slevel_max, fixed_cluster, par_rs, use_factor, constraint
        The map space, see :class:`~gamma.search.operators.SearchSpace`.
    allow_inexact : bool
        Accept candidates whose analysis is not exact.
    rates : tuple of (str, float)
        Operator probabilities overriding :func:`~gamma.search.operators.vary`'s.
    """

    num_pop: int = 20
    epochs: int = 10
    fitness1: str = "latency"
    fitness2: str = "energy"
    pareto: bool = False
    method: str = "gamma"
    slevel_min: int = 2
    slevel_max: int = 2
    fixed_cluster: int = 0
    par_rs: bool = False
    use_factor: bool = False
    constraint: cst.MappingConstraint = cst.MAESTRO_CSTR
    allow_inexact: bool = False
    rates: tuple = ()

    def space(self, layer: Layer, hw: Hardware) -> ops.SearchSpace:
        return ops.SearchSpace(layer=layer, num_pes=hw.num_pes, slevel_min=self.slevel_min,
                               slevel_max=self.slevel_max, constraint=self.constraint,
                               fixed_cluster=self.fixed_cluster, par_rs=self.par_rs,
                               use_factor=self.use_factor, l1_size=hw.l1_limit,
                               exact_only=not self.allow_inexact)


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

def _costmodel_evaluate(layer, hw, directives):
    from gamma.costmodel import evaluate
    return evaluate(layer, hw, directives)


def score(pop: Population, layer: Layer, hw: Hardware, cfg: GAConfig, evaluate=None) -> dict:
    """Score a population with one cost-model call.

    Returns
    -------
    dict of str to ndarray of shape (P,)
        Every field of the cost model's ``Costs``, each objective of
        :data:`OBJECTIVES` by name, ``violation`` (0 when feasible, ``inf``
        when the model rejects the mapping) and ``feasible``.
    """
    costs = (evaluate or _costmodel_evaluate)(layer, hw, to_directives(pop, layer))
    table = {f.name: np.asarray(getattr(costs, f.name)) for f in fields(costs)}
    runtime = table["runtime"].astype(float)
    energy = table["energy_nj"].astype(float)
    table["latency"] = runtime
    table["energy"] = energy
    table["power"] = table["power"].astype(float)
    table["EDP"] = energy * runtime
    table["area"] = hw.area.area_um2(hw.num_pes, table["l1_size_req"], table["l2_size_req"]).astype(float)
    table["violation"] = violation(table, hw, cfg.allow_inexact)
    table["feasible"] = table["violation"] == 0
    return table


def violation(table: dict, hw: Hardware, allow_inexact: bool) -> np.ndarray:
    """How far each candidate breaks the limits (0: feasible; ``inf``: rejected by the model).

    The sum of the relative excess of the L1 and L2 requirements over the
    hardware's sizes, plus ``1 + |MACs - true MACs| / true MACs`` when the
    analysis is not exact (unless ``allow_inexact``).
    """
    excess = (np.maximum(table["l1_size_req"] / hw.l1_limit - 1, 0)
              + np.maximum(table["l2_size_req"] / hw.l2_limit - 1, 0))
    if not allow_inexact:
        true = np.maximum(table["true_macs"].astype(float), 1)
        miss = np.abs(table["macs"] - table["true_macs"]) / true
        excess = excess + np.where(table["exact_analysis"], 0.0, 1.0 + miss)
    finite = np.all([np.isfinite(table[o]) for o in OBJECTIVES], axis=0)
    ok = table["valid"].astype(bool) & finite & (table["runtime"] > 0)
    return np.where(ok, excess, np.inf)


def _take(table: dict, index) -> dict:
    return {k: v[index] for k, v in table.items()}


def _concat(a: dict, b: dict) -> dict:
    return {k: np.concatenate([a[k], b[k]]) for k in a}


# ---------------------------------------------------------------------------
# Selection (DEAP)
# ---------------------------------------------------------------------------

class _LexFitness(base.Fitness):
    """(violation, fitness1, fitness2), all minimised; DEAP compares fitnesses
    lexicographically, which is GAMMA's order with feasibility first."""
    weights = (-1.0, -1.0, -1.0)


class _ParetoFitness(base.Fitness):
    weights = (-1.0, -1.0)


class _Member:
    """A pool index with a DEAP fitness, so DEAP's selectors can rank the pool."""
    __slots__ = ("index", "fitness")

    def __init__(self, index, fitness):
        self.index = index
        self.fitness = fitness


def rank_order(table: dict, cfg: GAConfig, k: int) -> np.ndarray:
    """Indices of the ``k`` best of a pool, best first.

    Lexicographic mode: DEAP's ``selBest`` on (violation, fitness1, fitness2)
    (a stable sort, so ties keep pool order).  Pareto mode: feasible
    candidates by DEAP's ``selNSGA2`` (fronts, then crowding distance), then
    infeasible ones by least violation.
    """
    f1, f2, v = table[cfg.fitness1], table[cfg.fitness2], table["violation"]
    if not cfg.pareto:
        members = [_Member(i, _LexFitness((v[i], f1[i], f2[i]))) for i in range(len(v))]
        return np.array([m.index for m in tools.selBest(members, k)], dtype=np.int64)
    feasible = np.flatnonzero(v == 0)
    members = [_Member(i, _ParetoFitness((f1[i], f2[i]))) for i in feasible]
    if len(members) > k:
        chosen = tools.selNSGA2(members, k)
    else:
        chosen = [m for front in tools.sortNondominated(members, len(members)) for m in front]
    head = np.array([m.index for m in chosen], dtype=np.int64)
    rest = np.flatnonzero(v != 0)
    rest = rest[np.lexsort((f2[rest], f1[rest], v[rest]))]
    return np.concatenate([head, rest])[:k]


def tournament(n_pool: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Binary tournament on a pool sorted best first: ``k`` winners' indices."""
    a = rng.integers(0, n_pool, k)
    b = rng.integers(0, n_pool, k)
    return np.minimum(a, b)


def pareto_front(f1: np.ndarray, f2: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (minimisation), sorted by ``f1``.

    Duplicated points are kept once.
    """
    order = np.lexsort((f2, f1))
    best = np.minimum.accumulate(f2[order])
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = f2[order][1:] < best[:-1]
    return order[keep]


# ---------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------

@dataclass
class LayerResult:
    """Outcome of one layer search.

    Attributes
    ----------
    layer : Layer
    best : Population
        The best mapping (one individual; in Pareto mode the front's best in fitness1).
    best_scores : dict of str to scalar
        Its cost-model outputs, objectives and violation.
    feasible : bool
        Whether ``best`` meets every limit.
    front, front_scores : Population, dict of ndarray
        Pareto front of (fitness1, fitness2) over every feasible candidate scored.
    scored : pandas.DataFrame
        fitness1, fitness2 and feasibility of every candidate scored.
    history : pandas.DataFrame
        One row per generation (see :func:`search_layer`).
    samples : int
        Candidates scored.
    seconds : float
    """

    layer: Layer
    best: Population
    best_scores: dict
    feasible: bool
    front: Population
    front_scores: dict
    scored: pd.DataFrame
    history: pd.DataFrame
    samples: int
    seconds: float = 0.0
    method: str = "gamma"


class Tracker:
    """Bookkeeping shared by the GA and random search: incumbent, front, history."""

    def __init__(self, layer: Layer, cfg: GAConfig, on_generation=None):
        self.layer, self.cfg, self.on_generation = layer, cfg, on_generation
        self.best: Population | None = None
        self.best_scores: dict | None = None
        self.front: Population | None = None
        self.front_scores: dict | None = None
        self.scored = []
        self.samples = 0
        self.logbook = tools.Logbook()
        self.stats = tools.Statistics()
        for j, name in enumerate(OBJECTIVES):
            self.stats.register(f"min_{name}", _column_stat(np.min, j))
            self.stats.register(f"mean_{name}", _column_stat(np.mean, j))
        self.start = time.perf_counter()

    def update(self, pop: Population, table: dict, gen: int) -> None:
        """Record one generation's newly scored candidates."""
        cfg = self.cfg
        self.samples += len(pop)
        f1, f2, feas = table[cfg.fitness1], table[cfg.fitness2], table["feasible"]
        self.scored.append(pd.DataFrame({"generation": gen, cfg.fitness1 + "_1": f1,
                                         cfg.fitness2 + "_2": f2, "feasible": feas}))
        top = np.lexsort((f2, f1, table["violation"]))[0]
        if self.best is None or _lex_key(table, top, cfg) < _lex_key(self.best_scores, 0, cfg):
            self.best, self.best_scores = pop.take(top), _take(table, [top])
        ok = np.flatnonzero(feas)
        if len(ok):
            cand_pop = pop.take(ok) if self.front is None else Population.concatenate(
                [self.front, pop.take(ok)])
            cand = _take(table, ok) if self.front is None else _concat(self.front_scores,
                                                                      _take(table, ok))
            keep = pareto_front(cand[cfg.fitness1], cand[cfg.fitness2])
            self.front, self.front_scores = cand_pop.take(keep), _take(cand, keep)
        rows = np.stack([table[o] for o in OBJECTIVES], axis=1)[feas]
        record = self.stats.compile(rows)
        best = self.best_scores
        self.logbook.record(generation=gen, samples=self.samples,
                            feasible_fraction=float(feas.mean()) if len(feas) else 0.0,
                            **{f"best_{o}": float(best[o][0]) if best["feasible"][0] else math.nan
                               for o in OBJECTIVES},
                            **record)
        if self.on_generation is not None:
            self.on_generation(self.logbook[-1])

    def result(self) -> LayerResult:
        feasible = bool(self.best_scores["feasible"][0])
        if self.cfg.pareto and self.front is not None:
            i = int(np.lexsort((self.front_scores[self.cfg.fitness2],
                                self.front_scores[self.cfg.fitness1]))[0])
            self.best, self.best_scores = self.front.take(i), _take(self.front_scores, [i])
        history = pd.DataFrame(self.logbook)
        empty = self.best.take(slice(0, 0))
        return LayerResult(
            layer=self.layer, best=self.best,
            best_scores={k: v[0].item() for k, v in self.best_scores.items()},
            feasible=feasible,
            front=self.front if self.front is not None else empty,
            front_scores=self.front_scores or _take(self.best_scores, slice(0, 0)),
            scored=pd.concat(self.scored, ignore_index=True), history=history,
            samples=self.samples, seconds=time.perf_counter() - self.start,
            method=self.cfg.method)


def _column_stat(func, j):
    def stat(rows):
        values = np.array([r[j] for r in rows], dtype=float)
        return float(func(values)) if len(values) else math.nan
    return stat


def _lex_key(table, i, cfg):
    return (table["violation"][i], table[cfg.fitness1][i], table[cfg.fitness2][i])


# ---------------------------------------------------------------------------
# The generation loop
# ---------------------------------------------------------------------------

def search_layer(layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                 evaluate=None, on_generation=None) -> LayerResult:
    """Search one layer's mapping with GAMMA's genetic algorithm.

    ::

        pop ← seeded initial population (num_pop);  score(pop)
        repeat epochs - 1 times:
            parents  ← binary tournament on the ranked population
            children ← repair(age(grow(mutate(reorder(crossover(parents))))))
            children that repeat an already scored mapping are mutated again
            score(children)                       # one cost-model call
            pop ← best num_pop of pop ∪ children  # elitist; lexicographic or NSGA-II
            record the generation

    Exactly ``num_pop * epochs`` candidates are scored.  ``evaluate`` replaces
    the cost model (``(layer, hw, directives) -> Costs``); ``on_generation``
    receives each history record.
    """
    space = cfg.space(layer, hw)
    rates = dict(cfg.rates)
    tracker = Tracker(layer, cfg, on_generation)
    pop = ops.seeded_population(space, cfg.num_pop, rng, l1_size=hw.l1_limit,
                                l2_size=hw.l2_limit)
    seen = set(pop.keys())
    table = score(pop, layer, hw, cfg, evaluate)
    tracker.update(pop, table, 0)
    for gen in range(1, cfg.epochs):
        parents = pop.take(tournament(len(pop), cfg.num_pop, rng))
        children = _fresh(ops.vary(parents, space, rng, rates), space, rng, seen)
        child_table = score(children, layer, hw, cfg, evaluate)
        tracker.update(children, child_table, gen)
        pool, pool_table = Population.concatenate([pop, children]), _concat(table, child_table)
        keep = rank_order(pool_table, cfg, cfg.num_pop)
        pop, table = pool.take(keep), _take(pool_table, keep)
    return tracker.result()


def _fresh(children: Population, space, rng, seen: set, tries: int = 4) -> Population:
    """Mutate again the children that repeat a scored (or sibling) mapping."""
    for _ in range(tries):
        keys = children.keys()
        dup = np.zeros(len(keys), dtype=bool)
        batch = set()
        for i, key in enumerate(keys):
            dup[i] = key in seen or key in batch
            batch.add(key)
        if not dup.any():
            break
        again = ops.mutate_tile(children.take(dup), space, rng, rate=1.0, loci=2)
        again = ops.repair(ops.mutate_par(again, space, rng, rate=0.3), space, rng)
        for name in ("par", "par2", "cluster", "order", "tile", "levels"):
            getattr(children, name)[dup] = getattr(again, name)
    seen.update(children.keys())
    return children
