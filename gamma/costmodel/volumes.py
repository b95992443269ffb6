"""Per-case data volumes of one cluster level (maestro-model.md §4.4-4.6), compiled.

:func:`row_volumes` computes, for one case-class row of a level call, the
critical-path partial sums, the MACs of the step, the output egress, the ingress
of both input tensors and the tile sizes handed to the level below.  Each helper
mirrors one of MAESTRO's reuse-analysis functions: per directive it picks one
of the level-static sizes (mapped / unique / edge variants, see
:mod:`gamma.costmodel.tables`) and multiplies over the directives coupled to a
tensor.

Sub-unit roles: the *first* sub-unit of a spatial step, the *other* sub-units
(which reuse what overlaps with their neighbour), and the *edge-edge* unit
(``ee``: the last active one at a spatial edge, with a partial tile).

Array layout of a level (V loop positions):

* ``sizes`` (V, 8) int64, columns of :mod:`gamma.costmodel.tables`;
* ``spatial`` (V,) bool: SpatialMap at that position;
* ``coupled`` (V, 3) bool per tensor (:data:`INPUT`, :data:`FILTER`, :data:`OUTPUT`);
* ``tensor_order`` (3, T) int64: loop positions of each tensor's dimensions in
  MAESTRO's order, padded with -1;
* ``st`` (5, V) bool: the call's iteration states (:mod:`gamma.costmodel.cases`).
"""
from __future__ import annotations

from numba import njit

from gamma.costmodel.cases import EDGE, EDGE_EE, INIT, INIT_EDGE, STEADY, UNROLLED
from gamma.costmodel.tables import (MAPPED, MAPPED_EDGE, OUT_MAPPED, OUT_MAPPED_EDGE,
                                    OUT_UNIQUE, OUT_UNIQUE_EDGE, UNIQUE, UNIQUE_EDGE)

INPUT, FILTER, OUTPUT = 0, 1, 2


@njit(cache=True, error_model="numpy")
def _nonzero(x):
    """MAESTRO skips a factor of 0 in some products."""
    return x if x != 0 else 1


@njit(cache=True, error_model="numpy")
def _mapped_volume(pos, is_edge, tensor, first, ee, sizes, spatial, coupled, edge_units):
    """Full tile of a sub-unit in the all-Init case (GetPEMappedVolume)."""
    result = 1
    for p in range(pos.shape[0]):
        if not coupled[p, tensor]:
            continue
        if spatial[p] and is_edge[p]:
            if edge_units == 1:
                result *= sizes[p, MAPPED_EDGE] if (first or ee) else 1
            else:
                result *= sizes[p, MAPPED_EDGE] if ee else sizes[p, MAPPED]
        elif is_edge[p]:
            result *= sizes[p, MAPPED_EDGE]
        else:
            result *= sizes[p, MAPPED]
    return result


@njit(cache=True, error_model="numpy")
def _inited(c, tensor, st, coupled):
    """A directive inside ``c`` coupled to the tensor restarts (is not unrolled)."""
    for p in range(c + 1, coupled.shape[0]):
        if coupled[p, tensor] and not st[UNROLLED, p]:
            return True
    return False


@njit(cache=True, error_model="numpy")
def _pe_ingress(c, pos, is_edge, tensor, first, ee, inited, sizes, spatial, coupled,
                edge_units):
    """New elements of an input tensor one sub-unit receives (GetPEIngressVolume)."""
    if c < 0:
        return _mapped_volume(pos, is_edge, tensor, first, ee, sizes, spatial, coupled,
                              edge_units)
    if not coupled[c, tensor]:
        return 0                       # the tensor is stationary: temporal reuse
    result = 1
    for p in range(pos.shape[0]):
        if not coupled[p, tensor]:
            continue
        changing = p == c and not inited
        if spatial[p]:
            full = sizes[p, MAPPED_EDGE] if ee else sizes[p, MAPPED]
            reuse = sizes[p, UNIQUE_EDGE] if ee else sizes[p, UNIQUE]
            if first:
                result *= full
            elif pos[p] == INIT:
                result *= full if p <= c else reuse
            else:
                result *= reuse if changing else full
        elif pos[p] == INIT:
            result *= sizes[p, MAPPED_EDGE] if is_edge[p] else sizes[p, MAPPED]
        else:
            result *= max(sizes[p, UNIQUE], 1) if changing else sizes[p, MAPPED]
    return result


@njit(cache=True, error_model="numpy")
def _spatial_info(is_edge, has_ee, tensor, include_all, spatial, tensor_order):
    """Spatial edge state of a tensor's spatially mapped dimension, scanned as MAESTRO does.

    Returns (mapped, edge, ee): any scanned dimension is a SpatialMap, any of
    those is at an edge, and the edge-edge flag of the last one scanned.
    """
    mapped, edge, ee = False, False, False
    for k in range(tensor_order.shape[1]):
        p = tensor_order[tensor, k]
        if p < 0:
            break
        if spatial[p]:
            mapped = True
            edge = edge or is_edge[p]
            ee = has_ee[p]
    if include_all:
        for p in range(spatial.shape[0]):
            if spatial[p]:
                mapped = True
                edge = edge or is_edge[p]
                ee = has_ee[p]
    return mapped, edge, ee


