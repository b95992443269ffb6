"""Every shipped mapping-constraint plugin on every distinct layer of the zoo models.

For each plugin, hardware config and distinct layer shape, a small search
(``--pop`` x ``--epochs``, seeded) must find a feasible mapping whose analysis
is exact; otherwise the case is listed with the best candidate's figures and
the cause (an inexact analysis, or the buffer it overflows and by how much).
Prints a summary per plugin family and writes every failure to ``--out`` (CSV).

    python tools/plugin_matrix/run_matrix.py [--models resnet18 mobilenet_v2] \
        [--hw edge cloud] [--plugins dla_map eye_map ...] [--pop 10 --epochs 2] [--jobs 2]
"""
from __future__ import annotations

import argparse
import csv
import multiprocessing
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gamma import plugins  # noqa: E402
from gamma.hardware import load_hardware  # noqa: E402
from gamma.plugin_checks import search_under  # noqa: E402
from gamma.workload import available_models, load_model  # noqa: E402


def distinct_layers(models):
    seen = {}
    for model in models:
        for layer in load_model(model):
            seen.setdefault(layer.shape_key, (model, layer))
    return list(seen.values())


def shipped_plugins():
    """Every shipped mapping plugin: GAMMA's and the product's (YAML twins included)."""
    return [n for n in plugins.available_plugins() if not n.startswith("advanced_cstr")]


def verdict(name, layer, hw, pop, epochs, seed):
    """None, or (cause, details) for a plugin on a layer."""
    layer, result = search_under(name, layer, hw, num_pop=pop, epochs=epochs, seed=seed)
    s = result.best_scores
    exact = bool(s["exact_analysis"]) and s["macs"] == layer.macs
    if exact and result.feasible:
        return None
    if result.closest_trusted is not None:     # a trusted candidate shows the limit
        s, exact = result.closest_trusted, True
    if not exact:
        cause = "inexact"
    elif s["l1_size_req"] > hw.l1_limit:
        cause = "L1"
    elif s["l2_size_req"] > hw.l2_limit:
        cause = "L2"
    else:
        cause = "other"
    details = (f"MACs {s['macs']} vs {layer.macs}, L1 {s['l1_size_req']} (limit {hw.l1_limit}), "
               f"L2 {s['l2_size_req']} (limit {hw.l2_limit}), undercount {s.get('undercount')}")
    return cause, details


def _job(args):
    name, hw_name, model, layer, pop, epochs, seed = args
    hw = load_hardware(hw_name)
    try:
        v = verdict(name, layer, hw, pop, epochs, seed)
    except Exception as err:          # reported, so that one bad case does not hide the rest
        v = ("error", f"{type(err).__name__}: {err}")
    return name, hw_name, model, layer.describe(), v


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=available_models())
    p.add_argument("--hw", nargs="+", default=["edge", "cloud"])
    p.add_argument("--plugins", nargs="+", default=None)
    p.add_argument("--pop", type=int, default=10)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", default="plugin_matrix_failures.csv")
    args = p.parse_args(argv)
    names = args.plugins or shipped_plugins()
    layers = distinct_layers(args.models)
    jobs = [(n, h, m, layer, args.pop, args.epochs, args.seed)
            for n in names for h in args.hw for m, layer in layers]
    print(f"{len(names)} plugins x {len(args.hw)} hardware x {len(layers)} distinct layers "
          f"= {len(jobs)} searches of {args.pop} x {args.epochs}", flush=True)
    start = time.perf_counter()
    failures = []
    with multiprocessing.Pool(args.jobs) as pool:
        for name, hw_name, model, layer, v in pool.imap_unordered(_job, jobs, chunksize=8):
            if v is not None:
                failures.append((name, hw_name, model, layer, *v))
    causes = Counter((f[0], f[4]) for f in failures)
    for (name, cause), count in sorted(causes.items()):
        print(f"{name:60s} {cause:8s} {count}")
    with open(args.out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["plugin", "hw", "model", "layer", "cause", "details"])
        w.writerows(sorted(failures))
    print(f"{len(jobs) - len(failures)} of {len(jobs)} exact and feasible; "
          f"{len(failures)} failures in {args.out}; {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
