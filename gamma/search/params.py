"""The genetic algorithm's tuning numbers, in one documented, frozen table.

Every rate, share and pool size the search uses lives in :class:`GAParams`;
the operators take their rates from it and have no defaults of their own.
Override any of them from Python with ``GAConfig(params=GAParams(tile=0.7))``
or ``dataclasses.replace(GAParams(), ...)``.

The values were chosen on ``benchmarks/bench_search.py`` (GAMMA's benchmark
layers, budgets 20 x 10 to 200 x 50, several seeds) and checked on layers and
hardware outside it; the reason for each is given beside it.  Where an
operator picks one of two variants of a move with even odds ("half the time"
in its docstring), that 0.5 is written where it is drawn.
"""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class GAParams:
    """Rates (probability per individual), shares (of a population) and pool sizes.

    Variation (:func:`gamma.search.variation.vary`, GAMMA's operator order)
    ----------------------------------------------------------------------
    crossover : 0.6
        A pair swaps one dimension's tiles at every level (GAMMA's rate).
    level_crossover : 0.2
        A pair also swaps one whole level: moves a good inner structure between basins.
    reorder : 0.5
        Two loops of a level swap (GAMMA's ``swap_order`` rate).
    tile : 0.5, tile_loci : 3
        Each of ``tile_loci`` attempts redraws one free tile (GAMMA: 3 loci, rate 0.5).
    par : 0.2
        New parallel dimension of a level, or two levels swap theirs.
    par_refit : 0.7
        A new parallel dimension's tile is refitted to the level's units (so the new
        parallelism is used at once), as in GAMMA's header mutation, most of the time.
    cluster : 0.2
        New cluster size of an inner level.
    pe : 0.5
        Co-design: new PE count (DiGamma's rate).
    grow : 0.2, age : 0.1
        Add / drop an innermost level (GAMMA's growth and aging); aging is rarer so
        that deeper hierarchies get explored.
    edge : 0.3
        Undercount strategy only: a cheap-edge tile move (``undercount.edge_tile``).
    edge_split : 0.3
        Share of those moves whose new parent tile splits the parent into a few steps
        (the others stay near the current tile).

    PE-count mutation (:func:`gamma.search.variation.mutate_pe`)
    -------------------------------------------------------------
    pe_upper_half, pe_step : 0.6, 0.25
        Shares of draws taking a cluster count in the upper half of the useful range
        (DiGamma's draw), or moving it by one or two; the rest (0.15) draw uniformly,
        so small chips stay reachable.

    Local search (:func:`gamma.search.variation.neighbour`)
    --------------------------------------------------------
    move_pe, move_edge, move_cluster, move_swap : 0.15, 0.2, 0.1, 0.1
        Shares of one-gene moves: PE count (co-design only), cheap edge (undercount
        strategy only), cluster size ±1, adjacent loops swapped; the rest move one
        tile to a neighbouring value.  Tile values matter one by one near an optimum.

    Seeding (:mod:`gamma.search.seeding`)
    --------------------------------------
    seed_pool : 4000
        Structured candidates drawn for the first generation; ranking them by estimate
        costs no cost-model call, and gains flatten out beyond a few thousand.
    restart_pool : 1000
        The same for a restart's fresh seeds (smaller: it runs mid-search).
    seed_unranked : 0.1
        Honest strategy: share of seeds drawn among fitting candidates whatever their
        estimate (the estimate's ranking is only close).
    random_share : 1/3
        Share of the first generation that is random (GAMMA's initialisation), for diversity.
    unit_parallel : 0.2
        Structured candidates whose top level's parallel tile is 1 (one element per unit).
    small_cluster : 0.25
        Structured candidates' inner levels with a small cluster (2 to 8).
    full_tile, full_tile_innermost : 0.35, 0.1
        Structured candidates' tiles equal to the parent tile (outer levels, innermost level).
    seed_edge_moves : 8
        Undercount strategy: each candidate gets 0 to this many cheap-edge moves before
        ranking (the cheapest pricings combine several edges).

    The generation loop (:class:`gamma.search.ga.LayerSearch`)
    ----------------------------------------------------------
    stall : 4
        Generations without improvement before half a generation is fresh seeds.
    niche : 0.2
        Most of the population one structure (levels, parallel dims, clusters) may fill.
    local_share : (0.25, 0.5)
        Share of children that are neighbours of the best: at first, and over the last third.
    screen : 4
        Draws bred per slot, of which the one of least estimated latency is scored.
    screen_priced : 16
        The same under the undercount strategy, whose estimate is close enough to pay
        for more draws.
    fresh_tries : 4
        Attempts to mutate a child that repeats a scored mapping into a new one.
    fresh_par, fresh_pe : 0.3, 0.5
        Rates of those re-mutations (besides one redrawn tile per attempt, 2 loci).
    """

    crossover: float = 0.6
    level_crossover: float = 0.2
    reorder: float = 0.5
    tile: float = 0.5
    tile_loci: int = 3
    par: float = 0.2
    par_refit: float = 0.7
    cluster: float = 0.2
    pe: float = 0.5
    grow: float = 0.2
    age: float = 0.1
    edge: float = 0.3
    edge_split: float = 0.3

    pe_upper_half: float = 0.6
    pe_step: float = 0.25

    move_pe: float = 0.15
    move_edge: float = 0.2
    move_cluster: float = 0.1
    move_swap: float = 0.1

    seed_pool: int = 4000
    restart_pool: int = 1000
    seed_unranked: float = 0.1
    random_share: float = 1 / 3
    unit_parallel: float = 0.2
    small_cluster: float = 0.25
    full_tile: float = 0.35
    full_tile_innermost: float = 0.1
    seed_edge_moves: int = 8

    stall: int = 4
    niche: float = 0.2
    local_share: tuple = (0.25, 0.5)
    screen: int = 4
    screen_priced: int = 16
    fresh_tries: int = 4
    fresh_par: float = 0.3
    fresh_pe: float = 0.5

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if any(v < 0 for v in values):
                raise ValueError(f"GAParams.{f.name} must be >= 0, got {value!r}")
            if isinstance(f.default, float) and any(v > 1 for v in values):
                raise ValueError(f"GAParams.{f.name} is a probability or share in [0, 1], got {value!r}")
        moves = self.move_pe + self.move_edge + self.move_cluster + self.move_swap
        if moves > 1:
            raise ValueError(f"GAParams: the neighbour move shares add up to {moves} > 1")
        if self.screen < 1 or self.screen_priced < 1 or self.tile_loci < 1:
            raise ValueError("GAParams: screen, screen_priced and tile_loci must be >= 1")
