"""Mapping constraints: what a level of every mapping must look like.

A :class:`MappingConstraint` holds one :class:`LevelConstraint` per level
(outermost first) plus one that holds at *every* level.  It maps one-to-one
onto GAMMA's constraint dictionaries (``data/mapping_cstr/*.py``)::

    {"L2": {"sp": ["K"], "sp_sz": 16, "order": ["C", "Y", "X", "R", "S", "K"],
            "K": "K", "C": 1, "Y": "R"},
     "L1": {...}}

GAMMA names the levels ``L2`` (outermost), ``L1`` (second) and ``L3`` (third),
which is how :meth:`MappingConstraint.from_gamma_dict` reads them.  Keys of a
level:

``sp``     allowed parallel dimensions;
``sp2``    a second parallel dimension (Eyeriss-like 2-D level);
``sp_sz``  cluster size of the level: an int, or a dimension name meaning
           "at most the parent level's tile of that dimension" (at most the
           PE count in any case);
``order``  a (possibly partial) loop order: the listed dimensions take the
           innermost ``len(order)`` loop positions, as GAMMA does;
``K`` … ``S``  a fixed tile: an int, or a dimension name meaning "the parent
           level's tile of that dimension" (the layer's size at the outermost
           level).  ``[1, "R"]`` (GAMMA's FIFO form) means the same as ``"R"``.
           ``"Y": "R"`` (``"X": "S"``) names the filter's window of input
           rows (columns): one output row (column) per step, whatever the
           stride, as MAESTRO's NVDLA-style files write it
           (``TemporalMap(Sz(R), stride) Y``).

:func:`apply` imposes a constraint on a population (after initialisation,
after every operator and in the repair); :func:`check` tells which individuals
satisfy it.  The default cost-model constraint :data:`MAESTRO_CSTR` keeps the R
and S tiles full at every level (MAESTRO rejects a partial R/S ``TemporalMap``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from gamma.errors import GammaInputError, check_keys
from gamma.mapping import DIM_INDEX, GENOME_DIMS, Population, dim_sizes
from gamma.workload import Layer

#: GAMMA's level keys, outermost level first.
LEVEL_KEYS = ("L2", "L1", "L3")
_LEVEL_FIELDS = {"sp", "sp2", "sp_sz", "order", *GENOME_DIMS}


@dataclass(frozen=True)
class LevelConstraint:
    """What one level of a mapping must look like (every field optional).

    Parameters
    ----------
    sp : tuple of str, optional
        Allowed parallel dimensions.
    sp2 : str, optional
        Second parallel dimension.
    sp_sz : int or str, optional
        Cluster size (levels >= 1): a number of sub-units, or a dimension name
        bounding it by the parent level's tile of that dimension.
    order : tuple of str, optional
        Dimensions occupying the innermost loop positions, in this order.
    tiles : tuple of (str, int or str) pairs
        Fixed tiles: a size, or the name of a dimension whose parent tile (the
        layer size at the outermost level) the tile must equal.
    temporal_only : tuple of str
        Dimensions whose fixed tile binds only while the level maps them
        temporally (MAESTRO checks ``TemporalMap`` on R/S, not ``SpatialMap``).
    """

    sp: tuple[str, ...] | None = None
    sp2: str | None = None
    sp_sz: int | str | None = None
    order: tuple[str, ...] | None = None
    tiles: tuple[tuple[str, int | str], ...] = ()
    temporal_only: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict, where: str = "constraint") -> LevelConstraint:
        """Validate one level of a GAMMA constraint dictionary."""
        if not isinstance(data, dict):
            raise GammaInputError(f"{where}: expected a dict of keys such as 'sp', 'order', 'K'")
        check_keys(data, _LEVEL_FIELDS, where)

        def dims(key, value, *, many):
            values = list(np.atleast_1d(value)) if many else [value]
            values = [str(v) for v in values]
            bad = [v for v in values if v not in DIM_INDEX]
            if bad or not values:
                raise GammaInputError(f"{where}: '{key}' must name dimensions among "
                                      f"{', '.join(GENOME_DIMS)}, got {value!r}")
            return tuple(values) if many else values[0]

        sp = dims("sp", data["sp"], many=True) if "sp" in data else None
        sp2 = dims("sp2", np.atleast_1d(data["sp2"])[0], many=False) if "sp2" in data else None
        order = dims("order", data["order"], many=True) if "order" in data else None
        if order is not None and len(set(order)) != len(order):
            raise GammaInputError(f"{where}: 'order' lists a dimension twice: {list(order)}")
        sp_sz = data.get("sp_sz")
        if sp_sz is not None:
            sp_sz = _int_or_dim(sp_sz, f"{where}: 'sp_sz'")
        tiles = tuple((d, _int_or_dim(data[d], f"{where}: '{d}'")) for d in GENOME_DIMS if d in data)
        return cls(sp=sp, sp2=sp2, sp_sz=sp_sz, order=order, tiles=tiles)

    def merged(self, other: LevelConstraint) -> LevelConstraint:
        """This constraint with ``other``'s fields laid over it (tiles per dimension)."""
        tiles = dict(self.tiles)
        tiles.update(other.tiles)
        return LevelConstraint(
            sp=other.sp if other.sp is not None else self.sp,
            sp2=other.sp2 if other.sp2 is not None else self.sp2,
            sp_sz=other.sp_sz if other.sp_sz is not None else self.sp_sz,
            order=other.order if other.order is not None else self.order,
            tiles=tuple((d, tiles[d]) for d in GENOME_DIMS if d in tiles),
            temporal_only=tuple(d for d in GENOME_DIMS
                                if d in self.temporal_only or d in other.temporal_only))


