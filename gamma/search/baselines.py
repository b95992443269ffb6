"""Baselines with the same sample budget as the genetic algorithm."""
from __future__ import annotations

import numpy as np

from gamma.hardware import Hardware
from gamma.search import operators as ops
from gamma.search.ga import GAConfig, LayerResult, Tracker, score
from gamma.workload import Layer


def random_search(layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                  evaluate=None, on_generation=None) -> LayerResult:
    """Random search (``--method random``): ``epochs`` batches of ``num_pop``
    uniformly random mappings (GAMMA's random initialisation), one cost-model
    call per batch; the result is ranked exactly as the GA's."""
    space = cfg.space(layer, hw)
    tracker = Tracker(layer, cfg, on_generation)
    for gen in range(cfg.epochs):
        pop = ops.random_population(space, cfg.num_pop, rng)
        tracker.update(pop, score(pop, layer, hw, cfg, evaluate), gen)
    result = tracker.result()
    result.method = "random"
    return result
