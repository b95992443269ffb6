"""Analysis of cluster levels, one candidate at a time, compiled (maestro-model.md §4.6-4.10).

A *call* is one analysis of one level with given dimension sizes (MAESTRO's
``AnalyzeClusterLevel_V2``).  The top level is one call per candidate; every
analysed step of a level asks the level below for one or two calls with the
step's tile sizes (§4.6).  MAESTRO repeats those calls for every upper step; here
each distinct (level, tile sizes) call of a candidate is analysed once.

:func:`evaluate_batch` runs, per candidate, in one compiled pass:

1. level completion (:func:`gamma.costmodel.levels.complete_candidate`) and the
   level-static tables (:mod:`gamma.costmodel.tables`);
2. *expansion*, top-down: for each call its iteration states, case classes and
   per-class volumes (:mod:`gamma.costmodel.cases`, :mod:`gamma.costmodel.volumes`),
   registering the distinct lower-level calls its analysed steps need;
3. *finishing*, bottom-up (calls in reverse order, so lower calls are done
   first): compute delays from the lower calls' runtimes, NoC delays, per-call
   runtime, active units, buffer sizes and error flags; for the top call every
   reported figure.

Working memory is a set of arrays reused from candidate to candidate; when a
candidate needs more rows or calls than they hold, :func:`evaluate_batch` stops
and returns its index so that the caller can enlarge them and resume.

Speed notes: every array view, and every array handed to a compiled function
that LLVM does not inline, costs atomic reference-count updates (they dominated
the profile).  So helpers take whole arrays plus indices and never slice;
per-directive flags of levels, calls and case classes are bitmasks over loop
positions (a case class is decoded from its key).

The big stages of a candidate's analysis are compiled apart and called through
their addresses (:data:`STAGES`, :mod:`gamma.costmodel.stages`): the level
arrays' allocation (:func:`_level_arrays`: NumPy's allocation functions compile
slowly in numba), the parser's checks
(:func:`~gamma.costmodel.levels._parser_reason`), the rarely reached stage of a
level mapping a dimension twice (:func:`~gamma.costmodel.tables._twice_level`),
the expansion step :func:`_expand` with
:func:`~gamma.costmodel.volumes.call_volumes`, :func:`_finish` and
:func:`_top_outputs`.  numba's passes over one function grow faster than its
size, and a function linked into its caller is generated again there; so apart,
and not linked in, they cut the main kernel's own compilation from 11 s to about
5 s at the same speed (within the 2 % noise of the benchmark), and a cold start
compiles the main kernel and the stages in two processes at once
(:mod:`gamma.warmup`).  Level completion and the level tables stay inlined
(``inline="always"``), as do the other array-taking helpers: compiled apart,
they cost 3-5 % of the kernel's speed.  A scalar helper that call sites pass
literal arguments to is inlined too or has one explicit signature, since numba
would compile it once per combination of literals.  The level arrays come from
a stage rather than from Python: passing them in measured 2-4 % slower.
"""
from __future__ import annotations

import numpy as np
from numba import njit, typeof, types

from gamma.costmodel import reasons as R
from gamma.costmodel import stages
from gamma.costmodel.cases import case_key, fill_classes, iteration_states, num_cases
from gamma.costmodel.intmath import ceil_div, tdiv
from gamma.costmodel.layout import (
    B_EXITS,
    B_SP_EDGE,
    B_SP_EE,
    B_VALID,
    K_EDGE_EE,
    K_HAS_EDGE,
    K_HAS_STEADY,
    K_INIT_EDGE,
    K_L1,
    K_LEVEL,
    K_OVERFLOW,
    K_PH_EDGE,
    K_PH_STEADY,
    K_ROW0,
    K_ROW1,
    K_RUNTIME,
    K_SILENT,
    K_UNROLLED,
    NUM_CALL_INTS,
    NUM_ROW_BOOLS,
    NUM_ROW_INTS,
    R_C,
    R_COMPUTE,
    R_EGRESS,
    R_FILTER,
    R_INPUT,
    R_IS_EDGE,
    R_KEY,
    R_MACS,
    R_PSUMS,
    R_SUB_EE,
    R_SUB_NORMAL,
    R_WEIGHT,
)
from gamma.costmodel.levels import MAX_LEVELS, PARSER_REASON, complete_candidate
from gamma.costmodel.stages import BOOL, INT, NONE, bools, declare, floats, ints
from gamma.costmodel.tables import (
    L_COUPLED,
    L_DUP,
    L_DUP_OFS,
    L_DUP_SIZE,
    L_EDGE_DROPPED,
    L_EDGE_UNITS,
    L_SPATIAL,
    L_UNITS,
    MAPPED,
    MAPPED_EDGE,
    NUM_COLUMNS,
    NUM_LEVEL_INTS,
    TWICE_LEVEL,
    prepare_level,
)
from gamma.costmodel.volumes import FILTER, INPUT, OUTPUT, call_volumes, sub_size

