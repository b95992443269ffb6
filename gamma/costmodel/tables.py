"""Level-static tile sizes: mapped / unique / edge sizes per variable (maestro-model.md §4.1).

MAESTRO derives these once per cluster level from the level's *own* dimension
sizes (never from the smaller sizes a lower level sees at an upper edge), which
is why edge tiles of a lower level can exceed what the upper level passes down.

Columns of a level table (one row per variable):

* :data:`MAPPED`, :data:`UNIQUE`, :data:`MAPPED_EDGE`, :data:`UNIQUE_EDGE`: tile,
  new elements per step (sliding-window reuse), and their edge-step values, in
  input space;
* :data:`OUT_MAPPED` ... :data:`OUT_UNIQUE_EDGE`: the same for output tensors:
  the Y and X rows hold the values of the output rows/columns ``Y' = Y - R + 1``
  (``X'``; ``(Y - R) // stride + 1`` in the stride-aware analysis, see
  :mod:`gamma.costmodel.levels`); other rows equal the input-space values.
"""
from __future__ import annotations

from numba import njit

from gamma.costmodel.intmath import tdiv
from gamma.costmodel.stages import BOOL, INT, NONE, bools, declare, ints

MAPPED, UNIQUE, MAPPED_EDGE, UNIQUE_EDGE = 0, 1, 2, 3
OUT_MAPPED, OUT_UNIQUE, OUT_MAPPED_EDGE, OUT_UNIQUE_EDGE = 4, 5, 6, 7
NUM_COLUMNS = 8

#: Per-level integers (columns of ``lvi``): sub-units of one cluster, active
#: sub-units at the spatial edge, loop position of the first SpatialMap, bitmask
#: (over loop positions) of the SpatialMaps, per tensor the bitmask of its
#: dimensions, per tensor the position of the last SpatialMap met when scanning
#: the tensor's dimensions in MAESTRO's order (-1: none), position of the last
#: SpatialMap of the level; ``L_EDGE_DROPPED`` is 1 where MAESTRO's count of the
#: edge units drops a partial window (:func:`edge_units`).
L_UNITS, L_EDGE_UNITS, L_FIRST_SPATIAL, L_SPATIAL = 0, 1, 2, 3
L_COUPLED, L_LAST_SPATIAL, L_LAST_SPATIAL_ALL = 4, 7, 10
#: A dimension mapped twice (levels.py): :func:`twice_descriptor` of the level
#: (0: none), and the earlier directive's size and offset.
L_DUP, L_DUP_SIZE, L_DUP_OFS = 11, 12, 13
L_EDGE_DROPPED = 14
NUM_LEVEL_INTS = 15

#: Fields of a level's twice-mapped descriptor: bits 0-15 the loop position
#: (as a bitmask) of the variable, i.e. of its later directive B; then the
#: classes of the earlier directive A and of B; then the loop position before
#: which A stands.
_TW_A_SPATIAL, _TW_B_SPATIAL, _TW_BEFORE = 1 << 16, 1 << 17, 1 << 20


#: Place values in ``lv_dup[lvl, 0]`` (:func:`pack_twice`): the variable below
#: ``PACK_B_SPATIAL``, then the later directive's class, then (from ``PACK_HIGH``)
#: one more field (levels.py uses it for the earlier directive's slot while a
#: level is completed, then for the loop position before which it stands).
PACK_B_SPATIAL, PACK_HIGH = 256, 65536


@njit(cache=True, error_model="numpy", inline="always")
def pack_twice(var, b_spatial, before):
    """``lv_dup[lvl, 0]`` of a level mapping ``var`` twice: the variable, the later
    directive's class and the loop position before which the earlier one stands."""
    return var + PACK_B_SPATIAL * b_spatial + PACK_HIGH * before


