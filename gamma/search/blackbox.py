"""Other optimizers on GAMMA's map space: nevergrad's, and a plain genetic algorithm.

GAMMA (ICCAD 2020) compares its genetic algorithm with general-purpose
black-box optimizers at equal sample budgets.  This module runs them on the
same problem as :class:`~gamma.search.ga.LayerSearch`: the same map space
(:class:`~gamma.search.space.SearchSpace`, constraints included), the same
scoring (:func:`~gamma.search.scoring.score`: one cost-model call per
generation, the same trust policy and violations), the same
:class:`~gamma.search.results.Tracker` and the same
:class:`~gamma.search.results.LayerResult`, and exactly ``num_pop * epochs``
cost-model samples per layer.

Methods (:data:`METHODS`): ``pso``, ``portfolio``, ``oneplusone``, ``cma``,
``de``, ``tbpsa`` and ``ngopt`` are nevergrad's ``PSO``, ``Portfolio``,
``OnePlusOne``, ``CMA``, ``DE``, ``TBPSA`` and ``NGOpt`` (nevergrad is an
optional dependency: ``pip install -e .[nevergrad]``); ``pure_ga`` is a plain
genetic algorithm (binary tournament, uniform crossover, uniform gene
mutation, elitist survival), without GAMMA's operators, screening or seeding.

Encoding (:class:`Encoding`)
----------------------------
A mapping is a vector ``u`` in ``[0, 1]^d`` (nevergrad's bounded
``ng.p.Array``), decoded gene by gene into the map space, so every vector is
a mapping of it:

* the number of levels, ``slevel_min + floor(u·n)`` (``n`` choices);
* per level: the parallel dimension (one of the allowed ones), the cluster
  size (``1 + floor(u·PEs)``), the loop order (six random keys, sorted), and
  one tile per dimension, ``floor(parent tile ** u)``, log-uniform (level 0:
  the largest tile; with ``--use_factor``, a divisor of the parent tile, by
  index): the tiles that fit L1 are small ones, and a uniform scale would
  leave almost every vector infeasible (see :func:`_tile`);
* in co-design, the PE count ``1 + floor(u·pe_limit)``.

The decoded population is then repaired (:func:`~gamma.search.space.repair`)
as the GA's children are: cluster sizes fitted to the PEs, the mapping
constraint applied, the co-design PE count made a multiple of the clusters.

Loss
----
nevergrad minimises one number per candidate (:func:`loss`).  It keeps the
GA's order, infeasible after feasible:

* infeasible (violation ``v > 0``): ``1e4 + log1p(v)`` (``v = inf``, a mapping
  the model rejects: ``1e4 + 100``), least violation first;
* feasible, lexicographic mode: ``log fitness1 + 1e-9·log fitness2`` (the
  second objective only breaks near-ties of the first);
* feasible, ``--pareto``: ``log fitness1 + log fitness2`` (their product),
  one scalarisation; the reported front is still the Pareto front of every
  feasible candidate scored, as for the GA.

The result's best mapping is chosen by the Tracker in the exact GA order,
not by this loss.

Checkpoints: every search here has ``step``/``run``/``state``/``from_state``
as :class:`~gamma.search.ga.LayerSearch`; a nevergrad optimizer is saved
pickled in the state, so a resumed layer continues where it stood.
"""
from __future__ import annotations

import contextlib
import pickle
import warnings

import numpy as np

from gamma.errors import GammaInputError
from gamma.hardware import Hardware
from gamma.mapping import NO_DIM, NUM_DIMS, Population, divisor_table
from gamma.search.config import GAConfig
from gamma.search.results import GenerationLoop, LayerResult, Tracker, copy_table, rng_from
from gamma.search.scoring import concat_rows, score, take_rows
from gamma.search.selection import rank_order, ranking_columns, tournament
from gamma.search.space import SearchSpace, repair
from gamma.workload import Layer

#: ``--method`` name -> nevergrad optimizer (its registry name).
NEVERGRAD = {"pso": "PSO", "portfolio": "Portfolio", "oneplusone": "OnePlusOne", "cma": "CMA",
             "de": "DE", "tbpsa": "TBPSA", "ngopt": "NGOpt"}
#: The methods this module runs.
METHODS = (*NEVERGRAD, "pure_ga")

