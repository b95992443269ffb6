"""Level-static tile sizes: mapped / unique / edge sizes per variable (maestro-model.md §4.1).

MAESTRO derives these once per cluster level from the level's *own* dimension
sizes (never from the smaller sizes a lower level sees at an upper edge), which
is why edge tiles of a lower level can exceed what the upper level passes down.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gamma.costmodel.intmath import cdiv
from gamma.costmodel.layertable import LayerSpec
from gamma.costmodel.levels import Level


@dataclass
class LevelTables:
    """Static tables of one level for N candidates; per-variable arrays are (N, V).

    Attributes
    ----------
    mapped, unique, mapped_edge, unique_edge : ndarray (N, V), int64
        Tile, new elements per step (sliding-window reuse), and their edge-step
        values, in input space.
    out_mapped, out_unique, out_mapped_edge, out_unique_edge : ndarray (N, V), int64
        The same for output tensors: the Y and X columns hold the values of the
        output rows/columns ``Y' = Y - R + 1`` (``X'``); other columns equal the
        input-space values.
    units : ndarray (N,), int64
        Sub-units N of the level.
    edge_units : ndarray (N,), int64
        Active sub-units at the spatial edge of the first SpatialMap.
    first_spatial : ndarray (N,), int64
        Variable of the first SpatialMap in loop order.
    """

    level: Level
    mapped: np.ndarray
    unique: np.ndarray
    mapped_edge: np.ndarray
    unique_edge: np.ndarray
    out_mapped: np.ndarray
    out_unique: np.ndarray
    out_mapped_edge: np.ndarray
    out_unique_edge: np.ndarray
    units: np.ndarray
    edge_units: np.ndarray
    first_spatial: np.ndarray


def level_tables(spec: LayerSpec, level: Level) -> LevelTables:
    """Compute the static tables of ``level`` (ReuseAnalysis/ClusterUnit constructors)."""
    m, o, dim = level.size, level.offset, level.dims
    steady = np.maximum(cdiv(dim - m, o), 0)
    has_edge = (steady * o + m < dim) | (m > dim)
    unique = np.where(~level.spatial & (dim <= m), 0, np.minimum(m, o))
    edge_map = dim - (steady + 1) * o
    edge_map = np.where(edge_map < 0, dim, edge_map)
    mapped_edge = np.where(has_edge, edge_map, m)
    unique_edge = np.maximum(o - (m - edge_map), 0)

    out_mapped, out_unique = m.copy(), unique.copy()
    out_mapped_edge, out_unique_edge = mapped_edge.copy(), unique_edge.copy()
    for ref in np.nonzero(spec.sliding >= 0)[0]:
        slide = spec.sliding[ref]
        out_mapped[:, ref] = m[:, ref] - m[:, slide] + 1
        out_unique[:, ref] = np.minimum(o[:, ref], m[:, ref])
        out_mapped_edge[:, ref] = mapped_edge[:, ref] - mapped_edge[:, slide] + 1
        out_unique_edge[:, ref] = np.minimum(o[:, ref], out_mapped_edge[:, ref])

    rows = np.arange(m.shape[0])
    spatial_in_order = np.take_along_axis(level.spatial, level.order, axis=1)
    first_pos = np.argmax(spatial_in_order, axis=1)
    first_var = level.order[rows, first_pos]
    edge_units = _edge_units(dim[rows, first_var], m[rows, first_var], o[rows, first_var],
                             level.units)
    return LevelTables(level, m, unique, mapped_edge, unique_edge, out_mapped, out_unique,
                       out_mapped_edge, out_unique_edge, level.units, edge_units, first_var)


def _edge_units(dim, m, o, units):
    """Active sub-units at the spatial edge (ClusterUnit's spatial edge analysis)."""
    coverage = o * (units - 1) + m
    steady = cdiv(cdiv(dim - m, o) + 1, units) - 1
    remaining = dim - (steady + 1) * o * units
    beyond = np.where(remaining < m, 1, cdiv(remaining - m, o) + 1)
    within = cdiv(dim - m, o) + 1
    within = within + (o * (within - 1) + m < dim)
    within = np.where(dim > m, within, 1)
    edge = np.where(dim > coverage, beyond, within)
    return np.where(dim <= m, 1, edge)
