"""From the user's directives to MAESTRO's completed cluster levels (maestro-model.md §2.1).

For one candidate this module reproduces what MAESTRO's cluster analysis does
before any cost is computed:

* checks the level structure (known dimensions, at most one dimension per
  level mapped twice, one or two SpatialMaps, R/S TemporalMaps covering the
  whole filter, at most three Cluster directives, cluster sizes fitting the
  PEs);
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

After completion every level maps each layer variable once, so a level is
fully described by per-variable arrays of length V plus the loop order; a
variable mapped twice keeps its earlier directive there and its later one in
``lv_dup`` (:func:`_analysed_twice`).
The function is compiled and called once per candidate by
:func:`gamma.costmodel.engine.evaluate_batch`.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types

from gamma.costmodel import reasons as R
from gamma.costmodel.directives import DIM_NAMES, EMPTY
from gamma.costmodel.layertable import LayerSpec
from gamma.costmodel.stages import BOOL, INT, bools, declare, ints
from gamma.costmodel.tables import PACK_B_SPATIAL, PACK_HIGH, pack_twice, unpack_twice

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
def _parser_reason(i, nl, dim, size, offset, spatial, code_to_var, is_output_code, ignorable,
                   spec_sizes, r_var, s_var, scratch):
    """The first error MAESTRO's parser finds in candidate ``i``, over all its
    levels (non-positive values, R/S TemporalMaps that are not the full filter,
    then unknown dimensions); whether some level repeats a dimension in a way
    the model does not analyse (:func:`_analysed_twice`; MAESTRO's parser does
    not check repeats, so that refusal comes after MAESTRO's own checks); and
    the bitmask of the levels that map both ``Y`` and ``Y'`` (``X`` alike)."""
    slots = dim.shape[2]
    bad_value = rs_not_full = unknown = duplicate = False
    both_rows = 0           # bitmask of the levels mapping both Y and Y' (or X and X')
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
            # _GIVEN counts the directives on the variable, _KEY the level's
            # repeated variables.
            if scratch[_GIVEN, var] != 0:
                scratch[_KEY, 0] += 1
                duplicate = duplicate or not _analysed_twice(
                    scratch[_GIVEN, var], scratch[_KEY, 0], scratch[_V_OUT, var] != 0,
                    is_output_code[code])
                if (scratch[_V_OUT, var] != 0) != is_output_code[code]:
                    both_rows |= 1 << lvl
            scratch[_GIVEN, var] += 1
            scratch[_V_OUT, var] = is_output_code[code]
            if (not spatial[i, lvl, slot] and var in (r_var, s_var)
                    and (sz != spec_sizes[var] or of != spec_sizes[var])):
                rs_not_full = True
    if bad_value:
        return R.BAD_DIRECTIVE_VALUE, duplicate, both_rows
    if rs_not_full:
        return R.RS_TEMPORAL_NOT_FULL, duplicate, both_rows
    if unknown:
        return R.UNKNOWN_DIMENSION, duplicate, both_rows
    return R.OK, duplicate, both_rows


PARSER_REASON = declare(_parser_reason, types.Tuple((INT, BOOL, INT))(
    INT, INT, ints(3), ints(3), ints(3), bools(3), ints(1), bools(1), bools(1), ints(1), INT, INT,
    ints(2)))


@njit(cache=True, error_model="numpy", inline="always")
def _analysed_twice(given, repeated, first_output, second_output):
    """Whether a second directive on a variable is analysed as MAESTRO analyses it
    (maestro-model.md §6.3).

    MAESTRO keys most of its per-level tables by dimension name, so a level
    that maps one dimension twice (A, then B later in the loop nest) mixes the
    two directives: every loop of the nest has its steps, but a step's state
    and the level-static tile sizes are B's (maps overwritten by the later
    directive), while lookups by name (first match) use A: the directive class
    for output factors and spatial multicast, the lower level's dimension size,
    the inherited directive.  :mod:`gamma.costmodel.tables` and
    :mod:`gamma.costmodel.cases` describe the analysis.  Reproduced: one
    dimension of a level mapped exactly twice, where ``Y`` and ``Y'`` count as
    one dimension but not both directives may be ``Y'`` (``X`` alike).  A third
    directive, a second repeated dimension, or two ``Y'`` directives remain
    DUPLICATE_DIMENSION.  The figures are MAESTRO's, never physically right
    (``exact_analysis`` is false: the engine's ``O_TWICE`` output).
    """
    return given == 1 and repeated == 1 and not (first_output and second_output)


@njit(cache=True, error_model="numpy", inline="always")
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
                       lv_dims, lv_units, lv_dup, scratch, parser_entry):
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
        Per level a dimension mapped twice (:func:`_analysed_twice`):
        :func:`gamma.costmodel.tables.pack_twice` of its variable (-1: none),
        the later directive's class and the loop position before which the
        earlier one stands; then the later directive's size and offset.  The
        variable's loop position in ``lv_order`` is the later directive's,
        ``lv_size`` ... hold the earlier one.
    scratch : ndarray (8, V), int64
        Working memory (rows ``_V_SIZE`` ... ``_DIMS``).
    parser_entry : the stage table's entry of :data:`PARSER_REASON`
        (:mod:`gamma.costmodel.stages`).

    Returns
    -------
    int
        The first structural error (:mod:`gamma.costmodel.reasons`), checks in
        MAESTRO's order; ``R.OK`` when every level is complete.
    """
    reason, top_units = _checked_units(i, dim, size, offset, spatial, cluster, num_levels, num_pes,
                                       code_to_var, is_output_code, ignorable, spec_sizes, r_var,
                                       s_var, scratch, parser_entry)
    if reason != R.OK:
        return reason
    nvar = spec_sizes.shape[0]
    # Rows of ``scratch`` (2-D indexing only: views would cost reference counts).
    for var in range(nvar):
        scratch[_DIMS, var] = spec_sizes[var]
    for lvl in range(num_levels[i]):
        reason = _read_level(i, lvl, nvar, dim, size, offset, spatial, code_to_var, is_output_code,
                             ignorable, spec_sizes, y_var, x_var, r_var, s_var, out_stride, lv_dup,
                             scratch)
        if reason != R.OK:
            return reason
        _fill_missing(lvl, nvar, lv_size, lv_ofs, scratch)
        _loop_order(lvl, nvar, lv_order, scratch)
        if stride != 1:
            _stride_fix(lvl, stride, out_stride, spec_sizes, y_var, x_var, r_var, s_var, lv_dup,
                        scratch)
        _late_output_rows(lvl, y_var, x_var, r_var, s_var, out_stride, lv_dup, scratch)
        for var in range(nvar):
            lv_size[lvl, var] = max(scratch[_V_SIZE, var], 1)
            lv_ofs[lvl, var] = max(scratch[_V_OFS, var], 1)
            lv_sp[lvl, var] = scratch[_V_SP, var] != 0
            lv_dims[lvl, var] = scratch[_DIMS, var]
        lv_units[lvl] = top_units if lvl == 0 else max(cluster[i, lvl], 1)
        _upper_ranks(lvl, nvar, lv_order, lv_dup, scratch)
        # Lower level dimension sizes (ConstructLowerClusterDimensionTable).
        for var in range(nvar):
            scratch[_DIMS, var] = min(lv_size[lvl, var], scratch[_DIMS, var])
    return R.OK


@njit(cache=True, error_model="numpy", inline="always")
def _checked_units(i, dim, size, offset, spatial, cluster, num_levels, num_pes, code_to_var,
                   is_output_code, ignorable, spec_sizes, r_var, s_var, scratch, parser_entry):
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
    reason, duplicate, both_rows = PARSER_REASON(parser_entry, i, nl, dim, size, offset, spatial,
                                                 code_to_var, is_output_code, ignorable,
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
    if both_rows >> 1 == 0:
        reason = _spatial_reason(i, 1, nl, dim, spatial, ignorable)
    else:
        for lvl in range(1, nl):
            # Below the top level MAESTRO looks a Y' directive next to a Y one
            # up in the level's dimensions, which hold no Y', and exits.
            if (both_rows >> lvl) & 1:
                return R.TWICE_OUTPUT_BELOW_TOP, 0
            reason = _spatial_reason(i, lvl, lvl + 1, dim, spatial, ignorable)
            if reason != R.OK:
                return reason, 0
    if reason != R.OK:
        return reason, 0
    return (R.DUPLICATE_DIMENSION if duplicate else R.OK), top_units


# While a level is completed, ``lv_dup[lvl, 0]`` holds the repeated variable
# plus these flags of the later directive and the earlier one's slot (the
# places of tables.pack_twice, with B's output flag beside its class).
_B_SPATIAL, _B_OUTPUT, _A_SLOT = PACK_B_SPATIAL, 2 * PACK_B_SPATIAL, PACK_HIGH


@njit(cache=True, error_model="numpy", inline="always")
def _read_level(i, lvl, nvar, dim, size, offset, spatial, code_to_var, is_output_code, ignorable,
                spec_sizes, y_var, x_var, r_var, s_var, out_stride, lv_dup, scratch):
    """The directives of level ``lvl`` into ``scratch`` (the later directive on a
    variable mapped twice into ``lv_dup``), Y'/X' turned into Y/X with the level's
    R/S size: ``t`` output rows read ``(t - 1) * out_stride + Sz(R)`` input rows
    (``t - 1 + Sz(R)`` where ``Sz(R)`` cuts the filter: see below)."""
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
            # The later directive B: its step states and the variable's loop
            # position; the earlier one A keeps its place for lookups by name.
            lv_dup[lvl, 0] = (var + _B_SPATIAL * spatial[i, lvl, slot]
                              + _B_OUTPUT * is_output_code[code] + _A_SLOT * scratch[_KEY, var])
            lv_dup[lvl, 1] = size[i, lvl, slot]
            lv_dup[lvl, 2] = offset[i, lvl, slot]
            scratch[_KEY, var] = slot
            continue
        scratch[_V_SIZE, var] = size[i, lvl, slot]
        scratch[_V_OFS, var] = offset[i, lvl, slot]
        scratch[_V_SP, var] = spatial[i, lvl, slot]
        scratch[_V_OUT, var] = is_output_code[code]
        scratch[_KEY, var] = slot
        scratch[_GIVEN, var] = 1
    dup = lv_dup[lvl, 0] % _B_SPATIAL if lv_dup[lvl, 0] >= 0 else -1
    # Y'/X' -> Y/X with the level's own R/S directive size (the later one of a
    # repeated R/S).  A level with both Y and Y' skips this step: MAESTRO turns
    # its Y' directive into rows only when the level is built
    # (:func:`_late_output_rows`).
    for j in range(2):
        ref, slide = (y_var, r_var) if j == 0 else (x_var, s_var)
        if scratch[_GIVEN, ref] and scratch[_V_OUT, ref] and dup != ref:
            if scratch[_GIVEN, slide] == 0:
                return R.OUTPUT_DIM_WITHOUT_FILTER
            slide_size = lv_dup[lvl, 1] if dup == slide else scratch[_V_SIZE, slide]
            # Beside a cut filter a Y' tile pairs input rows with filter rows
            # (row-stationary: unit u takes input row u and filter row u), so
            # its rows are input rows in either analysis, as MAESTRO reads them.
            rows_stride = out_stride if slide_size >= spec_sizes[slide] else 1
            scratch[_V_SIZE, ref] = (scratch[_V_SIZE, ref] - 1) * rows_stride + slide_size
            scratch[_V_OFS, ref] *= rows_stride
    return R.OK


@njit(cache=True, error_model="numpy", inline="always")
def _late_output_rows(lvl, y_var, x_var, r_var, s_var, out_stride, lv_dup, scratch):
    """A level mapping both ``Y`` and ``Y'`` (``X`` alike): the ``Y'`` directive
    becomes rows once the level is complete (after the stride fix, which it
    escapes), with the size of the level's R directive then (inherited or added
    if the level names none).  Afterwards ``lv_dup[lvl, 0]`` holds
    :func:`gamma.costmodel.tables.pack_twice`'s form."""
    packed = lv_dup[lvl, 0]
    if packed < 0:
        return
    dup, a_slot = packed % _B_SPATIAL, packed // _A_SLOT
    b_spatial, b_output = (packed // _B_SPATIAL) % 2, (packed // _B_OUTPUT) % 2
    for j in range(2):
        ref, slide = (y_var, r_var) if j == 0 else (x_var, s_var)
        if dup != ref:
            continue
        if b_output:
            lv_dup[lvl, 1] = (lv_dup[lvl, 1] - 1) * out_stride + scratch[_V_SIZE, slide]
            lv_dup[lvl, 2] *= out_stride
        elif scratch[_V_OUT, ref]:
            scratch[_V_SIZE, ref] = (scratch[_V_SIZE, ref] - 1) * out_stride + scratch[_V_SIZE, slide]
            scratch[_V_OFS, ref] *= out_stride
    lv_dup[lvl, 1] = max(lv_dup[lvl, 1], 1)
    lv_dup[lvl, 2] = max(lv_dup[lvl, 2], 1)
    # The earlier directive stands before the first loop position keyed after it.
    before = 0
    for var in range(scratch.shape[1]):
        if var != dup and scratch[_KEY, var] < a_slot:
            before += 1
    lv_dup[lvl, 0] = pack_twice(dup, b_spatial, before)


@njit(cache=True, error_model="numpy", inline="always")
def _upper_ranks(lvl, nvar, lv_order, lv_dup, scratch):
    """Rank of each variable in level ``lvl``'s directive list, for the level
    below: loop position ``p`` ranks ``2p``; a variable mapped twice ranks by its
    earlier directive (MAESTRO inherits the first it meets), just before the
    loop position that follows it."""
    for p in range(nvar):
        scratch[_UPPER_RANK, lv_order[lvl, p]] = 2 * p
    if lv_dup[lvl, 0] >= 0:
        dup, _, before = unpack_twice(lv_dup[lvl, 0])
        scratch[_UPPER_RANK, dup] = 2 * before - 1


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
def _stride_fix(lvl, st, out_stride, spec_sizes, y_var, x_var, r_var, s_var, lv_dup, scratch):
    """MAESTRO's stride fix on Y/X directives (§2.1 rule c), see :func:`_strided`.

    With Y mapped twice MAESTRO writes each fixed Y directive into the first Y
    directive of the level: the earlier directive ends up with the later one's
    fix (its own if the later one is smaller than the filter) and the later
    directive keeps its arguments.  A ``Y'`` directive next to a ``Y`` one is
    not fixed (:func:`_late_output_rows`)."""
    packed = lv_dup[lvl, 0]
    dup = packed % _B_SPATIAL if packed >= 0 else -1
    for j in range(2):
        ref, slide = (y_var, r_var) if j == 0 else (x_var, s_var)
        full = spec_sizes[slide]
        if dup == ref:
            if (packed // _B_OUTPUT) % 2:
                pass                        # B is Y': A (plain Y) gets its own fix
            elif scratch[_V_OUT, ref]:
                # A is Y': B (plain Y) is the level's first Y directive then.
                lv_dup[lvl, 1], lv_dup[lvl, 2] = _strided(
                    lvl, st, out_stride, full, lv_dup[lvl, 1], lv_dup[lvl, 2])
                continue
            elif lv_dup[lvl, 1] >= full:
                scratch[_V_SIZE, ref] = lv_dup[lvl, 1]
        scratch[_V_SIZE, ref], scratch[_V_OFS, ref] = _strided(
            lvl, st, out_stride, full, scratch[_V_SIZE, ref], scratch[_V_OFS, ref])
        if out_stride != 1:
            # Physically a window holds no rows past the level's own: a Y' tile
            # of more output rows than the layer has spans all of them, not more.
            scratch[_V_SIZE, ref] = min(scratch[_V_SIZE, ref], scratch[_DIMS, ref])


@njit(cache=True, error_model="numpy", inline="always")
def _strided(lvl, st, out_stride, full, m, o):
    """A Y/X directive ``(m, o)`` after the stride fix: for stride st != 1 and a
    directive at least as large as the full filter side ``full``:
    out = (m + st - full) // st; m = out*min(st, full) + max(full - st, 0);
    o = out*st (out*full below the top level when full < st).  The stride-aware
    analysis (``out_stride == st``) keeps the physical window when full < st
    too: m = (out - 1)*st + full, o = out*st (equal to MAESTRO's when full >= st)."""
    if m < full:
        return m, o
    out = (m + st - full) // st
    if out_stride != 1:
        return (out - 1) * st + full, out * st
    return (out * min(st, full) + max(full - st, 0),
            out * (full if (lvl != 0 and full < st) else st))
