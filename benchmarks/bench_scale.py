"""Scaling out: whole models at the GAMMA paper's budget on 1 process,
2 processes (joblib) and a local Dask cluster of 2 worker processes.

ResNet-50 (54 layers) and DenseNet (121 layers) on GAMMA's edge hardware
(168 PEs, L1 512, L2 108000), population 200 x 50 generations (10,000 samples
per distinct layer), one seed.  For each model and mode: wall time, samples
(cost-model evaluations) per second, peak memory of the whole process tree
(this process plus its worker processes, RSS summed, sampled every 0.1 s; must
stay under 2 GiB) and the speed-up over ``--jobs 1``; and a check that every
mode finds the same mappings (same seed).

    python benchmarks/bench_scale.py            # full run (tens of minutes on 2 cores)
    python benchmarks/bench_scale.py --quick    # 20 x 5, the first 12 layers of each model
    BENCH_QUICK=1 python benchmarks/bench_scale.py

The last line is ``RESULT {json}`` (keys carry their units).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gamma.hardware import load_hardware  # noqa: E402
from gamma.runner import group_layers, run_model, select_layers  # noqa: E402
from gamma.search.ga import GAConfig  # noqa: E402
from gamma.workload import load_model  # noqa: E402

GIB = 2 ** 30
MODES = ("jobs1", "jobs2", "dask2")


class PeakRSS:
    """Peak resident memory of this process and all its descendants (summed), in bytes."""

    def __init__(self, interval_s: float = 0.1):
        import psutil
        self.psutil, self.interval_s = psutil, interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _sample(self) -> int:
        me = self.psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(self.psutil.Error):   # it ended meanwhile
                total += proc.memory_info().rss
        return total

    def _watch(self):
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._sample())
            self._stop.wait(self.interval_s)

    def __enter__(self):
        self.peak_bytes = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._sample())


def run_mode(mode: str, selected, hw, cfg, seed: int):
    """(results, wall seconds, peak tree RSS bytes) of one mode."""
    with PeakRSS() as mem:
        if mode == "dask2":
            import distributed
            with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                          host="127.0.0.1", dashboard_address=None) as cluster, \
                    distributed.Client(cluster, set_as_default=False) as client:
                client.wait_for_workers(2)
                client.run(_warm_up)
                start = time.perf_counter()  # cluster start-up and imports are not counted
                done = run_model(selected, hw, cfg, seed, workers=client)
                wall = time.perf_counter() - start
        else:
            workers = 1 if mode == "jobs1" else 2
            if workers > 1:
                from joblib import Parallel, delayed
                Parallel(n_jobs=workers)(delayed(_warm_up)() for _ in range(workers))
            start = time.perf_counter()  # worker start-up and imports are not counted
            done = run_model(selected, hw, cfg, seed, workers=workers)
            wall = time.perf_counter() - start
    return done, wall, mem.peak_bytes


def _warm_up():
    """Import the search and load the cost model's compiled functions in a worker."""
    from gamma.workload import Layer
    layer = Layer("CONV", K=8, C=8, Y=8, X=8, R=3, S=3)
    run_model([(1, layer)], load_hardware("edge"), GAConfig(num_pop=8, epochs=2), 0)


def fingerprint(done):
    return [(job.key, result.best.keys(), result.best_scores["runtime"]) for job, result in done]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")),
                   help="20 x 5 on the first 12 layers of each model (a fast check)")
    p.add_argument("--models", nargs="+", default=["resnet50", "densenet"])
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    pop, gens, count = (20, 5, 12) if args.quick else (200, 50, 0)
    hw = load_hardware("edge")
    cfg = GAConfig(num_pop=pop, epochs=gens)
    print(f"bench_scale: {hw.num_pes} PEs, L1 {hw.l1_size}, L2 {hw.l2_size}; budget {pop} x {gens}; "
          f"{os.cpu_count()} cores", flush=True)
    result = {"budget": f"{pop}x{gens}", "samples_per_layer": pop * gens,
              "cores": os.cpu_count(), "quick": args.quick, "models": {}}
    all_under = True
    for model in args.models:
        selected = select_layers(load_model(model), num_layer=count)
        distinct = len(group_layers(selected))
        rows, base, ref = {}, None, None
        for mode in args.modes:
            done, wall, peak = run_mode(mode, selected, hw, cfg, args.seed)
            samples = sum(r.samples for _, r in done)
            same = None
            if ref is None:
                ref = fingerprint(done)
            else:
                same = fingerprint(done) == ref
            base = base or (wall if mode == "jobs1" else None)
            rows[mode] = {"wall_s": round(wall, 2), "samples": samples,
                          "evaluations_per_s": round(samples / wall, 1),
                          "peak_rss_tree_MiB": round(peak / 2 ** 20, 1),
                          "speedup_vs_jobs1": round(base / wall, 3) if base else None,
                          "same_results_as_first_mode": same}
            all_under &= peak < 2 * GIB
            print(f"{model:9s} {len(selected):3d} layers ({distinct} distinct) {mode:6s}: "
                  f"{wall:8.1f} s, {samples / wall:8.0f} evaluations/s, peak RSS "
                  f"{peak / 2 ** 20:7.0f} MiB"
                  + (f", speed-up {base / wall:.2f}x" if base and mode != "jobs1" else "")
                  + ("" if same is None else f", same results: {same}"), flush=True)
        result["models"][model] = {"layers": len(selected), "distinct_layers": distinct, **rows}
    result["peak_rss_under_2GiB"] = all_under
    print("RESULT " + json.dumps(result))
    return 0 if all_under else 1


if __name__ == "__main__":
    sys.exit(main())
