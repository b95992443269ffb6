"""Per-candidate hardware: ``evaluate(..., num_pes=, noc_bw=)`` equals scoring each
candidate alone on ``hw.replace(num_pes=..., noc_bw=...)``."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_costmodel_properties import layers, mappings

from gamma.costmodel import Costs, evaluate
from gamma.hardware import Hardware
from gamma.workload import Layer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_costmodel import random_gamma_directives  # noqa: E402

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _same(a, b):
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def _check_per_candidate(layer, hw, directives, pes, bw):
    batch = evaluate(layer, hw, directives, num_pes=pes, noc_bw=bw)
    for i in range(len(directives)):
        alone = evaluate(layer, hw.replace(num_pes=int(pes[i]), noc_bw=int(bw[i])),
                         directives.take(i))
        for name in Costs.__dataclass_fields__:
            assert _same(getattr(batch, name)[i:i + 1], getattr(alone, name)), (i, name)
    return batch


@SETTINGS
@given(st.data())
def test_mixed_hardware_batch_equals_separate_scoring(data):
    layer = data.draw(layers())
    hw = Hardware(num_pes=data.draw(st.integers(1, 64)), noc_hops=data.draw(st.integers(1, 3)),
                  offchip_bw=data.draw(st.one_of(st.none(), st.integers(1, 200))),
                  simd_lanes=data.draw(st.integers(1, 2)))
    directives = data.draw(mappings(layer, count=6))
    pes = np.array(data.draw(st.lists(st.integers(1, 96), min_size=6, max_size=6)))
    bw = np.array(data.draw(st.lists(st.integers(1, 64), min_size=6, max_size=6)))
    _check_per_candidate(layer, hw, directives, pes, bw)


def test_per_candidate_pes_change_area_power_and_runtime():
    layer = Layer("CONV", K=64, C=64, Y=56, X=56, R=3, S=3)
    hw = Hardware(num_pes=256, noc_bw=64, offchip_bw=50)
    drawn = random_gamma_directives(layer, 16, 50, 2, np.random.default_rng(3))
    first_valid = int(np.argmax(evaluate(layer, hw.replace(num_pes=16), drawn).valid))
    same = drawn.concatenate([drawn.take(first_valid)] * 4)
    pes = np.array([16, 32, 64, 128], dtype=np.int64)
    bw = np.array([8, 8, 1000, 1000], dtype=np.int64)
    costs = _check_per_candidate(layer, hw, same, pes, bw)
    assert costs.valid.all()
    assert len(set(costs.area.tolist())) == 4          # PEs and NoC bandwidth enter the area
    assert (np.diff(costs.pe_power) > 0).all()


def test_per_candidate_defaults_and_checks():
    layer = Layer("GEMM", K=8, C=8, Y=8, X=1, R=1, S=1)
    hw = Hardware(num_pes=16, noc_bw=4)
    d = random_gamma_directives(layer, 16, 5, 2, np.random.default_rng(0))
    plain = evaluate(layer, hw, d)
    explicit = evaluate(layer, hw, d, num_pes=np.full(5, 16), noc_bw=np.full(5, 4))
    for name in Costs.__dataclass_fields__:
        assert _same(getattr(plain, name), getattr(explicit, name)), name
    with pytest.raises(ValueError):
        evaluate(layer, hw, d, num_pes=np.full(4, 16))
    with pytest.raises(ValueError):
        evaluate(layer, hw, d, noc_bw=np.zeros(5, dtype=np.int64))
