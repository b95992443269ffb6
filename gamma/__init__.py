"""gamma: genetic design-space exploration of DNN accelerator mappings and hardware.

The public API (plain data in and out; see :mod:`gamma.api`)::

    import gamma
    layers = gamma.load_model("resnet18")                 # list of Layer
    hw = gamma.load_hardware("edge", num_pes=256)         # Hardware
    result = gamma.search(layers, hw, num_pop=100, epochs=20, seed=1)
    result.layers                                         # DataFrame, results.csv's columns
    costs = gamma.evaluate("data/mappings/nvdla_like_kc_ws.m", hw)   # DataFrame

``gamma.search`` is the search function; the package of that name holds the
search's modules: import them with ``from gamma.search.ga import ...``.
"""

from gamma.api import (
    GammaError,
    SearchResult,
    evaluate,
    load_hardware,
    load_model,
    resume,
    search,
)
from gamma.hardware import Hardware
from gamma.search.params import GAParams
from gamma.workload import Layer

__version__ = "0.1.0"

__all__ = ["GAParams", "GammaError", "Hardware", "Layer", "SearchResult", "evaluate", "load_hardware",
           "load_model", "resume", "search", "__version__"]
