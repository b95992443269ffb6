"""Baselines with the same sample budget as the genetic algorithm."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from gamma.hardware import Hardware
from gamma.search.ga import GAConfig, LayerResult, LayerSearch
from gamma.workload import Layer


def random_search(layer: Layer, hw: Hardware, cfg: GAConfig, rng: np.random.Generator, *,
                  evaluate=None, on_generation=None) -> LayerResult:
    """Random search (``--method random``): ``epochs`` batches of ``num_pop``
    uniformly random mappings (GAMMA's random initialisation), one cost-model
    call per batch; the result is ranked exactly as the GA's.  It is a
    :class:`~gamma.search.ga.LayerSearch` with ``method="random"``, so it can
    be checkpointed the same way."""
    return LayerSearch(layer, hw, replace(cfg, method="random"), rng, evaluate=evaluate,
                       on_generation=on_generation).run()