def _int_or_dim(value, where):
    if isinstance(value, (list, tuple)) and len(value) == 2:   # GAMMA's FIFO form [1, "R"]
        value = value[1]
    if isinstance(value, str):
        if value not in DIM_INDEX:
            raise GammaInputError(f"{where} must be a positive int or one of "
                                  f"{', '.join(GENOME_DIMS)}, got {value!r}")
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise GammaInputError(f"{where} must be a positive int or a dimension name, got {value!r}")


@dataclass(frozen=True)
class MappingConstraint:
    """Constraints on every level of a mapping.

    Parameters
    ----------
    levels : tuple of LevelConstraint
        Per level, outermost first; levels beyond the tuple are free.
    every_level : LevelConstraint
        Holds at every level (under the per-level entries).
    name : str
        Where it came from, for messages and run.yaml.
    """

    levels: tuple[LevelConstraint, ...] = ()
    every_level: LevelConstraint = field(default_factory=LevelConstraint)
    name: str = ""

    def level(self, index: int) -> LevelConstraint:
        """The constraint of level ``index`` (0 = outermost)."""
        own = self.levels[index] if index < len(self.levels) else LevelConstraint()
        return self.every_level.merged(own)

    @classmethod
    def from_gamma_dict(cls, data: dict, name: str = "") -> MappingConstraint:
        """Read GAMMA's ``{"L2": {...}, "L1": {...}, "L3": {...}}`` format."""
        where = name or "mapping constraint"
        if not isinstance(data, dict):
            raise GammaInputError(f"{where}: expected a dict with keys {', '.join(LEVEL_KEYS)}")
        unknown = set(data) - set(LEVEL_KEYS)
        if unknown:
            raise GammaInputError(f"{where}: unknown level key(s) {', '.join(sorted(map(str, unknown)))}; "
                                  f"GAMMA names the levels {', '.join(LEVEL_KEYS)} (outermost first)")
        used = [k for k in LEVEL_KEYS if k in data]
        depth = LEVEL_KEYS.index(used[-1]) + 1 if used else 0
        levels = tuple(LevelConstraint.from_dict(data[k], f"{where} {k}") if k in data
                       else LevelConstraint() for k in LEVEL_KEYS[:depth])
        return cls(levels=levels, name=name)

    def combined(self, other: MappingConstraint) -> MappingConstraint:
        """Both constraints at once (``other`` wins where both fix a field)."""
        depth = max(len(self.levels), len(other.levels))
        pick = lambda c, i: c.levels[i] if i < len(c.levels) else LevelConstraint()  # noqa: E731
        return MappingConstraint(
            levels=tuple(pick(self, i).merged(pick(other, i)) for i in range(depth)),
            every_level=self.every_level.merged(other.every_level),
            name="+".join(n for n in (self.name, other.name) if n))

    def is_empty(self) -> bool:
        return self == MappingConstraint(name=self.name)


