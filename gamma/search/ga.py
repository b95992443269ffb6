"""The GAMMA genetic algorithm for one layer, on whole-population arrays.

:class:`LayerSearch` runs the generation loop: each generation is bred with
the operators of :mod:`gamma.search.variation` (first generation:
:mod:`gamma.search.seeding`; trust-dependent parts: :mod:`gamma.search.trust`), scored with one cost-model
call (:mod:`gamma.search.scoring`), ranked (:mod:`gamma.search.selection`) and
tracked (:mod:`gamma.search.results`); its state can be saved and resumed.
The settings are :class:`~gamma.search.config.GAConfig`.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from gamma.costmodel.coldstart import announce_compilation
from gamma.hardware import Hardware
from gamma.mapping import Population
from gamma.objectives import OBJECTIVES
from gamma.search import kernels
from gamma.search.config import GAConfig
from gamma.search.estimates import l1_need
from gamma.search.results import (
    GenerationLoop,
    LayerResult,
    NoFeasibleMapping,
    Tracker,
    copy_table,
    pop_from,
    pop_state,
    rng_from,
)
from gamma.search.rowset import RowSet, row_hash
from gamma.search.scoring import concat_rows, score, take_rows, violation
from gamma.search.seeding import refit_parallel, seeded_population
from gamma.search.selection import lex_key, pareto_front, rank_order, ranking_columns, tournament
from gamma.search.space import random_population, repair
from gamma.search.trust import strategy_for
from gamma.search.variation import mutate_par, mutate_pe, mutate_tile, neighbour, vary
from gamma.workload import Layer

__all__ = ["GAConfig", "LayerResult", "LayerSearch", "NoFeasibleMapping", "OBJECTIVES", "Tracker",
           "pareto_front", "rank_order", "score", "search_layer", "tournament", "violation"]


# ---------------------------------------------------------------------------
# The generation loop
# ---------------------------------------------------------------------------

class LayerSearch(GenerationLoop):
    """One layer's search as a resumable object: :meth:`step` runs a generation.

    ::

        pop ← seeded initial population (num_pop);  score(pop)           # step 1
        each further step (epochs - 1 of them):
            parents  ← binary tournament on the ranked population
            children ← repair(age(grow(mutate(reorder(crossover(parents))))))
            a share of the children, growing over the run, are instead
                one-gene neighbours of the best mappings       # local search
            each child is the best of `screen` draws alike (the strategy's
                count): one whose innermost tile fits L1, of least estimated
                latency (screening, see _screen_key)
            children that repeat an already scored mapping are mutated again
            score(children)                                    # one cost-model call
            pop ← best num_pop of pop ∪ children               # elitist; lexicographic or NSGA-II
                  (lexicographic: at most niche·num_pop of one structure — levels, parallel
                   dims, cluster sizes — before the others' next best)
            (after `stall` generations without improvement, half the next
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

    def __init__(self, layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                 evaluate=None, on_generation=None, seeds: Population | None = None):
        self.layer, self.hw, self.cfg, self.rng = layer, hw, cfg, rng
        # a cold numba cache compiles the search's kernels first: say so before that pause
        announce_compilation(job=(layer, hw, cfg))
        self.seeds = seeds
        self.evaluate = evaluate
        self.space = cfg.space(layer, hw)
        self.params = cfg.params
        self.strategy = strategy_for(cfg.trust, cfg.params)
        self.tracker = Tracker(layer, cfg, on_generation)
        self.generation = 0          # generations run so far
        self.stall = 0               # generations since the best last improved
        self.pop: Population | None = None
        self.table: dict | None = None
        self._seen = RowSet()        # packed rows of every mapping scored

    # -- public API (step, run: GenerationLoop) --------------------------------
    def _generation(self) -> None:
        if self.cfg.method == "random":
            pop = random_population(self.space, self.cfg.num_pop, self.rng)
            self.tracker.update(pop, self._score(pop), self.generation)
        elif self.generation == 0:
            self._initial()
        else:
            self._evolve()

    def state(self) -> dict:
        """Everything needed to resume, as plain picklable data (arrays, dicts, lists).

        :meth:`from_state` with the same layer, hardware and settings continues
        exactly where this search stands: the result equals an uninterrupted run's.
        """
        return {
            "version": 1, "layer": repr(self.layer), "config": repr(self._fingerprint(self.cfg)),
            "generation": self.generation, "stall": self.stall,
            "population": pop_state(self.pop), "scores": copy_table(self.table),
            "seen": self.seen, "rng": self.rng.bit_generator.state,
            "tracker": self.tracker.state(),
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
        search = cls(layer, hw, cfg, rng_from(state["rng"]), evaluate=evaluate,
                     on_generation=on_generation)
        search.generation, search.stall = state["generation"], state["stall"]
        search.pop = pop_from(state["population"])
        if state["scores"] is not None:         # None before the first generation, or random search
            search.table = ranking_columns(copy_table(state["scores"]), cfg)
        search.seen = state["seen"].copy()
        search.tracker.restore(state["tracker"])
        return search

    # -- generations -------------------------------------------------------
    def _score(self, pop: Population) -> dict:
        return score(pop, self.layer, self.hw, self.cfg, self.evaluate)

    def _seeded(self, n: int, pool: int | None = None) -> Population:
        hw, budget = self.hw, self.cfg.area_budget_um2
        area_fits = None
        if math.isfinite(budget):
            def area_fits(pes, l1, l2):
                return hw.area.area_um2(pes, l1, l2, noc_bw=hw.noc_bw,
                                        simd_lanes=hw.simd_lanes) <= budget
        return seeded_population(self.space, n, self.rng, self.strategy, l1_size=hw.l1_limit,
                                 l2_size=hw.l2_limit, pool=pool, area_fits=area_fits,
                                 default_pes=hw.num_pes)

    def _initial(self) -> None:
        n = self.cfg.num_pop
        if self.seeds is not None and len(self.seeds):
            warm = self.seeds.take(slice(0, n))
            if not self.cfg.codesign:
                warm.pes[:] = 0
            warm = repair(refit_parallel(warm, self.space), self.space, self.rng)
            rest = self._seeded(n - len(warm)) if len(warm) < n else warm.take(slice(0, 0))
            self.pop = Population.concatenate([warm, rest])
        else:
            self.pop = self._seeded(n)
        self.seen = self.pop.packed()
        table = self._score(self.pop)
        self.tracker.update(self.pop, table, 0)
        self.table = ranking_columns(table, self.cfg)

    def _evolve(self) -> None:
        cfg, space, rng = self.cfg, self.space, self.rng
        restart = self.stall >= self.params.stall and not cfg.pareto
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
        children = _fresh(children, space, rng, self._seen, self.params)
        child_table = self._score(children)
        before = lex_key(self.table, 0, cfg)
        self.tracker.update(children, child_table, self.generation)
        pool = Population.concatenate([self.pop, children])
        pool_table = concat_rows(self.table, ranking_columns(child_table, cfg))
        if cfg.pareto:
            keep = rank_order(pool_table, cfg, cfg.num_pop)
        else:
            keep = _diverse(rank_order(pool_table, cfg, len(pool)), pool, cfg.num_pop,
                            max(int(cfg.num_pop * self.params.niche), 1))
        self.pop, self.table = pool.take(keep), take_rows(pool_table, keep)
        self.stall = 0 if lex_key(self.table, 0, cfg) < before else self.stall + 1

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
            parts.append(vary(parents, space, rng, self.strategy))
            where.append(np.flatnonzero(varied))
        if fresh.any():
            parts.append(self._seeded(int(fresh.sum()), pool=self.params.restart_pool))
            where.append(np.flatnonzero(fresh))
        if local.any():
            rank = (slots[local] - slots[local].min()) % max(len(self.pop) // 4, 1)
            parts.append(neighbour(self.pop.take(rank), space, rng, self.strategy))
            where.append(np.flatnonzero(local))
        return Population.concatenate(parts).take(np.argsort(np.concatenate(where)))

    def _l1_fits(self, pop: Population) -> np.ndarray:
        """(P,) bool: the L1 need (:func:`~gamma.search.estimates.l1_need`) fits the
        hardware."""
        limit = self.hw.l1_limit
        if not math.isfinite(limit):
            return np.ones(len(pop), dtype=bool)
        return l1_need(pop, self.space) <= limit

    def _screens(self) -> bool:
        """Whether draws are ranked by estimated latency: when latency is the first
        objective, not in Pareto or co-design searches (where a lower latency may
        cost area)."""
        cfg = self.cfg
        return cfg.fitness1 == "latency" and not cfg.pareto and not cfg.codesign

    def _draws(self) -> int:
        """Draws bred per slot: the strategy's count when screening, else ``params.screen``
        (the first draw whose innermost tile fits L1 is scored)."""
        return self.strategy.draws if self._screens() and self.params.screen > 1 else self.params.screen

    def _screen_key(self, pop: Population) -> np.ndarray:
        """(P,) the strategy's estimated latency of the draws that compete for a
        slot (:meth:`~gamma.search.trust.HonestStrategy.screen_key`), or zeros
        where no screening applies (:meth:`_screens`)."""
        if not self._screens() or self._draws() < 2:
            return np.zeros(len(pop))
        return self.strategy.screen_key(pop, self.space)

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
        first, last = self.params.local_share
        return first + (last - first) * min(max(3 * progress - 2, 0.0), 1.0)

    @property
    def seen(self) -> np.ndarray:
        """Packed rows (:meth:`Population.packed`) of every mapping scored, unique."""
        return self._seen.rows

    @seen.setter
    def seen(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self._seen = RowSet(rows if rows.ndim == 2 else None)

    @staticmethod
    def _fingerprint(cfg: GAConfig) -> GAConfig:
        return replace(cfg, epochs=0)


def search_layer(layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                 evaluate=None, on_generation=None) -> LayerResult:
    """Search one layer's mapping: ``LayerSearch(...).run()`` (see :class:`LayerSearch`)."""
    return LayerSearch(layer, hw, cfg, rng, evaluate=evaluate, on_generation=on_generation).run()


def _fresh(children: Population, space, rng, seen: RowSet, params) -> Population:
    """Mutate again the children that repeat a scored (or sibling) mapping.

    ``seen`` holds the packed rows (:meth:`Population.packed`) of every
    mapping scored so far; the children's rows are added to it.  Up to
    ``params.fresh_tries`` rounds, each mutating the still-repeating children
    further (one batch of independent variants was measured: faster,
    but worse under ``trust="undercount"``, where drifting further pays).
    """
    for _ in range(params.fresh_tries):
        dup = seen.duplicates(children.packed())
        if not dup.any():
            break
        again = mutate_tile(children.take(dup), space, rng, rate=1.0, loci=2)
        again = mutate_par(again, space, rng, rate=params.fresh_par, refit_rate=params.par_refit)
        if space.codesign:
            again = mutate_pe(again, space, rng, params, rate=params.fresh_pe)
        children.put(dup, repair(again, space, rng))
    seen.add(children.packed())
    return children


def _diverse(order: np.ndarray, pool: Population, k: int, cap: int) -> np.ndarray:
    """The first ``k`` of ``order`` (pool indices, best first), taking at most ``cap``
    mappings of each structure (levels, parallel dims and cluster sizes) before
    any further one of it: the population keeps several basins to search around."""
    act = pool.active()
    structure = np.concatenate([pool.levels[:, None], np.where(act, pool.par, -2),
                                np.where(act, pool.par2, -2), np.where(act, pool.cluster, -2),
                                pool.pes[:, None]], axis=1)
    rows = np.ascontiguousarray(structure[order], dtype=np.int64)
    hashes = row_hash(rows)
    # rank of each mapping among those of its structure, best first
    rank = kernels.rank_in_group(rows, np.argsort(hashes, kind="stable"), hashes)
    first = np.flatnonzero(rank < cap)
    rest = np.flatnonzero(rank >= cap)
    return order[np.concatenate([first, rest])[:k]]