#: Integer outputs per candidate (rows of ``out_int``): runtime, MACs, the twelve
#: access counts in MAESTRO's CSV order, L1 and L2 size requirements per tensor,
#: NoC and off-chip bandwidth requirements, min/max/avg of the top level's
#: ingress, egress and compute delays.
O_RUNTIME, O_MACS, O_COUNTS = 0, 1, 2
O_L1_SIZE, O_L2_SIZE = 14, 17
O_NOC_BW, O_OFFCHIP_BW, O_DELAYS = 20, 21, 22
#: 1 where a level maps a dimension twice (MAESTRO's figures then describe no execution).
O_TWICE = 31
#: 1 where MAESTRO's analysis drops a partial window at a spatial edge (its MACs
#: go missing; the physical analysis counts it).
O_EDGE_DROPPED = 32
NUM_INT_OUTPUTS = 33
#: Float outputs: average utilised PEs, arithmetic intensity.
F_ACTIVE, F_INTENSITY = 0, 1
NUM_FLOAT_OUTPUTS = 2

# Fields of the working arrays: :mod:`gamma.costmodel.layout`.

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def workspace(nvar: int, rows: int, calls: int):
    """Working arrays for :func:`evaluate_batch` (rows: case classes, calls: level calls)."""
    return (np.zeros((NUM_ROW_INTS, rows), dtype=np.int64),
            np.zeros((NUM_ROW_BOOLS, rows), dtype=np.bool_),
            np.zeros((calls, NUM_CALL_INTS), dtype=np.int64),
            np.zeros((calls, nvar), dtype=np.int64),
            np.zeros((calls, nvar), dtype=np.int64),
            np.zeros(calls, dtype=np.float64))


@njit(cache=True, error_model="numpy")
def noc_delay(volume, bw, latency):
    """Cycles to move ``volume`` elements: latency + ceil(volume / bw) - 1 (§4.7)."""
    if 0 <= volume <= bw:       # one send or none, no division (bandwidths are often huge)
        return latency - (volume == 0)
    sends = tdiv(volume, bw)
    if volume != sends * bw:
        sends += 1
    return latency + sends - 1


@njit(cache=True, error_model="numpy", inline="always")
def _find_or_add_call(lvl, nvar, is_edge, edge_edge, ps_sizes, lvi, lv_order, ncalls, call_int,
                      call_dims):
    """Index of the call of level ``lvl + 1`` whose dimension sizes are the tiles a
    step of level ``lvl`` with edge mask ``is_edge`` hands to a regular unit (or to
    the edge-edge unit); added if new.  -1: no room left."""
    spatial, e_units = lvi[lvl, L_SPATIAL], lvi[lvl, L_EDGE_UNITS]
    for k in range(ncalls):
        if call_int[k, K_LEVEL] != lvl + 1:
            continue
        same = True
        for p in range(nvar):
            if call_dims[k, lv_order[lvl, p]] != sub_size(
                    ps_sizes[lvl, p, MAPPED], ps_sizes[lvl, p, MAPPED_EDGE], (spatial >> p) & 1,
                    (is_edge >> p) & 1, edge_edge, e_units):
                same = False
                break
        if same:
            return k
    if ncalls >= call_int.shape[0]:
        return -1
    call_int[ncalls, K_LEVEL] = lvl + 1
    for p in range(nvar):
        call_dims[ncalls, lv_order[lvl, p]] = sub_size(
            ps_sizes[lvl, p, MAPPED], ps_sizes[lvl, p, MAPPED_EDGE], (spatial >> p) & 1,
            (is_edge >> p) & 1, edge_edge, e_units)
    return ncalls


