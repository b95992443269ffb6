"""Run the search over the layers of a model.

Layers with the same shape (:attr:`Layer.shape_key`) are searched once and
reported for every occurrence.  Each distinct shape is one job with its own
random stream, ``SeedSequence(seed, spawn_key=(layer index,))`` keyed by the
1-based index of its first occurrence, so results do not depend on ``jobs``
or on completion order.  ``jobs > 1`` runs the jobs in joblib worker
processes; inside a job the population is vectorized.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from gamma.errors import GammaInputError
from gamma.hardware import Hardware
from gamma.search.baselines import random_search
from gamma.search.ga import GAConfig, LayerResult, search_layer
from gamma.workload import Layer


def select_layers(layers: list[Layer], *, singlelayer: int = 0, num_layer: int = 0
                  ) -> list[tuple[int, Layer]]:
    """``(1-based index, layer)`` pairs chosen by ``--singlelayer`` / ``--num_layer`` (default: all)."""
    if singlelayer < 0 or num_layer < 0:
        raise GammaInputError("--singlelayer and --num_layer must be 0 (unused) or positive")
    if singlelayer:
        if singlelayer > len(layers):
            raise GammaInputError(f"--singlelayer {singlelayer}: the model has only {len(layers)} "
                                  f"layers (1 to {len(layers)})")
        return [(singlelayer, layers[singlelayer - 1])]
    count = min(num_layer, len(layers)) if num_layer else len(layers)
    return [(i + 1, layers[i]) for i in range(count)]


@dataclass(frozen=True)
class Job:
    """One distinct layer shape: its occurrences (1-based indices) and the layer."""
    indices: tuple[int, ...]
    layer: Layer

    @property
    def key(self) -> int:
        return self.indices[0]


def group_layers(selected: list[tuple[int, Layer]]) -> list[Job]:
    """Distinct shapes in order of first occurrence."""
    groups: dict[tuple, list] = {}
    for index, layer in selected:
        groups.setdefault(layer.shape_key, [layer, []])[1].append(index)
    return [Job(tuple(idx), layer) for layer, idx in groups.values()]


def layer_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of the layer at 1-based ``index``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def run_job(job: Job, hw: Hardware, cfg: GAConfig, seed: int, evaluate=None,
            on_generation=None) -> LayerResult:
    """Search one distinct layer (GA or random search, per ``cfg.method``)."""
    search = random_search if cfg.method == "random" else search_layer
    return search(job.layer, hw, cfg, layer_rng(seed, job.key), evaluate=evaluate,
                  on_generation=on_generation)


def run_model(selected: list[tuple[int, Layer]], hw: Hardware, cfg: GAConfig, seed: int, *,
              jobs: int = 1, evaluate=None, on_result=None, on_generation=None
              ) -> list[tuple[Job, LayerResult]]:
    """Search every distinct layer of ``selected``.

    Parameters
    ----------
    jobs : int
        Worker processes (joblib); 1 runs in this process.
    on_result : callable(Job, LayerResult), optional
        Called as each job finishes, in job order (to write its rows at once).
    on_generation : callable(Job, record), optional
        Per-generation history records (``jobs == 1`` only).
    """
    work = group_layers(selected)
    done = []
    if jobs == 1 or len(work) == 1:
        results = (run_job(job, hw, cfg, seed, evaluate,
                           None if on_generation is None else
                           (lambda rec, job=job: on_generation(job, rec)))
                   for job in work)
    else:
        from joblib import Parallel, delayed
        results = Parallel(n_jobs=jobs, return_as="generator")(
            delayed(run_job)(job, hw, cfg, seed, evaluate) for job in work)
    for job, result in zip(work, results):
        done.append((job, result))
        if on_result is not None:
            on_result(job, result)
    return done


class ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, total: int, stream=None, enabled=None):
        self.total, self.done = max(total, 1), 0
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.perf_counter()

    def advance(self, amount: int, label: str = "") -> None:
        self.done += amount
        if not self.enabled:
            return
        frac = min(self.done / self.total, 1.0)
        bar = "#" * int(30 * frac)
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0
        self.stream.write(f"\r[{bar:<30}] {100 * frac:5.1f}% {label[:40]:<40} "
                          f"{elapsed:6.1f}s, ~{eta:5.1f}s left")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
