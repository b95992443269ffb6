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
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gamma.costmodel import reasons as R
from gamma.costmodel.cases import (EDGE_EE, NUM_STATE_FLAGS, case_row, fill_classes,
                                   iteration_states, radix)
from gamma.costmodel.intmath import ceil_div, tdiv
from gamma.costmodel.levels import MAX_LEVELS, complete_candidate
from gamma.costmodel.tables import NUM_COLUMNS, edge_units, level_table
from gamma.costmodel.volumes import FILTER, INPUT, OUTPUT, mapped_volume, row_volumes

#: Integer outputs per candidate (rows of ``out_int``): runtime, MACs, the twelve
#: access counts in MAESTRO's CSV order, L1 and L2 size requirements per tensor,
#: NoC and off-chip bandwidth requirements, min/max/avg of the top level's
#: ingress, egress and compute delays.
O_RUNTIME, O_MACS, O_COUNTS = 0, 1, 2
O_L1_SIZE, O_L2_SIZE = 14, 17
O_NOC_BW, O_OFFCHIP_BW, O_DELAYS = 20, 21, 22
NUM_INT_OUTPUTS = 31
#: Float outputs: average utilised PEs, arithmetic intensity.
F_ACTIVE, F_INTENSITY = 0, 1
NUM_FLOAT_OUTPUTS = 2

# Row fields (int64 rows of ``row_int``, bool rows of ``row_bool``).
R_C, R_WEIGHT, R_KEY, R_PSUMS, R_MACS, R_EGRESS, R_INPUT, R_FILTER = 0, 1, 2, 3, 4, 5, 6, 7
R_SUB_NORMAL, R_SUB_EE, R_COMPUTE = 8, 9, 10
NUM_ROW_INTS = 11
B_EXITS, B_SP_EDGE, B_SP_EE, B_VALID = 0, 1, 2, 3
NUM_ROW_BOOLS = 4
# Call fields (columns of ``call_int``).
K_LEVEL, K_ROW0, K_ROW1, K_RUNTIME, K_L1 = 0, 1, 2, 3, 4      # K_L1 .. K_L1 + 2
K_OVERFLOW, K_SILENT = 7, 8
NUM_CALL_INTS = 9

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def workspace(nvar: int, rows: int, calls: int):
    """Working arrays for :func:`evaluate_batch` (rows: case classes, calls: level calls)."""
    return (np.zeros((NUM_ROW_INTS, rows), dtype=np.int64),
            np.zeros((NUM_ROW_BOOLS, rows), dtype=np.bool_),
            np.zeros((rows, nvar), dtype=np.int8),
            np.zeros((calls, NUM_CALL_INTS), dtype=np.int64),
            np.zeros((calls, nvar), dtype=np.int64),
            np.zeros((calls, NUM_STATE_FLAGS, nvar), dtype=np.bool_),
            np.zeros((calls, nvar), dtype=np.int64),
            np.zeros(calls, dtype=np.float64))


@njit(cache=True, error_model="numpy")
def noc_delay(volume, bw, latency):
    """Cycles to move ``volume`` elements: latency + ceil(volume / bw) - 1 (§4.7)."""
    sends = tdiv(volume, bw)
    if volume != sends * bw:
        sends += 1
    return latency + sends - 1


@njit(cache=True, error_model="numpy")
def _prepare_level(lvl, lv_size, lv_ofs, lv_sp, lv_order, lv_dims, lv_units, coupled,
                   coupled_order, sliding, table, rank, ps_sizes, ps_size, ps_ofs, ps_sp,
                   ps_coupled, ps_tensor_order, lv_edge_units, lv_first_pos):
    """Level-static tables of level ``lvl``, rearranged in loop-position order."""
    nvar = lv_order.shape[1]
    level_table(lv_size[lvl], lv_ofs[lvl], lv_sp[lvl], lv_dims[lvl], sliding, table)
    first_pos = -1
    for p in range(nvar):
        var = lv_order[lvl, p]
        rank[var] = p
        for col in range(NUM_COLUMNS):
            ps_sizes[lvl, p, col] = table[var, col]
        ps_size[lvl, p] = lv_size[lvl, var]
        ps_ofs[lvl, p] = lv_ofs[lvl, var]
        ps_sp[lvl, p] = lv_sp[lvl, var]
        for t in range(3):
            ps_coupled[lvl, p, t] = coupled[var, t]
        if first_pos < 0 and lv_sp[lvl, var]:
            first_pos = p
    first_pos = max(first_pos, 0)
    lv_first_pos[lvl] = first_pos
    fv = lv_order[lvl, first_pos]
    lv_edge_units[lvl] = edge_units(lv_dims[lvl, fv], lv_size[lvl, fv], lv_ofs[lvl, fv],
                                    lv_units[lvl])
    for t in range(3):
        for k in range(coupled_order.shape[1]):
            var = coupled_order[t, k]
            ps_tensor_order[lvl, t, k] = rank[var] if var >= 0 else -1


