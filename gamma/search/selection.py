"""Ranking and selection of scored candidates (lexicographic as GAMMA, or NSGA-II), with DEAP."""
from __future__ import annotations

import numpy as np
from deap import base, tools

from gamma.search.config import GAConfig


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


def ranking_columns(table: dict, cfg: GAConfig) -> dict:
    """The columns of a score table that :func:`rank_order` and :func:`lex_key` read
    (violation, fitness1, fitness2): a population keeps only these between
    generations; the full rows of the candidates worth reporting are the
    tracker's."""
    return {name: table[name] for name in dict.fromkeys(("violation", cfg.fitness1, cfg.fitness2))}


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



def lex_key(table, i, cfg):
    """Candidate ``i``'s rank key in GAMMA's order: violation, then fitness1, then fitness2."""
    return (table["violation"][i], table[cfg.fitness1][i], table[cfg.fitness2][i])
