"""The mapping genome: a population of layer mappings as arrays.

A mapping of one layer has 1 to 3 *levels* (GAMMA's "slevels"), outermost
first.  Level 0 spreads the layer over the top-level clusters, level ``l >= 1``
spreads its parent's tile over the ``cluster[l]`` sub-units of one cluster;
the units of the innermost level are PEs.  Each level has

* a parallel dimension (``SpatialMap``) and an optional second one (``sp2``,
  Eyeriss-like 2-D levels, only set by constraints),
* a cluster size (level ``l >= 1``: sub-units per cluster, MAESTRO's
  ``Cluster(n)``; level 0: unused, 0),
* a loop order: a permutation of the six dimensions, outermost loop first,
* a tile size per dimension (``TemporalMap(t, t)`` / ``SpatialMap(t, t)``).

Dimensions are indexed by :data:`GENOME_DIMS` (``K, C, Y, X, R, S``).  ``Y``
and ``X`` tiles are *output-centric* (MAESTRO's ``Y'``/``X'``), at most the
output size ``Y - R + 1`` / ``X - S + 1`` as MAESTRO counts it, as in GAMMA.
Depthwise (DSCONV) layers have no ``K``: its tile is 1 and no directive is
written for it.  GEMM and FC layers are CONV-like :class:`~gamma.workload.Layer`
objects (``X = R = S = 1``).

A :class:`Population` is a struct of int64 arrays with the population axis
first; ``L`` (the array's level axis) is ``--slevel_max`` and the levels
``>= levels[i]`` of individual ``i`` are padding, ignored when decoding.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gamma.costmodel.directives import DIM_CODE, Directives
from gamma.workload import Layer

#: Genome dimension alphabet; index = the code stored in ``par``/``order``.
GENOME_DIMS = ("K", "C", "Y", "X", "R", "S")
DIM_INDEX = {name: i for i, name in enumerate(GENOME_DIMS)}
NUM_DIMS = len(GENOME_DIMS)
K, C, Y, X, R, S = range(NUM_DIMS)
#: MAESTRO dimension each genome dimension is written as (Y/X output-centric).
MAESTRO_DIMS = ("K", "C", "Y'", "X'", "R", "S")
_DIRECTIVE_CODE = np.array([DIM_CODE[name] for name in MAESTRO_DIMS], dtype=np.int8)
#: No second parallel dimension.
NO_DIM = -1
MAX_LEVELS = 3
#: The genes of a :class:`Population`, in field order.
_GENES = ("par", "par2", "cluster", "order", "tile", "levels", "pes")


@dataclass(frozen=True)
class Population:
    """``P`` mappings of one layer with room for ``L`` levels.

    Attributes
    ----------
    par : ndarray of shape (P, L), int64
        Parallel (spatially mapped) dimension of each level, a :data:`GENOME_DIMS` index.
    par2 : ndarray of shape (P, L), int64
        Second parallel dimension, or :data:`NO_DIM`.
    cluster : ndarray of shape (P, L), int64
        ``cluster[:, l]`` (``l >= 1``): sub-units per cluster at level ``l``;
        ``cluster[:, 0]`` is 0.
    order : ndarray of shape (P, L, 6), int64
        Loop order of each level: dimension indices, outermost loop first.
    tile : ndarray of shape (P, L, 6), int64
        Tile size of each dimension (indexed by dimension, not by loop
        position), in elements; Y and X in output rows/columns.
    levels : ndarray of shape (P,), int64
        Levels in use (1 to L).
    pes : ndarray of shape (P,), int64
        Hardware/mapping co-design (DiGamma): each individual's PE count, a
        multiple of its cluster sizes' product (#clusters x cluster size);
        0 (the default) means "the hardware's PE count".
    """

    par: np.ndarray
    par2: np.ndarray
    cluster: np.ndarray
    order: np.ndarray
    tile: np.ndarray
    levels: np.ndarray
    pes: np.ndarray = None

    def __post_init__(self):
        if self.pes is None:
            object.__setattr__(self, "pes", np.zeros(len(self.levels), dtype=np.int64))

    def __len__(self) -> int:
        return self.par.shape[0]

    @property
    def max_levels(self) -> int:
        return self.par.shape[1]

    def take(self, index) -> Population:
        """The individuals at ``index`` (int array, slice or mask), as copies."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        if isinstance(index, slice):
            return Population(self.par[index].copy(), self.par2[index].copy(),
                              self.cluster[index].copy(), self.order[index].copy(),
                              self.tile[index].copy(), self.levels[index].copy(),
                              self.pes[index].copy())
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        elif not index.size:
            index = index.astype(np.intp)      # [] is a float array
        # ndarray.take: a copy, like fancy indexing, at a third of its cost on these arrays
        return Population(self.par.take(index, axis=0), self.par2.take(index, axis=0),
                          self.cluster.take(index, axis=0), self.order.take(index, axis=0),
                          self.tile.take(index, axis=0), self.levels.take(index, axis=0),
                          self.pes.take(index, axis=0))

    def put(self, index, other: Population) -> None:
        """Overwrite the individuals at ``index`` with ``other``'s, in place."""
        self.par[index] = other.par
        self.par2[index] = other.par2
        self.cluster[index] = other.cluster
        self.order[index] = other.order
        self.tile[index] = other.tile
        self.levels[index] = other.levels
        self.pes[index] = other.pes

    def copy(self) -> Population:
        return Population(self.par.copy(), self.par2.copy(), self.cluster.copy(), self.order.copy(),
                          self.tile.copy(), self.levels.copy(), self.pes.copy())

    @staticmethod
    def concatenate(parts) -> Population:
        parts = list(parts)
        if len(parts) == 1:
            return parts[0].copy()
        return Population(*(np.concatenate([getattr(p, name) for p in parts]) for name in _GENES))

    def active(self) -> np.ndarray:
        """Mask of shape (P, L): True for the levels each individual uses."""
        return np.arange(self.max_levels)[None, :] < self.levels[:, None]

    def packed(self) -> np.ndarray:
        """Each individual's genes as one int64 row, shape (P, 15·L); equal rows mean
        equal mappings (padding levels are written as -2, so they do not count).
        The PE-count gene takes the unused level-0 cluster slot."""
        from gamma.search.kernels import packed_rows
        return packed_rows(self.par, self.par2, self.cluster, self.order, self.tile, self.levels,
                           self.pes)

    def keys(self) -> list[bytes]:
        """One hashable key per individual (:meth:`packed` rows as bytes)."""
        return [row.tobytes() for row in self.packed()]


