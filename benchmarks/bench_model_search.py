"""Whole-model search: wall time against the cost model's floor, and where the time goes.

Runs ``main.py`` on every layer of ResNet-50 and of MobileNetV2 (edge hardware,
``--num_pop 200 --epochs 50 --jobs 2 --no_plots`` by default), each in a fresh
output folder inside a temporary directory, after a tiny warm-up run that fills
the numba cache.  Each model runs ``--repeat`` times (default 3) and the
fastest run is reported, as ``timeit`` does: the machine's other load only
ever slows a run down; every run's time is printed too.  For each model it
prints the wall time, the candidates scored per second and the *cost-model
floor*: the seconds the scoring alone would take,

    floor = samples / (cost-model evaluations/s on the model's layers) / jobs,

the evaluations/s being measured here, in this process, on random GAMMA-style
mappings of every distinct layer of the model (``bench_costmodel``'s
generator), scored ``num_pop`` at a time as the search scores them.
``wall / floor`` says how far the search loop is from being bound by the
cost model.

Then one layer (ResNet-50's second distinct layer, a 1x1 convolution on 56x56)
is searched in this process after a warm-up, best of three
(``one_layer_200x50_s``): the search loop alone, without start-up or files.

Then one representative search runs in this process under cProfile (one
worker, by default the first ``--profile_layers`` distinct layers of
ResNet-50) and its time is split by module: the cost model
(``gamma.costmodel``), estimates and screening (functions of
``gamma.search`` named ``*estimate*``/``*priced*``/``*screen*``), the other
operators (variation, search space, seeding, their compiled kernels, duplicate
detection), bookkeeping (the GA loop, results, selection, scoring tables,
trust) and I/O (reports and files).
Self time of library code (NumPy, pandas, builtins) is charged to the gamma
functions that called it, in proportion to the time spent under each caller,
so the split follows the module names and keeps working when functions move
between modules of ``gamma.search``.  The last line is ``RESULT {json}``.

    python benchmarks/bench_model_search.py [--quick] [--num_pop 200] [--epochs 50] [--jobs 2]
                                            [--repeat 3]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_costmodel import random_gamma_directives  # noqa: E402

import gamma  # noqa: E402
from gamma.costmodel import evaluate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = (("resnet50", "resnet50"), ("mobilenet_v2", "mobilenet_v2"))
CATEGORIES = ("cost model", "estimates/screening", "operators", "bookkeeping", "I/O",
              "other gamma", "outside gamma")
_OPERATOR_MODULES = ("variation", "operators", "space", "seeding", "baselines", "kernels",
                     "rowset")
_IO_MODULES = ("gamma.report", "gamma.files", "gamma.plots", "gamma.maestro_files",
               "gamma.resuming", "gamma.console")


def distinct_layers(layers):
    """The layers of a model with repeated shapes removed (the search runs each once)."""
    seen, unique = set(), []
    for layer in layers:
        key = layer.describe()
        if key not in seen:
            seen.add(key)
            unique.append(layer)
    return unique


def costmodel_rate(layers, hw, n: int, batch: int, seed: int = 0) -> float:
    """Cost-model evaluations/s over random 2-level mappings of ``layers`` (one core).

    Each layer gets ``n`` mappings scored in calls of ``batch`` (the search scores
    one generation, ``num_pop`` candidates, per call); each layer is timed twice
    and the faster run kept, after a warm-up call.
    """
    rng = np.random.default_rng(seed)
    batches = [(layer, random_gamma_directives(layer, hw.num_pes, n, 2, rng))
               for layer in layers]
    evaluate(batches[0][0], hw, batches[0][1])
    total = 0.0
    for layer, directives in batches:
        chunks = [directives.take(slice(k, k + batch)) for k in range(0, n, batch)]
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            for chunk in chunks:
                evaluate(layer, hw, chunk)
            best = min(best, time.perf_counter() - start)
        total += best
    return n * len(batches) / total


def run_main(model: str, num_pop: int, epochs: int, jobs: int, folder: Path) -> dict:
    """Run ``main.py`` on the whole model in a fresh folder; wall seconds and samples."""
    outdir = Path(tempfile.mkdtemp(dir=folder))
    command = [sys.executable, str(ROOT / "main.py"), "--model", model, "--num_pop",
               str(num_pop), "--epochs", str(epochs), "--jobs", str(jobs), "--no_plots",
               "--outdir", str(outdir), "--seed", "1"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bench_model_search: main.py --model {model} failed: "
                         f"{done.stderr.strip().splitlines()[-1:]}")
    summary = next(outdir.glob("*/summary.csv"))
    with open(summary, newline="") as handle:
        row = next(csv.DictReader(handle))
    return {"wall_s": wall, "samples": int(row["samples"]),
            "distinct_layers": int(row["distinct_layers"])}


def _module_of(filename: str) -> str:
    """Dotted module name of a source file ('' when it is not a file of a package)."""
    path = Path(filename)
    if path.suffix != ".py":
        return ""
    try:
        relative = path.resolve().relative_to(ROOT)
    except ValueError:
        return ""
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def category(module: str, function: str) -> str | None:
    """Category of a gamma function (None: not gamma's code)."""
    if not module.startswith("gamma"):
        return None
    if module.startswith("gamma.costmodel"):
        return "cost model"
    if module.startswith("gamma.search"):
        if any(word in function for word in ("estimate", "priced", "screen")) or \
                module.rsplit(".", 1)[-1] in ("estimates", "screening"):
            return "estimates/screening"
        if module.rsplit(".", 1)[-1] in _OPERATOR_MODULES:
            return "operators"
        return "bookkeeping"
    if module.startswith(_IO_MODULES):
        return "I/O"
    return "other gamma"


def attribute(stats: pstats.Stats) -> tuple[dict, dict]:
    """Self time per category and per gamma module, library time charged to its callers."""
    raw = stats.stats
    shares: dict = {}

    def share(func, depth=0):
        """{(category, module): fraction} of ``func``'s self time."""
        if func in shares:
            return shares[func]
        filename, _, name = func
        module = _module_of(filename)
        cat = category(module, name)
        if cat is not None:
            result = {(cat, module): 1.0}
        else:
            callers = raw[func][4] if func in raw else {}
            weights = {caller: v[3] for caller, v in callers.items() if caller != func}
            total = sum(weights.values())
            result = defaultdict(float)
            if depth > 40 or total <= 0:
                result[("outside gamma", "")] = 1.0
            else:
                shares[func] = {("outside gamma", ""): 1.0}     # breaks cycles
                for caller, weight in weights.items():
                    for key, part in share(caller, depth + 1).items():
                        result[key] += part * weight / total
            result = dict(result)
        shares[func] = result
        return result

    by_cat, by_module = defaultdict(float), defaultdict(float)
    for func, (_, _, tottime, _, _) in raw.items():
        for (cat, module), part in share(func).items():
            by_cat[cat] += tottime * part
            by_module[module or "(outside gamma)"] += tottime * part
    return dict(by_cat), dict(by_module)


def profile_search(model: str, count: int, num_pop: int, epochs: int, folder: Path) -> dict:
    """cProfile one in-process search of the first ``count`` distinct layers of ``model``."""
    layers = distinct_layers(gamma.load_model(model))[:count]
    hw = gamma.load_hardware("edge")
    gamma.search(layers[:1], hw, num_pop=8, epochs=2, seed=1, plots=False,
                 outdir=folder / "warm")                   # imports and kernels
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    gamma.search(layers, hw, num_pop=num_pop, epochs=epochs, seed=1, plots=False,
                 outdir=folder / "profile")
    profiler.disable()
    wall = time.perf_counter() - start
    by_cat, by_module = attribute(pstats.Stats(profiler))
    total = sum(by_cat.values())
    print(f"\nprofile: {model}, first {len(layers)} distinct layers, num_pop {num_pop}, "
          f"epochs {epochs}, one process: {wall:.1f} s wall ({total:.1f} s profiled)")
    for cat in CATEGORIES:
        print(f"  {cat:<22}{by_cat.get(cat, 0.0):8.2f} s  {100 * by_cat.get(cat, 0.0) / total:5.1f} %")
    print("  top modules (self time, library time charged to its gamma callers):")
    for module, seconds in sorted(by_module.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {module:<34}{seconds:8.2f} s  {100 * seconds / total:5.1f} %")
    return {f"profile_{cat.replace('/', '_').replace(' ', '_').lower()}_share":
            round(by_cat.get(cat, 0.0) / total, 4) for cat in CATEGORIES} | {
        "profile_wall_s": round(wall, 2), "profile_layers": len(layers)}


def one_layer_time(model: str, index: int, num_pop: int, epochs: int, repeats: int = 3) -> float:
    """Seconds of one layer's search at ``num_pop x epochs`` in this process (best of
    ``repeats``), after a warm-up search: the search loop alone, no start-up, no files."""
    from gamma.search.config import GAConfig
    from gamma.search.ga import search_layer

    layer = distinct_layers(gamma.load_model(model))[index]
    hw = gamma.load_hardware("edge")
    search_layer(layer, hw, GAConfig(num_pop=8, epochs=2), np.random.default_rng(0))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        search_layer(layer, hw, GAConfig(num_pop=num_pop, epochs=epochs), np.random.default_rng(1))
        best = min(best, time.perf_counter() - start)
    print(f"one layer: {model} layer {layer.describe()}, {num_pop} x {epochs}, in process: "
          f"{best:.3f} s (best of {repeats})")
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_pop", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of main.py")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of main.py per model; the fastest is reported (the others "
                             "measure the machine's other load)")
    parser.add_argument("--profile_layers", type=int, default=6,
                        help="distinct ResNet-50 layers searched under the profiler")
    parser.add_argument("--rate_n", type=int, default=2000,
                        help="mappings per layer when measuring the cost model's rate")
    parser.add_argument("--quick", action="store_true",
                        help="small budget (num_pop 40, epochs 10, 3 profiled layers)")
    args = parser.parse_args(argv)
    if args.quick:
        args.num_pop, args.epochs, args.profile_layers, args.rate_n = 40, 10, 3, 500
        args.repeat = 1
    hw = gamma.load_hardware("edge")
    result = {"num_pop": args.num_pop, "epochs": args.epochs, "jobs": args.jobs}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_main("resnet18", 4, 1, 1, folder)              # warm-up: numba cache
        for key, model in MODELS:
            rate = costmodel_rate(distinct_layers(gamma.load_model(model)), hw, args.rate_n,
                                  args.num_pop)
            runs = [run_main(model, args.num_pop, args.epochs, args.jobs, folder)
                    for _ in range(args.repeat)]
            walls = [r["wall_s"] for r in runs]
            run = min(runs, key=lambda r: r["wall_s"])
            floor = run["samples"] / rate / args.jobs
            print(f"{key:>13}: {run['distinct_layers']} distinct layers, {run['samples']} "
                  f"samples in {run['wall_s']:.1f} s (best of {len(runs)}: "
                  f"{', '.join(f'{w:.2f}' for w in walls)} s) = "
                  f"{run['samples'] / run['wall_s']:.0f} "
                  f"samples/s; cost model {rate:.0f} evals/s/core -> floor {floor:.2f} s "
                  f"on {args.jobs} cores, wall/floor {run['wall_s'] / floor:.1f}")
            result |= {f"{key}_wall_s": round(run["wall_s"], 2),
                       f"{key}_wall_runs_s": [round(w, 2) for w in walls],
                       f"{key}_samples": run["samples"],
                       f"{key}_samples_per_s": round(run["samples"] / run["wall_s"], 1),
                       f"{key}_costmodel_evals_per_s": round(rate, 1),
                       f"{key}_floor_s": round(floor, 3),
                       f"{key}_floor_ratio": round(run["wall_s"] / floor, 2)}
        result["one_layer_200x50_s" if (args.num_pop, args.epochs) == (200, 50)
               else "one_layer_s"] = round(one_layer_time("resnet50", 1, args.num_pop, args.epochs), 3)
        result |= profile_search("resnet50", args.profile_layers, args.num_pop, args.epochs,
                                 folder)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
