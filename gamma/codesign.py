"""Hardware/mapping co-design under an area budget, per layer (DiGamma).

Per layer (``--num_pe -1 --pe_limit P --area_budget A``)
-------------------------------------------------------
The PE count joins each layer's genome (:class:`~gamma.search.ga.GAConfig`
``pe_limit > 0``, see :mod:`gamma.search.ga`); L1 and L2 are sized to each
candidate's needs and the area budget is enforced as a violation.  This
module supplies the checks around it: :func:`smallest_design` (1 PE with the
smallest buffers any mapping of the layer needs), :func:`check_budget` (a
budget below that is an immediate :class:`~gamma.errors.GammaInputError`),
:func:`default_pe_limit` (the most PEs whose MAC area alone fits) and
:func:`layer_codesign_config` (all of it for a run).

Whole-model co-design (``--codesign model``) is :mod:`gamma.codesign_model`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from gamma.errors import GammaInputError
from gamma.hardware import Hardware
from gamma.mapping import NUM_DIMS, Population
from gamma.search.estimates import estimate
from gamma.search.ga import GAConfig
from gamma.search.space import SearchSpace, repair
from gamma.workload import Layer

# ---------------------------------------------------------------------------
# Budget checks and defaults
# ---------------------------------------------------------------------------

def default_pe_limit(hw: Hardware, area_budget_mm2: float) -> int:
    """The most PEs whose MAC area alone fits the budget (at least 1)."""
    per_pe = hw.area.pe_area_um2(hw.simd_lanes)
    return max(int(area_budget_mm2 * 1e6 // per_pe), 1)


def _minimal_population(space: SearchSpace, rng) -> Population:
    """One mapping per allowed top-level parallel dimension: every tile 1, every cluster 1,
    one PE, the fewest levels (then the constraint applied)."""
    choices = space.par_choices
    n, levels = len(choices), space.slevel_max
    pop = Population(par=np.tile(choices[:, None], (1, levels)).astype(np.int64),
                     par2=np.full((n, levels), -1, dtype=np.int64),
                     cluster=np.ones((n, levels), dtype=np.int64),
                     order=np.tile(np.arange(NUM_DIMS), (n, levels, 1)).astype(np.int64),
                     tile=np.ones((n, levels, NUM_DIMS), dtype=np.int64),
                     levels=np.full(n, space.slevel_min, dtype=np.int64),
                     pes=np.ones(n, dtype=np.int64))
    return repair(pop, space, rng)


@dataclass(frozen=True)
class SmallestDesign:
    """The smallest accelerator a layer can run on: 1 PE with the smallest buffers."""
    l1: int
    l2: int
    area_um2: float


def smallest_design(layer: Layer, hw: Hardware, cfg: GAConfig) -> SmallestDesign:
    """1 PE with the smallest L1/L2 any mapping of ``layer`` needs (tiles of 1, or what
    the mapping constraint fixes), and its area.

    The all-ones mappings are scored with the cost model; if none is valid the
    estimate of :func:`gamma.search.estimates.estimate` is used.
    """
    from gamma.costmodel import evaluate
    space = replace(cfg, pe_limit=1).space(layer, hw)
    pop = _minimal_population(space, np.random.default_rng(0))
    costs = evaluate(layer, hw, _directives(pop, layer), num_pes=np.ones(len(pop), np.int64))
    ok = costs.valid & (costs.runtime > 0)
    if ok.any():
        l1 = int(costs.l1_size_req[ok].min())
        l2 = int(costs.l2_size_req[ok].min())
    else:
        _, l1e, l2e = estimate(pop, space)
        l1, l2 = int(l1e.min()), int(l2e.min())
    return SmallestDesign(l1, l2, float(hw.area.area_um2(1, l1, l2, noc_bw=hw.noc_bw,
                                                          simd_lanes=hw.simd_lanes)))


def _directives(pop, layer):
    from gamma.mapping import to_directives
    return to_directives(pop, layer)


def check_budget(layers: list[Layer], hw: Hardware, cfg: GAConfig, *,
                 shared: bool = False) -> SmallestDesign:
    """Raise :class:`GammaInputError` (one line, naming ``--area_budget``) if the budget
    cannot hold even the smallest design.

    Per layer (``shared=False``) every layer must fit on its own; for one
    accelerator shared by all layers (``shared=True``) the smallest design
    has the largest of the layers' smallest L1 and L2.  Returns the binding
    smallest design.
    """
    budget = cfg.area_budget_um2
    designs = [(layer, smallest_design(layer, hw, cfg)) for layer in layers]
    if shared:
        l1 = max(d.l1 for _, d in designs)
        l2 = max(d.l2 for _, d in designs)
        worst = SmallestDesign(l1, l2, float(hw.area.area_um2(1, l1, l2, noc_bw=hw.noc_bw,
                                                               simd_lanes=hw.simd_lanes)))
        what = "one accelerator for all layers"
    else:
        layer, worst = max(designs, key=lambda item: item[1].area_um2)
        what = f"layer {layer.name or layer.describe()}"
    if math.isfinite(budget) and worst.area_um2 > budget:
        raise GammaInputError(
            f"--area_budget {cfg.area_budget:g} mm² is below the smallest design for {what}: "
            f"1 PE with L1 {worst.l1} and L2 {worst.l2} elements needs {worst.area_um2:.1f} µm² "
            f"({worst.area_um2 / 1e6:.6f} mm²)")
    return worst


def max_pes_within(hw: Hardware, budget_um2: float, smallest: SmallestDesign) -> int:
    """The most PEs that fit the budget with the smallest buffers (at least 1)."""
    lo, hi = 1, max(int(budget_um2 // hw.area.pe_area_um2(hw.simd_lanes)), 1)
    if not math.isfinite(budget_um2):
        return hi
    while lo < hi:                      # area is increasing in the PE count
        mid = (lo + hi + 1) // 2
        if hw.area.area_um2(mid, smallest.l1, smallest.l2, noc_bw=hw.noc_bw,
                            simd_lanes=hw.simd_lanes) <= budget_um2:
            lo = mid
        else:
            hi = mid - 1
    return lo


def layer_codesign_config(layers: list[Layer], hw: Hardware, cfg: GAConfig, *,
                          pe_limit: int = 0, shared: bool = False, info=None) -> GAConfig:
    """``cfg`` ready for co-design: the budget checked and ``pe_limit`` resolved.

    ``pe_limit`` <= 0 takes :func:`default_pe_limit` (reported through
    ``info``).  A limit above what the budget can hold (even with the
    smallest buffers) is lowered to that, and said so: no larger design
    could be feasible.
    """
    if not (cfg.area_budget and cfg.area_budget > 0):
        raise GammaInputError("co-design (--num_pe -1) needs --area_budget (mm²)")
    say = info or (lambda message: None)
    smallest = check_budget(layers, hw, cfg, shared=shared)
    if pe_limit <= 0:
        pe_limit = default_pe_limit(hw, cfg.area_budget)
        say(f"--pe_limit not given: using {pe_limit}, the most PEs whose MAC area alone "
            f"({hw.area.pe_area_um2(hw.simd_lanes):g} µm² each) fits --area_budget "
            f"{cfg.area_budget:g} mm²")
    cap = max_pes_within(hw, cfg.area_budget_um2, smallest)
    if pe_limit > cap:
        say(f"PE limit {pe_limit} lowered to {cap}: no design with more PEs fits --area_budget "
            f"{cfg.area_budget:g} mm² (even with the smallest buffers)")
        pe_limit = cap
    return replace(cfg, pe_limit=int(pe_limit))
