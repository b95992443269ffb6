"""Per-case data volumes of one cluster level (maestro-model.md §4.4-4.6), compiled.

One pass over the case-class rows of many level calls computes, per row, the
critical-path partial sums, the MACs of the step, the output egress, the ingress
of both input tensors and the tile sizes handed to the level below.  Each helper
mirrors one of MAESTRO's reuse-analysis functions: per directive it picks one
of the level-static sizes (mapped / unique / edge variants, see
:mod:`gamma.costmodel.tables`) and multiplies over the directives coupled to a
tensor.  This is the measured hot spot of the model, so it is compiled with
numba; everything around it stays in NumPy.

Sub-unit roles: the *first* sub-unit of a spatial step, the *other* sub-units
(which reuse what overlaps with their neighbour), and the *edge-edge* unit
(``ee``: the last active one at a spatial edge, with a partial tile).

Array layout (J jobs, V loop positions):

* ``sizes`` (J, V, 8) int64, columns :data:`MAPPED` ... :data:`OUT_UNIQUE_EDGE`;
* ``flags`` (J, V, 4) bool, columns :data:`SPATIAL`, :data:`UNROLLED`,
  :data:`INIT_EDGE`, :data:`EDGE_EE`;
* ``coupled`` (J, V, 3) bool per tensor (:data:`INPUT`, :data:`FILTER`, :data:`OUTPUT`);
* ``tensor_order`` (J, 3, T) int64: loop positions of each tensor's dimensions in
  MAESTRO's order, padded with -1.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gamma.costmodel.cases import EDGE, INIT, STEADY

MAPPED, UNIQUE, MAPPED_EDGE, UNIQUE_EDGE = 0, 1, 2, 3
OUT_MAPPED, OUT_UNIQUE, OUT_MAPPED_EDGE, OUT_UNIQUE_EDGE = 4, 5, 6, 7
SPATIAL, UNROLLED, INIT_EDGE, EDGE_EE = 0, 1, 2, 3
INPUT, FILTER, OUTPUT = 0, 1, 2


@njit(cache=True, error_model="numpy")
def _nonzero(x):
    """MAESTRO skips a factor of 0 in some products."""
    return x if x != 0 else 1


@njit(cache=True, error_model="numpy")
def _mapped_volume(j, pos, is_edge, tensor, first, ee, sizes, flags, coupled, edge_units):
    """Full tile of a sub-unit in the all-Init case (GetPEMappedVolume)."""
    result = 1
    for p in range(pos.shape[0]):
        if not coupled[j, p, tensor]:
            continue
        if flags[j, p, SPATIAL] and is_edge[p]:
            if edge_units == 1:
                result *= sizes[j, p, MAPPED_EDGE] if (first or ee) else 1
            else:
                result *= sizes[j, p, MAPPED_EDGE] if ee else sizes[j, p, MAPPED]
        elif is_edge[p]:
            result *= sizes[j, p, MAPPED_EDGE]
        else:
            result *= sizes[j, p, MAPPED]
    return result


@njit(cache=True, error_model="numpy")
def _inited(j, c, tensor, flags, coupled, nvar):
    """A directive inside ``c`` coupled to the tensor restarts (is not unrolled)."""
    for p in range(c + 1, nvar):
        if coupled[j, p, tensor] and not flags[j, p, UNROLLED]:
            return True
    return False


@njit(cache=True, error_model="numpy")
def _pe_ingress(j, c, pos, is_edge, tensor, first, ee, inited, sizes, flags, coupled,
                edge_units):
    """New elements of an input tensor one sub-unit receives (GetPEIngressVolume)."""
    if c < 0:
        return _mapped_volume(j, pos, is_edge, tensor, first, ee, sizes, flags, coupled,
                              edge_units)
    if not coupled[j, c, tensor]:
        return 0                       # the tensor is stationary: temporal reuse
    result = 1
    for p in range(pos.shape[0]):
        if not coupled[j, p, tensor]:
            continue
        changing = p == c and not inited
        if flags[j, p, SPATIAL]:
            full = sizes[j, p, MAPPED_EDGE] if ee else sizes[j, p, MAPPED]
            reuse = sizes[j, p, UNIQUE_EDGE] if ee else sizes[j, p, UNIQUE]
            if first:
                result *= full
            elif pos[p] == INIT:
                result *= full if p <= c else reuse
            else:
                result *= reuse if changing else full
        elif pos[p] == INIT:
            result *= sizes[j, p, MAPPED_EDGE] if is_edge[p] else sizes[j, p, MAPPED]
        else:
            result *= max(sizes[j, p, UNIQUE], 1) if changing else sizes[j, p, MAPPED]
    return result


@njit(cache=True, error_model="numpy")
def _spatial_info(j, pos, is_edge, has_ee, tensor, include_all, flags, tensor_order):
    """Spatial edge state of a tensor's spatially mapped dimension, scanned as MAESTRO does.

    Returns (mapped, edge, ee): any scanned dimension is a SpatialMap, any of
    those is at an edge, and the edge-edge flag of the last one scanned.
    """
    mapped, edge, ee = False, False, False
    for k in range(tensor_order.shape[2]):
        p = tensor_order[j, tensor, k]
        if p < 0:
            break
        if flags[j, p, SPATIAL]:
            mapped = True
            edge = edge or is_edge[p]
            ee = has_ee[p]
    if include_all:
        for p in range(pos.shape[0]):
            if flags[j, p, SPATIAL]:
                mapped = True
                edge = edge or is_edge[p]
                ee = has_ee[p]
    return mapped, edge, ee


@njit(cache=True, error_model="numpy")
def _level_ingress(j, c, pos, is_edge, has_ee, tensor, sizes, flags, coupled, tensor_order,
                   units, edge_units):
    """Ingress of an input tensor over the active sub-units (GetSpatialIngressTraffic)."""
    nvar = pos.shape[0]
    inited = _inited(j, c, tensor, flags, coupled, nvar)
    mapped, edge, ee = _spatial_info(j, pos, is_edge, has_ee, tensor, False, flags,
                                     tensor_order)
    first = _pe_ingress(j, c, pos, is_edge, tensor, True, False, inited, sizes, flags,
                        coupled, edge_units)
    if not mapped:
        return first
    if not edge:
        return first + (units - 1) * _pe_ingress(j, c, pos, is_edge, tensor, False, False,
                                                 inited, sizes, flags, coupled, edge_units)
    if edge_units == 1 and ee:
        first = _pe_ingress(j, c, pos, is_edge, tensor, True, True, inited, sizes, flags,
                            coupled, edge_units)
    if edge_units > 1:
        full_units = max(edge_units - (1 if ee else 0) - 1, 0)
        if full_units:
            first += full_units * _pe_ingress(j, c, pos, is_edge, tensor, False, False, inited,
                                              sizes, flags, coupled, edge_units)
        if ee:
            first += _pe_ingress(j, c, pos, is_edge, tensor, False, True, inited, sizes, flags,
                                 coupled, edge_units)
    return first


@njit(cache=True, error_model="numpy")
def _silent_exit(j, c, tensor, sizes, flags, coupled, nvar):
    """MAESTRO terminates when a changing TemporalMap has a level-static unique size of 0."""
    if c < 0 or not coupled[j, c, tensor] or flags[j, c, SPATIAL]:
        return False
    return sizes[j, c, UNIQUE] == 0 and not _inited(j, c, tensor, flags, coupled, nvar)


@njit(cache=True, error_model="numpy")
def _pe_egress(j, pos, is_edge, partial_sums, first, ee, reuse_at_edge, sizes, flags, coupled,
               edge_units):
    """Output volume of one sub-unit, or its partial sums (GetPEEgressVolume).

    With ``partial_sums`` the product also runs over the non-output (reduction)
    directives, giving the MACs of the sub-unit's step.
    """
    one_edge_unit = edge_units == 1
    result = 1
    for p in range(pos.shape[0]):
        spatial = flags[j, p, SPATIAL]
        state = pos[p]
        if not coupled[j, p, OUTPUT]:
            if not partial_sums:
                continue
            if not spatial:
                result *= sizes[j, p, MAPPED_EDGE] if is_edge[p] else sizes[j, p, MAPPED]
                continue
            plain = sizes[j, p, MAPPED] if first else _nonzero(sizes[j, p, UNIQUE])
            if state == INIT:
                result *= sizes[j, p, MAPPED_EDGE] if (is_edge[p] and ee) else plain
            elif state == STEADY:
                result *= plain
            elif one_edge_unit:
                result *= sizes[j, p, MAPPED_EDGE] if (first or ee) else 1
            else:
                result *= sizes[j, p, UNIQUE_EDGE] if ee else plain
            continue
        if not spatial:
            if state == INIT:
                result *= sizes[j, p, OUT_MAPPED_EDGE] if is_edge[p] else sizes[j, p, OUT_MAPPED]
            elif state == STEADY:
                result *= sizes[j, p, OUT_MAPPED]
            else:
                result *= sizes[j, p, OUT_MAPPED_EDGE]
            continue
        plain = sizes[j, p, OUT_MAPPED] if first else _nonzero(sizes[j, p, OUT_UNIQUE])
        if state == INIT:
            if is_edge[p] and ee:
                if one_edge_unit or not reuse_at_edge:
                    result *= sizes[j, p, OUT_MAPPED_EDGE]
                else:
                    result *= sizes[j, p, OUT_UNIQUE_EDGE]
            else:
                result *= plain
        elif state == STEADY:
            result *= plain
        elif one_edge_unit:
            # MAESTRO reads the input-space edge size here (not Y'/X').
            result *= sizes[j, p, MAPPED_EDGE] if (first or ee) else 1
        else:
            result *= sizes[j, p, OUT_UNIQUE_EDGE] if ee else plain
    return result


@njit(cache=True, error_model="numpy")
def evaluate_rows(job, case_c, case_pos, sizes, flags, coupled, tensor_order, units,
                  edge_units, first_spatial):
    """Per-row volumes of case-class rows.

    Parameters
    ----------
    job, case_c : ndarray (M,), int64
        Job of each row and its changing loop position (-1: all Init).
    case_pos : ndarray (M, V), int8
        Representative position (INIT/STEADY/EDGE) per directive.
    sizes, flags, coupled, tensor_order : job arrays (see module docstring)
    units, edge_units : ndarray (J,), int64
    first_spatial : ndarray (J,), int64
        Loop position of the level's first SpatialMap.

    Returns
    -------
    ints : ndarray (M, 5), int64
        Critical-path partial sums, MACs of the step, output egress, input
        ingress, filter ingress.
    bools : ndarray (M, 3), bool
        Silent exit, first SpatialMap at an edge, its edge-edge flag.
    sub_normal, sub_ee : ndarray (M, V), int64
        Dimension sizes for the lower level (ConstructSubClusterDimension),
        for the regular units and for the edge-edge unit.
    """
    m, nvar = case_pos.shape
    ints = np.empty((m, 5), dtype=np.int64)
    bools = np.empty((m, 3), dtype=np.bool_)
    sub_normal = np.empty((m, nvar), dtype=np.int64)
    sub_ee = np.empty((m, nvar), dtype=np.int64)
    is_edge = np.empty(nvar, dtype=np.bool_)
    has_ee = np.empty(nvar, dtype=np.bool_)
    for r in range(m):
        j = job[r]
        c = case_c[r]
        pos = case_pos[r]
        n_units = units[j]
        e_units = edge_units[j]
        for p in range(nvar):
            is_edge[p] = pos[p] == EDGE or (pos[p] == INIT and flags[j, p, INIT_EDGE])
            if pos[p] == EDGE:
                has_ee[p] = flags[j, p, EDGE_EE]
            else:
                has_ee[p] = pos[p] == INIT and is_edge[p]

        # Output: egress (GetSpatialEgressTraffic), critical-path partial sums
        # (GetNumCriticalPathPartialSums), MACs of the step
        # (GetOutputTensorSpatialMappingSize for partial sums).
        mapped, edge, ee = _spatial_info(j, pos, is_edge, has_ee, OUTPUT, False, flags,
                                         tensor_order)
        out_first = _pe_egress(j, pos, is_edge, False, True, False, True, sizes, flags,
                               coupled, e_units)
        psum_first = _pe_egress(j, pos, is_edge, True, True, False, True, sizes, flags,
                                coupled, e_units)
        at_edge = mapped and edge
        if not mapped:
            egress = out_first
        elif not edge:
            egress = out_first + (n_units - 1) * _pe_egress(
                j, pos, is_edge, False, False, False, True, sizes, flags, coupled, e_units)
        else:
            egress = out_first
            if e_units == 1 and ee:
                egress = _pe_egress(j, pos, is_edge, False, True, True, True, sizes, flags,
                                    coupled, e_units)
            if e_units > 1:
                egress += max(e_units - (1 if ee else 0) - 1, 0) * _pe_egress(
                    j, pos, is_edge, False, False, False, True, sizes, flags, coupled, e_units)
                if ee:
                    egress += _pe_egress(j, pos, is_edge, False, False, True, True, sizes,
                                         flags, coupled, e_units)
        if at_edge and e_units == 1 and ee:
            critical = _pe_egress(j, pos, is_edge, True, True, True, True, sizes, flags,
                                  coupled, e_units)
        else:
            critical = psum_first
        _, any_edge, last_ee = _spatial_info(j, pos, is_edge, has_ee, OUTPUT, True, flags,
                                             tensor_order)
        if not any_edge:
            macs = n_units * psum_first
        else:
            macs = psum_first
            if e_units == 1 and last_ee:
                macs = _pe_egress(j, pos, is_edge, True, True, True, True, sizes, flags,
                                  coupled, e_units)
            if e_units > 1:
                macs += max(e_units - (1 if last_ee else 0) - 1, 0) * psum_first
                if last_ee:
                    macs += _pe_egress(j, pos, is_edge, True, False, True, False, sizes, flags,
                                       coupled, e_units)
        ints[r, 0] = critical
        ints[r, 1] = macs
        ints[r, 2] = egress
        exits = False
        for tensor in (INPUT, FILTER):
            ints[r, 3 + tensor] = _level_ingress(j, c, pos, is_edge, has_ee, tensor, sizes,
                                                 flags, coupled, tensor_order, n_units, e_units)
            exits = exits or _silent_exit(j, c, tensor, sizes, flags, coupled, nvar)
        sp = first_spatial[j]
        bools[r, 0] = exits
        bools[r, 1] = is_edge[sp]
        bools[r, 2] = has_ee[sp]

        # Tile sizes for the level below (ConstructSubClusterDimension).
        for p in range(nvar):
            if flags[j, p, SPATIAL] and (is_edge[p] or pos[p] == EDGE):
                sub_normal[r, p] = sizes[j, p, MAPPED_EDGE] if e_units == 1 else sizes[j, p, MAPPED]
                sub_ee[r, p] = sizes[j, p, MAPPED_EDGE]
            elif is_edge[p] and not flags[j, p, SPATIAL]:
                sub_normal[r, p] = sizes[j, p, MAPPED_EDGE]
                sub_ee[r, p] = sizes[j, p, MAPPED_EDGE]
            else:
                sub_normal[r, p] = sizes[j, p, MAPPED]
                sub_ee[r, p] = sizes[j, p, MAPPED]
    return ints, bools, sub_normal, sub_ee


@njit(cache=True, error_model="numpy")
def mapped_volumes(sizes, coupled):
    """(J, 3) tile of each tensor with the level-static mapped sizes (GetMappedVolume)."""
    nj, nvar = sizes.shape[0], sizes.shape[1]
    out = np.ones((nj, 3), dtype=np.int64)
    for j in range(nj):
        for t in range(3):
            for p in range(nvar):
                if coupled[j, p, t]:
                    out[j, t] *= sizes[j, p, MAPPED]
    return out