@njit(cache=True, error_model="numpy")
def _level_ingress(c, pos, is_edge, has_ee, tensor, sizes, spatial, st, coupled, tensor_order,
                   units, edge_units):
    """Ingress of an input tensor over the active sub-units (GetSpatialIngressTraffic)."""
    inited = _inited(c, tensor, st, coupled)
    mapped, edge, ee = _spatial_info(is_edge, has_ee, tensor, False, spatial, tensor_order)
    first = _pe_ingress(c, pos, is_edge, tensor, True, False, inited, sizes, spatial,
                        coupled, edge_units)
    if not mapped:
        return first
    if not edge:
        return first + (units - 1) * _pe_ingress(c, pos, is_edge, tensor, False, False,
                                                 inited, sizes, spatial, coupled, edge_units)
    if edge_units == 1 and ee:
        first = _pe_ingress(c, pos, is_edge, tensor, True, True, inited, sizes, spatial,
                            coupled, edge_units)
    if edge_units > 1:
        full_units = max(edge_units - (1 if ee else 0) - 1, 0)
        if full_units:
            first += full_units * _pe_ingress(c, pos, is_edge, tensor, False, False, inited,
                                              sizes, spatial, coupled, edge_units)
        if ee:
            first += _pe_ingress(c, pos, is_edge, tensor, False, True, inited, sizes, spatial,
                                 coupled, edge_units)
    return first


@njit(cache=True, error_model="numpy")
def _silent_exit(c, tensor, sizes, spatial, st, coupled):
    """MAESTRO terminates when a changing TemporalMap has a level-static unique size of 0."""
    if c < 0 or not coupled[c, tensor] or spatial[c]:
        return False
    return sizes[c, UNIQUE] == 0 and not _inited(c, tensor, st, coupled)


@njit(cache=True, error_model="numpy")
def _pe_egress(pos, is_edge, partial_sums, first, ee, reuse_at_edge, sizes, spatial, coupled,
               edge_units):
    """Output volume of one sub-unit, or its partial sums (GetPEEgressVolume).

    With ``partial_sums`` the product also runs over the non-output (reduction)
    directives, giving the MACs of the sub-unit's step.
    """
    one_edge_unit = edge_units == 1
    result = 1
    for p in range(pos.shape[0]):
        state = pos[p]
        if not coupled[p, OUTPUT]:
            if not partial_sums:
                continue
            if not spatial[p]:
                result *= sizes[p, MAPPED_EDGE] if is_edge[p] else sizes[p, MAPPED]
                continue
            plain = sizes[p, MAPPED] if first else _nonzero(sizes[p, UNIQUE])
            if state == INIT:
                result *= sizes[p, MAPPED_EDGE] if (is_edge[p] and ee) else plain
            elif state == STEADY:
                result *= plain
            elif one_edge_unit:
                result *= sizes[p, MAPPED_EDGE] if (first or ee) else 1
            else:
                result *= sizes[p, UNIQUE_EDGE] if ee else plain
            continue
        if not spatial[p]:
            if state == INIT:
                result *= sizes[p, OUT_MAPPED_EDGE] if is_edge[p] else sizes[p, OUT_MAPPED]
            elif state == STEADY:
                result *= sizes[p, OUT_MAPPED]
            else:
                result *= sizes[p, OUT_MAPPED_EDGE]
            continue
        plain = sizes[p, OUT_MAPPED] if first else _nonzero(sizes[p, OUT_UNIQUE])
        if state == INIT:
            if is_edge[p] and ee:
                if one_edge_unit or not reuse_at_edge:
                    result *= sizes[p, OUT_MAPPED_EDGE]
                else:
                    result *= sizes[p, OUT_UNIQUE_EDGE]
            else:
                result *= plain
        elif state == STEADY:
            result *= plain
        elif one_edge_unit:
            # MAESTRO reads the input-space edge size here (not Y'/X').
            result *= sizes[p, MAPPED_EDGE] if (first or ee) else 1
        else:
            result *= sizes[p, OUT_UNIQUE_EDGE] if ee else plain
    return result


