"""One layer's map space (:class:`SearchSpace`), random mappings in it, and :func:`repair`.

A mapping is a row of a :class:`~gamma.mapping.Population` (arrays shaped
``(population, level, ...)``).  The operators of :mod:`gamma.search.variation`
may leave a mapping ill-formed (inner tiles above outer ones, too many PEs,
a constraint broken); :func:`repair` makes it well-formed again, so every
mapping the search scores is one the hardware can run.

Co-design (``SearchSpace.codesign``): ``num_pes`` is the PE limit and every
individual carries its own PE count (``Population.pes``), kept by
:func:`repair` a multiple of its cluster sizes' product (#clusters x cluster
size, DiGamma's encoding).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gamma import constraints as cst
from gamma.constraints import MappingConstraint
from gamma.mapping import (
    DIM_INDEX,
    NO_DIM,
    NUM_DIMS,
    Population,
    R,
    S,
    dim_sizes,
    parallel_choices,
    random_divisor,
)
from gamma.search import kernels
from gamma.search.estimates import footprint
from gamma.workload import Layer

#: Cluster sizes that leave at most this share of the PEs idle count as PE-filling.
FILLING = 0.9


@dataclass(frozen=True)
class SearchSpace:
    """Everything about one layer's map space that the operators need.

    Parameters
    ----------
    layer : Layer
    num_pes : int
        PEs of the hardware; in co-design, the PE limit.
    slevel_min, slevel_max : int
        Fewest and most levels (1 to 3).
    constraint : MappingConstraint
    fixed_cluster : int
        If > 0, every inner level's cluster size (``--fixedCluster``).
    par_rs : bool
        R and S may be parallel dimensions (``--parRS``).
    use_factor : bool
        Tiles are divisors of their parent tile (``--use_factor``).
    l1_size : float
        L1 capacity per PE, elements.  If the constraint keeps the filter
        whole and even the smallest tiles with a whole filter overflow it
        (AlexNet's 11x11 layer on 512 elements), R and S become parallel
        choices, as with ``--parRS``, so a level can split the filter.
    exact_only : bool
        Only exact analyses count.
    codesign : bool
        Each individual has its own PE count in ``[1, num_pes]`` (``Population.pes``).
    """

    layer: Layer
    num_pes: int
    slevel_min: int = 2
    slevel_max: int = 2
    constraint: MappingConstraint = cst.MAESTRO_CSTR
    fixed_cluster: int = 0
    par_rs: bool = False
    use_factor: bool = False
    l1_size: float = float("inf")
    exact_only: bool = True
    codesign: bool = False

    @cached_property
    def sizes(self) -> np.ndarray:
        """Dimension sizes ``K, C, Y', X', R, S`` (:func:`gamma.mapping.dim_sizes`)."""
        return dim_sizes(self.layer)

    @cached_property
    def max_tile(self) -> np.ndarray:
        """Largest tile of each dimension at the outermost level: the dimension
        sizes (:func:`gamma.mapping.dim_sizes`; Y'/X' in output rows/columns)."""
        return self.sizes.copy()

    @cached_property
    def par_choices(self) -> np.ndarray:
        return parallel_choices(self.layer, self.par_rs or self.filter_must_split)

    @cached_property
    def par_allowed(self) -> np.ndarray:
        """(6,) bool: which dimensions are among :attr:`par_choices`."""
        return np.isin(np.arange(NUM_DIMS), self.par_choices)

    @cached_property
    def filter_must_split(self) -> bool:
        """The whole filter cannot fit L1 however small the other tiles (see ``l1_size``)."""
        fixed = {d for d, _ in self.constraint.every_level.tiles}
        if not {"R", "S"} & fixed:
            return False
        smallest = np.ones((1, NUM_DIMS))
        smallest[0, R], smallest[0, S] = self.layer.R, self.layer.S
        return bool(2 * footprint(smallest, self.layer)[0] > self.l1_size)

    @cached_property
    def split_tiles(self) -> np.ndarray:
        """(L, 6) bool: fixed tiles a level may still change while mapping that dim spatially."""
        out = np.zeros((self.slevel_max, NUM_DIMS), dtype=bool)
        for level in range(self.slevel_max):
            for dim in self.constraint.level(level).temporal_only:
                out[level, DIM_INDEX[dim]] = True
        return out & (self.sizes > 1)

    @cached_property
    def free_tiles(self) -> np.ndarray:
        """(L, 6) bool: tiles a mutation may change (size > 1, not fixed by a constraint)."""
        free = np.broadcast_to(self.sizes > 1, (self.slevel_max, NUM_DIMS)).copy()
        for level in range(self.slevel_max):
            for dim, _ in self.constraint.level(level).tiles:
                free[level, DIM_INDEX[dim]] = False
        return free

    @cached_property
    def fixed_tiles(self) -> np.ndarray:
        """(L, 6) bool: tiles a constraint fixes (not free, size > 1)."""
        return ~self.free_tiles & (self.sizes > 1)

    @cached_property
    def free_order_slots(self) -> np.ndarray:
        """(L,) number of leading loop positions a constraint leaves free."""
        return np.array([NUM_DIMS - len(self.constraint.level(level).order or ())
                         for level in range(self.slevel_max)])

    @cached_property
    def good_clusters(self) -> np.ndarray:
        """Cluster sizes that leave at most 10 % of the PEs idle (``floor(P/c)·c >= FILLING·P``)."""
        c = np.arange(1, self.num_pes + 1)
        return c[(self.num_pes // c) * c >= FILLING * self.num_pes]


def coin(rng, n, rate) -> np.ndarray:
    return rng.random(n) < rate


def random_level(rng, levels, low=0) -> np.ndarray:
    """A random used level >= low per individual (``low`` if it has no such level)."""
    span = np.maximum(levels - low, 1)
    return low + (rng.random(len(levels)) * span).astype(np.int64)


def parent_tiles(pop: Population, space: SearchSpace, rows, level) -> np.ndarray:
    """(len(rows), 6) tiles of the parent of ``level`` (the layer sizes above level 0)."""
    parent = pop.tile[rows, np.maximum(level - 1, 0)]
    return np.where((level == 0)[:, None], space.sizes[None, :], parent)


def draw_cluster(space: SearchSpace, rng, budget: np.ndarray) -> np.ndarray:
    """Cluster sizes <= budget: half from the PE-filling sizes, half uniform."""
    budget = np.maximum(np.asarray(budget, dtype=np.int64), 1)
    uniform = 1 + (rng.random(budget.shape) * budget).astype(np.int64)
    good = space.good_clusters
    pick = good[(rng.random(budget.shape) * len(good)).astype(np.int64)]
    value = np.where(rng.random(budget.shape) < 0.5, pick, uniform)
    return np.minimum(value, budget)


def new_tile(old, bound, space: SearchSpace, rng, units=None) -> np.ndarray:
    """New tile sizes within ``[1, bound]``.

    A mix of GAMMA's uniform draw, a divisor of the bound, a local step
    (doubling, halving, ±1) and, for parallel loops, a size that spreads the
    bound evenly over ``units`` (``ceil(bound / (units·k))``).
    """
    old = np.asarray(old, dtype=np.int64)
    bound = np.maximum(np.asarray(bound, dtype=np.int64), 1)
    divisor = random_divisor(bound, rng)
    if space.use_factor:
        return divisor
    n = old.shape
    if len(n) == 1:
        n = n[0]                    # an int size: the draws are the same, without a shape product
    uniform = rng.random(n)
    step = rng.integers(0, 4, n)
    k = rng.integers(1, 5, n)
    kind = rng.integers(0, 4, n)
    units = (np.ones(n, dtype=np.int64) if units is None
             else np.maximum(np.broadcast_to(np.asarray(units, dtype=np.int64), n), 1))
    flat = [np.ascontiguousarray(a).ravel() for a in (old, bound, units, divisor, uniform, step, k, kind)]
    return kernels.tile_values(*flat).reshape(old.shape)


def cluster_product(pop: Population) -> np.ndarray:
    """(P,) product of the used inner levels' cluster sizes (PEs per top-level cluster)."""
    clusters = np.where(pop.active(), np.maximum(pop.cluster, 1), 1)
    clusters[:, 0] = 1
    return np.prod(clusters, axis=1)


def random_population(space: SearchSpace, n: int, rng: np.random.Generator) -> Population:
    """``n`` random mappings, as GAMMA's ``reinit_pop`` (then repaired).

    Levels are drawn in ``[slevel_min, slevel_max]``; parallel dimensions,
    loop orders and tiles uniformly (tiles of a level within its parent's).
    """
    levels = space.slevel_max
    shape = (n, levels)
    par = rng.choice(space.par_choices, size=shape)
    order = np.argsort(rng.random((n, levels, NUM_DIMS)), axis=2)
    tile = np.empty((n, levels, NUM_DIMS), dtype=np.int64)
    bound = np.broadcast_to(space.max_tile, (n, NUM_DIMS))
    for level in range(levels):
        if space.use_factor:
            tile[:, level] = random_divisor(bound, rng)
        else:
            tile[:, level] = 1 + (rng.random((n, NUM_DIMS)) * bound).astype(np.int64)
        bound = tile[:, level]
    cluster = draw_cluster(space, rng, np.full(shape, space.num_pes))
    pes = (1 + (rng.random(n) * space.num_pes).astype(np.int64) if space.codesign
           else np.zeros(n, dtype=np.int64))
    pop = Population(par=par.astype(np.int64), par2=np.full(shape, NO_DIM, dtype=np.int64),
                     cluster=cluster, order=order.astype(np.int64), tile=tile,
                     levels=rng.integers(space.slevel_min, space.slevel_max + 1, n), pes=pes)
    return repair(pop, space, rng)


def repair(pop: Population, space: SearchSpace, rng) -> Population:
    """Make every individual a well-formed mapping that meets the constraints (in place).

    * levels within ``[slevel_min, slevel_max]``;
    * tiles within ``[1, parent tile]`` (level 0: the layer size);
    * parallel dims among the allowed ones, ``par2`` different from ``par``;
    * cluster sizes >= 1 (or ``--fixedCluster``), their product at most the PE count;
    * the constraint re-applied, then tiles clamped again;
    * co-design: PE counts a multiple of the cluster sizes' product, at most the PE limit
      (otherwise 0: the hardware's).
    """
    bad = ~space.par_allowed[pop.par]
    if bad.any():                   # (an empty draw would not advance rng either)
        pop.par[bad] = rng.choice(space.par_choices, int(bad.sum()))
    kernels.repair_structure(pop.levels, pop.par, pop.par2, pop.tile, pop.cluster,
                             space.slevel_min, space.slevel_max, space.max_tile, space.num_pes,
                             space.fixed_cluster)
    cst.apply(pop, space.constraint, space.layer, space.num_pes, rng=rng)
    if _raise_parents(pop, space):
        cst.apply(pop, space.constraint, space.layer, space.num_pes, rng=rng)
    _clamp_tiles(pop, space)
    if space.codesign:
        # #clusters x cluster size, within [cluster size, PE limit]
        kernels.fit_pe_counts(pop.pes, pop.cluster, pop.levels, space.num_pes)
    else:
        pop.pes[:] = 0
    return pop


def _raise_parents(pop: Population, space: SearchSpace) -> bool:
    """Lift outer tiles below a constraint-fixed inner tile (e.g. ``"Y": "R"`` under a Y' tile
    smaller than R), so that clamping keeps the fixed value; True if anything changed."""
    return kernels.raise_parents(pop.tile, pop.levels, space.fixed_tiles, space.max_tile)


def _clamp_tiles(pop: Population, space: SearchSpace) -> None:
    """Tiles within ``[1, parent tile]`` (level 0: ``max_tile``), in place."""
    kernels.clamp_tiles(pop.tile, space.max_tile)
