"""The notice printed before the cost model's kernels are compiled."""
from __future__ import annotations

import importlib.util
import io

from gamma.costmodel import coldstart

_KERNEL = """
from numba import njit


@njit(cache=True)
def twice(x):
    return 2 * x
"""


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cache_check_follows_numba_cache(tmp_path):
    path = tmp_path / "tiny_kernel.py"
    path.write_text(_KERNEL)
    first = _load(path, "tiny_kernel_a")
    assert not coldstart._has_cached_overload(first.twice)      # never compiled
    assert first.twice(21) == 42                                 # compiles and saves
    second = _load(path, "tiny_kernel_b")                        # a fresh dispatcher
    assert not second.twice.signatures
    assert coldstart._has_cached_overload(second.twice)
    path.write_text(_KERNEL.replace("2 * x", "3 * x"))           # edited source
    third = _load(path, "tiny_kernel_c")
    assert not coldstart._has_cached_overload(third.twice)


def test_notice_once_and_only_when_cold(monkeypatch):
    monkeypatch.setattr(coldstart, "_announced", False)
    monkeypatch.setattr(coldstart, "kernels_cached", lambda: False)
    stream = io.StringIO()
    assert coldstart.announce_compilation(stream)
    assert not coldstart.announce_compilation(stream)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("gamma: compiling the cost model's kernels (first run only")
    monkeypatch.setattr(coldstart, "_announced", False)
    monkeypatch.setattr(coldstart, "kernels_cached", lambda: True)
    quiet = io.StringIO()
    assert not coldstart.announce_compilation(quiet)
    assert quiet.getvalue() == ""


def test_loaded_kernels_count_as_cached():
    import numpy as np

    from gamma.costmodel import DIM_CODE, Directives, evaluate
    from gamma.hardware import load_hardware
    from gamma.workload import Layer

    layer = Layer("CONV", K=8, C=8, Y=8, X=8, R=3, S=3)
    names = ("K", "C", "Y'", "X'", "R", "S")
    sizes = np.array([[[1, 1, 1, 1, 3, 3]]], dtype=np.int64)
    directives = Directives(
        dim=np.array([[[DIM_CODE[n] for n in names]]], dtype=np.int8), size=sizes,
        offset=sizes.copy(), spatial=np.array([[[True] + [False] * 5]]),
        cluster=np.zeros((1, 1), dtype=np.int64), num_levels=np.ones(1, dtype=np.int64))
    costs = evaluate(layer, load_hardware("edge"), directives)
    assert costs.valid[0] and costs.macs[0] == layer.macs
    assert coldstart.kernels_cached()
