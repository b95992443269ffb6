"""What one layer search returns (:class:`LayerResult`) and how it is tracked while it runs."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from deap import tools

from gamma.mapping import Population
from gamma.objectives import OBJECTIVES
from gamma.search.config import GAConfig
from gamma.search.scoring import concat_rows, take_rows
from gamma.search.selection import lex_key, pareto_front
from gamma.workload import Layer


class NoFeasibleMapping(RuntimeError):
    """No candidate met the hardware limits within the sample budget."""




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
    closest_trusted : dict of str to scalar or None
        When no candidate is feasible and ``best`` is not trusted (its analysis
        is inexact or an undercount): the scores of the trusted candidate
        nearest the limits, if one was scored (a failure then names the limit
        it exceeds).
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
    closest_trusted: dict | None = None
    lower_bound: int = 0
    proven_optimal: bool = False


class GenerationLoop:
    """A search run one generation at a time, resumable between generations.

    Subclasses set ``cfg``, ``tracker`` and ``generation`` (0) and define
    :meth:`_generation`; :meth:`step` and :meth:`run` are the public loop.
    """

    @property
    def done(self) -> bool:
        """Whether the sample budget (``num_pop * epochs``) is spent."""
        return self.generation >= self.cfg.epochs

    def step(self) -> bool:
        """Run the next generation; False (and nothing done) once the budget is spent."""
        if self.done:
            return False
        self._generation()
        self.generation += 1
        return True

    def run(self) -> LayerResult:
        """Run the remaining generations and return the result."""
        while self.step():
            pass
        return self.tracker.result()

    def _generation(self) -> None:
        raise NotImplementedError


class Tracker:
    """Bookkeeping shared by the GA and random search: incumbent, front, history."""

    def __init__(self, layer: Layer, cfg: GAConfig, on_generation=None):
        self.layer, self.cfg, self.on_generation = layer, cfg, on_generation
        self.best: Population | None = None
        self.best_scores: dict | None = None
        self.front: Population | None = None
        self.front_scores: dict | None = None
        self.closest_trusted: dict | None = None
        self.scored = []
        self.samples = 0
        self.logbook = tools.Logbook()
        self.start = time.perf_counter()

    def update(self, pop: Population, table: dict, gen: int) -> None:
        """Record one generation's newly scored candidates."""
        cfg = self.cfg
        self.samples += len(pop)
        f1, f2, feas = table[cfg.fitness1], table[cfg.fitness2], table["feasible"]
        self.scored.append({"generation": np.full(len(f1), gen, dtype=np.int64),
                            cfg.fitness1 + "_1": f1, cfg.fitness2 + "_2": f2, "feasible": feas})
        top = np.lexsort((f2, f1, table["violation"]))[0]
        if self.best is None or lex_key(table, top, cfg) < lex_key(self.best_scores, 0, cfg):
            self.best, self.best_scores = pop.take(top), take_rows(table, [top])
        ok = np.flatnonzero(feas)
        if len(ok):
            self._update_front(pop, table, ok)
        elif not self.best_scores["feasible"][0]:
            self._update_closest_trusted(table)
        rows = np.stack([table[o] for o in OBJECTIVES], axis=1)[feas].astype(float)
        record = _column_stats(rows)
        best = self.best_scores
        self.logbook.record(generation=gen, samples=self.samples,
                            feasible_fraction=float(feas.mean()) if len(feas) else 0.0,
                            **{f"best_{o}": float(best[o][0]) if best["feasible"][0] else math.nan
                               for o in OBJECTIVES},
                            **record)
        if self.on_generation is not None:
            self.on_generation(self.logbook[-1])

    def _update_closest_trusted(self, table: dict) -> None:
        """While nothing is feasible: the trusted candidate nearest the limits."""
        rows = np.flatnonzero(table["trusted"])
        if not len(rows):
            return
        i = rows[np.argmin(table["violation"][rows])]
        if (self.closest_trusted is None
                or table["violation"][i] < self.closest_trusted["violation"][0]):
            self.closest_trusted = take_rows(table, [i])

    def _update_front(self, pop: Population, table: dict, ok: np.ndarray) -> None:
        """The Pareto front of (fitness1, fitness2) with the feasible candidates ``ok`` added.

        The front is found on the two objectives alone; the other columns are
        gathered only when it changed."""
        f1, f2 = self.cfg.fitness1, self.cfg.fitness2
        if self.front is None:
            keep = pareto_front(table[f1][ok], table[f2][ok])
            self.front, self.front_scores = pop.take(ok[keep]), take_rows(table, ok[keep])
            return
        old = len(self.front)
        keep = pareto_front(np.concatenate([self.front_scores[f1], table[f1][ok]]),
                            np.concatenate([self.front_scores[f2], table[f2][ok]]))
        if len(keep) == old and (keep == np.arange(old)).all():
            return                                  # no new point on the front
        cand_pop = Population.concatenate([self.front, pop.take(ok)])
        cand = concat_rows(self.front_scores, take_rows(table, ok))
        self.front, self.front_scores = cand_pop.take(keep), take_rows(cand, keep)

    def state(self) -> dict:
        """The tracker as plain picklable data (:meth:`restore` takes it back)."""
        if len(self.scored) > 1:        # one part: a state pickles a few arrays, not one per generation
            self.scored = [{k: np.concatenate([part[k] for part in self.scored])
                            for k in self.scored[0]}]
        return {"best": pop_state(self.best), "best_scores": copy_table(self.best_scores),
                "front": pop_state(self.front), "front_scores": copy_table(self.front_scores),
                "closest_trusted": copy_table(self.closest_trusted),
                "scored": [dict(part) for part in self.scored],
                "samples": self.samples,
                "logbook": [dict(r) for r in self.logbook],
                "seconds": time.perf_counter() - self.start}

    def restore(self, saved: dict) -> None:
        """Continue from :meth:`state`'s data (elapsed seconds included)."""
        self.best, self.best_scores = pop_from(saved["best"]), copy_table(saved["best_scores"])
        self.front, self.front_scores = pop_from(saved["front"]), copy_table(saved["front_scores"])
        self.closest_trusted = copy_table(saved.get("closest_trusted"))
        self.scored = [dict(part) for part in saved["scored"]]
        self.samples = saved["samples"]
        for record in saved["logbook"]:
            self.logbook.record(**record)
        self.start -= saved["seconds"]

    def result(self) -> LayerResult:
        feasible = bool(self.best_scores["feasible"][0])
        if self.cfg.pareto and self.front is not None:
            i = int(np.lexsort((self.front_scores[self.cfg.fitness2],
                                self.front_scores[self.cfg.fitness1]))[0])
            self.best, self.best_scores = self.front.take(i), take_rows(self.front_scores, [i])
        history = pd.DataFrame(self.logbook)
        empty = self.best.take(slice(0, 0))
        return LayerResult(
            layer=self.layer, best=self.best,
            best_scores={k: v[0].item() for k, v in self.best_scores.items()},
            feasible=feasible,
            front=self.front if self.front is not None else empty,
            front_scores=self.front_scores or take_rows(self.best_scores, slice(0, 0)),
            scored=pd.DataFrame({k: np.concatenate([part[k] for part in self.scored])
                                 for k in self.scored[0]}), history=history,
            samples=self.samples, seconds=time.perf_counter() - self.start,
            method=self.cfg.method, closest_trusted=self._closest_trusted(feasible))

    def _closest_trusted(self, feasible: bool) -> dict | None:
        """:attr:`LayerResult.closest_trusted` (a checkpoint written before scores
        had a ``trusted`` column has no closest trusted candidate either)."""
        if (feasible or self.closest_trusted is None
                or self.best_scores.get("trusted", np.ones(1, dtype=bool))[0]):
            return None
        return {k: v[0].item() for k, v in self.closest_trusted.items()}