#: Loss of an infeasible candidate: above every feasible loss (the log of any float64 is < 710).
INFEASIBLE = 1e4
#: Weight of ``log fitness2`` in the lexicographic loss.
TIE = 1e-9

# Genes of one level in the vector: parallel dim, cluster size, 6 order keys, 6 tiles.
_PAR, _CLUSTER, _ORDER, _TILE = 0, 1, 2, 2 + NUM_DIMS
_LEVEL_GENES = 2 + 2 * NUM_DIMS


class Encoding:
    """The map space of one layer as the unit cube ``[0, 1]^dim`` (see the module doc).

    Parameters
    ----------
    space : SearchSpace
    """

    def __init__(self, space: SearchSpace):
        self.space = space
        self.levels = space.slevel_max
        self.dim = 1 + self.levels * _LEVEL_GENES + (1 if space.codesign else 0)

    def decode(self, u: np.ndarray, rng: np.random.Generator) -> Population:
        """Mappings of the vectors ``u`` (shape (P, dim), entries in [0, 1]), repaired.

        ``rng`` is only used by :func:`~gamma.search.space.repair` (constraints
        that draw a value)."""
        space, n = self.space, len(u)
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        genes = u[:, 1:1 + self.levels * _LEVEL_GENES].reshape(n, self.levels, _LEVEL_GENES)
        levels = space.slevel_min + _pick(u[:, 0], space.slevel_max - space.slevel_min + 1)
        par = space.par_choices[_pick(genes[:, :, _PAR], len(space.par_choices))]
        cluster = 1 + _pick(genes[:, :, _CLUSTER], space.num_pes)
        cluster[:, 0] = 0
        order = np.argsort(genes[:, :, _ORDER:_TILE], axis=2, kind="stable")
        tile = np.empty((n, self.levels, NUM_DIMS), dtype=np.int64)
        bound = np.broadcast_to(space.max_tile, (n, NUM_DIMS))
        for level in range(self.levels):
            tile[:, level] = _tile(genes[:, level, _TILE:], bound, space.use_factor)
            bound = tile[:, level]
        pes = (1 + _pick(u[:, -1], space.num_pes) if space.codesign
               else np.zeros(n, dtype=np.int64))
        pop = Population(par=par.astype(np.int64), par2=np.full((n, self.levels), NO_DIM, np.int64),
                         cluster=cluster, order=order.astype(np.int64), tile=tile,
                         levels=levels, pes=pes)
        return repair(pop, space, rng)


def _pick(u: np.ndarray, n) -> np.ndarray:
    """Index ``floor(u·n)`` in ``[0, n - 1]`` (``u = 1`` is the last)."""
    n = np.asarray(n, dtype=np.int64)
    return np.minimum((u * n).astype(np.int64), np.maximum(n - 1, 0))


def _tile(u: np.ndarray, bound: np.ndarray, use_factor: bool) -> np.ndarray:
    """Tiles ``floor(bound ** u)`` in ``[1, bound]`` (log-uniform in the gene), or the divisor
    of ``bound`` at index ``floor(u·count)``.

    Log scale, because the feasible tiles are the small ones: uniform tiles
    (GAMMA's random initialisation) overflow a 512-element L1 for over 99 % of
    random vectors on GAMMA's benchmark layers, log-uniform ones for about 60 %.
    """
    bound = np.maximum(np.asarray(bound, dtype=np.int64), 1)
    if not use_factor:
        return np.clip(np.floor(bound.astype(float) ** u).astype(np.int64), 1, bound)
    table, count = divisor_table(int(bound.max()))
    return table[bound, _pick(u, count[bound])]


def loss(table: dict, cfg: GAConfig) -> np.ndarray:
    """(P,) the scalar each candidate is told (see the module doc): feasible ones in
    ``log`` objectives, infeasible ones above ``INFEASIBLE`` by their violation."""
    f1 = np.log(np.maximum(np.asarray(table[cfg.fitness1], dtype=float), 1e-300))
    f2 = np.log(np.maximum(np.asarray(table[cfg.fitness2], dtype=float), 1e-300))
    feasible = f1 + (f2 if cfg.pareto else TIE * f2)
    v = np.asarray(table["violation"], dtype=float)
    infeasible = INFEASIBLE + np.where(np.isfinite(v), np.log1p(np.minimum(v, 1e30)), 100.0)
    return np.where(v == 0, feasible, infeasible)