#: MAESTRO's requirement, GAMMA's default ``--costmodel_cstr``: R and S tiles full at every
#: level.  Unlike GAMMA's file, a level that maps R or S *spatially* may split it (MAESTRO
#: rejects only a partial R/S ``TemporalMap``); that is how a filter too large for L1 fits.
MAESTRO_CSTR = MappingConstraint(
    every_level=LevelConstraint(tiles=(("R", "R"), ("S", "S")), temporal_only=("R", "S")),
    name="maestro_cstr")
#: No constraint (``--costmodel_cstr ''``).
NO_CSTR = MappingConstraint(name="")
COSTMODEL_CSTRS = {"maestro_cstr": MAESTRO_CSTR, "": NO_CSTR}


def costmodel_constraint(name: str) -> MappingConstraint:
    """The ``--costmodel_cstr`` value as a constraint."""
    try:
        return COSTMODEL_CSTRS[name]
    except KeyError:
        raise GammaInputError(f"--costmodel_cstr: unknown constraint {name!r}; expected "
                              "'maestro_cstr' or '' (none)") from None


# ---------------------------------------------------------------------------
# Applying and checking
# ---------------------------------------------------------------------------

def _reference(pop: Population, layer_sizes: np.ndarray, level: int, dim: str) -> np.ndarray:
    """The parent tile of ``dim`` (the layer size at the outermost level), shape (P,)."""
    d = DIM_INDEX[dim]
    if level == 0:
        return np.full(len(pop), layer_sizes[d], dtype=np.int64)
    return pop.tile[:, level - 1, d]


#: A Y (X) tile given as the filter's name: the filter's window of input rows,
#: i.e. one output row per step (module docstring).
_FILTER_WINDOW = {("Y", "R"), ("X", "S")}


