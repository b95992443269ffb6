"""Analysis of cluster levels for batches of level calls (maestro-model.md §4.6-4.10).

A *job* is one analysis of one level for one candidate with given dimension
sizes (MAESTRO's ``AnalyzeClusterLevel_V2`` call).  The top level has one job
per candidate; a lower level gets one job per distinct (candidate, sub-dimension
sizes) pair requested by the level above, so the recursion MAESTRO repeats for
every upper step is computed once per distinct tile shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gamma.costmodel import cases as K
from gamma.costmodel import volumes as V
from gamma.costmodel.intmath import cdiv, ceil_div
from gamma.costmodel.layertable import TENSORS, LayerSpec

INPUT_TENSORS = ("input", "filter")
#: Errors of a lower-level call that stop MAESTRO altogether (a lower level
#: without valid steps only matters through the compute delay it returns).
PROPAGATED_FLAGS = ("step_count_overflow", "silent_exit")


@dataclass
class Context:
    """What every level call of one ``evaluate`` needs."""

    spec: LayerSpec
    tables: list                 # LevelTables per level
    num_levels: np.ndarray       # (N,)
    noc_bw: int
    noc_latency: int
    offchip_bw: int
    lanes: int


@dataclass
class JobResult:
    """Results of J level calls (arrays of shape (J,) unless noted)."""

    runtime: np.ndarray
    avg_active: np.ndarray
    flags: dict                  # reason name -> (J,) bool
    l1_size: dict                # tensor -> (J,) L1 size requirement of the innermost level
    top: dict = field(default_factory=dict)


def noc_delay(ctx: Context, volume):
    """Cycles to move ``volume`` elements: latency + ceil(volume / bw) - 1 (§4.7)."""
    sends = cdiv(volume, ctx.noc_bw)
    sends = sends + (volume != sends * ctx.noc_bw)
    return ctx.noc_latency + sends - 1


def _position_order(values, order):
    return np.take_along_axis(values, order, axis=1)


@dataclass
class JobArrays:
    """Per-job arrays in loop-position order, as :func:`volumes.evaluate_rows` reads them."""

    sizes: np.ndarray          # (J, V, 8) int64
    flags: np.ndarray          # (J, V, 4) bool
    coupled: np.ndarray        # (J, V, 3) bool
    tensor_order: np.ndarray   # (J, 3, T) int64
    units: np.ndarray          # (J,)
    edge_units: np.ndarray     # (J,)
    first_spatial: np.ndarray  # (J,) loop position


def job_arrays(ctx: Context, lvl: int, cand, order, states: K.States) -> JobArrays:
    """Gather the level-static tables and the call's states of J jobs."""
    spec, tab = ctx.spec, ctx.tables[lvl]
    nj, nvar = order.shape
    sizes = np.stack([tab.mapped, tab.unique, tab.mapped_edge, tab.unique_edge,
                      tab.out_mapped, tab.out_unique, tab.out_mapped_edge,
                      tab.out_unique_edge], axis=2)[cand]
    sizes = np.take_along_axis(sizes, order[:, :, None], axis=1)
    spatial = _position_order(tab.level.spatial[cand], order)
    flags = np.stack([spatial, states.unrolled, states.init_edge, states.edge_ee], axis=2)
    coupled = np.stack([spec.coupled[t] for t in TENSORS], axis=1)[order]
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(nvar)[None, :].repeat(nj, axis=0), axis=1)
    width = max(len(spec.coupled_order[t]) for t in TENSORS)
    tensor_order = np.full((nj, 3, width), -1, dtype=np.int64)
    for i, t in enumerate(TENSORS):
        dims = list(spec.coupled_order[t])
        tensor_order[:, i, :len(dims)] = rank[:, dims]
    first_spatial = rank[np.arange(nj), tab.first_spatial[cand]]
    return JobArrays(sizes=np.ascontiguousarray(sizes), flags=np.ascontiguousarray(flags),
                     coupled=np.ascontiguousarray(coupled), tensor_order=tensor_order,
                     units=tab.units[cand], edge_units=tab.edge_units[cand],
                     first_spatial=first_spatial)