@njit(cache=True, error_model="numpy")
def _find_or_add_call(level, sub, order, ncalls, call_int, call_dims):
    """Index of the call of ``level`` with tile sizes ``sub`` (loop-position order,
    ``order`` maps positions to variables); added if new.  -1: no room left."""
    nvar = sub.shape[0]
    for k in range(ncalls):
        if call_int[k, K_LEVEL] != level:
            continue
        same = True
        for p in range(nvar):
            if call_dims[k, order[p]] != sub[p]:
                same = False
                break
        if same:
            return k
    if ncalls >= call_int.shape[0]:
        return -1
    call_int[ncalls, K_LEVEL] = level
    for p in range(nvar):
        call_dims[ncalls, order[p]] = sub[p]
    return ncalls


@njit(cache=True, error_model="numpy")
def _expand_call(k, ncalls, nrows, num_levels, lv_order, lv_units, ps_sizes, ps_size, ps_ofs,
                 ps_sp, ps_coupled, ps_tensor_order, lv_edge_units, lv_first_pos, row_int,
                 row_bool, row_pos, call_int, call_dims, call_st, call_steady, is_edge, has_ee,
                 sub_normal, sub_ee):
    """States, case classes and per-class volumes of call ``k``; registers the lower
    calls its analysed steps need (§4.2-4.6).

    Returns the new numbers of calls and rows, or (-1, -1) when the working
    arrays are full.
    """
    lvl = call_int[k, K_LEVEL]
    sizes, spatial, coupled = ps_sizes[lvl], ps_sp[lvl], ps_coupled[lvl]
    tensor_order, order = ps_tensor_order[lvl], lv_order[lvl]
    units, e_units, first_pos = lv_units[lvl], lv_edge_units[lvl], lv_first_pos[lvl]
    st, steady = call_st[k], call_steady[k]
    overflow, count = iteration_states(call_dims[k], order, ps_size[lvl], ps_ofs[lvl],
                                       spatial, units, st, steady)
    call_int[k, K_OVERFLOW] = overflow
    if nrows + count > row_int.shape[1]:
        return -1, -1
    r0 = nrows
    r1 = fill_classes(st, steady, r0, row_int[R_C], row_int[R_WEIGHT], row_int[R_KEY], row_pos)
    call_int[k, K_ROW0], call_int[k, K_ROW1] = r0, r1
    inner = num_levels == lvl + 1
    for r in range(r0, r1):
        psums, macs, egress, ing_in, ing_f, exits, sp_edge, sp_ee = row_volumes(
            row_int[R_C, r], row_pos[r], sizes, spatial, coupled, tensor_order, st, units,
            e_units, first_pos, is_edge, has_ee, sub_normal, sub_ee)
        valid = psums > 0                  # MAESTRO skips steps without partial sums
        row_int[R_PSUMS, r], row_int[R_MACS, r], row_int[R_EGRESS, r] = psums, macs, egress
        row_int[R_INPUT, r], row_int[R_FILTER, r] = ing_in, ing_f
        row_bool[B_EXITS, r], row_bool[B_SP_EDGE, r] = exits, sp_edge
        row_bool[B_SP_EE, r], row_bool[B_VALID, r] = sp_ee, valid
        row_int[R_SUB_NORMAL, r] = row_int[R_SUB_EE, r] = -1
        if not valid or inner:
            continue
        # A regular step: one call for all units; a spatial edge: one for the
        # regular active units, one for the edge-edge unit (§4.6).
        if _normal_units(sp_edge, sp_ee, units, e_units) > 0:
            sub = _find_or_add_call(lvl + 1, sub_normal, order, ncalls, call_int, call_dims)
            if sub < 0:
                return -1, -1
            ncalls = max(ncalls, sub + 1)
            row_int[R_SUB_NORMAL, r] = sub
        if sp_edge and sp_ee:
            sub = _find_or_add_call(lvl + 1, sub_ee, order, ncalls, call_int, call_dims)
            if sub < 0:
                return -1, -1
            ncalls = max(ncalls, sub + 1)
            row_int[R_SUB_EE, r] = sub
    return ncalls, r1


