"""From the user's directives to MAESTRO's completed cluster levels (maestro-model.md §2.1).

For one candidate this module reproduces what MAESTRO's cluster analysis does
before any cost is computed:

* checks the level structure (known dimensions, one directive per dimension
  except MAESTRO's row-stationary pair on R or S,
  one or two SpatialMaps, R/S TemporalMaps covering the whole filter, at most
  three Cluster directives, cluster sizes fitting the PEs);
* rewrites ``Y'``/``X'`` directives to input rows/columns (size ``s + Sz(R) - 1``
  with the level's R directive; ``(s - 1) * stride + Sz(R)`` in the stride-aware
  analysis, see ``out_stride``);
* prepends the upper level's directives on dimensions the level leaves out, as
  TemporalMaps, in reverse upper order; at the top level appends
  ``TemporalMap(dim, dim)`` for every missing dimension, alphabetically;
* applies the stride fix to Y/X directives (discarding the user's offset);

``out_stride`` selects how output rows relate to input rows: 1 reproduces
MAESTRO, which ignores the stride there (a tile of ``t`` input rows holds
``t - R + 1`` output rows), the layer's stride gives the physical relation
(``(t - R) // stride + 1``).  The two agree wherever a tile holds one output
row per step; MAESTRO overcounts the MACs of strided tiles of several rows,
which the stride-aware analysis (:func:`gamma.costmodel.evaluate`) counts right.
* derives each lower level's dimension sizes ``min(directive size, dim size)``
  and the number of sub-units per level.

After completion every level maps each layer variable exactly once, so a level
is fully described by per-variable arrays of length V plus the loop order (and,
for a row-stationary pair, the temporal half's arguments in ``lv_dup``).
The function is compiled and called once per candidate by
:func:`gamma.costmodel.engine.evaluate_batch`.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gamma.costmodel import reasons as R
from gamma.costmodel.directives import DIM_NAMES, EMPTY
from gamma.costmodel.layertable import LayerSpec

#: MAESTRO supports at most three Cluster directives (four levels).
MAX_LEVELS = 4
#: Dimension codes, plus one for unused slots.
NUM_CODES = len(DIM_NAMES) + 1
#: Rows of :func:`complete_candidate`'s scratch array.
_V_SIZE, _V_OFS, _V_SP, _V_OUT, _GIVEN, _KEY, _UPPER_RANK, _DIMS = range(8)
#: ``code_to_var`` value of a declared dimension that no tensor uses.
_DECLARED_UNUSED = -2


def code_tables(spec: LayerSpec):
    """Per dimension code: layer variable (-1: none, -2: see below), is ``Y'``/``X'``,
    ignorable.

    A batch dimension of size 1 is not a layer variable; directives on it map a
    single element and are dropped (ignorable).  A DSCONV layer's ``K`` (always
    1) is a declared dimension in no tensor (-2): MAESTRO analyses a
    single-level mapping with a TemporalMap on it as if it were absent, and
    rejects it in multi-level mappings (lower levels have no ``K``) or as a
    SpatialMap.
    """
    code_to_var = np.full(NUM_CODES, -1, dtype=np.int64)
    is_output_code = np.zeros(NUM_CODES, dtype=np.bool_)
    ignorable = np.zeros(NUM_CODES, dtype=np.bool_)
    for code, name in enumerate(DIM_NAMES):
        base = name.rstrip("'")
        if base in spec.index:
            code_to_var[code] = spec.index[base]
        is_output_code[code] = name.endswith("'")
    if spec.layer.type == "DSCONV":
        code_to_var[DIM_NAMES.index("K")] = _DECLARED_UNUSED
    if "N" not in spec.index and spec.layer.N == 1:
        ignorable[DIM_NAMES.index("N")] = True
    return code_to_var, is_output_code, ignorable


@njit(cache=True, error_model="numpy")
def _parser_reason(i, nl, dim, size, offset, spatial, code_to_var, ignorable, spec_sizes,
                   r_var, s_var, scratch):
    """The first error MAESTRO's parser finds in candidate ``i``, over all its
    levels: non-positive values, R/S TemporalMaps that are not the full filter,
    then unknown and duplicated dimensions."""
    slots = dim.shape[2]
    bad_value = rs_not_full = unknown = duplicate = False
    for lvl in range(nl):
        for var in range(spec_sizes.shape[0]):
            scratch[_GIVEN, var] = 0
        scratch[_KEY, 0] = 0
        for slot in range(slots):
            code = dim[i, lvl, slot]
            if code == EMPTY or ignorable[code]:
                continue
            var = code_to_var[code]
            sz, of = size[i, lvl, slot], offset[i, lvl, slot]
            bad_value = bad_value or sz < 1 or of < 1
            # Since 2021 MAESTRO demands TemporalMap(Sz(R), Sz(R)) R (and S alike).
            if var < 0:
                unknown = unknown or not (var == _DECLARED_UNUSED and nl == 1
                                          and not spatial[i, lvl, slot])
                continue
            # A second directive on a variable is analysed only in the
            # row-stationary form (see :func:`_is_shadow_pair`); _GIVEN counts
            # the directives on the variable, _KEY counts the level's pairs.
            if scratch[_GIVEN, var] != 0:
                scratch[_KEY, 0] += 1
                duplicate = duplicate or not (
                    scratch[_GIVEN, var] == 1 and scratch[_KEY, 0] == 1
                    and _is_shadow_pair(scratch[_V_SP, var] != 0, spatial[i, lvl, slot], var,
                                        r_var, s_var))
            scratch[_GIVEN, var] += 1
            scratch[_V_SP, var] = spatial[i, lvl, slot]
            if (not spatial[i, lvl, slot] and var in (r_var, s_var)
                    and (sz != spec_sizes[var] or of != spec_sizes[var])):
                rs_not_full = True
    if bad_value:
        return R.BAD_DIRECTIVE_VALUE
    if rs_not_full:
        return R.RS_TEMPORAL_NOT_FULL
    if unknown:
        return R.UNKNOWN_DIMENSION
    if duplicate:
        return R.DUPLICATE_DIMENSION
    return R.OK


@njit(cache=True, error_model="numpy", inline="always")
def _is_shadow_pair(first_spatial, second_spatial, var, r_var, s_var):
    """Whether a second directive on ``var`` forms the pair MAESTRO's row-stationary
    files write: ``SpatialMap(a, b) S`` then ``TemporalMap(Sz(S), Sz(S)) S`` (R alike).

    MAESTRO analyses such a level with the steps of both directives, the
    iteration state and the level-static tile sizes of the later (temporal) one
    (tables keyed by dimension name, overwritten), and the first (spatial) one
    wherever it looks a directive up by name (first match): directive class,
    spatial edge, lower-level dimension sizes.  The temporal directive covers
    the whole filter side (checked as RS_TEMPORAL_NOT_FULL), so it has a single
    Init step at every call.  Other repeated directives remain DUPLICATE_DIMENSION.
    """
    return first_spatial and not second_spatial and var in (r_var, s_var)


@njit(cache=True, error_model="numpy")
def _spatial_reason(i, first, last, dim, spatial, ignorable):
    """A level in ``first:last`` without SpatialMap or with more than two."""
    slots = dim.shape[2]
    for lvl in range(first, last):
        num_spatial = 0
        for slot in range(slots):
            code = dim[i, lvl, slot]
            if code != EMPTY and not ignorable[code]:
                num_spatial += spatial[i, lvl, slot]
        if num_spatial == 0:
            return R.NO_SPATIAL_MAP
        if num_spatial > 2:
            return R.TOO_MANY_SPATIAL_MAPS
    return R.OK


@njit(cache=True, error_model="numpy", inline="always")
def complete_candidate(i, dim, size, offset, spatial, cluster, num_levels, num_pes,
                       code_to_var, is_output_code, ignorable, spec_sizes, y_var, x_var,
                       r_var, s_var, stride, out_stride, lv_size, lv_ofs, lv_sp, lv_order,
                       lv_dims, lv_units, lv_dup, scratch):
    """Complete every level of candidate ``i`` as MAESTRO does.

    Parameters
    ----------
    dim, size, offset, spatial : ndarray (N, L, D)
        The batch's directives (dimension codes as int64).
    cluster : ndarray (N, L); num_levels, num_pes : ndarray (N,)
    code_to_var, is_output_code, ignorable : see :func:`code_tables`
    spec_sizes : ndarray (V,), layer dimension sizes
    y_var, x_var, r_var, s_var, stride : the layer's sliding-window variables
    out_stride : 1 (MAESTRO's analysis) or ``stride`` (stride-aware; module docstring)
    lv_size, lv_ofs, lv_sp, lv_order, lv_dims : ndarray (MAX_LEVELS, V), output
        Directive size, offset, SpatialMap flag per variable; variable at each
        loop position (outermost first); the level's own ("static") dimension sizes.
    lv_units : ndarray (MAX_LEVELS,), output
        Sub-units (sub-clusters or PEs) of one cluster of each level.
    lv_dup : ndarray (MAX_LEVELS, 3), output
        Per level the variable of a row-stationary pair (-1: none) and the size
        and offset of its temporal half; ``lv_size`` ... hold its spatial half.
    scratch : ndarray (8, V), int64
        Working memory (rows ``_V_SIZE`` ... ``_DIMS``).

    Returns
    -------
    int
        The first structural error (:mod:`gamma.costmodel.reasons`), checks in
        MAESTRO's order; ``R.OK`` when every level is complete.
    """
    reason, top_units = _checked_units(i, dim, size, offset, spatial, cluster, num_levels, num_pes,
                                       code_to_var, ignorable, spec_sizes, r_var, s_var, scratch)
    if reason != R.OK:
        return reason
    nvar = spec_sizes.shape[0]
    # Rows of ``scratch`` (2-D indexing only: views would cost reference counts).
    for var in range(nvar):
        scratch[_DIMS, var] = spec_sizes[var]
    for lvl in range(num_levels[i]):
        reason = _read_level(i, lvl, nvar, dim, size, offset, spatial, code_to_var, is_output_code,
                             ignorable, y_var, x_var, r_var, s_var, out_stride, lv_dup, scratch)
        if reason != R.OK:
            return reason
        _fill_missing(lvl, nvar, lv_size, lv_ofs, scratch)
        _loop_order(lvl, nvar, lv_order, scratch)
        if stride != 1:
            _stride_fix(lvl, stride, out_stride, spec_sizes, y_var, x_var, r_var, s_var,
                        scratch)
        for var in range(nvar):
            lv_size[lvl, var] = max(scratch[_V_SIZE, var], 1)
            lv_ofs[lvl, var] = max(scratch[_V_OFS, var], 1)
            lv_sp[lvl, var] = scratch[_V_SP, var] != 0
            lv_dims[lvl, var] = scratch[_DIMS, var]
        lv_units[lvl] = top_units if lvl == 0 else max(cluster[i, lvl], 1)
        for p in range(nvar):
            scratch[_UPPER_RANK, lv_order[lvl, p]] = p
        # Lower level dimension sizes (ConstructLowerClusterDimensionTable).
        for var in range(nvar):
            scratch[_DIMS, var] = min(lv_size[lvl, var], scratch[_DIMS, var])
    return R.OK


@njit(cache=True, error_model="numpy", inline="always")
def _checked_units(i, dim, size, offset, spatial, cluster, num_levels, num_pes, code_to_var,
                   ignorable, spec_sizes, r_var, s_var, scratch):
    """MAESTRO's structural checks of candidate ``i`` in its order, and the number of
    top-level sub-clusters (floor(PEs / product of the Cluster sizes)): (reason, units)."""
    nl = num_levels[i]
    if nl > MAX_LEVELS:
        return R.TOO_MANY_LEVELS, 0
    if nl < 1:
        return R.NO_SPATIAL_MAP, 0
    # MAESTRO's order: its parser; then the SpatialMap count of each level as
    # the levels are built top-down, the top level dividing by its unit count
    # (0 when the Cluster product exceeds the PEs) right after its own check.
    reason = _parser_reason(i, nl, dim, size, offset, spatial, code_to_var, ignorable,
                            spec_sizes, r_var, s_var, scratch)
    if reason == R.OK:
        reason = _spatial_reason(i, 0, 1, dim, spatial, ignorable)
    if reason != R.OK:
        return reason, 0
    cluster_product = 1
    for lvl in range(1, cluster.shape[1]):
        if lvl < nl:
            if cluster[i, lvl] < 1:
                return R.BAD_DIRECTIVE_VALUE, 0
            cluster_product *= cluster[i, lvl]
    top_units = num_pes[i] // cluster_product
    if top_units < 1:
        return R.CLUSTERS_EXCEED_PES, 0
    return _spatial_reason(i, 1, nl, dim, spatial, ignorable), top_units


@njit(cache=True, error_model="numpy", inline="always")
def _read_level(i, lvl, nvar, dim, size, offset, spatial, code_to_var, is_output_code, ignorable,
                y_var, x_var, r_var, s_var, out_stride, lv_dup, scratch):
    """The directives of level ``lvl`` into ``scratch`` (and a row-stationary pair's
    temporal half into ``lv_dup``), Y'/X' turned into Y/X with the level's R/S size:
    ``t`` output rows read ``(t - 1) * out_stride + Sz(R)`` input rows."""
    for row in range(_UPPER_RANK):
        for var in range(nvar):
            if row != _KEY:
                scratch[row, var] = 0
    # (The directives passed the checks of _parser_reason/_spatial_reason.)
    lv_dup[lvl, 0] = -1
    for slot in range(dim.shape[2]):
        code = dim[i, lvl, slot]
        if code == EMPTY or ignorable[code]:
            continue
        var = code_to_var[code]
        if var < 0:
            continue            # DSCONV's K in a single-level mapping
        if scratch[_GIVEN, var]:
            # The temporal half of a row-stationary pair (_is_shadow_pair).
            lv_dup[lvl, 0] = var
            lv_dup[lvl, 1] = size[i, lvl, slot]
            lv_dup[lvl, 2] = offset[i, lvl, slot]
            continue
        scratch[_V_SIZE, var] = size[i, lvl, slot]
        scratch[_V_OFS, var] = offset[i, lvl, slot]
        scratch[_V_SP, var] = spatial[i, lvl, slot]
        scratch[_V_OUT, var] = is_output_code[code]
        scratch[_KEY, var] = slot
        scratch[_GIVEN, var] = 1
    # Y'/X' -> Y/X with the level's own R/S directive size (the later one
    # of a row-stationary pair).
    for j in range(2):
        ref, slide = (y_var, r_var) if j == 0 else (x_var, s_var)
        if scratch[_GIVEN, ref] and scratch[_V_OUT, ref]:
            if scratch[_GIVEN, slide] == 0:
                return R.OUTPUT_DIM_WITHOUT_FILTER
            slide_size = lv_dup[lvl, 1] if lv_dup[lvl, 0] == slide else scratch[_V_SIZE, slide]
            scratch[_V_SIZE, ref] = (scratch[_V_SIZE, ref] - 1) * out_stride + slide_size
            scratch[_V_OFS, ref] *= out_stride
    return R.OK


@njit(cache=True, error_model="numpy", inline="always")
def _fill_missing(lvl, nvar, lv_size, lv_ofs, scratch):
    """Directives for the variables level ``lvl`` does not name, as MAESTRO adds them."""
    for var in range(nvar):
        if scratch[_GIVEN, var]:
            continue
        if lvl == 0:
            # Top level: unroll every missing variable, appended alphabetically.
            scratch[_V_SIZE, var] = scratch[_V_OFS, var] = scratch[_DIMS, var]
            scratch[_KEY, var] = 1_000 + var
        else:
            # Inherit the upper level's directive as a TemporalMap, prepended
            # in reverse upper loop order.
            scratch[_V_SIZE, var] = lv_size[lvl - 1, var]
            scratch[_V_OFS, var] = lv_ofs[lvl - 1, var]
            scratch[_KEY, var] = -1 - scratch[_UPPER_RANK, var]


@njit(cache=True, error_model="numpy", inline="always")
def _loop_order(lvl, nvar, lv_order, scratch):
    """Level ``lvl``'s loop order: the variables sorted by key (stable insertion sort)."""
    for p in range(nvar):
        lv_order[lvl, p] = p
    for p in range(1, nvar):
        var = lv_order[lvl, p]
        q = p - 1
        while q >= 0 and scratch[_KEY, lv_order[lvl, q]] > scratch[_KEY, var]:
            lv_order[lvl, q + 1] = lv_order[lvl, q]
            q -= 1
        lv_order[lvl, q + 1] = var


@njit(cache=True, error_model="numpy", inline="always")
def _stride_fix(lvl, st, out_stride, spec_sizes, y_var, x_var, r_var, s_var, scratch):
    """MAESTRO's stride fix on Y/X directives (§2.1 rule c): for stride st != 1 and a
    directive at least as large as the full filter side Rf:
    out = (size + st - Rf) // st; size = out*min(st, Rf) + max(Rf - st, 0);
    offset = out*st (out*Rf below the top level when Rf < st).  The stride-aware
    analysis (``out_stride == st``) keeps the physical window when Rf < st too:
    size = (out - 1)*st + Rf, offset = out*st (equal to MAESTRO's when Rf >= st)."""
    for j in range(2):
        ref, slide = (y_var, r_var) if j == 0 else (x_var, s_var)
        full = spec_sizes[slide]
        if scratch[_V_SIZE, ref] >= full:
            out = (scratch[_V_SIZE, ref] + st - full) // st
            if out_stride != 1:
                scratch[_V_SIZE, ref] = (out - 1) * st + full
                scratch[_V_OFS, ref] = out * st
            else:
                scratch[_V_SIZE, ref] = out * min(st, full) + max(full - st, 0)
                scratch[_V_OFS, ref] = out * (full if (lvl != 0 and full < st) else st)