def analyze(ctx: Context, lvl: int, cand, dims) -> JobResult:
    """Analyse level ``lvl`` for jobs ``cand`` (J,) with dimension sizes ``dims`` (J, V).

    Returns per-job runtime (cycles), average active units, error flags and the
    L1 size requirements of the innermost level reached through the first
    analysed step; for the top level (``lvl == 0``) also every reported count
    in ``result.top``.
    """
    level = ctx.tables[lvl].level
    nj = len(cand)
    if nj == 0:
        return _empty_result()
    order = level.order[cand]
    states = K.iteration_states(
        _position_order(dims, order), _position_order(level.size[cand], order),
        _position_order(level.offset[cand], order), _position_order(level.spatial[cand], order),
        ctx.tables[lvl].units[cand])
    classes = K.enumerate_classes(states)
    arrays = job_arrays(ctx, lvl, cand, order, states)
    job, weight = classes.job, classes.weight
    ints, bools, sub_normal, sub_ee = V.evaluate_rows(
        job, classes.c, classes.pos, arrays.sizes, arrays.flags, arrays.coupled,
        arrays.tensor_order, arrays.units, arrays.edge_units, arrays.first_spatial)
    psums, macs, egress = ints[:, 0], ints[:, 1], ints[:, 2]
    ingress = {"input": ints[:, 3], "filter": ints[:, 4]}
    ingress_total = ints[:, 3] + ints[:, 4]
    exits, sp_edge, sp_ee = bools[:, 0], bools[:, 1], bools[:, 2]
    valid = psums > 0                      # MAESTRO skips steps without partial sums
    units, edge_units = arrays.units[job], arrays.edge_units[job]
    active = np.where(sp_edge, edge_units, units).astype(np.float64)

    first_row, lead_count, lead = K.first_valid_cases(states, classes, valid)
    flags = {
        "step_count_overflow": K.step_count_overflow(states),
        "silent_exit": (_job_any(exits & valid, classes.start)
                        | _any_by_job(exits[lead[1]], lead[0], nj)),
        "no_valid_step": first_row < 0,
    }
    mapped_volume = V.mapped_volumes(arrays.sizes, arrays.coupled)
    l1_size = {t: 2 * mapped_volume[:, i] * (1 if t == "output" else lead_count)
               for i, t in enumerate(TENSORS)}

    inner = ctx.num_levels[cand] == lvl + 1
    compute = ceil_div(psums, ctx.lanes)
    if not inner.all():
        needs = valid & ~inner[job]
        compute, active, row_flags, first_sub, sub_l1 = _recurse(
            ctx, lvl, cand, order, job, needs, sp_edge, sp_ee, units, edge_units,
            sub_normal, sub_ee, compute, active)
        for name, value in row_flags.items():
            flags[name] = flags[name] | _job_any(value & valid, classes.start)
        take = np.where(inner | (first_row < 0), -1, first_sub[np.maximum(first_row, 0)])
        for t in TENSORS if (take >= 0).any() else ():
            l1_size[t] = np.where(take >= 0, sub_l1[t][np.maximum(take, 0)], l1_size[t])

    din = noc_delay(ctx, ingress_total)
    deg = noc_delay(ctx, egress)
    delay = np.where(classes.c < 0, compute + din, np.maximum(deg, np.maximum(compute, din)))
    result = JobResult(runtime=None, avg_active=None, flags=flags, l1_size=l1_size)
    if lvl == 0:
        # Off-chip transfer of the double-buffered L2 tiles bounds every top step (§4.8).
        l2_size = {t: 2 * _lead_sum(ingress[t], lead, nj) for t in INPUT_TENSORS}
        l2_size["output"] = 2 * egress[np.maximum(first_row, 0)]
        in_off = ((l2_size["input"] + l2_size["filter"]) // ctx.offchip_bw) // 2
        out_off = (l2_size["output"] // ctx.offchip_bw) // 2
        delay = np.maximum(np.maximum(in_off[job], delay), out_off[job])
        flags["lower_level_no_step"] = _job_any(valid & (compute == 0), classes.start)
        result.top = _top_outputs(
            ctx, dims, states, classes, valid, ingress, ingress_total, egress, macs, compute,
            din, deg, l2_size)
    w_valid = np.where(valid, weight, 0)
    start = classes.start
    result.runtime = np.add.reduceat(w_valid * delay, start)
    steps = np.add.reduceat(w_valid, start)
    result.avg_active = np.add.reduceat(w_valid * active, start) / np.maximum(steps, 1)
    return result


def _empty_result() -> JobResult:
    none = np.zeros(0, dtype=bool)
    return JobResult(runtime=np.zeros(0, dtype=np.int64), avg_active=np.zeros(0),
                     flags={name: none for name in PROPAGATED_FLAGS},
                     l1_size={t: np.zeros(0, dtype=np.int64) for t in TENSORS})


def _top_outputs(ctx, dims, states, classes, valid, ingress, ingress_total, egress, macs,
                 compute, din, deg, l2_size):
    """Counts, sizes, delays and bandwidth figures MAESTRO reports from the top level."""
    spec = ctx.spec
    weight = classes.weight
    w_valid = np.where(valid, weight, 0)
    start = classes.start
    steps = np.add.reduceat(w_valid, start)
    out = {"macs": np.add.reduceat(w_valid * macs, start), "l2_size": l2_size}
    mac_reads = out["macs"]
    for t in INPUT_TENSORS:
        read = np.add.reduceat(w_valid * ingress[t], start)
        out[f"{t}_l2_read"] = read
        out[f"{t}_l1_write"] = read
        out[f"{t}_l1_read"] = mac_reads
        out[f"{t}_l2_write"] = np.prod(np.where(spec.coupled[t], dims, 1), axis=1)
    # Output partial sums are counted for skipped steps too (§4.5).
    all_macs = np.add.reduceat(weight * macs, start)
    out["output_l2_write"] = np.add.reduceat(weight * egress, start)
    out["output_l1_write"] = all_macs
    out["output_l1_read"] = all_macs
    out_dims = dims.copy()
    for ref in np.nonzero(spec.sliding >= 0)[0]:
        out_dims[:, ref] = dims[:, ref] - dims[:, spec.sliding[ref]] + 1
    out["output_l2_read"] = np.prod(np.where(spec.coupled["output"], out_dims, 1), axis=1)

    compute1 = np.maximum(compute, 1)
    for name, value in (("ingress", din), ("egress", deg), ("compute", compute1)):
        out[f"{name}_delay_min"] = np.minimum.reduceat(
            np.where(valid, value, np.iinfo(np.int64).max), start)
        out[f"{name}_delay_max"] = np.maximum.reduceat(
            np.where(valid, value, np.iinfo(np.int64).min), start)
        out[f"{name}_delay_avg"] = np.add.reduceat(w_valid * value, start) // np.maximum(steps, 1)
    traffic = np.maximum(ingress_total, egress)
    out["noc_bw_req"] = np.maximum.reduceat(np.where(valid, traffic // compute1, 0), start)

    # Order-dependent figures replay the last enumerated cases (§4.3, §4.10).
    out["offchip_bw_req"], out["arithmetic_intensity"] = K.last_cases(
        states, classes, valid, compute, macs, ingress_total, l2_size["output"],
        l2_size["input"] + l2_size["filter"])
    return out


def _recurse(ctx, lvl, cand, order, job, needs, sp_edge, sp_ee, units, edge_units,
             sub_normal, sub_ee, compute, active):
    """Analyse the level below for every distinct sub-tile; gather compute delays.

    MAESTRO calls the lower level once for a non-edge step (all N units alike),
    and at a spatial edge once for the edge-edge unit and once for the other
    active units (§4.6).  The compute delay is the slowest call; the active-unit
    count sums the calls' averages times their unit counts.

    Returns
    -------
    compute, active : (M,) per row
    row_flags : dict of (M,) bool
    first_sub : (M,) index of the row's first sub-call in the sub results (-1: none)
    sub_l1 : dict tensor -> (J_sub,) L1 size requirements of the sub-calls
    """
    normal_count = np.where(sp_edge, np.where(sp_ee, edge_units - 1, edge_units), units)
    with_normal = needs & (normal_count > 0)
    with_ee = needs & sp_edge & sp_ee
    row_order = order[job]
    row_cand = cand[job]
    keys, sources = [], []
    for sub, mask in ((sub_normal, with_normal), (sub_ee, with_ee)):
        idx = np.nonzero(mask)[0]
        by_var = np.empty((len(idx), sub.shape[1]), dtype=np.int64)
        np.put_along_axis(by_var, row_order[idx], sub[idx], axis=1)
        keys.append(np.column_stack([row_cand[idx], by_var]))
        sources.append(idx)
    unique, inverse = _unique_rows(np.concatenate(keys))
    sub = analyze(ctx, lvl + 1, unique[:, 0], unique[:, 1:])

    m = len(job)
    compute = compute.copy()
    total_active = np.zeros(m)
    first_sub = np.full(m, -1, dtype=np.int64)
    row_flags = {name: np.zeros(m, dtype=bool) for name in PROPAGATED_FLAGS}
    split = len(sources[0])
    for part, (idx, inv) in enumerate(((sources[0], inverse[:split]),
                                       (sources[1], inverse[split:]))):
        runtime = sub.runtime[inv]
        compute[idx] = runtime if part == 0 else np.maximum(
            np.where(with_normal[idx], compute[idx], 0), runtime)
        occurrences = normal_count[idx] if part == 0 else 1
        total_active[idx] += sub.avg_active[inv] * occurrences
        first_sub[idx] = inv  # the edge-edge call (part 1) comes first when present
        for name in PROPAGATED_FLAGS:
            row_flags[name][idx] |= sub.flags[name][inv]
    active = np.where(needs & (total_active != 0), total_active, active)
    return compute, active, row_flags, first_sub, sub.l1_size


def _unique_rows(keys):
    """Distinct rows of an int64 matrix and the inverse index."""
    if len(keys) == 0:
        return keys, np.zeros(0, dtype=np.int64)
    view = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1])))
    _, first, inverse = np.unique(view.ravel(), return_index=True, return_inverse=True)
    return keys[first], inverse.ravel()


def _job_any(values, start):
    """Per-job "any" of boolean row values (rows are grouped by job)."""
    return np.logical_or.reduceat(values, start)


def _lead_sum(values, lead, nj):
    """Per-job sums over the leading cases: the all-Init rows plus rare extra cases."""
    jobs, rows = lead
    out = values[rows[:nj]].copy()
    if len(rows) > nj:
        np.add.at(out, jobs[nj:], values[rows[nj:]])
    return out


def _any_by_job(values, job, nj):
    out = np.zeros(nj, dtype=bool)
    out[job[values]] = True
    return out