@njit(cache=True, error_model="numpy")
def _normal_units(sp_edge, sp_ee, units, e_units):
    """Sub-units of a step that get the regular tile (the others: one edge-edge unit)."""
    if not sp_edge:
        return units
    return e_units - 1 if sp_ee else e_units


@njit(cache=True, error_model="numpy")
def _first_valid_case(r0, r1, st, row_int, row_bool, num_states, freq):
    """First analysed (non-skipped) case of a call in MAESTRO's order (§4.9).

    MAESTRO sizes the buffers from every enumerated case up to that one (skipped
    leading cases accumulate).  Returns its row (-1: every case is skipped),
    the number of those cases and their summed input and filter ingress, and
    whether one of them exits silently.  Without a valid case only case 0 counts.
    """
    lead_in, lead_f = row_int[R_INPUT, r0], row_int[R_FILTER, r0]
    lead_exit = row_bool[B_EXITS, r0]
    if row_bool[B_VALID, r0]:
        return r0, 1, lead_in, lead_f, lead_exit
    total = radix(st, num_states, freq)
    keys = row_int[R_KEY]
    count = 1
    for k in range(1, total):
        row = case_row(k, num_states, freq, st, keys, r0, r1)
        count += 1
        lead_in += row_int[R_INPUT, row]
        lead_f += row_int[R_FILTER, row]
        lead_exit = lead_exit or row_bool[B_EXITS, row]
        if row_bool[B_VALID, row]:
            return row, count, lead_in, lead_f, lead_exit
    return -1, 1, row_int[R_INPUT, r0], row_int[R_FILTER, r0], row_bool[B_EXITS, r0]