def _nevergrad(method: str = "cma"):
    try:
        import nevergrad
    except ImportError:
        raise GammaInputError(f"--method {method}: nevergrad's optimizers need the nevergrad "
                              "package; install it with pip install -e .[nevergrad]  (or pip "
                              "install nevergrad)") from None
    return nevergrad


# ---------------------------------------------------------------------------
# The searches
# ---------------------------------------------------------------------------

class BlackBoxSearch(GenerationLoop):
    """One layer's search by another optimizer, with :class:`~gamma.search.ga.LayerSearch`'s
    interface: :meth:`step` scores one generation of ``num_pop`` candidates.

    Use :func:`make_search` (or a subclass directly): :class:`NevergradSearch`
    and :class:`PureGASearch` define :meth:`_generation`.
    """

    def __init__(self, layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                 evaluate=None, on_generation=None):
        if cfg.method not in METHODS:
            raise ValueError(f"{type(self).__name__} runs {', '.join(METHODS)}, not {cfg.method!r}")
        self.layer, self.hw, self.cfg, self.rng = layer, hw, cfg, rng
        self.evaluate = evaluate
        self.space = cfg.space(layer, hw)
        self.encoding = Encoding(self.space)
        self.tracker = Tracker(layer, cfg, on_generation)
        self.generation = 0

    def _score(self, u: np.ndarray) -> dict:
        """Decode and score the vectors ``u`` (one cost-model call), record them in the tracker."""
        pop = self.encoding.decode(u, self.rng)
        table = score(pop, self.layer, self.hw, self.cfg, self.evaluate)
        self.tracker.update(pop, table, self.generation)
        return table

    # -- checkpoints -------------------------------------------------------
    def state(self) -> dict:
        """Everything needed to resume, as picklable data; :meth:`from_state` with the
        same layer, hardware and settings continues exactly where this search stands."""
        return {"version": 1, "method": self.cfg.method, "layer": repr(self.layer),
                "config": repr(self.cfg), "generation": self.generation,
                "rng": self.rng.bit_generator.state, "own": self._own_state(),
                "tracker": self.tracker.state()}

    @classmethod
    def from_state(cls, state: dict, layer: Layer, hw: Hardware, cfg: GAConfig, *,
                   evaluate=None, on_generation=None) -> BlackBoxSearch:
        """The search saved by :meth:`state`; other settings or layer raise ``ValueError``
        (unlike the GA, ``epochs`` cannot be raised: the optimizers are sized to the budget)."""
        if state.get("version") != 1 or state.get("method") != cfg.method:
            raise ValueError(f"not a saved {cfg.method} search")
        if state["layer"] != repr(layer) or state["config"] != repr(cfg):
            raise ValueError("this search state was saved for another layer or other settings")
        search = make_search(layer, hw, cfg, rng_from(state["rng"]), evaluate=evaluate,
                             on_generation=on_generation)
        search.generation = state["generation"]
        search._restore(state["own"])
        search.tracker.restore(state["tracker"])
        return search

    def _own_state(self) -> dict:
        raise NotImplementedError

    def _restore(self, own: dict) -> None:
        raise NotImplementedError


class NevergradSearch(BlackBoxSearch):
    """A nevergrad optimizer (:data:`NEVERGRAD`) through ask and tell.

    Each generation asks ``num_pop`` candidates, scores them with one
    cost-model call and tells each its :func:`loss`.  The optimizer is built
    with ``budget = num_pop * epochs`` and ``num_workers = num_pop`` (a whole
    generation is asked before any is told); its random state is seeded from
    ``rng``, so a run is repeatable.
    """

    def __init__(self, layer, hw, cfg, rng, *, evaluate=None, on_generation=None):
        super().__init__(layer, hw, cfg, rng, evaluate=evaluate, on_generation=on_generation)
        ng = _nevergrad(cfg.method)
        param = ng.p.Array(shape=(self.encoding.dim,), lower=0.0, upper=1.0)
        param.random_state = np.random.RandomState(int(rng.integers(2**31 - 1)))
        optimizer = ng.optimizers.registry[NEVERGRAD[cfg.method]]
        with _quiet(ng):
            self.optimizer = optimizer(parametrization=param, budget=cfg.num_pop * cfg.epochs,
                                       num_workers=cfg.num_pop)

    def _generation(self) -> None:
        ng = _nevergrad(self.cfg.method)
        with _quiet(ng):
            asked = [self.optimizer.ask() for _ in range(self.cfg.num_pop)]
            table = self._score(np.stack([c.value for c in asked]))
            for candidate, value in zip(asked, loss(table, self.cfg), strict=True):
                self.optimizer.tell(candidate, float(value))

    def _own_state(self) -> dict:
        return {"optimizer": pickle.dumps(self.optimizer, protocol=pickle.HIGHEST_PROTOCOL)}

    def _restore(self, own: dict) -> None:
        self.optimizer = pickle.loads(own["optimizer"])