@njit(cache=True, error_model="numpy", inline="always")
def _expand_call(k, ncalls, nrows, num_levels, nvar, lv_order, ps_sizes, ps_size, ps_ofs, lvi,
                 row_int, row_bool, call_int, call_dims, call_steady):
    """States, case classes and per-class volumes of call ``k``; registers the lower
    calls its analysed steps need (§4.2-4.6).

    Returns the new numbers of calls and rows, or (-1, -1) when the working
    arrays are full.
    """
    lvl = call_int[k, K_LEVEL]
    units, e_units = lvi[lvl, L_UNITS], lvi[lvl, L_EDGE_UNITS]
    overflow, count = iteration_states(k, lvl, nvar, call_dims, lv_order, ps_size, ps_ofs,
                                       lvi[lvl, L_SPATIAL], units, lvi[lvl, L_DUP],
                                       lvi[lvl, L_DUP_SIZE], lvi[lvl, L_DUP_OFS], call_int,
                                       call_steady)
    call_int[k, K_OVERFLOW] = overflow
    if nrows + count > row_int.shape[1]:
        return -1, -1
    r0 = nrows
    r1 = fill_classes(k, nvar, call_int, call_steady, r0, row_int)
    call_int[k, K_ROW0], call_int[k, K_ROW1] = r0, r1
    inner = num_levels == lvl + 1
    call_volumes(ps_sizes, lvi, lvl, nvar, call_int[k, K_ROW0], call_int[k, K_ROW1],
                 call_int[k, K_UNROLLED],
                 call_int[k, K_INIT_EDGE], call_int[k, K_EDGE_EE], row_int, row_bool)
    normal_mask = ee_mask = normal_sub = ee_sub = -1      # the last lookups' edge masks and calls
    for r in range(r0, r1):
        valid = row_int[R_PSUMS, r] > 0    # MAESTRO skips steps without partial sums
        row_bool[B_VALID, r] = valid
        sp_edge, sp_ee = row_bool[B_SP_EDGE, r], row_bool[B_SP_EE, r]
        is_edge = row_int[R_IS_EDGE, r]
        row_int[R_SUB_NORMAL, r] = row_int[R_SUB_EE, r] = -1
        if not valid or inner:
            continue
        # A regular step: one call for all units; a spatial edge: one for the
        # regular active units, one for the edge-edge unit (§4.6).  A lower
        # call's sizes depend on the step's edge mask only, so a row with the
        # mask of the previous lookup reuses its call.
        if _normal_units(sp_edge, sp_ee, units, e_units) > 0:
            if is_edge != normal_mask:
                normal_sub = _find_or_add_call(lvl, nvar, is_edge, False, ps_sizes, lvi,
                                               lv_order, ncalls, call_int, call_dims)
                if normal_sub < 0:
                    return -1, -1
                normal_mask, ncalls = is_edge, max(ncalls, normal_sub + 1)
            row_int[R_SUB_NORMAL, r] = normal_sub
        if sp_edge and sp_ee:
            if is_edge != ee_mask:
                ee_sub = _find_or_add_call(lvl, nvar, is_edge, True, ps_sizes, lvi, lv_order,
                                           ncalls, call_int, call_dims)
                if ee_sub < 0:
                    return -1, -1
                ee_mask, ncalls = is_edge, max(ncalls, ee_sub + 1)
            row_int[R_SUB_EE, r] = ee_sub
    return ncalls, r1


@njit(cache=True, error_model="numpy")
def _expand(num_levels, nvar, lv_order, ps_sizes, ps_size, ps_ofs, lvi, row_int, row_bool,
            call_int, call_dims, call_steady):
    """Expand the candidate's calls top-down from the top call 0 (already
    registered); returns the number of calls, -1 when the working arrays are full."""
    ncalls, nrows, k = 1, 0, 0
    while k < ncalls:
        ncalls, nrows = _expand_call(k, ncalls, nrows, num_levels, nvar, lv_order, ps_sizes,
                                     ps_size, ps_ofs, lvi, row_int, row_bool, call_int,
                                     call_dims, call_steady)
        if ncalls < 0:
            return -1
        k += 1
    return ncalls


EXPAND = declare(_expand, INT(INT, INT, ints(2), ints(3), ints(2), ints(2), ints(2), ints(2),
                            bools(2), ints(2), ints(2), ints(2)))


@njit(cache=True, error_model="numpy")
def _finish(ncalls, nvar, num_levels, noc_bw, latency, offchip_bw, lanes, ps_sizes, lvi,
            row_int, row_bool, call_int, call_float):
    """Finish the candidate's calls bottom-up; returns what :func:`_finish_call`
    returns for the top call."""
    first_row, lower_no_step, l2_in, l2_f, l2_out = -1, False, 0, 0, 0
    for k in range(ncalls - 1, -1, -1):
        first_row, lower_no_step, l2_in, l2_f, l2_out = _finish_call(
            k, nvar, num_levels, noc_bw, latency, offchip_bw, lanes, ps_sizes, lvi, row_int,
            row_bool, call_int, call_float)
    return first_row, lower_no_step, l2_in, l2_f, l2_out