@njit(cache=True, error_model="numpy")
def _finish_call(k, num_levels, noc_bw, latency, offchip_bw, lanes, lv_units, ps_sizes,
                 ps_coupled, lv_edge_units, row_int, row_bool, call_int, call_st, call_float,
                 num_states, freq):
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
    units, e_units = lv_units[lvl], lv_edge_units[lvl]
    first_row, lead_count, lead_in, lead_f, silent = _first_valid_case(
        r0, r1, call_st[k], row_int, row_bool, num_states, freq)
    overflow = call_int[k, K_OVERFLOW] != 0
    l2_in, l2_f = 2 * lead_in, 2 * lead_f
    l2_out = 2 * row_int[R_EGRESS, first_row if first_row >= 0 else r0]
    in_off = ((l2_in + l2_f) // offchip_bw) // 2
    out_off = (l2_out // offchip_bw) // 2
    lower_no_step = False
    runtime, steps, active_sum = 0, 0, 0.0
    for r in range(r0, r1):
        valid = row_bool[B_VALID, r]
        silent = silent or (valid and row_bool[B_EXITS, r])
        compute = ceil_div(row_int[R_PSUMS, r], lanes)
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
    # L1 size: the innermost level reached through the first analysed step.
    sub = -1
    if not inner and first_row >= 0:
        sub = row_int[R_SUB_EE, first_row]
        if sub < 0:
            sub = row_int[R_SUB_NORMAL, first_row]
    for t in range(3):
        if sub >= 0:
            call_int[k, K_L1 + t] = call_int[sub, K_L1 + t]
        else:
            call_int[k, K_L1 + t] = 2 * mapped_volume(ps_sizes[lvl], ps_coupled[lvl], t) * (
                1 if t == OUTPUT else lead_count)
    return first_row, lower_no_step, l2_in, l2_f, l2_out


@njit(cache=True, error_model="numpy")
def _top_outputs(i, r0, r1, dims, coupled, sliding, noc_bw, latency, st, row_int, row_bool,
                 l2_in, l2_f, l2_out, num_states, freq, out_int, out_float, delays):
    """Counts, sizes, delays and bandwidth figures MAESTRO reports from the top level.

    ``delays`` (4, 3) is scratch: min, max, sum and value of the ingress, egress
    and compute delays.
    """
    steps, macs, read_in, read_f, all_macs, write_out, noc_req = 0, 0, 0, 0, 0, 0, 0
    d_min, d_max, d_sum, values = delays[0], delays[1], delays[2], delays[3]
    d_min[:] = INT64_MAX
    d_max[:] = INT64_MIN
    d_sum[:] = 0
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
        values[0] = noc_delay(ingress, noc_bw, latency)
        values[1] = noc_delay(row_int[R_EGRESS, r], noc_bw, latency)
        values[2] = compute1
        for q in range(3):
            d_min[q] = min(d_min[q], values[q])
            d_max[q] = max(d_max[q], values[q])
            d_sum[q] += w * values[q]
        noc_req = max(noc_req, max(ingress, row_int[R_EGRESS, r]) // compute1)
    write_in = write_f = read_out = 1
    for var in range(dims.shape[0]):
        if coupled[var, INPUT]:
            write_in *= dims[var]
        if coupled[var, FILTER]:
            write_f *= dims[var]
        if coupled[var, OUTPUT]:
            # Output rows/columns Y - R + 1, ignoring the stride (§6.1 quirk 4).
            slide = sliding[var]
            read_out *= dims[var] - dims[slide] + 1 if slide >= 0 else dims[var]
    counts = (macs, read_in, read_in, write_in, macs, read_f, read_f, write_f,
              all_macs, all_macs, read_out, write_out)
    for q in range(12):
        out_int[O_COUNTS + q, i] = counts[q]
    out_int[O_MACS, i] = macs
    out_int[O_L2_SIZE + INPUT, i] = l2_in
    out_int[O_L2_SIZE + FILTER, i] = l2_f
    out_int[O_L2_SIZE + OUTPUT, i] = l2_out
    out_int[O_NOC_BW, i] = noc_req
    for q in range(3):
        out_int[O_DELAYS + 3 * q, i] = d_min[q]
        out_int[O_DELAYS + 3 * q + 1, i] = d_max[q]
        out_int[O_DELAYS + 3 * q + 2, i] = d_sum[q] // max(steps, 1)
    out_int[O_OFFCHIP_BW, i], out_float[F_INTENSITY, i] = _last_cases(
        r0, r1, st, row_int, row_bool, l2_out, l2_in + l2_f, num_states, freq)


@njit(cache=True, error_model="numpy")
def _last_cases(r0, r1, st, row_int, row_bool, l2_output, l2_input, num_states, freq):
    """Order-dependent top-level figures from MAESTRO's last analysed cases (§4.10).

    The off-chip requirement is updated per analysed case as
    ``r = max(r, L2_out // cd, L2_in // cd) // 2``, so only the last few cases
    can matter; the arithmetic intensity is that of the last analysed case.
    """
    total = radix(st, num_states, freq)
    bound = max(l2_output, l2_input)
    offchip, intensity, rank = 0, np.nan, 0
    keys = row_int[R_KEY]
    for k in range(total - 1, -1, -1):
        row = case_row(k, num_states, freq, st, keys, r0, r1)
        if not row_bool[B_VALID, row]:
            continue
        cd = max(row_int[R_COMPUTE, row], 1)
        need = max(l2_output // cd, l2_input // cd)
        if rank == 0:
            ingress = row_int[R_INPUT, row] + row_int[R_FILTER, row]
            intensity = row_int[R_MACS, row] / ingress if ingress != 0 else np.inf
        if rank < 62:
            offchip = max(offchip, need >> (rank + 1))
        rank += 1
        if rank >= 62 or (bound >> (rank + 1)) == 0:
            break
    return offchip, intensity


@njit(cache=True, error_model="numpy")
def evaluate_batch(start, dim, size, offset, spatial, cluster, num_levels, num_pes, noc_bw,
                   latency, offchip_bw, lanes, code_to_var, is_output_code, ignorable,
                   spec_sizes, coupled, coupled_order, sliding, y_var, x_var, r_var, s_var,
                   stride, out_int, out_float, out_reason, row_int, row_bool, row_pos,
                   call_int, call_dims, call_st, call_steady, call_float):
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
    out_int (NUM_INT_OUTPUTS, N), out_float (NUM_FLOAT_OUTPUTS, N), out_reason (N,) : output
        Values of valid candidates and the reason code of every candidate.
    row_int ... call_float : working arrays (:func:`workspace`).

    Returns
    -------
    int
        N when every candidate is done, else the index of the candidate that
        did not fit in the working arrays.
    """
    n = dim.shape[0]
    nvar = spec_sizes.shape[0]
    width = coupled_order.shape[1]
    lv_size = np.zeros((MAX_LEVELS, nvar), dtype=np.int64)
    lv_ofs = np.zeros((MAX_LEVELS, nvar), dtype=np.int64)
    lv_sp = np.zeros((MAX_LEVELS, nvar), dtype=np.bool_)
    lv_order = np.zeros((MAX_LEVELS, nvar), dtype=np.int64)
    lv_dims = np.zeros((MAX_LEVELS, nvar), dtype=np.int64)
    lv_units = np.zeros(MAX_LEVELS, dtype=np.int64)
    lv_edge_units = np.zeros(MAX_LEVELS, dtype=np.int64)
    lv_first_pos = np.zeros(MAX_LEVELS, dtype=np.int64)
    ps_sizes = np.zeros((MAX_LEVELS, nvar, NUM_COLUMNS), dtype=np.int64)
    ps_size = np.zeros((MAX_LEVELS, nvar), dtype=np.int64)
    ps_ofs = np.zeros((MAX_LEVELS, nvar), dtype=np.int64)
    ps_sp = np.zeros((MAX_LEVELS, nvar), dtype=np.bool_)
    ps_coupled = np.zeros((MAX_LEVELS, nvar, 3), dtype=np.bool_)
    ps_tensor_order = np.zeros((MAX_LEVELS, 3, width), dtype=np.int64)
    table = np.zeros((nvar, NUM_COLUMNS), dtype=np.int64)
    rank = np.zeros(nvar, dtype=np.int64)
    is_edge = np.zeros(nvar, dtype=np.bool_)
    has_ee = np.zeros(nvar, dtype=np.bool_)
    sub_normal = np.zeros(nvar, dtype=np.int64)
    sub_ee = np.zeros(nvar, dtype=np.int64)
    num_states = np.zeros(nvar, dtype=np.int64)
    freq = np.zeros(nvar, dtype=np.int64)
    delays = np.zeros((4, 3), dtype=np.int64)
    completion = np.zeros((8, nvar), dtype=np.int64)
    for i in range(start, n):
        reason = complete_candidate(
            i, dim, size, offset, spatial, cluster, num_levels, num_pes, code_to_var,
            is_output_code, ignorable, spec_sizes, y_var, x_var, r_var, s_var, stride,
            lv_size, lv_ofs, lv_sp, lv_order, lv_dims, lv_units, completion)
        out_reason[i] = reason
        if reason != R.OK:
            continue
        nl = num_levels[i]
        for lvl in range(nl):
            _prepare_level(lvl, lv_size, lv_ofs, lv_sp, lv_order, lv_dims, lv_units, coupled,
                           coupled_order, sliding, table, rank, ps_sizes, ps_size, ps_ofs,
                           ps_sp, ps_coupled, ps_tensor_order, lv_edge_units, lv_first_pos)
        call_int[0, K_LEVEL] = 0
        call_dims[0, :] = lv_dims[0]
        ncalls, nrows, k = 1, 0, 0
        while k < ncalls:
            ncalls, nrows = _expand_call(
                k, ncalls, nrows, nl, lv_order, lv_units, ps_sizes, ps_size, ps_ofs, ps_sp,
                ps_coupled, ps_tensor_order, lv_edge_units, lv_first_pos, row_int, row_bool,
                row_pos, call_int, call_dims, call_st, call_steady, is_edge, has_ee,
                sub_normal, sub_ee)
            if ncalls < 0:
                return i
            k += 1
        for k in range(ncalls - 1, -1, -1):
            first_row, lower_no_step, l2_in, l2_f, l2_out = _finish_call(
                k, nl, noc_bw[i], latency, offchip_bw, lanes, lv_units, ps_sizes, ps_coupled,
                lv_edge_units, row_int, row_bool, call_int, call_st, call_float, num_states,
                freq)
        if call_int[0, K_OVERFLOW]:
            out_reason[i] = R.STEP_COUNT_OVERFLOW
        elif call_int[0, K_SILENT]:
            out_reason[i] = R.SILENT_EXIT
        elif lower_no_step:
            out_reason[i] = R.LOWER_LEVEL_NO_STEP
        elif first_row < 0:
            out_reason[i] = R.RUNTIME_ZERO
        if out_reason[i] != R.OK:
            continue
        out_int[O_RUNTIME, i] = call_int[0, K_RUNTIME]
        out_float[F_ACTIVE, i] = call_float[0]
        for t in range(3):
            out_int[O_L1_SIZE + t, i] = call_int[0, K_L1 + t]
        _top_outputs(i, call_int[0, K_ROW0], call_int[0, K_ROW1], lv_dims[0], coupled,
                     sliding, noc_bw[i], latency, call_st[0], row_int, row_bool, l2_in, l2_f,
                     l2_out, num_states, freq, out_int, out_float, delays)
    return n
