"""Scoring a population: one cost-model call, objectives, feasibility and violation.

Every generation's candidates are decoded to :class:`~gamma.costmodel.directives.Directives`
and scored with **one** cost-model call.  A candidate is *feasible* if the
model found it valid, its analysis is trusted (``GAConfig.trust``) and its
L1/L2 requirements fit the hardware.  Infeasible candidates are not discarded
(GAMMA's death penalty made runs stall): they carry a *violation* — how far
they break the limits — and rank after every feasible one, least violation
first.

Objectives (all minimised): latency (cycles), energy (nJ), power (mW: energy ÷
time at :data:`~gamma.objectives.CLOCK_GHZ`; MAESTRO's own figure, dominated by
a NoC term, is ``power_maestro``), EDP (nJ·cycles) and area (µm², :class:`~gamma.hardware.AreaModel`
with the buffers sized to the mapping's requirement, as GAMMA does).  By
default the order is lexicographic as in GAMMA (``fitness1``, ties broken by
``fitness2``); with ``pareto`` survival is NSGA-II (DEAP's ``selNSGA2``) and
the result is the Pareto front of the two.

Co-design (DiGamma)
-------------------
With ``pe_limit > 0`` the PE count joins the genome (``Population.pes``:
#clusters x cluster size, at most ``pe_limit``); each candidate is scored on
its own PE count, and its L1 (per PE) and L2 are sized to what its mapping
needs (capped by the hardware's ``l1_size``/``l2_size`` when set).  The area
(:class:`~gamma.hardware.AreaModel`) of that PE count and those buffers is
reported for every candidate (``area`` and its ``area_pe``/``area_l1``/
``area_l2``/``area_noc`` split, µm²).  An ``area_budget`` (mm²) is always
enforced, in co-design or not and whatever the objectives: a candidate over
it carries a violation and ranks after every feasible one.
"""
from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

from gamma.hardware import Hardware
from gamma.mapping import Population, pe_counts, to_directives
from gamma.objectives import OBJECTIVES, average_power_mw
from gamma.search.config import GAConfig
from gamma.workload import Layer


def _costmodel_evaluate(layer, hw, directives, **kwargs):
    from gamma.costmodel import evaluate
    return evaluate(layer, hw, directives, **kwargs)


def score(pop: Population, layer: Layer, hw: Hardware, cfg: GAConfig, evaluate=None) -> dict:
    """Score a population with one cost-model call.

    Returns
    -------
    dict of str to ndarray of shape (P,)
        Every field of the cost model's ``Costs`` (its ``energy``, in MAC
        units, as ``energy_mac_units``, and MAESTRO's ``area`` formula as
        ``maestro_area``, its ``power`` as ``power_maestro``), each objective of
        :data:`OBJECTIVES` by name (so ``energy`` in nJ, ``power`` in mW, ``area``
        in µm² from the hardware's area model),
        ``num_pes`` (the candidate's PE count),
        ``area_pe``/``area_l1``/``area_l2``/``area_noc`` (µm², the parts of
        ``area``), ``violation`` (0 when feasible, ``inf`` when the model
        rejects the mapping) and ``feasible``.
    """
    directives = to_directives(pop, layer)
    pes = pe_counts(pop, hw.num_pes) if cfg.codesign else np.full(len(pop), hw.num_pes, np.int64)
    if cfg.codesign:
        costs = (evaluate or _costmodel_evaluate)(layer, hw, directives, num_pes=pes)
    else:
        costs = (evaluate or _costmodel_evaluate)(layer, hw, directives)
    table = {f.name: np.asarray(getattr(costs, f.name)) for f in fields(costs)}
    # The objectives take these two names in their own units: keep the cost model's figures apart.
    table["energy_mac_units"] = table.pop("energy")
    table["maestro_area"] = table.pop("area")
    runtime = table["runtime"].astype(float)
    energy = table["energy_nj"].astype(float)
    table["latency"] = runtime
    table["energy"] = energy
    table["power_maestro"] = table.pop("power").astype(float)
    table["power"] = average_power_mw(energy, runtime)
    table["EDP"] = energy * runtime
    table["num_pes"] = pes
    parts = hw.area.parts_um2(pes, table["l1_size_req"], table["l2_size_req"], noc_bw=hw.noc_bw,
                              simd_lanes=hw.simd_lanes)
    for name, part in parts.items():
        table[f"area_{name}"] = part
    table["area"] = sum(parts.values())
    table["violation"] = violation(table, hw, cfg.trust, cfg.area_budget_um2)
    table["feasible"] = table["violation"] == 0
    table["trusted"] = trusted(table, cfg.trust) & np.isfinite(table["violation"])
    return table


def trusted(table: dict, trust: str) -> np.ndarray:
    """Candidates whose analysis ``trust`` accepts (exact, and no undercount under
    ``"exact"``; ``"undercount"`` accepts undercounts, ``"any"`` everything)."""
    ok = np.ones(len(table["valid"]), dtype=bool)
    if trust != "any":
        ok &= table["exact_analysis"].astype(bool)
        if trust == "exact":
            ok &= ~table["undercount"].astype(bool)
    return ok


def violation(table: dict, hw: Hardware, trust: str = "exact",
              area_budget_um2: float = math.inf) -> np.ndarray:
    """How far each candidate breaks the limits (0: feasible; ``inf``: rejected by the model).

    The sum of the relative excess of the L1 and L2 requirements over the
    hardware's sizes and of the area over ``area_budget_um2``, plus
    ``1 + |MACs - true MACs| / true MACs`` when the analysis is not exact and
    ``1 + shortfall`` when the runtime is an undercount (the busiest PE's
    share missing from it), as far as ``trust`` (:data:`~gamma.search.config.TRUST_LEVELS`)
    does not accept them: ``"undercount"`` accepts the latter, ``"any"`` both.
    """
    excess = (np.maximum(table["l1_size_req"] / hw.l1_limit - 1, 0)
              + np.maximum(table["l2_size_req"] / hw.l2_limit - 1, 0))
    if math.isfinite(area_budget_um2):
        excess = excess + np.maximum(table["area"] / area_budget_um2 - 1, 0)
    if trust != "any":
        true = np.maximum(table["true_macs"].astype(float), 1)
        miss = np.abs(table["macs"] - table["true_macs"]) / true
        excess = excess + np.where(table["exact_analysis"], 0.0, 1.0 + miss)
        if trust == "exact":
            busiest = np.maximum(table["busiest_pe_macs"].astype(float), 1)
            shortfall = 1 - table["runtime"] * hw.simd_lanes / busiest
            excess = excess + np.where(table["undercount"], 1.0 + shortfall, 0.0)
    finite = np.all([np.isfinite(table[o]) for o in OBJECTIVES], axis=0)
    ok = table["valid"].astype(bool) & finite & (table["runtime"] > 0)
    return np.where(ok, excess, np.inf)


def take_rows(table: dict, index) -> dict:
    """The candidates at ``index`` of a score table."""
    if isinstance(index, np.ndarray) and index.dtype.kind in "iu":
        return {k: v.take(index) for k, v in table.items()}     # a copy, faster than v[index]
    return {k: v[index] for k, v in table.items()}


def concat_rows(a: dict, b: dict) -> dict:
    """Two score tables with the same keys, one after the other."""
    return {k: np.concatenate([a[k], b[k]]) for k in a}
