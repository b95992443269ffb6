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

Co-design (DiGamma)
-------------------
With ``pe_limit > 0`` the PE count joins the genome (``Population.pes``:
#clusters x cluster size, at most ``pe_limit``); each candidate is scored on
its own PE count, and its L1 (per PE) and L2 are sized to what its mapping
needs (capped by the hardware's ``l1_size``/``l2_size`` when set).  The area
(:class:`~gamma.hardware.AreaModel`) of that PE count and those buffers is
reported for every candidate (``area`` and its ``area_pe``/``area_l1``/
``area_l2``/``area_noc`` split, µm²).  An ``area_budget`` (mm²) is always
enforced, in co-design or not and whatever the objectives: a candidate over
it carries a violation and ranks after every feasible one.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd
from deap import base, tools

from gamma import constraints as cst
from gamma.hardware import Hardware
from gamma.mapping import Population, pe_counts, to_directives
from gamma.objectives import OBJECTIVES
from gamma.search import operators as ops
from gamma.workload import Layer


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
        ``"gamma"`` (the genetic algorithm), ``"random"`` (random search) or
        ``"exhaustive"`` (branch and bound, :mod:`gamma.search.exhaustive`).
    slevel_min, slevel_max, fixed_cluster, par_rs, use_factor, constraint
        The map space, see :class:`~gamma.search.operators.SearchSpace`.
    allow_inexact : bool
        Accept candidates whose analysis is not exact, or whose runtime is an
        undercount (implies ``allow_undercount``).
    allow_undercount : bool
        Accept candidates whose MAESTRO runtime is below their busiest PE's
        work (``Costs.undercount``); GAMMA's search, which reads MAESTRO's
        runtime as it is, behaves so.
    rates : tuple of (str, float)
        Operator probabilities overriding :func:`~gamma.search.operators.vary`'s.
    pe_limit : int
        > 0: hardware/mapping co-design, the PE count is a gene in ``[1, pe_limit]``
        (the hardware's ``num_pes`` is then ignored).  0: the hardware's PE count.
    area_budget : float
        Chip area budget in mm² (0: none), enforced as a violation (see module doc).
    time_limit : float
        ``method="exhaustive"``: seconds per layer before the best mapping found
        is returned with its proven bound (0: no limit).
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
    allow_undercount: bool = False
    rates: tuple = ()
    pe_limit: int = 0
    area_budget: float = 0.0
    time_limit: float = 0.0

    @property
    def codesign(self) -> bool:
        return self.pe_limit > 0

    @property
    def area_budget_um2(self) -> float:
        """The area budget in µm² (``inf`` when there is none)."""
        return self.area_budget * 1e6 if self.area_budget and self.area_budget > 0 else math.inf

    def space(self, layer: Layer, hw: Hardware) -> ops.SearchSpace:
        return ops.SearchSpace(layer=layer, num_pes=self.pe_limit if self.codesign else hw.num_pes,
                               codesign=self.codesign, slevel_min=self.slevel_min,
                               slevel_max=self.slevel_max, constraint=self.constraint,
                               fixed_cluster=self.fixed_cluster, par_rs=self.par_rs,
                               use_factor=self.use_factor, l1_size=hw.l1_limit,
                               exact_only=not self.allow_inexact,
                               undercount_ok=self.allow_undercount or self.allow_inexact)


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

def _costmodel_evaluate(layer, hw, directives, **kwargs):
    from gamma.costmodel import evaluate
    return evaluate(layer, hw, directives, **kwargs)


def score(pop: Population, layer: Layer, hw: Hardware, cfg: GAConfig, evaluate=None) -> dict:
    """Score a population with one cost-model call.

    Returns
    -------
    dict of str to ndarray of shape (P,)
        Every field of the cost model's ``Costs`` (its ``energy``, in MAC
        units, as ``energy_mac_units``, and MAESTRO's ``area`` formula as
        ``maestro_area``), each objective of :data:`OBJECTIVES` by name (so
        ``energy`` in nJ, ``area`` in µm² from the hardware's area model),
        ``num_pes`` (the candidate's PE count),
        ``area_pe``/``area_l1``/``area_l2``/``area_noc`` (µm², the parts of
        ``area``), ``violation`` (0 when feasible, ``inf`` when the model
        rejects the mapping) and ``feasible``.
    """
    directives = to_directives(pop, layer)
    pes = pe_counts(pop, hw.num_pes) if cfg.codesign else np.full(len(pop), hw.num_pes, np.int64)
    if cfg.codesign:
        costs = (evaluate or _costmodel_evaluate)(layer, hw, directives, num_pes=pes)
    else:
        costs = (evaluate or _costmodel_evaluate)(layer, hw, directives)
    table = {f.name: np.asarray(getattr(costs, f.name)) for f in fields(costs)}
    # The objectives take these two names in their own units: keep the cost model's figures apart.
    table["energy_mac_units"] = table.pop("energy")
    table["maestro_area"] = table.pop("area")
    runtime = table["runtime"].astype(float)
    energy = table["energy_nj"].astype(float)
    table["latency"] = runtime
    table["energy"] = energy
    table["power"] = table["power"].astype(float)
    table["EDP"] = energy * runtime
    table["num_pes"] = pes
    parts = hw.area.parts_um2(pes, table["l1_size_req"], table["l2_size_req"], noc_bw=hw.noc_bw,
                              simd_lanes=hw.simd_lanes)
    for name, part in parts.items():
        table[f"area_{name}"] = part
    table["area"] = sum(parts.values())
    table["violation"] = violation(table, hw, cfg.allow_inexact, cfg.area_budget_um2,
                                   allow_undercount=cfg.allow_undercount)
    table["feasible"] = table["violation"] == 0
    return table


def violation(table: dict, hw: Hardware, allow_inexact: bool,
              area_budget_um2: float = math.inf, *, allow_undercount: bool = False) -> np.ndarray:
    """How far each candidate breaks the limits (0: feasible; ``inf``: rejected by the model).

    The sum of the relative excess of the L1 and L2 requirements over the
    hardware's sizes and of the area over ``area_budget_um2``, plus
    ``1 + |MACs - true MACs| / true MACs`` when the analysis is not exact and
    ``1 + shortfall`` when the runtime is an undercount (the busiest PE's
    share missing from it), unless ``allow_inexact`` (``allow_undercount``:
    only the latter).
    """
    excess = (np.maximum(table["l1_size_req"] / hw.l1_limit - 1, 0)
              + np.maximum(table["l2_size_req"] / hw.l2_limit - 1, 0))
    if math.isfinite(area_budget_um2):
        excess = excess + np.maximum(table["area"] / area_budget_um2 - 1, 0)
    if not allow_inexact:
        true = np.maximum(table["true_macs"].astype(float), 1)
        miss = np.abs(table["macs"] - table["true_macs"]) / true
        excess = excess + np.where(table["exact_analysis"], 0.0, 1.0 + miss)
        if not allow_undercount:
            busiest = np.maximum(table["busiest_pe_macs"].astype(float), 1)
            shortfall = 1 - table["runtime"] * hw.simd_lanes / busiest
            excess = excess + np.where(table["undercount"], 1.0 + shortfall, 0.0)
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
        # The order of DEAP's selBest on _LexFitness (a stable sort on (violation,
        # fitness1, fitness2)), as one lexsort: no Fitness object per candidate.
        return np.lexsort((f2, f1, v))[:k].astype(np.int64)
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
    method : str
        The search that produced it.
    lower_bound : int
        Proven lower bound (cycles) on the latency of every trusted mapping of
        the map space (:mod:`gamma.bounds`; after an exhaustive search, the
        bound it proved); 0 when not computed.
    proven_optimal : bool
        An exhaustive search proved ``best`` optimal in latency.
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
    lower_bound: int = 0
    proven_optimal: bool = False


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
        self.scored.append({"generation": np.full(len(f1), gen, dtype=np.int64),
                            cfg.fitness1 + "_1": f1, cfg.fitness2 + "_2": f2, "feasible": feas})
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
            scored=pd.DataFrame({k: np.concatenate([part[k] for part in self.scored])
                                 for k in self.scored[0]}), history=history,
            samples=self.samples, seconds=time.perf_counter() - self.start,
            method=self.cfg.method)


def _column_stat(func, j):
    def stat(rows):
        values = np.asarray(rows, dtype=float)
        return float(func(values[:, j])) if len(values) else math.nan
    return stat


def _lex_key(table, i, cfg):
    return (table["violation"][i], table[cfg.fitness1][i], table[cfg.fitness2][i])


# ---------------------------------------------------------------------------
# The generation loop
# ---------------------------------------------------------------------------

class LayerSearch:
    """One layer's search as a resumable object: :meth:`step` runs a generation.

    ::

        pop ← seeded initial population (num_pop);  score(pop)           # step 1
        each further step (epochs - 1 of them):
            parents  ← binary tournament on the ranked population
            children ← repair(age(grow(mutate(reorder(crossover(parents))))))
            a share of the children, growing over the run, are instead
                one-gene neighbours of the best mappings       # local search
            each child is the best of SCREEN draws alike (SCREEN_PRICED when
                undercounts count): one whose innermost tile fits L1, of least
                estimated latency (screening, see _screen_key)
            children that repeat an already scored mapping are mutated again
            score(children)                                    # one cost-model call
            pop ← best num_pop of pop ∪ children               # elitist; lexicographic or NSGA-II
                  (lexicographic: at most NICHE·num_pop of one structure — levels, parallel
                   dims, cluster sizes — before the others' next best)
            (after STALL generations without improvement, half the next
             generation's children are fresh seeds instead)     # restart
            record the generation

    Exactly ``num_pop * epochs`` candidates are scored.  With
    ``cfg.method == "random"`` every step scores ``num_pop`` random mappings
    instead (:func:`gamma.search.baselines.random_search`).

    Parameters
    ----------
    layer, hw, cfg
        The layer, the hardware and the search settings.
    rng : numpy.random.Generator
        Used (and advanced) by the search.
    evaluate : callable, optional
        Replaces the cost model: ``(layer, hw, directives) -> Costs`` (in
        co-design also given ``num_pes=`` per-candidate PE counts).
    on_generation : callable, optional
        Receives each generation's history record.
    seeds : Population, optional
        Mappings to start from (warm start): repaired to this layer's map
        space, they take the first places of the initial population.

    Examples
    --------
    Checkpoint after every generation and resume::

        search = LayerSearch(layer, hw, cfg, np.random.default_rng(0))
        while search.step():
            saved = pickle.dumps(search.state())
        result = search.run()          # nothing left to run: the result
        same = LayerSearch.from_state(pickle.loads(saved), layer, hw, cfg).run()
    """

    #: Generations without improvement of the best before a restart.
    STALL = 4
    #: Most of the population one structure (levels, parallel dims, cluster sizes) may fill.
    NICHE = 0.2
    #: Share of local-search children: at first, and at the end of the run.
    LOCAL_SHARE = (0.25, 0.5)
    #: Draws bred per slot of a generation, of which one is scored (see :meth:`_screen_key`).
    SCREEN = 4
    #: The same when undercounts count: the priced estimate ranks draws closely
    #: enough for more of them to pay off (fewer seeds stuck in a poor basin).
    SCREEN_PRICED = 16

    def __init__(self, layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                 evaluate=None, on_generation=None, seeds: Population | None = None):
        self.layer, self.hw, self.cfg, self.rng = layer, hw, cfg, rng
        self.seeds = seeds
        self.evaluate = evaluate
        self.space = cfg.space(layer, hw)
        self.rates = dict(cfg.rates)
        self.tracker = Tracker(layer, cfg, on_generation)
        self.generation = 0          # generations run so far
        self.stall = 0               # generations since the best last improved
        self.pop: Population | None = None
        self.table: dict | None = None
        self._seen: set = set()      # packed rows (as bytes) of every mapping scored
        self._seen_width = 0

    # -- public API --------------------------------------------------------
    @property
    def done(self) -> bool:
        """Whether the sample budget (``num_pop * epochs``) is spent."""
        return self.generation >= self.cfg.epochs

    def step(self) -> bool:
        """Run the next generation; False (and nothing done) once the budget is spent."""
        if self.done:
            return False
        if self.cfg.method == "random":
            pop = ops.random_population(self.space, self.cfg.num_pop, self.rng)
            self.tracker.update(pop, self._score(pop), self.generation)
        elif self.generation == 0:
            self._initial()
        else:
            self._evolve()
        self.generation += 1
        return True

    def run(self) -> LayerResult:
        """Run the remaining generations and return the result."""
        while self.step():
            pass
        return self.tracker.result()

    def state(self) -> dict:
        """Everything needed to resume, as plain picklable data (arrays, dicts, lists).

        :meth:`from_state` with the same layer, hardware and settings continues
        exactly where this search stands: the result equals an uninterrupted run's.
        """
        t = self.tracker
        return {
            "version": 1, "layer": repr(self.layer), "config": repr(self._fingerprint(self.cfg)),
            "generation": self.generation, "stall": self.stall,
            "population": _pop_state(self.pop), "scores": _copy(self.table),
            "seen": self.seen.copy(), "rng": self.rng.bit_generator.state,
            "tracker": {"best": _pop_state(t.best), "best_scores": _copy(t.best_scores),
                        "front": _pop_state(t.front), "front_scores": _copy(t.front_scores),
                        "scored": [dict(part) for part in t.scored], "samples": t.samples,
                        "logbook": [dict(r) for r in t.logbook],
                        "seconds": time.perf_counter() - t.start},
        }

    @classmethod
    def from_state(cls, state: dict, layer: Layer, hw: Hardware, cfg: GAConfig, *,
                   evaluate=None, on_generation=None) -> LayerSearch:
        """The search saved by :meth:`state`, ready to continue.

        ``cfg`` may raise ``epochs`` (a longer run); any other difference
        from the saved search's layer or settings raises ``ValueError``.
        """
        if state.get("version") != 1:
            raise ValueError(f"unknown LayerSearch state version {state.get('version')!r}")
        if state["layer"] != repr(layer) or state["config"] != repr(cls._fingerprint(cfg)):
            raise ValueError("this LayerSearch state was saved for another layer or other settings "
                             f"(saved: {state['layer']}, {state['config']}); resume with the same ones")
        bits = state["rng"]
        generator = getattr(np.random, bits["bit_generator"])()
        generator.state = bits
        search = cls(layer, hw, cfg, np.random.Generator(generator), evaluate=evaluate,
                     on_generation=on_generation)
        search.generation, search.stall = state["generation"], state["stall"]
        search.pop, search.table = _pop_from(state["population"]), _copy(state["scores"])
        search.seen = state["seen"].copy()
        saved, t = state["tracker"], search.tracker
        t.best, t.best_scores = _pop_from(saved["best"]), _copy(saved["best_scores"])
        t.front, t.front_scores = _pop_from(saved["front"]), _copy(saved["front_scores"])
        t.scored = [dict(part) for part in saved["scored"]]
        t.samples = saved["samples"]
        for record in saved["logbook"]:
            t.logbook.record(**record)
        t.start -= saved["seconds"]
        return search

    # -- generations -------------------------------------------------------
    def _score(self, pop: Population) -> dict:
        return score(pop, self.layer, self.hw, self.cfg, self.evaluate)

    def _seeded(self, n: int, pool: int = 4000) -> Population:
        hw, budget = self.hw, self.cfg.area_budget_um2
        area_fits = None
        if math.isfinite(budget):
            def area_fits(pes, l1, l2):
                return hw.area.area_um2(pes, l1, l2, noc_bw=hw.noc_bw,
                                        simd_lanes=hw.simd_lanes) <= budget
        return ops.seeded_population(self.space, n, self.rng, l1_size=hw.l1_limit,
                                     l2_size=hw.l2_limit, pool=pool, area_fits=area_fits,
                                     default_pes=hw.num_pes)

    def _initial(self) -> None:
        n = self.cfg.num_pop
        if self.seeds is not None and len(self.seeds):
            warm = self.seeds.take(slice(0, n))
            if not self.cfg.codesign:
                warm.pes[:] = 0
            warm = ops.repair(ops.refit_parallel(warm, self.space), self.space, self.rng)
            rest = self._seeded(n - len(warm)) if len(warm) < n else warm.take(slice(0, 0))
            self.pop = Population.concatenate([warm, rest])
        else:
            self.pop = self._seeded(n)
        self.seen = self.pop.packed()
        self.table = self._score(self.pop)
        self.tracker.update(self.pop, self.table, 0)

    def _evolve(self) -> None:
        cfg, space, rng = self.cfg, self.space, self.rng
        restart = self.stall >= self.STALL and not cfg.pareto
        if restart:
            self.stall = 0
        # Every slot is bred _draws() times, kind for kind; the child scored is
        # the first draw whose innermost tile fits L1 (its need is known without
        # the model) or, when screening, the fitting draw of least estimated
        # latency.  The other draws are never scored.
        n, k = cfg.num_pop, self._draws()
        drawn = self._breed(restart, np.tile(np.arange(n), k))
        key = np.where(self._l1_fits(drawn), 0.0, np.inf) + self._screen_key(drawn)
        children = drawn.take(np.argmin(key.reshape(k, n), axis=0) * n + np.arange(n))
        children = _fresh(children, space, rng, self._seen)
        child_table = self._score(children)
        before = _lex_key(self.table, 0, cfg)
        self.tracker.update(children, child_table, self.generation)
        pool = Population.concatenate([self.pop, children])
        pool_table = _concat(self.table, child_table)
        if cfg.pareto:
            keep = rank_order(pool_table, cfg, cfg.num_pop)
        else:
            keep = _diverse(rank_order(pool_table, cfg, len(pool)), pool, cfg.num_pop,
                            max(int(cfg.num_pop * self.NICHE), 1))
        self.pop, self.table = pool.take(keep), _take(pool_table, keep)
        self.stall = 0 if _lex_key(self.table, 0, cfg) < before else self.stall + 1

    def _breed(self, restart: bool, slots: np.ndarray) -> Population:
        """Children for the given slots (positions) of a generation of ``num_pop``.

        The last slots, a share growing over the run, are neighbours of the
        best mappings (local search); on a restart the first half are fresh
        seeds; the others are varied tournament winners.  A slot's kind does
        not change within a generation, so a spare bred for a slot is of its kind.
        """
        cfg, space, rng = self.cfg, self.space, self.rng
        local = self._is_local(slots)
        fresh = ~local & (slots < cfg.num_pop // 2) if restart else np.zeros(len(slots), bool)
        varied = ~local & ~fresh
        parts, where = [], []
        if varied.any():
            parents = self.pop.take(tournament(len(self.pop), int(varied.sum()), rng))
            parts.append(ops.vary(parents, space, rng, self.rates))
            where.append(np.flatnonzero(varied))
        if fresh.any():
            parts.append(self._seeded(int(fresh.sum()), pool=1000))
            where.append(np.flatnonzero(fresh))
        if local.any():
            rank = (slots[local] - slots[local].min()) % max(len(self.pop) // 4, 1)
            parts.append(ops.neighbour(self.pop.take(rank), space, rng))
            where.append(np.flatnonzero(local))
        return Population.concatenate(parts).take(np.argsort(np.concatenate(where)))

    def _l1_fits(self, pop: Population) -> np.ndarray:
        """(P,) bool: the L1 need (:func:`~gamma.search.operators.l1_need`) fits the
        hardware.  Strided layers, whose need is only estimated, always pass."""
        limit = self.hw.l1_limit
        if not math.isfinite(limit) or self.layer.stride != 1:
            return np.ones(len(pop), dtype=bool)
        return ops.l1_need(pop, self.space) <= limit

    def _screens(self) -> bool:
        """Whether draws are ranked by estimated latency: when latency is the first
        objective, not in Pareto or co-design searches (where a lower latency may
        cost area)."""
        cfg = self.cfg
        return cfg.fitness1 == "latency" and not cfg.pareto and not cfg.codesign

    def _draws(self) -> int:
        """Draws bred per slot (:data:`SCREEN`, or :data:`SCREEN_PRICED`)."""
        priced = self.space.undercount_ok and self._screens() and self.SCREEN > 1
        return self.SCREEN_PRICED if priced else self.SCREEN

    def _screen_key(self, pop: Population) -> np.ndarray:
        """(P,) estimated latency of the draws that compete for a slot, or zeros
        where no screening applies (:meth:`_screens`).

        For honest runtimes, :func:`~gamma.search.operators.estimate` (rank
        correlation 0.91-0.99 with the cost model over a run's children).
        When undercounts count, :func:`~gamma.search.operators.priced_rank`:
        MAESTRO's own pricing, reflected about MACs / PEs when only exact
        analyses count (below that bound an analysis is rejected, and the
        draws just above it are the best).
        """
        if not self._screens() or self.SCREEN < 2:
            return np.zeros(len(pop))
        if not self.space.undercount_ok:
            return ops.estimate(pop, self.space)[0]
        return ops.priced_rank(pop, self.space)

    def _is_local(self, slots: np.ndarray) -> np.ndarray:
        """(S,) bool: which slots (positions in a generation) hold local moves: the last ones."""
        n = self.cfg.num_pop
        return slots >= n - int(round(n * self._local_share()))

    def _local_share(self) -> float:
        """Share of each generation's children drawn around the best mappings:
        a quarter at first, rising to a half over the last third of the run."""
        if self.cfg.num_pop < 4:
            return 0.0
        progress = self.generation / max(self.cfg.epochs - 1, 1)
        first, last = self.LOCAL_SHARE
        return first + (last - first) * min(max(3 * progress - 2, 0.0), 1.0)

    @property
    def seen(self) -> np.ndarray:
        """Packed rows (:meth:`Population.packed`) of every mapping scored, sorted and unique."""
        if not self._seen:
            return np.empty((0, self._seen_width), dtype=np.int64)
        rows = np.frombuffer(b"".join(sorted(self._seen)), dtype=np.int64)
        return rows.reshape(len(self._seen), -1).copy()

    @seen.setter
    def seen(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        self._seen_width = rows.shape[1] if rows.ndim == 2 else 0
        self._seen = {row.tobytes() for row in rows}

    @staticmethod
    def _fingerprint(cfg: GAConfig) -> GAConfig:
        return replace(cfg, epochs=0)


def search_layer(layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                 evaluate=None, on_generation=None) -> LayerResult:
    """Search one layer's mapping: ``LayerSearch(...).run()`` (see :class:`LayerSearch`)."""
    return LayerSearch(layer, hw, cfg, rng, evaluate=evaluate, on_generation=on_generation).run()


def _fresh(children: Population, space, rng, seen: set, tries: int = 4) -> Population:
    """Mutate again the children that repeat a scored (or sibling) mapping.

    ``seen`` holds the packed rows (:meth:`Population.packed`, as bytes) of
    every mapping scored so far; the children's rows are added to it.
    """
    for _ in range(tries):
        dup = _duplicates_in(children.packed(), seen)
        if not dup.any():
            break
        again = ops.mutate_tile(children.take(dup), space, rng, rate=1.0, loci=2)
        again = ops.mutate_par(again, space, rng, rate=0.3)
        if space.codesign:
            again = ops.mutate_pe(again, space, rng, rate=0.5)
        children.put(dup, ops.repair(again, space, rng))
    seen.update(row.tobytes() for row in children.packed())
    return children


def _duplicates_in(rows: np.ndarray, seen: set) -> np.ndarray:
    """(P,) bool: rows in ``seen`` (a set of row bytes) or repeating an earlier row."""
    dup = np.zeros(len(rows), dtype=bool)
    batch = set()
    for i, row in enumerate(rows):
        key = row.tobytes()
        if key in seen or key in batch:
            dup[i] = True
        batch.add(key)
    return dup


def _diverse(order: np.ndarray, pool: Population, k: int, cap: int) -> np.ndarray:
    """The first ``k`` of ``order`` (pool indices, best first), taking at most ``cap``
    mappings of each structure (levels, parallel dims and cluster sizes) before
    any further one of it: the population keeps several basins to search around."""
    act = pool.active()
    structure = np.concatenate([pool.levels[:, None], np.where(act, pool.par, -2),
                                np.where(act, pool.par2, -2), np.where(act, pool.cluster, -2),
                                pool.pes[:, None]], axis=1)
    _, kind = np.unique(_row_view(structure[order]), return_inverse=True)
    kind = kind.ravel()
    # rank of each mapping among those of its structure, best first
    by_kind = np.argsort(kind, kind="stable")
    sizes = np.bincount(kind)
    rank = np.empty(len(order), dtype=np.int64)
    rank[by_kind] = np.arange(len(order)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    first = np.flatnonzero(rank < cap)
    rest = np.flatnonzero(rank >= cap)
    return order[np.concatenate([first, rest])[:k]]


def _row_view(rows: np.ndarray) -> np.ndarray:
    """Each int64 row as one opaque (void) scalar, so rows sort and compare as wholes."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()


def _pop_state(pop: Population | None) -> dict | None:
    return None if pop is None else {f.name: getattr(pop, f.name).copy() for f in fields(pop)}


def _pop_from(data: dict | None) -> Population | None:
    return None if data is None else Population(**{k: np.array(v) for k, v in data.items()})


def _copy(table: dict | None) -> dict | None:
    return None if table is None else {k: np.array(v) for k, v in table.items()}
