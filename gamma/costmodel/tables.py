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


@njit(cache=True, error_model="numpy")
def level_table(size, offset, spatial, dims, sliding, table):
    """Fill ``table`` (V, 8) with the static sizes of one level (ReuseAnalysis constructor).

    ``size``, ``offset``, ``spatial``, ``dims`` are the level's per-variable
    directive arguments and static dimension sizes; ``sliding[v]`` is the
    sliding variable (R, S) of a reference variable (Y, X), else -1.
    """
    nvar = size.shape[0]
    for v in range(nvar):
        m, o, dim = size[v], offset[v], dims[v]
        steady = max(tdiv(dim - m, o), 0)
        has_edge = steady * o + m < dim or m > dim
        unique = 0 if (not spatial[v] and dim <= m) else min(m, o)
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
        table[ref, OUT_MAPPED] = size[ref] - size[slide] + 1
        table[ref, OUT_UNIQUE] = min(offset[ref], size[ref])
        table[ref, OUT_MAPPED_EDGE] = table[ref, MAPPED_EDGE] - table[slide, MAPPED_EDGE] + 1
        table[ref, OUT_UNIQUE_EDGE] = min(offset[ref], table[ref, OUT_MAPPED_EDGE])


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
