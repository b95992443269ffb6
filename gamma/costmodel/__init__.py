"""Vectorized MAESTRO cost model: score a whole batch of mappings of one layer at once.

>>> costs = evaluate(layer, hw, directives)      # directives: N mappings
>>> costs.runtime[costs.valid]

Every figure reproduces MAESTRO (maestro-project/maestro, MICRO 2019) with its
integer semantics, including its quirks (maestro-model.md).
Invalid mappings are values, never exceptions: ``valid`` is False and
``reason`` holds a code of :data:`REASONS`.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from gamma.costmodel import engine, hwcost
from gamma.costmodel import reasons as R
from gamma.costmodel.directives import DIM_CODE, DIM_NAMES, EMPTY, Directives
from gamma.costmodel.layertable import TENSORS, layer_spec
from gamma.costmodel.levels import complete_levels
from gamma.costmodel.reasons import REASONS, reason_class, reason_text
from gamma.costmodel.tables import level_tables
from gamma.hardware import Hardware
from gamma.workload import Layer

__all__ = ["Costs", "Directives", "evaluate", "REASONS", "reason_text", "reason_class",
           "DIM_CODE", "DIM_NAMES", "EMPTY", "COUNT_FIELDS"]

#: The twelve buffer access counts, in MAESTRO's CSV order.
COUNT_FIELDS = tuple(f"{t}_{buf}_{op}" for t in TENSORS for buf in ("l1", "l2")
                     for op in ("read", "write"))
_DELAY_FIELDS = tuple(f"{k}_delay_{s}" for k in ("ingress", "egress", "compute")
                      for s in ("min", "max", "avg"))


@dataclass(frozen=True)
class Costs:
    """Costs of N mappings; every field is an ndarray of shape (N,).

    Integer fields are int64 (0 where invalid); float fields are float64 (NaN
    where invalid).  Sizes and counts are in elements, times in cycles.

    Attributes
    ----------
    runtime : cycles (MAESTRO's top-level runtime).
    macs : MAESTRO's MAC count (may differ from ``true_macs``, see exact_analysis).
    true_macs : the layer's real MACs, ``layer.macs``.
    throughput : ``macs / runtime`` (MACs/cycle).
    energy : MAC units, ``macs + 1.68 * ΣL1 accesses + 18.61 * ΣL2 accesses``.
    energy_nj : ``energy * 0.00023``.
    area, power : MAESTRO's area/power model with the required buffer sizes.
    pe_power, l1_power, l2_power, noc_power : terms of ``power``.
    l1_size_req, l2_size_req : required L1 (per PE) / L2 sizes, double-buffered.
    {input,filter,output}_{l1,l2}_size_req : the same per tensor.
    {input,filter,output}_{l1,l2}_{read,write} : buffer access counts.
    noc_bw_req, offchip_bw_req : peak NoC / off-chip bandwidth requirement (elements/cycle).
    avg_utilized_pes : step-weighted average of active PEs.
    {ingress,egress,compute}_delay_{min,max,avg} : per-step delays of the top level.
    arithmetic_intensity : MACs / ingress of MAESTRO's last analysed top-level step.
    valid : MAESTRO would produce numbers.
    reason : :data:`REASONS` code (0 when valid).
    exact_analysis : valid, ``macs == true_macs`` and ``throughput <= PEs * lanes``.
    """

    runtime: np.ndarray
    macs: np.ndarray
    true_macs: np.ndarray
    throughput: np.ndarray
    energy: np.ndarray
    energy_nj: np.ndarray
    area: np.ndarray
    power: np.ndarray
    pe_power: np.ndarray
    l1_power: np.ndarray
    l2_power: np.ndarray
    noc_power: np.ndarray
    l1_size_req: np.ndarray
    l2_size_req: np.ndarray
    input_l1_size_req: np.ndarray
    input_l2_size_req: np.ndarray
    filter_l1_size_req: np.ndarray
    filter_l2_size_req: np.ndarray
    output_l1_size_req: np.ndarray
    output_l2_size_req: np.ndarray
    input_l1_read: np.ndarray
    input_l1_write: np.ndarray
    input_l2_read: np.ndarray
    input_l2_write: np.ndarray
    filter_l1_read: np.ndarray
    filter_l1_write: np.ndarray
    filter_l2_read: np.ndarray
    filter_l2_write: np.ndarray
    output_l1_read: np.ndarray
    output_l1_write: np.ndarray
    output_l2_read: np.ndarray
    output_l2_write: np.ndarray
    noc_bw_req: np.ndarray
    offchip_bw_req: np.ndarray
    avg_utilized_pes: np.ndarray
    ingress_delay_min: np.ndarray
    ingress_delay_max: np.ndarray
    ingress_delay_avg: np.ndarray
    egress_delay_min: np.ndarray
    egress_delay_max: np.ndarray
    egress_delay_avg: np.ndarray
    compute_delay_min: np.ndarray
    compute_delay_max: np.ndarray
    compute_delay_avg: np.ndarray
    arithmetic_intensity: np.ndarray
    valid: np.ndarray
    reason: np.ndarray
    exact_analysis: np.ndarray

    def __len__(self) -> int:
        return len(self.runtime)

    def row(self, i: int) -> dict:
        """Field -> value of candidate ``i`` (Python scalars)."""
        return {f.name: getattr(self, f.name)[i].item() for f in fields(self)}


_FLOAT_FIELDS = {"throughput", "energy", "energy_nj", "area", "power", "pe_power", "l1_power",
                 "l2_power", "noc_power", "avg_utilized_pes",
                 "arithmetic_intensity"}


def evaluate(layer: Layer, hw: Hardware, directives: Directives) -> Costs:
    """Score N mappings of ``layer`` on ``hw`` as MAESTRO would.

    Parameters
    ----------
    layer : Layer
    hw : Hardware
        ``num_pes``, ``noc_bw``/``offchip_bw`` (None = MAESTRO's INT_MAX),
        ``noc_hops`` (latency per transfer, as MAESTRO's ``NoC_NumHops``),
        ``simd_lanes``.
    directives : Directives
        N mappings (arrays of shape (N, L, D)).

    Returns
    -------
    Costs
        Arrays of shape (N,).
    """
    n = len(directives)
    spec = layer_spec(layer)
    plan = complete_levels(spec, directives, hw.num_pes)
    reason = plan.reason.copy()
    tables = [level_tables(spec, level) for level in plan.levels]
    ctx = engine.Context(spec=spec, tables=tables, num_levels=plan.num_levels,
                         noc_bw=hw.noc_bw_value, noc_latency=hw.noc_hops,
                         offchip_bw=hw.offchip_bw_value, lanes=hw.simd_lanes)
    cand = np.nonzero(reason == R.OK)[0]
    values = {f.name: (np.full(n, np.nan) if f.name in _FLOAT_FIELDS
                       else np.zeros(n, dtype=np.int64)) for f in fields(Costs)}
    if len(cand):
        result = engine.analyze(ctx, 0, cand, plan.levels[0].dims[cand])
        flags = result.flags
        found = np.zeros(len(cand), dtype=np.int64)
        for name, code in (("step_count_overflow", R.STEP_COUNT_OVERFLOW),
                           ("silent_exit", R.SILENT_EXIT),
                           ("lower_level_no_step", R.LOWER_LEVEL_NO_STEP),
                           ("no_valid_step", R.RUNTIME_ZERO)):
            found = np.where((found == 0) & flags[name], code, found)
        reason[cand] = found
        _fill(values, cand, result, layer, hw)
    valid = reason == R.OK
    for name, column in values.items():
        if name in _FLOAT_FIELDS:
            column[~valid] = np.nan
        else:
            column[~valid] = 0
    values["true_macs"] = np.full(n, layer.macs, dtype=np.int64)
    values["valid"] = valid
    values["reason"] = reason
    values["exact_analysis"] = (valid & (values["macs"] == layer.macs)
                                & (values["throughput"] <= hw.num_pes * hw.simd_lanes))
    return Costs(**values)


def _fill(values: dict, cand, result, layer: Layer, hw: Hardware) -> None:
    """Copy the top-level results of candidates ``cand`` into the Costs columns."""
    top = result.top
    runtime = result.runtime
    values["runtime"][cand] = runtime
    values["macs"][cand] = top["macs"]
    with np.errstate(divide="ignore", invalid="ignore"):
        values["throughput"][cand] = top["macs"] / runtime
    for name in COUNT_FIELDS:
        values[name][cand] = top[name]
    for t in TENSORS:
        values[f"{t}_l2_size_req"][cand] = top["l2_size"][t]
        values[f"{t}_l1_size_req"][cand] = result.l1_size[t]
    l1 = sum(result.l1_size[t] for t in TENSORS)
    l2 = sum(top["l2_size"][t] for t in TENSORS)
    values["l1_size_req"][cand] = l1
    values["l2_size_req"][cand] = l2
    l1_accesses = sum(top[f"{t}_l1_{op}"] for t in TENSORS for op in ("read", "write"))
    l2_accesses = sum(top[f"{t}_l2_{op}"] for t in TENSORS for op in ("read", "write"))
    energy = hwcost.energy(top["macs"], l1_accesses, l2_accesses)
    values["energy"][cand] = energy
    values["energy_nj"][cand] = energy * hwcost.MAC_ENERGY_NJ
    area, power, parts = hwcost.area_power(hw.num_pes, hw.simd_lanes, hw.noc_bw_value, l1, l2)
    values["area"][cand] = area
    values["power"][cand] = power
    for name, part in parts.items():
        values[name][cand] = part
    for name in ("noc_bw_req", "offchip_bw_req", "arithmetic_intensity",
                 *_DELAY_FIELDS):
        values[name][cand] = top[name]
    values["avg_utilized_pes"][cand] = result.avg_active
