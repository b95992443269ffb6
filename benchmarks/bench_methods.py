"""GAMMA against other optimizers at equal sample budgets (GAMMA's central comparison).

Every ``--method`` — ``gamma`` (ours), nevergrad's ``pso``, ``portfolio``,
``oneplusone``, ``cma``, ``de``, ``tbpsa``, ``ngopt``, a plain GA
``pure_ga`` and ``random`` — on the seven layers of ``bench_search.py``
(GAMMA's edge hardware: 168 PEs, L1 512, L2 108000), at the budgets 20x10,
100x20 and 200x50 (population x generations; the same number of cost-model
samples for every method), latency first (energy second) and energy first
(latency second), several seeds.  Default trust (exact analyses, no
undercounted runtimes) for every method.

Per layer, objective, budget and method: the median over seeds of best ÷
proven bound (latency first; :func:`gamma.bounds.layer_bounds`) or best ÷
best known (energy first: the least energy any method found for the layer in
this run), and the median wall time.  ``gamma`` "wins" a case when its median
is at most every other method's.  One plot per layer in ``benchmarks/out/``:
median best-so-far against samples, one line per method (largest budget run).

    python benchmarks/bench_methods.py                  # full: 3 budgets x 3 seeds (long)
    python benchmarks/bench_methods.py --quick          # 20x10, 2 seeds
    python benchmarks/bench_methods.py --budgets 100x20 --seeds 2
    BENCH_QUICK=1 python benchmarks/bench_methods.py

Needs nevergrad (``pip install -e .[nevergrad]``).  The last line is
``RESULT {json}``: per budget, the share of (layer, objective) cases where
``gamma`` is at least as good as every other method, and every median.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import HW, LAYERS  # noqa: E402

from gamma.bounds import layer_bounds  # noqa: E402
from gamma.flags import METHODS as ALL_METHODS  # noqa: E402
from gamma.search.blackbox import METHODS, make_search  # noqa: E402
from gamma.search.config import GAConfig  # noqa: E402
from gamma.search.ga import LayerSearch  # noqa: E402

BUDGETS = ((20, 10), (100, 20), (200, 50))
#: (name, fitness1, fitness2)
OBJECTIVES = (("latency", "latency", "energy"), ("energy", "energy", "latency"))
OUT = Path(__file__).resolve().parent / "out"


def run_one(layer, pop, gens, seed, method, fitness1, fitness2):
    """One search: (best fitness1 or nan if infeasible, wall seconds, best-so-far per generation)."""
    cfg = GAConfig(num_pop=pop, epochs=gens, fitness1=fitness1, fitness2=fitness2, method=method)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    start = time.perf_counter()
    if method in METHODS:
        result = make_search(layer, HW, cfg, rng).run()
    else:
        result = LayerSearch(layer, HW, cfg, rng).run()
    seconds = time.perf_counter() - start
    assert result.samples == pop * gens, (method, result.samples)
    best = float(result.best_scores[fitness1]) if result.feasible else float("nan")
    curve = result.history[f"best_{fitness1}"].to_numpy(dtype=float)
    return best, seconds, curve


def run_all(budgets, seeds, layers, methods):
    """Every run: ``{(layer, objective, budget, method): {"best", "wall", "curves": per seed}}``."""
    runs = {}
    total = len(budgets) * len(layers) * len(OBJECTIVES) * len(methods) * len(seeds)
    done, start = 0, time.perf_counter()
    for pop, gens in budgets:
        for name in layers:
            for objective, f1, f2 in OBJECTIVES:
                for method in methods:
                    out = [run_one(LAYERS[name], pop, gens, s, method, f1, f2) for s in seeds]
                    runs[name, objective, f"{pop}x{gens}", method] = {
                        "best": [o[0] for o in out], "wall": [o[1] for o in out],
                        "curves": [o[2] for o in out]}
                    done += len(seeds)
                print(f"  {pop}x{gens} {name} {objective}: {done}/{total} runs, "
                      f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return runs


def references(runs, layers):
    """Per layer: the latency bound (cycles) and the least energy found by any run (nJ)."""
    refs = {}
    for name in layers:
        bound = layer_bounds(LAYERS[name], HW, GAConfig()).latency_cycles
        energies = [b for (lay, obj, _, _), r in runs.items() if lay == name and obj == "energy"
                    for b in r["best"] if np.isfinite(b)]
        refs[name] = {"latency": float(bound), "energy": min(energies) if energies else float("nan")}
    return refs


def _median(values):
    """Median ratio, with an infeasible run (nan) counted as infinitely bad."""
    values = np.where(np.isfinite(values), values, np.inf)
    return float(np.median(values))


def summarize(runs, refs, budgets, layers, methods):
    """Table rows, per-budget win shares and per-method medians (the RESULT)."""
    table, wins = {}, {}
    for pop, gens in budgets:
        budget = f"{pop}x{gens}"
        cases = []
        for name in layers:
            for objective, _, _ in OBJECTIVES:
                ref = refs[name][objective]
                row = {m: {"ratio": _median(np.array(runs[name, objective, budget, m]["best"]) / ref),
                           "wall_s": float(np.median(runs[name, objective, budget, m]["wall"]))}
                       for m in methods}
                others = [row[m]["ratio"] for m in methods if m != "gamma"]
                row["gamma_wins"] = bool(row["gamma"]["ratio"] <= min(others, default=np.inf))
                best_other = min((m for m in methods if m != "gamma"), key=lambda m: row[m]["ratio"])
                row["best_other"] = best_other
                table[name, objective, budget] = row
                cases.append(row["gamma_wins"])
        wins[budget] = float(np.mean(cases))
    return table, wins


def print_table(table, budgets, layers, methods):
    width = max(len(m) for m in methods) + 1
    header = f"{'layer':19s} {'obj':7s} {'budget':>7s} |" + "".join(f"{m:>{width}s}" for m in methods)
    print("best / bound (latency first) or best / best known (energy first), median over seeds; "
          "inf: no feasible mapping")
    print(header)
    print("-" * len(header))
    for pop, gens in budgets:
        budget = f"{pop}x{gens}"
        for name in layers:
            for objective, _, _ in OBJECTIVES:
                row = table[name, objective, budget]
                cells = "".join(f"{row[m]['ratio']:>{width}.4f}" for m in methods)
                mark = "" if row["gamma_wins"] else f"   <- {row['best_other']} better"
                print(f"{name:19s} {objective:7s} {budget:>7s} |{cells}{mark}")
    print("\nmedian wall seconds per search")
    print(f"{'budget':>7s} |" + "".join(f"{m:>{width}s}" for m in methods))
    for pop, gens in budgets:
        budget = f"{pop}x{gens}"
        walls = {m: float(np.median([table[n, o, budget][m]["wall_s"] for n in layers
                                     for o, _, _ in OBJECTIVES])) for m in methods}
        print(f"{budget:>7s} |" + "".join(f"{walls[m]:>{width}.2f}" for m in methods))


def plot(runs, refs, budget, layers, methods):
    """One figure per layer: median best-so-far ÷ reference against samples, per method."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    OUT.mkdir(parents=True, exist_ok=True)
    pop = int(budget.split("x")[0])
    paths = []
    for name in layers:
        fig, axes = plt.subplots(1, len(OBJECTIVES), figsize=(11, 4))
        for ax, (objective, _, _) in zip(axes, OBJECTIVES, strict=True):
            for method in methods:
                curves = np.array(runs[name, objective, budget, method]["curves"]) / refs[name][objective]
                median = np.median(np.where(np.isfinite(curves), curves, np.inf), axis=0)
                samples = pop * np.arange(1, curves.shape[1] + 1)
                ax.plot(samples, median, label=method, lw=2.2 if method == "gamma" else 1.1)
            ax.set_yscale("log")
            ax.set_xlabel("cost-model samples")
            ax.set_ylabel("best / bound" if objective == "latency" else "best / best known")
            ax.set_title(f"{name}: {objective} first ({budget})")
            ax.grid(True, which="both", alpha=0.3)
        axes[-1].legend(fontsize=7, ncol=2)
        fig.tight_layout()
        path = OUT / f"methods_{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")),
                        help="20x10 only, 2 seeds")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per case (default 3; quick: 2)")
    parser.add_argument("--budgets", default=None,
                        help="comma-separated POPxGENS budgets (default 20x10,100x20,200x50)")
    parser.add_argument("--layers", default=None, help="comma-separated layer names (default: all)")
    args = parser.parse_args(argv)
    budgets = BUDGETS[:1] if args.quick else BUDGETS
    if args.budgets:
        budgets = tuple(tuple(int(x) for x in b.split("x")) for b in args.budgets.split(","))
    seeds = tuple(range(args.seeds or (2 if args.quick else 3)))
    layers = args.layers.split(",") if args.layers else list(LAYERS)
    methods = tuple(m for m in ALL_METHODS if m != "exhaustive")   # it proves, not samples

    runs = run_all(budgets, seeds, layers, methods)
    refs = references(runs, layers)
    table, wins = summarize(runs, refs, budgets, layers, methods)
    print_table(table, budgets, layers, methods)
    last = f"{budgets[-1][0]}x{budgets[-1][1]}"
    paths = plot(runs, refs, last, layers, methods)
    print(f"\nplots: {', '.join(str(p.relative_to(OUT.parent.parent)) for p in paths)}")
    for budget, share in wins.items():
        print(f"{budget}: gamma at least as good as every other method in {share:.0%} of the "
              f"{len(layers) * len(OBJECTIVES)} (layer, objective) cases")
    result = {"seeds": list(seeds), "methods": list(methods), "gamma_wins_share": wins,
              "references": refs,
              "cases": {f"{n}|{o}|{b}": row for (n, o, b), row in table.items()}}
    print("RESULT " + json.dumps(_json_safe(result), allow_nan=False))


if __name__ == "__main__":
    main()