# ---------------------------------------------------------------------------
# Layer geometry seen by the genome
# ---------------------------------------------------------------------------

def dim_sizes(layer: Layer) -> np.ndarray:
    """Largest tile of each genome dimension: ``K, C, Y', X', R, S``.

    ``Y' = Y - R + 1`` and ``X' = X - S + 1`` are MAESTRO's output sizes (it
    counts them without the stride; a larger Y'/X' tile makes MAESTRO report a
    runtime of 0).  On a strided layer a full tile covers every row under both
    readings of a Y'/X' tile, MAESTRO's and the stride-aware one
    (:func:`gamma.costmodel.evaluate`).  Depthwise layers have ``K = 1``.
    """
    k = 1 if layer.type == "DSCONV" else layer.K
    return np.array([k, layer.C, layer.Y - layer.R + 1, layer.X - layer.S + 1,
                     layer.R, layer.S], dtype=np.int64)


def parallel_choices(layer: Layer, par_rs: bool = False) -> np.ndarray:
    """Dimensions a level may map spatially (GAMMA: K, C, Y, X; R, S with ``--parRS``).

    Dimensions of size 1 (K of a depthwise layer, X of a GEMM) are left out
    when any other choice remains: parallelising them never helps.
    """
    allowed = [K, C, Y, X] + ([R, S] if par_rs else [])
    sizes = dim_sizes(layer)
    useful = [d for d in allowed if sizes[d] > 1]
    if layer.type == "DSCONV":
        allowed = [d for d in allowed if d != K]
    return np.array(useful or allowed, dtype=np.int64)