@contextlib.contextmanager
def _quiet(ng):
    """Silence nevergrad's advice (e.g. on its settings) and its CMA library's numerical
    notes for the enclosed calls: they concern the optimizer, not the user's input."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ng.errors.NevergradWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"cma(\.|$)")
        yield


class PureGASearch(BlackBoxSearch):
    """A plain genetic algorithm on the :class:`Encoding` vectors (``--method pure_ga``).

    ::

        X ← num_pop uniform vectors in [0, 1]^d;  score(X)          # no seeding
        each further generation:
            parents  ← binary tournaments on X ranked as the GA ranks (rank_order)
            children ← uniform crossover of two parents, then each gene redrawn
                       uniformly with probability MUTATION / d
            score(children)                                       # one cost-model call
            X ← best num_pop of X ∪ children                      # elitist, rank_order

    None of GAMMA's operators (tile crossover, reorder, growth, aging, local
    moves, screening, restarts) and no seeded first population.
    """

    #: Genes redrawn per child, on average.
    MUTATION = 2.0

    def __init__(self, layer, hw, cfg, rng, *, evaluate=None, on_generation=None):
        super().__init__(layer, hw, cfg, rng, evaluate=evaluate, on_generation=on_generation)
        self.vectors: np.ndarray | None = None
        self.table: dict | None = None

    def _generation(self) -> None:
        n, d, rng = self.cfg.num_pop, self.encoding.dim, self.rng
        if self.vectors is None:
            self.vectors = rng.random((n, d))
            self.table = ranking_columns(self._score(self.vectors), self.cfg)
            return
        ranked = rank_order(self.table, self.cfg, len(self.vectors))     # best first
        first = ranked[tournament(len(ranked), n, rng)]
        second = ranked[tournament(len(ranked), n, rng)]
        children = np.where(rng.random((n, d)) < 0.5, self.vectors[first], self.vectors[second])
        mutate = rng.random((n, d)) < self.MUTATION / d
        children = np.where(mutate, rng.random((n, d)), children)
        child_table = self._score(children)
        pool = np.concatenate([self.vectors, children])
        pool_table = concat_rows(self.table, ranking_columns(child_table, self.cfg))
        keep = rank_order(pool_table, self.cfg, n)
        self.vectors, self.table = pool[keep], take_rows(pool_table, keep)

    def _own_state(self) -> dict:
        return {"vectors": None if self.vectors is None else self.vectors.copy(),
                "table": copy_table(self.table)}

    def _restore(self, own: dict) -> None:
        self.vectors = None if own["vectors"] is None else np.array(own["vectors"])
        self.table = (None if own["table"] is None
                      else ranking_columns(copy_table(own["table"]), self.cfg))


def make_search(layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                evaluate=None, on_generation=None) -> BlackBoxSearch:
    """The search object of ``cfg.method`` (one of :data:`METHODS`)."""
    kind = PureGASearch if cfg.method == "pure_ga" else NevergradSearch
    return kind(layer, hw, cfg, rng, evaluate=evaluate, on_generation=on_generation)


def blackbox_search(layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                    evaluate=None, on_generation=None) -> LayerResult:
    """Search one layer with ``cfg.method`` (one of :data:`METHODS`): ``make_search(...).run()``."""
    return make_search(layer, hw, cfg, rng, evaluate=evaluate, on_generation=on_generation).run()
