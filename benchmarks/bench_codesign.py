"""Hardware/mapping co-design under an area budget: per layer and whole model.

ResNet-18 and MobileNet-V2 at area budgets of 0.1, 0.2 and 0.5 mm² (DiGamma's
area model, ``282·PEs + 0.086·8·(L1·PEs + L2)`` µm²), on the edge config's
NoC with buffers sized by the search, latency first:

* per layer (``--num_pe -1``, DiGamma): every distinct layer gets its own
  PE count and buffers (40 x 20 per layer); model latency is the sum over
  all layers, area / PEs / L1 / L2 are the largest over layers;
* whole model (``--codesign model``): one accelerator for all layers
  (:func:`gamma.codesign_model.codesign_model`, default settings).

Prints a table and ends with ``RESULT {json}``.  The whole-model co-design
of ResNet-18 at 0.2 mm² must take under 2 minutes.

    python benchmarks/bench_codesign.py            # full run (several minutes)
    python benchmarks/bench_codesign.py --quick    # ResNet-18 at 0.2 mm², smaller searches
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gamma import codesign as cd  # noqa: E402
from gamma import codesign_model as cdm  # noqa: E402
from gamma.hardware import load_hardware  # noqa: E402
from gamma.runner import group_layers  # noqa: E402
from gamma.search.ga import GAConfig, search_layer  # noqa: E402
from gamma.workload import load_model  # noqa: E402

MODELS = ("resnet18", "mobilenet_v2")
BUDGETS = (0.1, 0.2, 0.5)
LIMIT_SECONDS = 120.0


def per_layer(layers, hw, budget, pop, epochs, seed=0):
    start = time.perf_counter()
    groups = group_layers(layers)
    cfg = cd.layer_codesign_config([g.layer for g in groups], hw,
                                   GAConfig(num_pop=pop, epochs=epochs, area_budget=budget))
    rows = []
    for i, g in enumerate(groups):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
        r = search_layer(g.layer, hw, cfg, rng)
        rows.append((g.count, r))
    s = [r.best_scores for _, r in rows]
    return {
        "latency_cycles": float(sum(c * r.best_scores["runtime"] for c, r in rows)),
        "energy_nj": float(sum(c * r.best_scores["energy"] for c, r in rows)),
        "area_max_um2": float(max(x["area"] for x in s)),
        "num_pes_min": int(min(x["num_pes"] for x in s)), "num_pes_max": int(max(x["num_pes"] for x in s)),
        "l1_max_elements": int(max(x["l1_size_req"] for x in s)),
        "l2_max_elements": int(max(x["l2_size_req"] for x in s)),
        "all_within_budget": bool(all(r.feasible and r.best_scores["area"] <= budget * 1e6
                                      for _, r in rows)),
        "pe_limit": cfg.pe_limit, "distinct_layers": len(groups),
        "wall_s": time.perf_counter() - start}


def whole_model(layers, hw, budget, mcfg, seed=0):
    start = time.perf_counter()
    res = cdm.codesign_model(layers, hw, GAConfig(area_budget=budget), mcfg, seed=seed)
    t = res.totals
    return {"latency_cycles": t["latency_cycles"], "energy_nj": t["energy_nj"],
            "area_um2": t["area_um2"], "area_pe_um2": t["area_pe_um2"],
            "area_l1_um2": t["area_l1_um2"], "area_l2_um2": t["area_l2_um2"],
            "num_pes": t["num_pes"], "l1_elements": t["l1_size"], "l2_elements": t["l2_size"],
            "within_budget": bool(t["area_um2"] <= budget * 1e6 and t["feasible"]),
            "pe_counts_explored": t["pe_counts_explored"], "wall_s": time.perf_counter() - start}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")),
                        help="ResNet-18 at 0.2 mm² only, smaller searches")
    args = parser.parse_args(argv)
    hw = load_hardware("edge").replace(l1_size=None, l2_size=None)
    models = MODELS[:1] if args.quick else MODELS
    budgets = (0.2,) if args.quick else BUDGETS
    pop, epochs = (20, 10) if args.quick else (40, 20)
    mcfg = (cdm.ModelCodesignConfig(explore=(12, 6), polish=(20, 8), grid=6, refine=3)
            if args.quick else cdm.ModelCodesignConfig())
    # compile the cost model once, outside the timings
    cdm.codesign_model(load_model("resnet18")[1:2], hw, GAConfig(area_budget=0.05),
                      cdm.ModelCodesignConfig(explore=(4, 2), polish=(4, 2), grid=2, refine=0))
    out = {"area_model": "digamma: 282*PEs + 0.086*8*(L1*PEs + L2) um2", "runs": []}
    header = (f"{'model':<13}{'budget':>7} {'mode':<6}{'latency(cyc)':>14}{'energy(nJ)':>12}"
              f"{'area(um2)':>11}{'PEs':>10}{'L1':>6}{'L2':>8}{'wall(s)':>9}")
    print(header)
    print("-" * len(header))
    for model in models:
        layers = load_model(model)
        for budget in budgets:
            lay = per_layer(layers, hw, budget, pop, epochs)
            print(f"{model:<13}{budget:>7} {'layer':<6}{lay['latency_cycles']:>14.4g}"
                  f"{lay['energy_nj']:>12.4g}{lay['area_max_um2']:>11.0f}"
                  f"{str(lay['num_pes_min']) + '-' + str(lay['num_pes_max']):>10}"
                  f"{lay['l1_max_elements']:>6}{lay['l2_max_elements']:>8}{lay['wall_s']:>9.1f}",
                  flush=True)
            mod = whole_model(layers, hw, budget, mcfg)
            print(f"{model:<13}{budget:>7} {'model':<6}{mod['latency_cycles']:>14.4g}"
                  f"{mod['energy_nj']:>12.4g}{mod['area_um2']:>11.0f}{mod['num_pes']:>10}"
                  f"{mod['l1_elements']:>6}{mod['l2_elements']:>8}{mod['wall_s']:>9.1f}", flush=True)
            out["runs"].append({"model": model, "area_budget_mm2": budget,
                                "per_layer": lay, "whole_model": mod})
    key = [r for r in out["runs"] if r["model"] == "resnet18" and r["area_budget_mm2"] == 0.2][0]
    seconds = key["whole_model"]["wall_s"]
    out["resnet18_0.2mm2_whole_model_wall_s"] = seconds
    out["resnet18_0.2mm2_whole_model_under_120s"] = seconds < LIMIT_SECONDS
    print(f"\nwhole-model co-design of resnet18 at 0.2 mm²: {seconds:.1f} s "
          f"({'under' if seconds < LIMIT_SECONDS else 'OVER'} the {LIMIT_SECONDS:.0f} s limit)")
    print("RESULT " + json.dumps(out))
    return 0 if seconds < LIMIT_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