@functools.lru_cache(maxsize=16)
def divisor_table(limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Divisors of every integer ``0..limit``.

    Returns
    -------
    divisors : ndarray of shape (limit + 1, M), int64
        ``divisors[v, :count[v]]`` are the divisors of ``v`` in increasing order
        (row 0 holds just 1).
    count : ndarray of shape (limit + 1,), int64
    """
    limit = int(limit)
    count = np.zeros(limit + 1, dtype=np.int64)
    for d in range(1, limit + 1):
        count[d::d] += 1
    width = int(count.max()) if limit else 1
    table = np.ones((limit + 1, max(width, 1)), dtype=np.int64)
    fill = np.zeros(limit + 1, dtype=np.int64)
    for d in range(1, limit + 1):
        multiples = np.arange(d, limit + 1, d)
        table[multiples, fill[multiples]] = d
        fill[multiples] += 1
    count[0] = 1
    return table, count


def random_divisor(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly drawn divisor of each entry of ``values`` (entries >= 1)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return values.copy()
    table, count = divisor_table(int(values.max()))
    pick = (rng.random(values.shape) * count[values]).astype(np.int64)
    return table[values, pick]


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------

def pe_counts(pop: Population, num_pes) -> np.ndarray:
    """Each individual's PE count, shape (P,): its ``pes`` gene, or ``num_pes`` where that is 0."""
    return np.where(pop.pes > 0, pop.pes, num_pes).astype(np.int64)


def units_per_level(pop: Population, num_pes: int) -> np.ndarray:
    """Sub-units of each level, shape (P, L): ``floor(PEs / prod(clusters))`` (at least 1)
    at level 0 (PEs: the individual's ``pes`` gene when set, else ``num_pes``)."""
    from gamma.search.kernels import units_per_level as kernel
    return kernel(pop.cluster, pop.levels, pop.pes, int(num_pes))


def to_directives(pop: Population, layer: Layer) -> Directives:
    """Decode a population into the directive arrays the cost model takes.

    Each level becomes six directives in its loop order: ``SpatialMap(t, t)``
    for its parallel dimension(s), ``TemporalMap(t, t)`` for the others, Y and
    X as ``Y'``/``X'``; level ``l >= 1`` opens with ``Cluster(cluster[l])``.
    A depthwise layer's K directive is dropped (K is in no DSCONV tensor); a
    level parallel in K then maps C spatially, as GAMMA's ``write_maestro`` does.
    """
    from gamma.search.kernels import directive_arrays
    dim, size, spatial, cluster = directive_arrays(pop.par, pop.par2, pop.cluster, pop.order,
                                                   pop.tile, pop.levels, _DIRECTIVE_CODE,
                                                   layer.type == "DSCONV")
    return Directives(dim=dim, size=size, offset=size.copy(), spatial=spatial, cluster=cluster,
                      num_levels=pop.levels.astype(np.int64).copy())


def describe(pop: Population, index: int, layer: Layer) -> str:
    """One individual in readable form, e.g. ``K8* C64 Y'21 X'222 R3 S3 | Cluster(21): Y'1* ...``.

    Levels are separated by ``|``; loops are listed outermost first with
    their tile; ``*`` marks a spatially mapped (parallel) loop.
    """
    parts = []
    for level in range(int(pop.levels[index])):
        loops = []
        for d in pop.order[index, level]:
            if layer.type == "DSCONV" and d == K:
                continue
            spatial = (pop.par[index, level], pop.par2[index, level])
            hidden_k = layer.type == "DSCONV" and d == C and pop.par[index, level] == K
            star = "*" if d in spatial or hidden_k else ""
            loops.append(f"{MAESTRO_DIMS[d]}{pop.tile[index, level, d]}{star}")
        text = " ".join(loops)
        if level:
            text = f"Cluster({pop.cluster[index, level]}): " + text
        parts.append(text)
    return " | ".join(parts)


def to_maestro_text(pop: Population, index: int, layer: Layer) -> str:
    """The MAESTRO ``.m`` file of one individual (via :mod:`gamma.maestro_files`)."""
    from gamma.maestro_files import write_mapping
    return write_mapping(layer, to_directives(pop.take(index), layer).take(0))
