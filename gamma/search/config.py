"""Settings of one layer search: :class:`GAConfig` (the search flags of the command line)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from gamma import constraints as cst
from gamma.hardware import Hardware
from gamma.search.params import GAParams
from gamma.search.space import SearchSpace
from gamma.search.trust import TRUST_LEVELS
from gamma.workload import Layer


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
        ``"gamma"`` (the genetic algorithm), ``"random"`` (random search),
        ``"exhaustive"`` (branch and bound, :mod:`gamma.search.exhaustive`), or another
        optimizer on the same map space and budget (:mod:`gamma.search.blackbox`:
        nevergrad's ``pso``, ``portfolio``, ``oneplusone``, ``cma``, ``de``, ``tbpsa``,
        ``ngopt``, and ``pure_ga``).
    slevel_min, slevel_max, fixed_cluster, par_rs, use_factor, constraint
        The map space, see :class:`~gamma.search.space.SearchSpace`.
    trust : {"exact", "undercount", "any"}
        Which cost-model results count (:mod:`gamma.search.trust`): ``"exact"``
        (default) only exact analyses whose runtime the busiest PE can reach;
        ``"undercount"`` also runtimes below the busiest PE's work
        (``Costs.undercount``), as GAMMA reads MAESTRO (``--allow_undercount``);
        ``"any"`` every valid analysis, inexact MAC counts included
        (``--allow_inexact``).
    params : GAParams
        The search's rates, shares and pool sizes (:mod:`gamma.search.params`).
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
    trust: str = "exact"
    params: GAParams = GAParams()
    pe_limit: int = 0
    area_budget: float = 0.0
    time_limit: float = 0.0

    def __post_init__(self):
        if self.trust not in TRUST_LEVELS:
            raise ValueError(f"trust must be one of {', '.join(TRUST_LEVELS)}, got {self.trust!r}")

    @property
    def codesign(self) -> bool:
        return self.pe_limit > 0

    @property
    def area_budget_um2(self) -> float:
        """The area budget in µm² (``inf`` when there is none)."""
        return self.area_budget * 1e6 if self.area_budget and self.area_budget > 0 else math.inf

    def space(self, layer: Layer, hw: Hardware) -> SearchSpace:
        """The layer's map space under these settings."""
        return SearchSpace(layer=layer, num_pes=self.pe_limit if self.codesign else hw.num_pes,
                           codesign=self.codesign, slevel_min=self.slevel_min,
                           slevel_max=self.slevel_max, constraint=self.constraint,
                           fixed_cluster=self.fixed_cluster, par_rs=self.par_rs,
                           use_factor=self.use_factor, l1_size=hw.l1_limit,
                           exact_only=self.trust != "any")