@njit(cache=True, error_model="numpy", inline="always")
def unpack_twice(packed):
    """(var, later directive spatial, position before the earlier one) of :func:`pack_twice`."""
    return packed % PACK_B_SPATIAL, (packed // PACK_B_SPATIAL) % 2, packed // PACK_HIGH


@njit(cache=True, error_model="numpy", inline="always")
def twice_descriptor(position, a_spatial, b_spatial, before):
    """The level integer ``L_DUP`` (module docstring) of a variable mapped twice."""
    return ((1 << position) + _TW_A_SPATIAL * a_spatial + _TW_B_SPATIAL * b_spatial
            + _TW_BEFORE * before)


@njit(cache=True, error_model="numpy", inline="always")
def twice_fields(descriptor):
    """(position bitmask, A spatial, B spatial, position before A) of an ``L_DUP``
    descriptor; all 0 for a level without a repeated dimension."""
    return (descriptor & 0xFFFF, (descriptor // _TW_A_SPATIAL) % 2,
            (descriptor // _TW_B_SPATIAL) % 2, descriptor // _TW_BEFORE)


@njit(cache=True, error_model="numpy", inline="always")
def _out_rows(rows, filt, out_stride):
    """Output rows of ``rows`` input rows under a filter of ``filt`` rows: MAESTRO's
    ``rows - filt + 1`` (``out_stride`` 1), or the physical count at a stride.  A
    window smaller than the filter holds no output row: MAESTRO's value is then
    negative (and two negative edge factors multiply into positive MACs, which
    is how it overcounts the corner of a strided layer whose rows do not divide
    evenly); the stride-aware count is 0."""
    if rows < filt:
        return rows - filt + 1 if out_stride == 1 else 0
    return (rows - filt) // out_stride + 1


@njit(cache=True, error_model="numpy", inline="always")
def level_table(lvl, lv_size, lv_ofs, lv_sp, lv_dims, sliding, out_stride, table):
    """Fill ``table`` (V, 8) with the static sizes of level ``lvl`` (ReuseAnalysis
    constructor).

    ``lv_size``, ``lv_ofs``, ``lv_sp``, ``lv_dims`` (MAX_LEVELS, V) are the
    levels' per-variable directive arguments and static dimension sizes;
    ``sliding[v]`` is the sliding variable (R, S) of a reference variable (Y, X),
    else -1; ``out_stride`` is 1 (MAESTRO) or the layer's stride (stride-aware):
    a step advancing ``o`` input rows then brings ``o // stride`` new output rows.
    """
    nvar = sliding.shape[0]
    for v in range(nvar):
        m, o, dim = lv_size[lvl, v], lv_ofs[lvl, v], lv_dims[lvl, v]
        steady = max(tdiv(dim - m, o), 0)
        has_edge = steady * o + m < dim or m > dim
        unique = 0 if (not lv_sp[lvl, v] and dim <= m) else min(m, o)
        edge_map = dim - (steady + 1) * o
        if edge_map < 0:
            edge_map = dim
        table[v, MAPPED] = table[v, OUT_MAPPED] = m
        table[v, UNIQUE] = table[v, OUT_UNIQUE] = unique
        table[v, MAPPED_EDGE] = table[v, OUT_MAPPED_EDGE] = edge_map if has_edge else m
        table[v, UNIQUE_EDGE] = table[v, OUT_UNIQUE_EDGE] = max(o - (m - edge_map), 0)
    for ref in range(nvar):
        slide = sliding[ref]
        if slide < 0:
            continue
        table[ref, OUT_MAPPED] = _out_rows(lv_size[lvl, ref], lv_size[lvl, slide], out_stride)
        table[ref, OUT_MAPPED_EDGE] = _out_rows(table[ref, MAPPED_EDGE],
                                                table[slide, MAPPED_EDGE], out_stride)
        if out_stride == 1:
            table[ref, OUT_UNIQUE] = min(lv_ofs[lvl, ref], lv_size[lvl, ref])
            table[ref, OUT_UNIQUE_EDGE] = min(lv_ofs[lvl, ref], table[ref, OUT_MAPPED_EDGE])
        else:
            new = lv_ofs[lvl, ref] // out_stride
            table[ref, OUT_UNIQUE] = min(new, table[ref, OUT_MAPPED])
            table[ref, OUT_UNIQUE_EDGE] = min(new, table[ref, OUT_MAPPED_EDGE])


@njit(cache=True, error_model="numpy", inline="always")
def edge_units(dim, m, o, units, physical):
    """Active sub-units at the spatial edge of a SpatialMap(m, o) over ``dim``
    (ClusterUnit's spatial edge analysis, §4.1).  MAESTRO counts the windows that
    fit whole in what the steady steps leave and drops a partial last one (its
    MACs go missing); the physical analysis (``physical`` 1) counts it."""
    if dim <= m:
        return 1
    coverage = o * (units - 1) + m
    if dim > coverage:
        steady = tdiv(tdiv(dim - m, o) + 1, units) - 1
        remaining = dim - (steady + 1) * o * units
        if remaining < m:
            return 1
        return tdiv(remaining - m + (o - 1) * physical, o) + 1
    within = tdiv(dim - m, o) + 1
    if o * (within - 1) + m < dim:
        within += 1
    return within


@njit(cache=True, error_model="numpy", inline="always")
def _set_edge_units(lvl, dim, m, o, units, physical, lvi):
    """``L_EDGE_UNITS`` of level ``lvl`` by the analysis ``physical`` selects, and
    ``L_EDGE_DROPPED``: whether MAESTRO's count drops a partial window there."""
    whole = edge_units(dim, m, o, units, 1)
    lvi[lvl, L_EDGE_UNITS] = whole if physical else edge_units(dim, m, o, units, 0)
    lvi[lvl, L_EDGE_DROPPED] = whole != lvi[lvl, L_EDGE_UNITS] if not physical else 0


@njit(cache=True, error_model="numpy", inline="always")
def prepare_level(lvl, lv_size, lv_ofs, lv_sp, lv_order, lv_dims, lv_units, lv_dup, coupled,
                  coupled_order, sliding, out_stride, physical, table, rank, ps_sizes, ps_size,
                  ps_ofs, lvi, twice_entry):
    """Level-static tables of level ``lvl``, rearranged in loop-position order
    (``ps_sizes``, ``ps_size``, ``ps_ofs``), and the level's integers ``lvi[lvl]``
    (module docstring).  A level mapping a dimension twice is finished by
    :func:`_twice_level`, called through ``twice_entry``, the stage table's entry
    of :data:`TWICE_LEVEL` (:mod:`gamma.costmodel.stages`).
    """
    nvar = lv_order.shape[1]
    twice = lv_dup[lvl, 0] >= 0
    dup, b_sp, before = unpack_twice(lv_dup[lvl, 0]) if twice else (0, 0, 0)
    a_size, a_ofs, a_sp = lv_size[lvl, dup], lv_ofs[lvl, dup], lv_sp[lvl, dup]
    if twice:
        # the table row of a variable mapped twice is its later directive B's
        lv_size[lvl, dup], lv_ofs[lvl, dup] = lv_dup[lvl, 1], lv_dup[lvl, 2]
        lv_sp[lvl, dup] = b_sp != 0
    # (one call site: numba inlines it, and each inlined copy costs compile time)
    level_table(lvl, lv_size, lv_ofs, lv_sp, lv_dims, sliding, out_stride, table)
    if twice:
        lv_size[lvl, dup], lv_ofs[lvl, dup], lv_sp[lvl, dup] = a_size, a_ofs, a_sp
    lvi[lvl, L_DUP] = 0
    first_pos, last_pos, spatial = -1, -1, 0
    for t in range(3):
        lvi[lvl, L_COUPLED + t] = 0
    for p in range(nvar):
        var = lv_order[lvl, p]
        rank[var] = p
        for col in range(NUM_COLUMNS):
            ps_sizes[lvl, p, col] = table[var, col]
        ps_size[lvl, p] = lv_size[lvl, var]
        ps_ofs[lvl, p] = lv_ofs[lvl, var]
        for t in range(3):
            if coupled[var, t]:
                lvi[lvl, L_COUPLED + t] |= 1 << p
        if lv_sp[lvl, var]:
            spatial |= 1 << p
            last_pos = p
            if first_pos < 0:
                first_pos = p
    first_pos = max(first_pos, 0)
    lvi[lvl, L_FIRST_SPATIAL] = first_pos
    lvi[lvl, L_SPATIAL] = spatial
    lvi[lvl, L_LAST_SPATIAL_ALL] = last_pos
    lvi[lvl, L_UNITS] = lv_units[lvl]
    fv = lv_order[lvl, first_pos]
    _set_edge_units(lvl, lv_dims[lvl, fv], lv_size[lvl, fv], lv_ofs[lvl, fv], lv_units[lvl],
                    physical, lvi)
    if twice:
        TWICE_LEVEL(twice_entry, lvl, nvar, lv_order, lv_sp, lv_dims, lv_units, lv_dup, dup, b_sp,
                    before, a_size, a_ofs, a_sp, rank, ps_size, ps_ofs, physical, lvi)
    # Last SpatialMap met scanning each tensor's dimensions in MAESTRO's order.
    for t in range(3):
        last = -1
        for j in range(coupled_order.shape[1]):
            var = coupled_order[t, j]
            if var < 0:
                break
            if lv_sp[lvl, var]:
                last = rank[var]
        lvi[lvl, L_LAST_SPATIAL + t] = last


@njit(cache=True, error_model="numpy")
def _twice_level(lvl, nvar, lv_order, lv_sp, lv_dims, lv_units, lv_dup, dup, b_sp, before,
                 a_size, a_ofs, a_sp, rank, ps_size, ps_ofs, physical, lvi):
    """:func:`prepare_level`'s integers of a level mapping ``dup`` twice (A, then B).

    MAESTRO keys tile sizes and step states by dimension, so B overwrites A's:
    the table row and ``ps_size``/``ps_ofs`` are B's, and so is the variable's
    loop position.  Lookups by name find A: ``L_SPATIAL`` (and the per-tensor
    last SpatialMaps) keep A's class.  The level's first and last SpatialMap are
    found in directive order, A (standing before position ``before``, for the
    variable's position) included, and the spatial edge is sized from the first
    one's own arguments.
    """
    dpos = rank[dup]
    ps_size[lvl, dpos], ps_ofs[lvl, dpos] = lv_dup[lvl, 1], lv_dup[lvl, 2]
    lvi[lvl, L_DUP] = twice_descriptor(dpos, a_sp, b_sp, before)
    lvi[lvl, L_DUP_SIZE], lvi[lvl, L_DUP_OFS] = a_size, a_ofs
    first_pos = last_pos = -1
    first_size = first_ofs = 1
    for p in range(nvar):
        if p == before and a_sp:
            last_pos = dpos
            if first_pos < 0:
                first_pos, first_size, first_ofs = dpos, a_size, a_ofs
        if (b_sp != 0) if p == dpos else lv_sp[lvl, lv_order[lvl, p]]:
            last_pos = p
            if first_pos < 0:
                first_pos, first_size, first_ofs = p, ps_size[lvl, p], ps_ofs[lvl, p]
    first_pos = max(first_pos, 0)
    lvi[lvl, L_FIRST_SPATIAL] = first_pos
    lvi[lvl, L_LAST_SPATIAL_ALL] = last_pos
    _set_edge_units(lvl, lv_dims[lvl, lv_order[lvl, first_pos]], first_size, first_ofs,
                    lv_units[lvl], physical, lvi)


TWICE_LEVEL = declare(_twice_level, NONE(INT, INT, ints(2), bools(2), ints(2), ints(1), ints(2),
                                         INT, INT, INT, INT, INT, BOOL, ints(1), ints(2), ints(2),
                                         INT, ints(2)))