def _column_stats(rows: np.ndarray) -> dict:
    """``min_<objective>`` and ``mean_<objective>`` over the feasible candidates (NaN: none)."""
    if not len(rows):
        return {f"{stat}_{name}": math.nan for name in OBJECTIVES for stat in ("min", "mean")}
    low, mean = rows.min(axis=0), rows.mean(axis=0)
    return {key: float(value) for j, name in enumerate(OBJECTIVES)
            for key, value in ((f"min_{name}", low[j]), (f"mean_{name}", mean[j]))}


# -- plain-data snapshots of search state, for checkpoints ----------------------------

def pop_state(pop: Population | None) -> dict | None:
    """A population as a dict of arrays (copies)."""
    return None if pop is None else {f.name: getattr(pop, f.name).copy() for f in fields(pop)}


def pop_from(data: dict | None) -> Population | None:
    """The population :func:`pop_state` saved."""
    return None if data is None else Population(**{k: np.array(v) for k, v in data.items()})


def copy_table(table: dict | None) -> dict | None:
    """A copy of a score table (a dict of arrays)."""
    return None if table is None else {k: np.array(v) for k, v in table.items()}


def rng_from(bits: dict) -> np.random.Generator:
    """The generator whose ``bit_generator.state`` was saved as ``bits``."""
    generator = getattr(np.random, bits["bit_generator"])()
    generator.state = bits
    return np.random.Generator(generator)
