"""Fixed dataflows vs. flexible mapping (the GAMMA paper's comparison, and the SIGMETRICS'22
flexibility classes).

For resnet18 and mobilenet_v2 on ``hwconfigs/edge.yaml`` this searches every layer under

* the fixed dataflows ``nvdla_ws_map`` (NVDLA-like), ``eyeriss_rs_map`` (Eyeriss-like), ``shi_map``
  (ShiDianNao-like),
* the 16 dla flexibility classes ``flexibility_classes.dla.dla_map_XXXX``,
* no mapping constraint (fully flexible; only MAESTRO's R/S rule),

with the same GA budget and seed, and prints each model latency (sum over all layers,
repeated shapes counted each time) and the speed-up of the fully flexible mapping over the
best fixed dataflow.  The last line is ``RESULT {json}``.

Usage::

    python benchmarks/bench_flexibility.py             # pop 20 x 10 generations
    python benchmarks/bench_flexibility.py --quick     # pop 10 x 4 (also GAMMA_BENCH_QUICK=1)
    python benchmarks/bench_flexibility.py --num_pop 40 --epochs 20 --jobs 4
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gamma import runner  # noqa: E402
from gamma.constraints import MAESTRO_CSTR  # noqa: E402
from gamma.hardware import load_hardware  # noqa: E402
from gamma.plugins import check_against, combine, load_mapping_cstr, lower_layer  # noqa: E402
from gamma.search.ga import GAConfig  # noqa: E402
from gamma.workload import load_model  # noqa: E402

FIXED = ("nvdla_ws_map", "eyeriss_rs_map", "shi_map")
CLASSES = tuple(f"flexibility_classes.dla.dla_map_{code:04b}" for code in range(16))
FLEXIBLE = "flexible"


def model_latency(model: str, plugin_name: str, hw, num_pop: int, epochs: int, seed: int,
                  jobs: int) -> dict:
    """Search every layer of ``model`` under one plugin; total latency and feasibility."""
    plugin = None if plugin_name == FLEXIBLE else load_mapping_cstr(plugin_name)
    run = combine(MAESTRO_CSTR, *([plugin] if plugin else []))
    layers = load_model(model)
    if run.lower_to_gemm:
        layers = [lower_layer(layer) for layer in layers]
    for layer in layers:
        check_against(run, layer, hw)
    cfg = GAConfig(num_pop=num_pop, epochs=epochs, constraint=run.constraint)
    selected = runner.select_layers(layers)
    start = time.perf_counter()
    done = runner.run_model(selected, hw, cfg, seed, jobs=jobs)
    total, infeasible = 0.0, 0
    for job, result in done:
        if not result.feasible:
            infeasible += len(job.indices)
        total += result.best_scores["latency"] * len(job.indices)
    return {"latency_cycles": total if infeasible == 0 else math.inf,
            "latency_cycles_incl_infeasible": total, "infeasible_layers": infeasible,
            "seconds": time.perf_counter() - start}


def main(argv=None) -> int:
    quick_env = os.environ.get("GAMMA_BENCH_QUICK", "") not in ("", "0")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", default=quick_env,
                   help="small budget (pop 10 x 4 generations); also GAMMA_BENCH_QUICK=1")
    p.add_argument("--num_pop", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=2022)
    p.add_argument("--jobs", type=int, default=1, help="worker processes (same results)")
    p.add_argument("--models", default="resnet18,mobilenet_v2")
    p.add_argument("--hwconfig", default="edge")
    args = p.parse_args(argv)
    num_pop = args.num_pop or (10 if args.quick else 20)
    epochs = args.epochs or (4 if args.quick else 10)
    hw = load_hardware(args.hwconfig)
    models = args.models.split(",")
    configs = (*FIXED, *CLASSES, FLEXIBLE)

    out = {"hwconfig": hw.name, "num_pop": num_pop, "epochs": epochs, "seed": args.seed,
           "models": {}}
    started = time.perf_counter()
    for model in models:
        rows = {}
        print(f"\n{model} on {hw.name} ({hw.num_pes} PEs), GA {num_pop} x {epochs}, seed {args.seed}")
        print(f"{'constraint':<42} {'latency (cycles)':>18} {'vs flexible':>12} {'infeasible':>10}")
        for name in configs:
            rows[name] = model_latency(model, name, hw, num_pop, epochs, args.seed, args.jobs)
        flex = rows[FLEXIBLE]["latency_cycles"]
        for name in configs:
            lat = rows[name]["latency_cycles"]
            ratio = lat / flex if math.isfinite(lat) and flex > 0 else math.inf
            shown = f"{lat:,.0f}" if math.isfinite(lat) else "infeasible"
            print(f"{name:<42} {shown:>18} {ratio:>11.2f}x {rows[name]['infeasible_layers']:>10}")
        fixed = {n: rows[n]["latency_cycles"] for n in FIXED}
        best_fixed = min(fixed, key=fixed.get)
        speedup = fixed[best_fixed] / flex if flex > 0 else math.inf
        worst = max((v for v in fixed.values() if math.isfinite(v)), default=math.inf)
        print(f"fully flexible vs best fixed ({best_fixed}): {speedup:.2f}x; "
              f"vs worst fixed: {worst / flex:.2f}x")
        out["models"][model] = {
            "latency_cycles": {n: (r["latency_cycles"] if math.isfinite(r["latency_cycles"]) else None)
                               for n, r in rows.items()},
            "infeasible_layers": {n: r["infeasible_layers"] for n, r in rows.items()},
            "best_fixed": best_fixed,
            "speedup_flexible_over_best_fixed_x": speedup,
            "speedup_flexible_over_worst_fixed_x": worst / flex,
        }
    out["runtime_s"] = time.perf_counter() - started
    print("RESULT " + json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