@njit(cache=True, error_model="numpy")
def row_volumes(c, pos, sizes, spatial, coupled, tensor_order, st, units, edge_units,
                first_spatial, is_edge, has_ee, sub_normal, sub_ee):
    """Volumes of one case-class row of a level call.

    Parameters
    ----------
    c : int
        Changing loop position (-1: all Init).
    pos : ndarray (V,), int8
        Representative position (INIT/STEADY/EDGE) per directive.
    sizes, spatial, coupled, tensor_order, st : level and call arrays (module docstring)
    units, edge_units : int
        Sub-units of the level, active ones at the spatial edge.
    first_spatial : int
        Loop position of the level's first SpatialMap.
    is_edge, has_ee : bool ndarray (V,), scratch
    sub_normal, sub_ee : int64 ndarray (V,), output
        Dimension sizes for the level below (ConstructSubClusterDimension), per
        loop position, for the regular units and for the edge-edge unit.

    Returns
    -------
    tuple
        Critical-path partial sums, MACs of the step, output egress, input
        ingress, filter ingress (ints); silent exit, first SpatialMap at an
        edge, its edge-edge flag (bools).
    """
    nvar = pos.shape[0]
    for p in range(nvar):
        is_edge[p] = pos[p] == EDGE or (pos[p] == INIT and st[INIT_EDGE, p])
        if pos[p] == EDGE:
            has_ee[p] = st[EDGE_EE, p]
        else:
            has_ee[p] = pos[p] == INIT and is_edge[p]

    # Output: egress (GetSpatialEgressTraffic), critical-path partial sums
    # (GetNumCriticalPathPartialSums), MACs of the step
    # (GetOutputTensorSpatialMappingSize for partial sums).
    mapped, edge, ee = _spatial_info(is_edge, has_ee, OUTPUT, False, spatial, tensor_order)
    out_first = _pe_egress(pos, is_edge, False, True, False, True, sizes, spatial, coupled,
                           edge_units)
    psum_first = _pe_egress(pos, is_edge, True, True, False, True, sizes, spatial, coupled,
                            edge_units)
    if not mapped:
        egress = out_first
    elif not edge:
        egress = out_first + (units - 1) * _pe_egress(
            pos, is_edge, False, False, False, True, sizes, spatial, coupled, edge_units)
    else:
        egress = out_first
        if edge_units == 1 and ee:
            egress = _pe_egress(pos, is_edge, False, True, True, True, sizes, spatial, coupled,
                                edge_units)
        if edge_units > 1:
            egress += max(edge_units - (1 if ee else 0) - 1, 0) * _pe_egress(
                pos, is_edge, False, False, False, True, sizes, spatial, coupled, edge_units)
            if ee:
                egress += _pe_egress(pos, is_edge, False, False, True, True, sizes, spatial,
                                     coupled, edge_units)
    if mapped and edge and edge_units == 1 and ee:
        critical = _pe_egress(pos, is_edge, True, True, True, True, sizes, spatial, coupled,
                              edge_units)
    else:
        critical = psum_first
    _, any_edge, last_ee = _spatial_info(is_edge, has_ee, OUTPUT, True, spatial, tensor_order)
    if not any_edge:
        macs = units * psum_first
    else:
        macs = psum_first
        if edge_units == 1 and last_ee:
            macs = _pe_egress(pos, is_edge, True, True, True, True, sizes, spatial, coupled,
                              edge_units)
        if edge_units > 1:
            macs += max(edge_units - (1 if last_ee else 0) - 1, 0) * psum_first
            if last_ee:
                macs += _pe_egress(pos, is_edge, True, False, True, False, sizes, spatial,
                                   coupled, edge_units)
    ingress_input = _level_ingress(c, pos, is_edge, has_ee, INPUT, sizes, spatial, st, coupled,
                                   tensor_order, units, edge_units)
    ingress_filter = _level_ingress(c, pos, is_edge, has_ee, FILTER, sizes, spatial, st,
                                    coupled, tensor_order, units, edge_units)
    exits = (_silent_exit(c, INPUT, sizes, spatial, st, coupled)
             or _silent_exit(c, FILTER, sizes, spatial, st, coupled))

    # Tile sizes for the level below (ConstructSubClusterDimension).
    for p in range(nvar):
        if spatial[p] and (is_edge[p] or pos[p] == EDGE):
            sub_normal[p] = sizes[p, MAPPED_EDGE] if edge_units == 1 else sizes[p, MAPPED]
            sub_ee[p] = sizes[p, MAPPED_EDGE]
        elif is_edge[p] and not spatial[p]:
            sub_normal[p] = sub_ee[p] = sizes[p, MAPPED_EDGE]
        else:
            sub_normal[p] = sub_ee[p] = sizes[p, MAPPED]
    return (critical, macs, egress, ingress_input, ingress_filter, exits,
            is_edge[first_spatial], has_ee[first_spatial])


@njit(cache=True, error_model="numpy")
def mapped_volume(sizes, coupled, tensor):
    """Tile of a tensor with the level-static mapped sizes (GetMappedVolume)."""
    out = 1
    for p in range(sizes.shape[0]):
        if coupled[p, tensor]:
            out *= sizes[p, MAPPED]
    return out
