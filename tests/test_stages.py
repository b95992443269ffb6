"""Stages called through their addresses (gamma.costmodel.stages)."""
from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from gamma.costmodel import engine, stages
from gamma.costmodel.stages import INT, declare, floats


@njit
def _scaled_sum(values, factor):
    total = 0.0
    for v in values:
        total += v
    return total * factor


@njit
def _checked_half(x):
    if x % 2:
        raise ValueError("odd")
    return x // 2


SCALED_SUM = declare(_scaled_sum, stages.types.float64(floats(1), INT))
CHECKED_HALF = declare(_checked_half, INT(INT))


@njit
def _sum_through(table, values, factor):
    return SCALED_SUM(table[0], values, factor)


@njit
def _half_through(table, x):
    return CHECKED_HALF(table[0], x)


def test_a_stage_called_through_its_entry_computes_what_a_direct_call_does():
    values = np.arange(5.0)
    assert _sum_through(stages.table([SCALED_SUM]), values, 3) == _scaled_sum(values, 3) == 30.0
    assert _half_through(stages.table([CHECKED_HALF]), 8) == 4


def test_an_exception_in_a_stage_reaches_the_caller():
    with pytest.raises(ValueError, match="odd"):
        _half_through(stages.table([CHECKED_HALF]), 7)


def test_a_call_with_other_argument_types_than_declared_fails_to_compile():
    @njit
    def wrong(table, values):
        return SCALED_SUM(table[0], values, 1.5)        # a float factor, declared int

    with pytest.raises(TypingError, match="_scaled_sum is declared as"):
        wrong(stages.table([SCALED_SUM]), np.arange(3.0))


def test_an_entry_of_another_signature_is_refused_at_run_time():
    address, check = stages.table([CHECKED_HALF])[0]
    with pytest.raises(RuntimeError, match="older signature: delete numba's cache"):
        _half_through(((address, check + 1),), 8)


def test_the_main_kernel_stages_compile_as_declared():
    for caller in engine.STAGES:
        compiled = caller.stage.compile()
        assert compiled.signature == caller.stage.signature
        address, check = caller.stage.entry()
        assert address > 0 and check == caller.stage.check



_ONE_BATCH = """
import json, sys
import numpy as np
sys.path.insert(0, {benchmarks!r})
from bench_costmodel import random_gamma_directives
from gamma.costmodel import evaluate
from gamma.hardware import load_hardware
from gamma.workload import Layer

hw = load_hardware("edge")
for layer in (Layer("CONV", K=16, C=8, Y=10, X=10, R=3, S=3, stride=2),
              Layer("DSCONV", K=1, C=16, Y=9, X=9, R=3, S=3)):
    mappings = random_gamma_directives(layer, hw.num_pes, 40, 2, np.random.default_rng(1))
    costs = evaluate(layer, hw, mappings)
    print(json.dumps({{"valid": int(costs.valid.sum()), "runtime": costs.runtime.tolist(),
                      "l2": costs.l2_size_req.tolist(),
                      "busiest": costs.busiest_pe_macs.tolist(), "reason": costs.reason.tolist()}}))
"""


@pytest.mark.slow
def test_the_cost_model_runs_as_python_without_the_jit():
    """With NUMBA_DISABLE_JIT (to debug the kernels as Python) the callers call their
    stages directly, and the figures are the compiled ones."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = _ONE_BATCH.format(benchmarks=str(Path(__file__).resolve().parent.parent
                                              / "benchmarks"))
    results = []
    for disable in ("1", "0"):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=dict(os.environ, NUMBA_DISABLE_JIT=disable), timeout=600,
                             check=True).stdout
        results.append([json.loads(line) for line in out.splitlines()])
    assert all(batch["valid"] > 0 for batch in results[0])
    assert results[0] == results[1]