def _ordered(order: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Loop orders (P, 6) with the dimensions ``tail`` moved, in that order, to the end."""
    listed = np.isin(order, tail)
    moved = np.take_along_axis(order, np.argsort(listed, axis=1, kind="stable"), axis=1)
    moved[:, order.shape[1] - len(tail):] = tail
    return moved


@dataclass(frozen=True)
class _LevelPlan:
    """One level of a constraint in index form, for :func:`apply` (built once per constraint)."""

    allowed: np.ndarray | None      # parallel dims a redraw picks from (None: any)
    allowed_mask: np.ndarray | None  # (6,) bool: par values that need no redraw
    sp2: int | None
    tail: np.ndarray | None         # dims of the innermost loop positions
    tiles: np.ndarray               # (n, 4): dim, reference dim or -1, value, temporal only
    sp_sz: int | str | None


@functools.lru_cache(maxsize=256)
def _plan(cstr: MappingConstraint, level: int) -> _LevelPlan:
    c = cstr.level(level)
    allowed = mask = None
    if c.sp is not None:
        dims = [DIM_INDEX[d] for d in c.sp]
        if c.sp2 is not None and len(dims) > 1:
            # the two parallel slots of a 2-D level must differ: draw the first without sp2
            dims = [d for d in dims if d != DIM_INDEX[c.sp2]]
        allowed = np.array(dims)
        mask = np.isin(np.arange(len(GENOME_DIMS)), allowed)
    tail = None if c.order is None else np.array([DIM_INDEX[d] for d in c.order])
    # fixed tiles as (dim, reference dim or -1, value, temporal only): a constant value
    # (the filter's window is one output row: 1), or the parent tile of the reference dim
    tiles = []
    for dim, value in c.tiles:
        if isinstance(value, int):
            ref = -1
        elif (dim, value) in _FILTER_WINDOW:
            ref, value = -1, 1
        else:
            ref, value = DIM_INDEX[value], 0
        tiles.append((DIM_INDEX[dim], ref, value, dim in c.temporal_only))
    tiles = np.array(tiles, dtype=np.int64).reshape(-1, 4)
    return _LevelPlan(allowed, mask, None if c.sp2 is None else DIM_INDEX[c.sp2], tail, tiles,
                      c.sp_sz)


@njit(cache=True)
def _fix_tiles(tile, par, par2, level, tiles, sizes):
    """In place: the fixed tiles ``tiles`` (rows of :func:`_plan`'s table) of ``level``,
    each clipped to ``[1, layer size]``, where they bind."""
    for i in range(tile.shape[0]):
        for j in range(tiles.shape[0]):
            d, ref, value, temporal = tiles[j, 0], tiles[j, 1], tiles[j, 2], tiles[j, 3]
            if temporal and (par[i, level] == d or par2[i, level] == d):
                continue
            if ref >= 0:
                value = sizes[ref] if level == 0 else tile[i, level - 1, ref]
            tile[i, level, d] = max(min(value, sizes[d]), 1)


def apply(pop: Population, cstr: MappingConstraint, layer: Layer, num_pes: int,
          *, rng: np.random.Generator) -> Population:
    """Impose ``cstr`` on ``pop`` in place (outer levels first) and return it.

    Parallel dimensions outside ``sp`` and cluster sizes above their bound are
    redrawn at random; fixed orders, tiles and ``sp2`` are written.
    """
    sizes = dim_sizes(layer)
    for level in range(pop.max_levels):
        c = _plan(cstr, level)
        if c.allowed is not None:
            bad = ~c.allowed_mask[pop.par[:, level]]
            if bad.any():                     # (an empty draw would not advance rng either)
                pop.par[bad, level] = rng.choice(c.allowed, size=int(bad.sum()))
        if c.sp2 is not None:
            pop.par2[:, level] = c.sp2
        if c.tail is not None:
            pop.order[:, level] = _ordered(pop.order[:, level], c.tail)
        if len(c.tiles):
            _fix_tiles(pop.tile, pop.par, pop.par2, level, c.tiles, sizes)
        if level and c.sp_sz is not None:
            if isinstance(c.sp_sz, int):
                pop.cluster[:, level] = min(c.sp_sz, num_pes)
            else:
                bound = np.clip(_reference(pop, sizes, level, c.sp_sz), 1, num_pes)
                bad = (pop.cluster[:, level] > bound) | (pop.cluster[:, level] < 1)
                pop.cluster[bad, level] = 1 + (rng.random(int(bad.sum())) * bound[bad]).astype(np.int64)
    return pop


def check(pop: Population, cstr: MappingConstraint, layer: Layer, num_pes: int) -> np.ndarray:
    """Which individuals satisfy ``cstr`` (their used levels only), shape (P,), bool."""
    sizes = dim_sizes(layer)
    ok = np.ones(len(pop), dtype=bool)
    active = pop.active()
    for level in range(pop.max_levels):
        c = cstr.level(level)
        good = np.ones(len(pop), dtype=bool)
        if c.sp is not None:
            good &= np.isin(pop.par[:, level], [DIM_INDEX[d] for d in c.sp])
        if c.sp2 is not None:
            good &= pop.par2[:, level] == DIM_INDEX[c.sp2]
            if c.sp is not None and set(c.sp) - {c.sp2}:
                good &= pop.par[:, level] != DIM_INDEX[c.sp2]
        if c.order is not None:
            tail = np.array([DIM_INDEX[d] for d in c.order])
            good &= np.all(pop.order[:, level, pop.order.shape[2] - len(tail):] == tail, axis=1)
        plan = _plan(cstr, level)
        if len(plan.tiles):
            # a tile satisfies its fixed-tile rule if imposing the rule leaves it unchanged
            fixed = pop.tile.copy()
            _fix_tiles(fixed, pop.par, pop.par2, level, plan.tiles, sizes)
            good &= np.all(fixed[:, level] == pop.tile[:, level], axis=1)
        if level and c.sp_sz is not None:
            if isinstance(c.sp_sz, int):
                good &= pop.cluster[:, level] == min(c.sp_sz, num_pes)
            else:
                bound = np.clip(_reference(pop, sizes, level, c.sp_sz), 1, num_pes)
                good &= (pop.cluster[:, level] >= 1) & (pop.cluster[:, level] <= bound)
        ok &= good | ~active[:, level]
    return ok


def describe_constraint(cstr: MappingConstraint) -> dict:
    """Plain data for run.yaml."""
    def level(c: LevelConstraint):
        out = {}
        if c.sp is not None:
            out["sp"] = list(c.sp)
        if c.sp2 is not None:
            out["sp2"] = c.sp2
        if c.sp_sz is not None:
            out["sp_sz"] = c.sp_sz
        if c.order is not None:
            out["order"] = list(c.order)
        out.update(dict(c.tiles))
        if c.temporal_only:
            out["temporal_only"] = list(c.temporal_only)
        return out
    return {"name": cstr.name, "every_level": level(cstr.every_level),
            "levels": [level(c) for c in cstr.levels]}