FINISH = declare(_finish, types.Tuple((INT, BOOL, INT, INT, INT))(
    INT, INT, INT, INT, INT, INT, INT, ints(3), ints(2), ints(2), bools(2), ints(2), floats(1)))


@njit(cache=True, error_model="numpy", inline="always")
def _find_row(key, r0, r1, row_int):
    """Row of the class with ``key`` among the rows ``r0:r1`` of a call (sorted by key)."""
    lo, hi = r0, r1
    while lo < hi:
        mid = (lo + hi) // 2
        if row_int[R_KEY, mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, error_model="numpy")
def _normal_units(sp_edge, sp_ee, units, e_units):
    """Sub-units of a step that get the regular tile (the others: one edge-edge unit)."""
    if not sp_edge:
        return units
    return e_units - 1 if sp_ee else e_units


@njit(cache=True, error_model="numpy", inline="always")
def _first_valid_case(k, nvar, r0, r1, row_int, row_bool, call_int):
    """First analysed (non-skipped) case of call ``k`` in MAESTRO's order (§4.9).

    MAESTRO sizes the buffers from every enumerated case up to that one (skipped
    leading cases accumulate).  Returns its row (-1: every case is skipped),
    the number of those cases and their summed input and filter ingress, and
    whether one of them exits silently.  Without a valid case every case counts:
    MAESTRO's case counter then never advances past 0, so it re-sizes the
    buffers at every case (an innermost call reached through an analysed upper
    step can have all its cases skipped; its L1 sizes are then reported).
    """
    lead_in, lead_f = row_int[R_INPUT, r0], row_int[R_FILTER, r0]
    lead_exit = row_bool[B_EXITS, r0]
    if row_bool[B_VALID, r0]:
        return r0, 1, lead_in, lead_f, lead_exit
    # Case order counts the own steps of the earlier directive of a dimension mapped twice too.
    m_steady = call_int[k, K_HAS_STEADY] | call_int[k, K_PH_STEADY]
    m_edge = call_int[k, K_HAS_EDGE] | call_int[k, K_PH_EDGE]
    total = num_cases(nvar, m_steady, m_edge)
    count = 1
    for case in range(1, total):
        row = _find_row(case_key(case, nvar, m_steady, m_edge, total), r0, r1, row_int)
        count += 1
        lead_in += row_int[R_INPUT, row]
        lead_f += row_int[R_FILTER, row]
        lead_exit = lead_exit or row_bool[B_EXITS, row]
        if row_bool[B_VALID, row]:
            return row, count, lead_in, lead_f, lead_exit
    return -1, count, lead_in, lead_f, lead_exit


