"""What a search may count as a result, and the search strategy that follows from it.

``GAConfig.trust`` is one of :data:`TRUST_LEVELS`, strictest first:

``"exact"`` (default)
    Only exact analyses whose runtime the busiest PE can reach: every result
    is physically possible.
``"undercount"`` (``--allow_undercount``)
    Also runtimes below the busiest PE's work, as GAMMA reads MAESTRO.
``"any"`` (``--allow_inexact``)
    Every valid analysis, inexact MAC counts included.

The trust level decides what the cost model's results are worth
(:func:`gamma.search.scoring.violation`) and which strategy the search
follows.  Under ``"exact"`` it is :class:`HonestStrategy`: draws are ranked by
the honest :func:`~gamma.search.estimates.estimate`.  When undercounts count,
the best-scoring mappings are those MAESTRO prices below their honest cost,
which a different strategy seeks (:class:`gamma.search.undercount.PricedStrategy`:
MAESTRO's own pricing as estimate, cheap-edge tile moves).  That module is
imported only then: the default search never runs it.
"""
from __future__ import annotations

import numpy as np

from gamma.mapping import Population
from gamma.search.estimates import estimate
from gamma.search.params import GAParams

#: What a search may count as a result, strictest first (``GAConfig.trust``).
TRUST_LEVELS = ("exact", "undercount", "any")


class HonestStrategy:
    """The default strategy (``trust="exact"``): honest estimates, no pricing tricks.

    A strategy supplies the parts of the search that depend on the trust
    level: how many draws compete for a slot and how they are ranked, how the
    first generation's candidates are prepared and ranked, and the extra
    moves of variation and local search.
    """

    #: Share of local-search moves that are strategy-specific (none here).
    edge_share = 0.0

    def __init__(self, params: GAParams):
        self.params = params

    @property
    def draws(self) -> int:
        """Draws bred per slot of a generation when screening."""
        return self.params.screen

    def screen_key(self, pop: Population, space) -> np.ndarray:
        """(P,) estimated latency of draws, lower is better."""
        return estimate(pop, space)[0]

    def prepare_seeds(self, candidates: Population, space, rng) -> Population:
        """The first generation's structured candidates, before ranking."""
        return candidates

    def seed_ranking(self, candidates: Population, space, cycles: np.ndarray) -> tuple[np.ndarray, float]:
        """Ranking key of the candidates (given their honest estimate ``cycles``)
        and the share of seeds drawn regardless of it."""
        return cycles, self.params.seed_unranked

    def extra_variation(self, kids: Population, space, rng) -> Population:
        """A strategy's own variation step, after the mutations (none here)."""
        return kids

    def edge_moves(self, pop: Population, space, rng) -> Population:
        """Local-search moves of share :attr:`edge_share` (none here)."""
        return pop


def strategy_for(trust: str, params: GAParams) -> HonestStrategy:
    """The search strategy of a trust level (:data:`TRUST_LEVELS`)."""
    if trust not in TRUST_LEVELS:
        raise ValueError(f"trust must be one of {', '.join(TRUST_LEVELS)}, got {trust!r}")
    if trust == "exact":
        return HonestStrategy(params)
    from gamma.search.undercount import PricedStrategy
    return PricedStrategy(params)
