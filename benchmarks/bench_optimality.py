"""How far is the GA from the optimum?  Gaps to proven optima and proven bounds.

For every distinct layer of ResNet-18 and MobileNet-V2 on the edge
accelerator (168 PEs, L1 512, L2 108000; latency first, trusted runtimes
only), the exact mode (``--method exhaustive``, branch and bound from a short
GA run) runs with a time limit per layer: where it proves the optimum, the
GA's latency is compared with that optimum, elsewhere with the proven bound
the exact mode leaves (at least :func:`gamma.bounds.layer_bounds`).  The GA
runs at 20x10, 100x20 and 200x50 (population x generations), 3 seeds each;
their best mappings are the exact mode's first incumbents.

    python benchmarks/bench_optimality.py                  # both models (about 10 minutes)
    python benchmarks/bench_optimality.py --quick          # 4 layers per model, 1 seed, 3 s limit
    python benchmarks/bench_optimality.py --exact_limit 60 # more time for each proof

The table gives, per layer, the reference (``opt`` = proven optimum, ``bnd``
= proven bound), the exact mode's seconds and the median gap of each budget
(latency / reference, 1 = optimal).  The last line is ``RESULT {json}``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gamma.hardware import Hardware  # noqa: E402
from gamma.mapping import Population  # noqa: E402
from gamma.runner import group_layers, layer_rng, select_layers  # noqa: E402
from gamma.search.exhaustive import exhaustive_search  # noqa: E402
from gamma.search.ga import GAConfig, search_layer  # noqa: E402
from gamma.workload import load_model  # noqa: E402

HW = Hardware(num_pes=168, l1_size=512, l2_size=108000, noc_bw=81920000, name="edge")
BUDGETS = ((20, 10), (100, 20), (200, 50))


def _reference(layer, limit: float, seed: int, seeds) -> dict:
    """The exact mode's outcome: reference latency (optimum or proven bound) and its kind.

    ``seeds``: the GA runs' best mappings, the exact mode's first incumbents."""
    cfg = GAConfig(num_pop=20, epochs=10, time_limit=limit, method="exhaustive")
    start = time.perf_counter()
    result = exhaustive_search(layer, HW, cfg, np.random.default_rng(seed), seeds=seeds)
    seconds = time.perf_counter() - start
    best = result.best_scores["runtime"] if result.feasible else None
    return {"reference": int(result.lower_bound), "proven": bool(result.proven_optimal),
            "exact_best": best, "exact_seconds": seconds}


def _ga_runs(layer, budget, seeds: int, key: int) -> tuple[list[float], list]:
    """Best latency of each seed (NaN: nothing feasible) and the feasible best mappings."""
    pop, epochs = budget
    cfg = GAConfig(num_pop=pop, epochs=epochs)
    latencies, best = [], []
    for s in range(seeds):
        result = search_layer(layer, HW, cfg, layer_rng(s, key))
        latencies.append(result.best_scores["runtime"] if result.feasible else np.nan)
        if result.feasible:
            best.append(result.best)
    return latencies, best


def run(models, seeds: int, limit: float, per_model: int | None) -> dict:
    rows = []
    for model in models:
        jobs = group_layers(select_layers(load_model(model)))
        for job in jobs[:per_model]:
            latencies, found = {}, []
            for budget in BUDGETS:
                latencies[budget], best = _ga_runs(job.layer, budget, seeds, job.key)
                found += best
            ref = _reference(job.layer, limit, job.key,
                             Population.concatenate(found) if found else None)
            gaps = {b: float(np.nanmedian(latencies[b])) / ref["reference"] for b in BUDGETS}
            rows.append({"model": model, "layer": job.key, "shape": job.layer.describe(),
                         **ref, "gaps": gaps})
            _print_row(rows[-1])
    return _summary(rows, seeds, limit)


def _print_row(row: dict) -> None:
    kind = "opt" if row["proven"] else "bnd"
    gaps = "  ".join(f"{row['gaps'][b]:.4f}" for b in BUDGETS)
    print(f"{row['model']:<13} {row['layer']:>3} {row['shape']:<34} {kind} {row['reference']:>9} "
          f"{row['exact_seconds']:7.1f}s  {gaps}", flush=True)


def _summary(rows: list[dict], seeds: int, limit: float) -> dict:
    proven = [r for r in rows if r["proven"]]
    out = {"layers": len(rows), "seeds": seeds, "exact_time_limit_s": limit,
           "share_layers_proven_optimal": len(proven) / max(len(rows), 1),
           "exact_seconds_total_s": round(sum(r["exact_seconds"] for r in rows), 1)}
    for budget in BUDGETS:
        name = f"{budget[0]}x{budget[1]}"
        gaps = [r["gaps"][budget] for r in rows]
        out[f"median_gap_{name}_ratio"] = round(float(np.nanmedian(gaps)), 5) if gaps else None
        out[f"max_gap_{name}_ratio"] = round(float(np.nanmax(gaps)), 5) if gaps else None
        hit = [r for r in proven if abs(r["gaps"][budget] - 1) < 1e-12]
        out[f"share_proven_layers_ga_optimal_{name}"] = (len(hit) / len(proven)) if proven else None
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["resnet18", "mobilenet_v2"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--exact_limit", type=float, default=10.0,
                        help="seconds of exact search per layer")
    parser.add_argument("--layers", type=int, default=None,
                        help="only the first N distinct layers of each model")
    parser.add_argument("--quick", action="store_true",
                        help="4 distinct layers per model, 1 seed, a 3 s exact limit")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.exact_limit, args.layers = 1, 3.0, args.layers or 4
    start = time.perf_counter()
    print(f"{'model':<13} {'lay':>3} {'shape':<34} ref {'cycles':>9} {'exact':>8}  "
          + "  ".join(f"{p}x{e:<3}" for p, e in BUDGETS))
    result = run(args.models, args.seeds, args.exact_limit, args.layers)
    result["wall_seconds_s"] = round(time.perf_counter() - start, 1)
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