@njit(cache=True, error_model="numpy", inline="always")
def _finish_call(k, nvar, num_levels, noc_bw, latency, offchip_bw, lanes, ps_sizes, lvi,
                 row_int, row_bool, call_int, call_float):
    """Runtime, active units, L1 sizes and error flags of call ``k`` (§4.8, §4.9).

    Per analysed step: compute delay = ceil(partial sums / lanes) at the
    innermost level, else the slowest lower call's runtime; step delay =
    compute + ingress delay for the all-Init case, else max(ingress, compute,
    egress) (double buffering); at the top level at least the off-chip transfer
    of the double-buffered L2 tiles.  Returns, for the top call, the flags and
    values :func:`_top_outputs` needs.
    """
    lvl = call_int[k, K_LEVEL]
    r0, r1 = call_int[k, K_ROW0], call_int[k, K_ROW1]
    inner = num_levels == lvl + 1
    units, e_units = lvi[lvl, L_UNITS], lvi[lvl, L_EDGE_UNITS]
    first_row, lead_count, lead_in, lead_f, silent = _first_valid_case(
        k, nvar, r0, r1, row_int, row_bool, call_int)
    overflow = call_int[k, K_OVERFLOW] != 0
    l2_in, l2_f = 2 * lead_in, 2 * lead_f
    l2_out = 2 * row_int[R_EGRESS, first_row if first_row >= 0 else r0]
    in_off = out_off = 0            # the off-chip floor applies to the top call only
    if lvl == 0:
        in_off = ((l2_in + l2_f) // offchip_bw) // 2
        out_off = (l2_out // offchip_bw) // 2
    lower_no_step = False
    runtime, steps, active_sum = 0, 0, 0.0
    for r in range(r0, r1):
        valid = row_bool[B_VALID, r]
        silent = silent or (valid and row_bool[B_EXITS, r])
        compute = row_int[R_PSUMS, r] if lanes == 1 else ceil_div(row_int[R_PSUMS, r], lanes)
        sp_edge = row_bool[B_SP_EDGE, r]
        active = float(e_units if sp_edge else units)
        if valid and not inner:
            normal, ee = row_int[R_SUB_NORMAL, r], row_int[R_SUB_EE, r]
            total_active = 0.0
            if normal >= 0:
                compute = call_int[normal, K_RUNTIME]
                total_active += call_float[normal] * _normal_units(
                    sp_edge, row_bool[B_SP_EE, r], units, e_units)
                overflow = overflow or call_int[normal, K_OVERFLOW] != 0
                silent = silent or call_int[normal, K_SILENT] != 0
            if ee >= 0:
                compute = max(compute if normal >= 0 else 0, call_int[ee, K_RUNTIME])
                total_active += call_float[ee]
                overflow = overflow or call_int[ee, K_OVERFLOW] != 0
                silent = silent or call_int[ee, K_SILENT] != 0
            if total_active != 0:
                active = total_active
        row_int[R_COMPUTE, r] = compute
        din = noc_delay(row_int[R_INPUT, r] + row_int[R_FILTER, r], noc_bw, latency)
        deg = noc_delay(row_int[R_EGRESS, r], noc_bw, latency)
        if row_int[R_C, r] < 0:
            delay = compute + din          # all Init: nothing to overlap with
        else:
            delay = max(deg, max(compute, din))
        if lvl == 0:
            delay = max(max(in_off, delay), out_off)
            lower_no_step = lower_no_step or (valid and compute == 0)
        if valid:
            w = row_int[R_WEIGHT, r]
            runtime += w * delay
            steps += w
            active_sum += w * active
    call_int[k, K_RUNTIME] = runtime
    call_float[k] = active_sum / max(steps, 1)
    call_int[k, K_OVERFLOW] = overflow
    call_int[k, K_SILENT] = silent
    _l1_sizes(k, lvl, nvar, inner, first_row, lead_count, ps_sizes, lvi, row_int, call_int)
    return first_row, lower_no_step, l2_in, l2_f, l2_out


@njit(cache=True, error_model="numpy", inline="always")
def _analysis_reason(call_int, lower_no_step, first_row):
    """Why an analysed candidate has no result (MAESTRO's order), or ``R.OK``."""
    if call_int[0, K_OVERFLOW]:
        return R.STEP_COUNT_OVERFLOW
    if call_int[0, K_SILENT]:
        return R.SILENT_EXIT
    if lower_no_step:
        return R.LOWER_LEVEL_NO_STEP
    if first_row < 0:
        return R.RUNTIME_ZERO
    return R.OK


@njit(cache=True, error_model="numpy", inline="always")
def _l1_sizes(k, lvl, nvar, inner, first_row, lead_count, ps_sizes, lvi, row_int, call_int):
    """L1 size per tensor of call ``k``: the innermost level's, reached through the first
    analysed step; at the innermost level its double-buffered mapped tile."""
    sub = -1
    if not inner and first_row >= 0:
        sub = row_int[R_SUB_EE, first_row]
        if sub < 0:
            sub = row_int[R_SUB_NORMAL, first_row]
    for t in range(3):
        if sub >= 0:
            call_int[k, K_L1 + t] = call_int[sub, K_L1 + t]
        else:
            # GetMappedVolume: the tile with the level-static mapped sizes.
            coupled, volume = lvi[lvl, L_COUPLED + t], 1
            for p in range(nvar):
                if (coupled >> p) & 1:
                    volume *= ps_sizes[lvl, p, MAPPED]
            call_int[k, K_L1 + t] = 2 * volume * (1 if t == OUTPUT else lead_count)


@njit(cache=True, error_model="numpy")
def _top_outputs(i, nvar, lv_dims, coupled, sliding, out_stride, noc_bw, latency, row_int,
                 row_bool, call_int, l2_in, l2_f, l2_out, out_int, out_float):
    """Counts, sizes, delays and bandwidth figures MAESTRO reports from the top call."""
    r0, r1 = call_int[0, K_ROW0], call_int[0, K_ROW1]
    steps, macs, read_in, read_f, all_macs, write_out, noc_req = 0, 0, 0, 0, 0, 0, 0
    in_min = eg_min = cd_min = INT64_MAX
    in_max = eg_max = cd_max = INT64_MIN
    in_sum = eg_sum = cd_sum = 0
    for r in range(r0, r1):
        w = row_int[R_WEIGHT, r]
        # Output partial sums are counted for skipped steps too (§4.5).
        all_macs += w * row_int[R_MACS, r]
        write_out += w * row_int[R_EGRESS, r]
        if not row_bool[B_VALID, r]:
            continue
        steps += w
        macs += w * row_int[R_MACS, r]
        read_in += w * row_int[R_INPUT, r]
        read_f += w * row_int[R_FILTER, r]
        ingress = row_int[R_INPUT, r] + row_int[R_FILTER, r]
        compute1 = max(row_int[R_COMPUTE, r], 1)
        d_in = noc_delay(ingress, noc_bw, latency)
        d_eg = noc_delay(row_int[R_EGRESS, r], noc_bw, latency)
        in_min, in_max, in_sum = min(in_min, d_in), max(in_max, d_in), in_sum + w * d_in
        eg_min, eg_max, eg_sum = min(eg_min, d_eg), max(eg_max, d_eg), eg_sum + w * d_eg
        cd_min, cd_max = min(cd_min, compute1), max(cd_max, compute1)
        cd_sum += w * compute1
        noc_req = max(noc_req, max(ingress, row_int[R_EGRESS, r]) // compute1)
    write_in = write_f = read_out = 1
    for var in range(nvar):
        if coupled[var, INPUT]:
            write_in *= lv_dims[0, var]
        if coupled[var, FILTER]:
            write_f *= lv_dims[0, var]
        if coupled[var, OUTPUT]:
            # Output rows/columns Y - R + 1: MAESTRO ignores the stride here
            # (§6.1 quirk 4); the stride-aware analysis counts (Y - R) // stride + 1.
            slide = sliding[var]
            read_out *= ((lv_dims[0, var] - lv_dims[0, slide]) // out_stride + 1 if slide >= 0
                         else lv_dims[0, var])
    # the twelve counts, in COUNT_FIELDS' order: per tensor L1 read, L1 write, L2 read, L2 write
    counts = (macs, read_in, read_in, write_in, macs, read_f, read_f, write_f, all_macs, all_macs,
              read_out, write_out)
    for q in range(12):
        out_int[O_COUNTS + q, i] = counts[q]
    out_int[O_MACS, i] = macs
    out_int[O_L2_SIZE + INPUT, i] = l2_in
    out_int[O_L2_SIZE + FILTER, i] = l2_f
    out_int[O_L2_SIZE + OUTPUT, i] = l2_out
    out_int[O_NOC_BW, i] = noc_req
    denominator = max(steps, 1)
    out_int[O_DELAYS + 0, i], out_int[O_DELAYS + 1, i] = in_min, in_max
    out_int[O_DELAYS + 2, i] = in_sum // denominator
    out_int[O_DELAYS + 3, i], out_int[O_DELAYS + 4, i] = eg_min, eg_max
    out_int[O_DELAYS + 5, i] = eg_sum // denominator
    out_int[O_DELAYS + 6, i], out_int[O_DELAYS + 7, i] = cd_min, cd_max
    out_int[O_DELAYS + 8, i] = cd_sum // denominator
    out_int[O_OFFCHIP_BW, i], out_float[F_INTENSITY, i] = _last_cases(
        nvar, r0, r1, row_int, row_bool, call_int, l2_out, l2_in + l2_f, cd_min)


TOP_OUTPUTS = declare(_top_outputs, NONE(INT, INT, ints(2), bools(2), ints(1), INT, INT, INT,
                                       ints(2), bools(2), ints(2), INT, INT, INT, ints(2),
                                       floats(2)))


@njit(cache=True, error_model="numpy", inline="always")
def _last_cases(nvar, r0, r1, row_int, row_bool, call_int, l2_output, l2_input, cd_min):
    """Order-dependent top-level figures from MAESTRO's last analysed cases (§4.10).

    The off-chip requirement is updated per analysed case as
    ``r = max(r, L2_out // cd, L2_in // cd) // 2``, so only the last few cases
    can matter: walking back from the last one, a case ``rank`` places from the
    end adds at most ``max(L2) // cd_min >> (rank + 1)`` (``cd_min``: the
    smallest compute delay of an analysed case), and the walk stops once that
    cannot raise the requirement.  The arithmetic intensity is that of the last
    analysed case.
    """
    # Case order counts the own steps of the earlier directive of a dimension mapped twice too.
    m_steady = call_int[0, K_HAS_STEADY] | call_int[0, K_PH_STEADY]
    m_edge = call_int[0, K_HAS_EDGE] | call_int[0, K_PH_EDGE]
    total = num_cases(nvar, m_steady, m_edge)
    bound = max(l2_output, l2_input) // cd_min
    offchip, intensity, rank = 0, np.nan, 0
    for case in range(total - 1, -1, -1):
        row = _find_row(case_key(case, nvar, m_steady, m_edge, total), r0, r1, row_int)
        if not row_bool[B_VALID, row]:
            continue
        cd = max(row_int[R_COMPUTE, row], 1)
        need = max(l2_output // cd, l2_input // cd)
        if rank == 0:
            ingress = row_int[R_INPUT, row] + row_int[R_FILTER, row]
            # C++'s division: 0 / 0 is NaN
            macs = row_int[R_MACS, row]
            intensity = (macs / ingress if ingress != 0
                         else (np.nan if macs == 0 else np.inf if macs > 0 else -np.inf))
        if rank < 62:
            offchip = max(offchip, need >> (rank + 1))
        rank += 1
        if rank >= 62 or (bound >> (rank + 1)) <= offchip:
            break
    return offchip, intensity


@njit(cache=True, error_model="numpy")
def _level_arrays(nvar):
    """:func:`evaluate_batch`'s per-candidate level arrays, reused from candidate to
    candidate (lv_size ... lvi: :func:`gamma.costmodel.levels.complete_candidate`;
    ps_sizes ... rank: :func:`gamma.costmodel.tables.prepare_level`; completion:
    the former's scratch)."""
    return (np.zeros((MAX_LEVELS, nvar), dtype=np.int64),     # lv_size
            np.zeros((MAX_LEVELS, nvar), dtype=np.int64),     # lv_ofs
            np.zeros((MAX_LEVELS, nvar), dtype=np.bool_),     # lv_sp
            np.zeros((MAX_LEVELS, nvar), dtype=np.int64),     # lv_order
            np.zeros((MAX_LEVELS, nvar), dtype=np.int64),     # lv_dims
            np.zeros(MAX_LEVELS, dtype=np.int64),             # lv_units
            np.zeros((MAX_LEVELS, 3), dtype=np.int64),        # lv_dup
            np.zeros((MAX_LEVELS, NUM_LEVEL_INTS), dtype=np.int64),     # lvi
            np.zeros((MAX_LEVELS, nvar, NUM_COLUMNS), dtype=np.int64),  # ps_sizes
            np.zeros((MAX_LEVELS, nvar), dtype=np.int64),     # ps_size
            np.zeros((MAX_LEVELS, nvar), dtype=np.int64),     # ps_ofs
            np.zeros((nvar, NUM_COLUMNS), dtype=np.int64),    # table
            np.zeros(nvar, dtype=np.int64),                   # rank
            np.zeros((8, nvar), dtype=np.int64))              # completion


LEVEL_ARRAYS = declare(_level_arrays, types.Tuple((
    ints(2), ints(2), bools(2), ints(2), ints(2), ints(1), ints(2), ints(2), ints(3), ints(2),
    ints(2), ints(2), ints(1), ints(2)))(INT))

#: The stages :func:`evaluate_batch` calls through its stage table (their callers,
#: :mod:`gamma.costmodel.stages`), in the table's order.
STAGES = (LEVEL_ARRAYS, PARSER_REASON, TWICE_LEVEL, EXPAND, FINISH, TOP_OUTPUTS)
S_LEVEL_ARRAYS, S_PARSER_REASON, S_TWICE_LEVEL, S_EXPAND, S_FINISH, S_TOP_OUTPUTS = range(6)
_TABLE_TYPE = types.UniTuple(stages.ENTRY, len(STAGES))


def run_batch(*args):
    """:func:`evaluate_batch` ``(*args, stage table)``.

    The first call in a process compiles (or loads) the main kernel before its
    stages, so that a helper process compiling stages meanwhile
    (:mod:`gamma.warmup`) is not waited for until the main kernel is ready.
    """
    # (under NUMBA_DISABLE_JIT evaluate_batch is a plain function: nothing to compile)
    if not getattr(evaluate_batch, "overloads", True):
        evaluate_batch.compile((*(typeof(arg) for arg in args), _TABLE_TYPE))
    return evaluate_batch(*args, stages.table(STAGES))


@njit(cache=True, error_model="numpy")
def evaluate_batch(start, dim, size, offset, spatial, cluster, num_levels, num_pes, noc_bw,
                   latency, offchip_bw, lanes, code_to_var, is_output_code, ignorable,
                   spec_sizes, coupled, coupled_order, sliding, y_var, x_var, r_var, s_var,
                   stride, physical, out_int, out_float, out_reason, row_int, row_bool,
                   call_int, call_dims, call_steady, call_float, stage_table):
    """Score candidates ``start...`` of a batch as MAESTRO would (module docstring).

    Parameters
    ----------
    dim, size, offset, spatial, cluster, num_levels : the batch's directives
        (:class:`~gamma.costmodel.directives.Directives`, codes as int64).
    num_pes, noc_bw : ndarray (N,), int64
        Per-candidate PEs and NoC bandwidth (elements/cycle).
    latency, offchip_bw, lanes : int
        NoC latency per transfer, off-chip bandwidth, SIMD lanes.
    code_to_var ... stride : the layer (:func:`gamma.costmodel.levels.code_tables`,
        :class:`~gamma.costmodel.layertable.LayerSpec`); ``coupled`` is (V, 3).
    physical : int
        0 for MAESTRO's analysis, 1 for the physical one: output rows counted at
        the stride (:mod:`gamma.costmodel.levels`) and a partial last window of a
        spatial edge counted (:func:`gamma.costmodel.tables.edge_units`).
    out_int (NUM_INT_OUTPUTS, N), out_float (NUM_FLOAT_OUTPUTS, N), out_reason (N,) : output
        Values of valid candidates and the reason code of every candidate.
    row_int ... call_float : working arrays (:func:`workspace`).
    stage_table : the entries of :data:`STAGES` (:func:`gamma.costmodel.stages.table`).

    Returns
    -------
    int
        N when every candidate is done, else the index of the candidate that
        did not fit in the working arrays.
    """
    n = dim.shape[0]
    nvar = spec_sizes.shape[0]
    out_stride = stride if physical else 1
    (lv_size, lv_ofs, lv_sp, lv_order, lv_dims, lv_units, lv_dup, lvi, ps_sizes, ps_size, ps_ofs,
     table, rank, completion) = LEVEL_ARRAYS(stage_table[S_LEVEL_ARRAYS], nvar)
    for i in range(start, n):
        reason = complete_candidate(
            i, dim, size, offset, spatial, cluster, num_levels, num_pes, code_to_var,
            is_output_code, ignorable, spec_sizes, y_var, x_var, r_var, s_var, stride, out_stride,
            lv_size, lv_ofs, lv_sp, lv_order, lv_dims, lv_units, lv_dup, completion,
            stage_table[S_PARSER_REASON])
        out_reason[i] = reason
        if reason != R.OK:
            continue
        nl = num_levels[i]
        for lvl in range(nl):
            if lv_dup[lvl, 0] >= 0:
                out_int[O_TWICE, i] = 1
            prepare_level(lvl, lv_size, lv_ofs, lv_sp, lv_order, lv_dims, lv_units, lv_dup,
                          coupled, coupled_order, sliding, out_stride, physical, table, rank,
                          ps_sizes, ps_size, ps_ofs, lvi, stage_table[S_TWICE_LEVEL])
            out_int[O_EDGE_DROPPED, i] |= lvi[lvl, L_EDGE_DROPPED]
        call_int[0, K_LEVEL] = 0
        for var in range(nvar):
            call_dims[0, var] = lv_dims[0, var]
        ncalls = EXPAND(stage_table[S_EXPAND], nl, nvar, lv_order, ps_sizes, ps_size, ps_ofs, lvi,
                        row_int, row_bool, call_int, call_dims, call_steady)
        if ncalls < 0:
            return i
        first_row, lower_no_step, l2_in, l2_f, l2_out = FINISH(
            stage_table[S_FINISH], ncalls, nvar, nl, noc_bw[i], latency, offchip_bw, lanes,
            ps_sizes, lvi, row_int, row_bool, call_int, call_float)
        out_reason[i] = _analysis_reason(call_int, lower_no_step, first_row)
        if out_reason[i] != R.OK:
            continue
        out_int[O_RUNTIME, i] = call_int[0, K_RUNTIME]
        out_float[F_ACTIVE, i] = call_float[0]
        for t in range(3):
            out_int[O_L1_SIZE + t, i] = call_int[0, K_L1 + t]
        TOP_OUTPUTS(stage_table[S_TOP_OUTPUTS], i, nvar, lv_dims, coupled, sliding, out_stride,
                    noc_bw[i], latency, row_int, row_bool, call_int, l2_in, l2_f, l2_out, out_int,
                    out_float)
    return n
