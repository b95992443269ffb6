"""From the user's directives to MAESTRO's completed cluster levels (maestro-model.md §2.1).

For one candidate this module reproduces what MAESTRO's cluster analysis does
before any cost is computed:

* checks the level structure (known dimensions, one directive per dimension,
  one or two SpatialMaps, R/S TemporalMaps covering the whole filter, at most
  three Cluster directives, cluster sizes fitting the PEs);
* rewrites ``Y'``/``X'`` directives to input rows/columns (size ``s + Sz(R) - 1``
  with the level's R directive);
* prepends the upper level's directives on dimensions the level leaves out, as
  TemporalMaps, in reverse upper order; at the top level appends
  ``TemporalMap(dim, dim)`` for every missing dimension, alphabetically;
* applies the stride fix to Y/X directives (discarding the user's offset);
* derives each lower level's dimension sizes ``min(directive size, dim size)``
  and the number of sub-units per level.

After completion every level maps each layer variable exactly once, so a level
is fully described by per-variable arrays of length V plus the loop order.
The function is compiled and called once per candidate by
:func:`gamma.costmodel.engine.evaluate_batch`.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gamma.costmodel import reasons as R
from gamma.costmodel.directives import DIM_NAMES, EMPTY
from gamma.costmodel.layertable import LayerSpec

#: MAESTRO supports at most three Cluster directives.
MAX_LEVELS = 3
#: Dimension codes, plus one for unused slots.
NUM_CODES = len(DIM_NAMES) + 1


def code_tables(spec: LayerSpec):
    """Per dimension code: layer variable (-1: none), is ``Y'``/``X'``, ignorable.

    A batch dimension of size 1 is not a layer variable; directives on it map a
    single element and are dropped (ignorable).
    """
    code_to_var = np.full(NUM_CODES, -1, dtype=np.int64)
    is_output_code = np.zeros(NUM_CODES, dtype=np.bool_)
    ignorable = np.zeros(NUM_CODES, dtype=np.bool_)
    for code, name in enumerate(DIM_NAMES):
        base = name.rstrip("'")
        if base in spec.index:
            code_to_var[code] = spec.index[base]
        is_output_code[code] = name.endswith("'")
    if "N" not in spec.index and spec.layer.N == 1:
        ignorable[DIM_NAMES.index("N")] = True
    return code_to_var, is_output_code, ignorable


@njit(cache=True, error_model="numpy")
def complete_candidate(i, dim, size, offset, spatial, cluster, num_levels, num_pes,
                       code_to_var, is_output_code, ignorable, spec_sizes, y_var, x_var,
                       r_var, s_var, stride, lv_size, lv_ofs, lv_sp, lv_order, lv_dims,
                       lv_units, scratch):
    """Complete every level of candidate ``i`` as MAESTRO does.

    Parameters
    ----------
    dim, size, offset, spatial : ndarray (N, L, D)
        The batch's directives (dimension codes as int64).
    cluster : ndarray (N, L); num_levels, num_pes : ndarray (N,)
    code_to_var, is_output_code, ignorable : see :func:`code_tables`
    spec_sizes : ndarray (V,), layer dimension sizes
    y_var, x_var, r_var, s_var, stride : the layer's sliding-window variables
    lv_size, lv_ofs, lv_sp, lv_order, lv_dims : ndarray (MAX_LEVELS, V), output
        Directive size, offset, SpatialMap flag per variable; variable at each
        loop position (outermost first); the level's own ("static") dimension sizes.
    lv_units : ndarray (MAX_LEVELS,), output
        Sub-units (sub-clusters or PEs) of one cluster of each level.
    scratch : ndarray (8, V), int64
        Working memory.

    Returns
    -------
    int
        The first structural error (:mod:`gamma.costmodel.reasons`), checks in
        MAESTRO's order; ``R.OK`` when every level is complete.
    """
    nl = num_levels[i]
    if nl > MAX_LEVELS:
        return R.TOO_MANY_LEVELS
    if nl < 1:
        return R.NO_SPATIAL_MAP
    slots = dim.shape[2]
    nvar = spec_sizes.shape[0]
    # Number of top-level sub-clusters: floor(num_pes / product of Cluster sizes).
    cluster_product = 1
    for lvl in range(1, cluster.shape[1]):
        if lvl < nl:
            if cluster[i, lvl] < 1:
                return R.BAD_DIRECTIVE_VALUE
            cluster_product *= cluster[i, lvl]
    top_units = num_pes[i] // cluster_product
    if top_units < 1:
        return R.CLUSTERS_EXCEED_PES

    v_size, v_ofs, v_sp, v_out = scratch[0], scratch[1], scratch[2], scratch[3]
    given, key, upper_rank = scratch[4], scratch[5], scratch[6]
    dims = scratch[7]
    dims[:] = spec_sizes
    for lvl in range(nl):
        v_size[:] = 0
        v_ofs[:] = 0
        v_sp[:] = 0
        v_out[:] = 0
        given[:] = 0
        num_spatial = 0
        unknown = duplicate = bad_value = rs_not_full = False
        for slot in range(slots):
            code = dim[i, lvl, slot]
            if code == EMPTY or ignorable[code]:
                continue
            var = code_to_var[code]
            sp = spatial[i, lvl, slot]
            num_spatial += sp
            if var < 0:
                unknown = True
                continue
            duplicate = duplicate or given[var] != 0
            sz, of = size[i, lvl, slot], offset[i, lvl, slot]
            bad_value = bad_value or sz < 1 or of < 1
            # Since 2021 MAESTRO demands TemporalMap(Sz(R), Sz(R)) R (and S alike).
            if (not sp and (var == r_var or var == s_var)
                    and (sz != spec_sizes[var] or of != spec_sizes[var])):
                rs_not_full = True
            v_size[var], v_ofs[var], v_sp[var] = sz, of, sp
            v_out[var] = is_output_code[code]
            key[var] = slot
            given[var] = 1
        if unknown:
            return R.UNKNOWN_DIMENSION
        if duplicate:
            return R.DUPLICATE_DIMENSION
        if num_spatial == 0:
            return R.NO_SPATIAL_MAP
        if num_spatial > 2:
            return R.TOO_MANY_SPATIAL_MAPS
        if bad_value:
            return R.BAD_DIRECTIVE_VALUE
        if rs_not_full:
            return R.RS_TEMPORAL_NOT_FULL
        # Y'/X' -> Y/X with the level's own R/S directive size.
        for ref, slide in ((y_var, r_var), (x_var, s_var)):
            if given[ref] and v_out[ref]:
                if given[slide] == 0:
                    return R.OUTPUT_DIM_WITHOUT_FILTER
                v_size[ref] += v_size[slide] - 1
        for var in range(nvar):
            if given[var]:
                continue
            if lvl == 0:
                # Top level: unroll every missing variable, appended alphabetically.
                v_size[var] = v_ofs[var] = dims[var]
                key[var] = 1_000 + var
            else:
                # Inherit the upper level's directive as a TemporalMap, prepended
                # in reverse upper loop order.
                v_size[var] = lv_size[lvl - 1, var]
                v_ofs[var] = lv_ofs[lvl - 1, var]
                key[var] = -1 - upper_rank[var]
        _sort_by_key(key, lv_order[lvl])
        _apply_outer_stride(v_size, v_ofs, y_var, r_var, x_var, s_var, spec_sizes, stride,
                            lvl == 0)
        for var in range(nvar):
            lv_size[lvl, var] = max(v_size[var], 1)
            lv_ofs[lvl, var] = max(v_ofs[var], 1)
            lv_sp[lvl, var] = v_sp[var] != 0
            lv_dims[lvl, var] = dims[var]
        lv_units[lvl] = top_units if lvl == 0 else max(cluster[i, lvl], 1)
        for p in range(nvar):
            upper_rank[lv_order[lvl, p]] = p
        # Lower level dimension sizes (ConstructLowerClusterDimensionTable).
        for var in range(nvar):
            dims[var] = min(lv_size[lvl, var], dims[var])
    return R.OK


@njit(cache=True, error_model="numpy")
def _sort_by_key(key, order):
    """``order`` = the variables sorted by ``key`` (stable insertion sort)."""
    n = key.shape[0]
    for p in range(n):
        order[p] = p
    for p in range(1, n):
        var = order[p]
        q = p - 1
        while q >= 0 and key[order[q]] > key[var]:
            order[q + 1] = order[q]
            q -= 1
        order[q + 1] = var


@njit(cache=True, error_model="numpy")
def _apply_outer_stride(size, offset, y_var, r_var, x_var, s_var, spec_sizes, stride, is_top):
    """MAESTRO's stride fix on Y/X directives, in place (§2.1 rule c).

    For stride ``st != 1`` and a directive at least as large as the full filter
    side ``Rf``: ``out = (size + st - Rf) // st``; ``size = out*min(st, Rf) +
    max(Rf - st, 0)``; ``offset = out*st`` (``out*Rf`` below the top level when
    ``Rf < st``).
    """
    st = stride
    if st == 1:
        return
    for ref, slide in ((y_var, r_var), (x_var, s_var)):
        full = spec_sizes[slide]
        if size[ref] >= full:
            out = (size[ref] + st - full) // st
            size[ref] = out * min(st, full) + max(full - st, 0)
            offset[ref] = out * (full if (not is_top and full < st) else st)
