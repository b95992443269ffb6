"""Search quality and speed against GAMMA's published-budget results.

Seven layers (GAMMA's CSV rows, stride 1) on GAMMA's edge hardware (168 PEs,
L1 512, L2 108000, NoC 81920000), latency first and energy second, at the
budgets 20x10, 100x20 and 200x50 (population x generations), 3 seeds each;
per layer and budget: the median best latency, its ratio to the compute bound
(MACs / 168) and the median wall time, beside random search with the same
number of samples.  Then the whole of ResNet-50 at 200x50 (2 worker processes).

Each search runs twice: as the tool runs by default (honest: no runtime below
the busiest PE's MACs, compared with the best honest mapping known) and with
``allow_undercount`` (MAESTRO's runtimes as GAMMA reads them: the ground of
GAMMA's figures, compared with those).  The latter ranks 16 draws per scored
child, and 4,000 candidates for its first population, with the priced
estimate, so compare its wall time as well as its sample budget.

    python benchmarks/bench_search.py            # full run (a few minutes)
    python benchmarks/bench_search.py --quick    # 20x10, one seed, 3 ResNet-50 layers
    python benchmarks/bench_search.py --seeds 10 # more seeds: steadier medians
    BENCH_QUICK=1 python benchmarks/bench_search.py

Results are bimodal on some layers (a run lands in one of two basins of
MAESTRO's edge pricing), so besides the median the benchmark prints the share
of seeds whose best is at least as good as GAMMA's figure.

The last line is ``RESULT {json}``.
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

from gamma.hardware import Hardware  # noqa: E402
from gamma.runner import run_model, select_layers  # noqa: E402
from gamma.search.baselines import random_search  # noqa: E402
from gamma.search.ga import GAConfig, search_layer  # noqa: E402
from gamma.workload import Layer, load_model  # noqa: E402

HW = Hardware(num_pes=168, l1_size=512, l2_size=108000, noc_bw=81920000, name="edge")

LAYERS = {
    "vgg16_L2": Layer("CONV", K=64, C=64, Y=224, X=224, R=3, S=3),
    "resnet18_L2": Layer("CONV", K=64, C=64, Y=56, X=56, R=3, S=3),
    "resnet18_L16": Layer("CONV", K=512, C=256, Y=14, X=14, R=3, S=3),
    "mobilenet_v2_L2_dw": Layer("DSCONV", K=1, C=32, Y=112, X=112, R=3, S=3),
    "mobilenet_v2_L3": Layer("CONV", K=16, C=32, Y=112, X=112, R=1, S=1),
    "BERT_m_L5_gemm": Layer("GEMM", K=768, C=3072, Y=512, X=1, R=1, S=1),   # M512 N768 K3072
    "alexnet_L1": Layer("CONV", K=64, C=3, Y=224, X=224, R=11, S=11),
}

#: GAMMA (with MAESTRO) best latency / bound, median over seeds (None: no valid mapping).
GAMMA = {
    "vgg16_L2": (1.1825, 1.0097, 1.005),
    "resnet18_L2": (1.0372, 1.0047, 1.003),
    "resnet18_L16": (1.0496, 1.0028, 1.001),
    "mobilenet_v2_L2_dw": (1.3205, 1.0352, 1.009),
    "mobilenet_v2_L3": (1.0679, 1.0028, 1.002),
    "BERT_m_L5_gemm": (1.0215, 1.0012, 1.0004),
    "alexnet_L1": (None, None, None),
}
BUDGETS = ((20, 10), (100, 20), (200, 50))

#: Best honest latency / bound known per layer (no runtime below the busiest PE's MACs):
#: the best of three 400x100 searches (seeds 1000-1002), for reference.
HONEST_BEST = {
    "vgg16_L2": 1.009050, "resnet18_L2": 1.037076, "resnet18_L16": 1.011793,
    "mobilenet_v2_L2_dw": 1.028258, "mobilenet_v2_L3": 1.018223, "BERT_m_L5_gemm": 1.000326,
    "alexnet_L1": 1.111014,
}
#: (key, method, trust): the runs per layer, budget and seed.
RUNS = (("gamma", "gamma", "exact"), ("random", "random", "exact"),
        ("gamma_allow_undercount", "gamma", "undercount"),
        ("random_allow_undercount", "random", "undercount"))


def run_layer(layer, pop, gens, seed, method, trust="exact"):
    cfg = GAConfig(num_pop=pop, epochs=gens, fitness1="latency", fitness2="energy", method=method,
                   trust=trust)
    search = random_search if method == "random" else search_layer
    start = time.perf_counter()
    result = search(layer, HW, cfg, np.random.default_rng(np.random.SeedSequence(seed)))
    seconds = time.perf_counter() - start
    latency = result.best_scores["runtime"] if result.feasible else float("nan")
    return latency, seconds


def _json_safe(value):
    """``value`` with every NaN (no valid mapping) as ``None``: strict JSON has no NaN."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def _share_at_most(ratios, reference):
    """Share of runs (ratio to the bound; inf: no valid mapping) at most ``reference``
    (``None``: GAMMA found nothing valid, so any valid mapping counts)."""
    return float(np.mean(ratios <= (np.inf if reference is None else reference)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")),
                        help="reduced run: 20x10, one seed, 3 ResNet-50 layers")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per layer and budget (default 3)")
    args = parser.parse_args(argv)
    budgets = BUDGETS[:1] if args.quick else BUDGETS
    seeds = (0,) if args.quick else tuple(range(max(args.seeds, 1)))

    result = {"hardware": {"num_pes": 168, "l1_size_elements": 512, "l2_size_elements": 108000,
                           "noc_bw_elements_per_cycle": 81920000},
              "seeds": list(seeds), "layers": {}}
    header = (f"{'layer':20s} {'budget':>7s} | {'honest':>7s} {'/best':>6s} {'random':>7s} "
              f"{'wall s':>6s} | {'MAESTRO':>7s} {'as good':>7s} {'random':>7s} {'wall s':>6s} | "
              f"{'GAMMA':>7s} verdict")
    print("ratios to the bound MACs/168, median over seeds; honest: the default search "
          "(no runtime below the\nbusiest PE's MACs), /best: over the best honest mapping known; "
          "MAESTRO: --allow_undercount,\nMAESTRO's runtimes as GAMMA reads them, the ground of "
          "GAMMA's figures ('as good': share of seeds)")
    print(header)
    print("-" * len(header))
    for name, layer in LAYERS.items():
        bound = layer.macs / HW.num_pes
        result["layers"][name] = entry = {"macs": layer.macs, "bound_cycles": bound,
                                          "best_honest_ratio_known": HONEST_BEST[name]}
        for b, (pop, gens) in enumerate(budgets):
            row, ratios = {}, {}
            for key, method, trust in RUNS:
                runs = [run_layer(layer, pop, gens, s, method, trust) for s in seeds]
                lat = np.array([r[0] for r in runs])
                found = np.isfinite(lat)
                ratios[key] = np.where(found, lat / bound, np.inf)
                median = float(np.median(lat[found])) if found.any() else float("nan")
                row[key] = {"median_latency_cycles": median, "ratio_to_bound": median / bound,
                            "median_wall_s": float(np.median([r[1] for r in runs])),
                            "seeds_with_valid_mapping": int(found.sum())}
            ref = GAMMA[name][b]
            honest, rnd = row["gamma"]["ratio_to_bound"], row["random"]["ratio_to_bound"]
            ga = row["gamma_allow_undercount"]["ratio_to_bound"]
            rnd_u = row["random_allow_undercount"]["ratio_to_bound"]
            beats_gamma = (ga <= ref) if ref is not None else bool(np.isfinite(ga))
            beats_random = all(not np.isfinite(r) or g <= r for g, r in ((honest, rnd), (ga, rnd_u)))
            row["honest_over_best_known"] = honest / HONEST_BEST[name]
            row["gamma_reference_ratio"] = ref
            row["share_of_seeds_as_good_as_gamma"] = _share_at_most(
                ratios["gamma_allow_undercount"], ref)
            row["share_of_seeds_as_good_as_gamma_200x50"] = _share_at_most(
                ratios["gamma_allow_undercount"], GAMMA[name][2])
            row["beats_gamma"] = bool(beats_gamma)
            row["beats_random"] = bool(beats_random)
            entry[f"{pop}x{gens}"] = row
            print(f"{name:20s} {pop:>3d}x{gens:<3d} | {honest:7.4f} "
                  f"{row['honest_over_best_known']:6.4f} {rnd:7.3f} "
                  f"{row['gamma']['median_wall_s']:6.2f} | {ga:7.4f} "
                  f"{row['share_of_seeds_as_good_as_gamma']:7.0%} {rnd_u:7.3f} "
                  f"{row['gamma_allow_undercount']['median_wall_s']:6.2f} | "
                  f"{'none' if ref is None else f'{ref:.4f}':>7s} "
                  f"{'beats GAMMA' if beats_gamma else 'WORSE than GAMMA'}"
                  f"{'' if beats_random else ', WORSE than random'}", flush=True)
        if not args.quick:
            ga_100 = entry["100x20"]["gamma_allow_undercount"]["ratio_to_bound"]
            paper = GAMMA[name][2]
            entry["ga_100x20_vs_gamma_200x50"] = bool(ga_100 <= paper) if paper else bool(np.isfinite(ga_100))

    layers = load_model("resnet50")
    selected = select_layers(layers, num_layer=3 if args.quick else 0)
    pop, gens = budgets[-1]
    cfg = GAConfig(num_pop=pop, epochs=gens)
    start = time.perf_counter()
    done = run_model(selected, HW, cfg, seed=0, jobs=2)
    wall = time.perf_counter() - start
    by_index = {i: r for job, r in done for i in job.indices}
    total = sum(by_index[i].best_scores["runtime"] for i, _ in selected)
    macs = sum(layer.macs for _, layer in selected)
    result["resnet50"] = {"layers": len(selected), "distinct_layers": len(done),
                          "budget": f"{pop}x{gens}", "wall_s": wall, "jobs": 2,
                          "total_latency_cycles": int(total),
                          "ratio_to_bound": total * HW.num_pes / macs,
                          "infeasible_layers": sum(not r.feasible for _, r in done)}
    print(f"\nresnet50 ({len(selected)} layers, {len(done)} distinct) at {pop}x{gens}, 2 jobs: "
          f"{wall:.1f} s, total latency {total:.0f} cycles = {total * HW.num_pes / macs:.4f} x bound")
    print("RESULT " + json.dumps(_json_safe(result), allow_nan=False))


if __name__ == "__main__":
    main()
