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
  (``X'``); other rows equal the input-space values.
"""
from __future__ import annotations

from numba import njit

from gamma.costmodel.intmath import tdiv

MAPPED, UNIQUE, MAPPED_EDGE, UNIQUE_EDGE = 0, 1, 2, 3
OUT_MAPPED, OUT_UNIQUE, OUT_MAPPED_EDGE, OUT_UNIQUE_EDGE = 4, 5, 6, 7
NUM_COLUMNS = 8

#: Per-level integers (columns of ``lvi``): sub-units of one cluster, active
#: sub-units at the spatial edge, loop position of the first SpatialMap, bitmask
#: (over loop positions) of the SpatialMaps, per tensor the bitmask of its
#: dimensions, per tensor the position of the last SpatialMap met when scanning
#: the tensor's dimensions in MAESTRO's order (-1: none), position of the last
#: SpatialMap of the level.
L_UNITS, L_EDGE_UNITS, L_FIRST_SPATIAL, L_SPATIAL = 0, 1, 2, 3
L_COUPLED, L_LAST_SPATIAL, L_LAST_SPATIAL_ALL = 4, 7, 10
NUM_LEVEL_INTS = 11


@njit(cache=True, error_model="numpy", inline="always")
def level_table(lvl, lv_size, lv_ofs, lv_sp, lv_dims, sliding, table):
    """Fill ``table`` (V, 8) with the static sizes of level ``lvl`` (ReuseAnalysis
    constructor).

    ``lv_size``, ``lv_ofs``, ``lv_sp``, ``lv_dims`` (MAX_LEVELS, V) are the
    levels' per-variable directive arguments and static dimension sizes;
    ``sliding[v]`` is the sliding variable (R, S) of a reference variable (Y, X),
    else -1.
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
        table[ref, OUT_MAPPED] = lv_size[lvl, ref] - lv_size[lvl, slide] + 1
        table[ref, OUT_UNIQUE] = min(lv_ofs[lvl, ref], lv_size[lvl, ref])
        table[ref, OUT_MAPPED_EDGE] = table[ref, MAPPED_EDGE] - table[slide, MAPPED_EDGE] + 1
        table[ref, OUT_UNIQUE_EDGE] = min(lv_ofs[lvl, ref], table[ref, OUT_MAPPED_EDGE])


@njit(cache=True, error_model="numpy")
def edge_units(dim, m, o, units):
    """Active sub-units at the spatial edge of a SpatialMap(m, o) over ``dim``
    (ClusterUnit's spatial edge analysis, §4.1)."""
    if dim <= m:
        return 1
    coverage = o * (units - 1) + m
    if dim > coverage:
        steady = tdiv(tdiv(dim - m, o) + 1, units) - 1
        remaining = dim - (steady + 1) * o * units
        return 1 if remaining < m else tdiv(remaining - m, o) + 1
    within = tdiv(dim - m, o) + 1
    if o * (within - 1) + m < dim:
        within += 1
    return within
