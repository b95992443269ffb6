"""Cold start: the helper process that compiles half of the kernels (gamma.warmup)."""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numba
import pytest

from gamma import warmup
from gamma.costmodel import engine
from gamma.workload import Layer

_KERNEL = """
from numba import njit


@njit(cache=True)
def twice(x):
    return 2 * x
"""


def _load(path: Path, name: str, monkeypatch):
    """Import ``path`` as module ``name`` (registered: numba's cache loads by module name)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def _count_compiles(dispatcher, call) -> int:
    """How many times ``call()`` compiles ``dispatcher`` in this process."""
    from numba.core import event

    seen = []

    class Count(event.Listener):
        def on_start(self, ev):
            pass

        def on_end(self, ev):
            if ev.data["dispatcher"] is dispatcher:
                seen.append(ev.data["args"])

    with event.install_listener("numba:compile", Count()):
        call()
    return len(seen)


def _locked_in_child(lock_path: Path, work) -> int:
    """Fork a child that takes ``lock_path``, signals it holds it, runs ``work()`` and
    exits (status 0); returns its pid once the lock is held."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            with warmup._file_lock(lock_path):
                os.write(ready_w, b"x")
                work()
            status = 0
        finally:
            os._exit(status)
    os.read(ready_r, 1)
    os.close(ready_r)
    os.close(ready_w)
    return pid


def _guarded_kernel(tmp_path: Path, name: str, monkeypatch):
    """A fresh cached kernel module ``name`` whose kernel is guarded by a lock in
    ``tmp_path/locks``: (module, the kernel's lock file)."""
    path = tmp_path / f"{name}.py"
    path.write_text(_KERNEL)
    module = _load(path, name, monkeypatch)
    locks = tmp_path / "locks"
    locks.mkdir()
    warmup.guard(module.twice, locks)
    return module, locks / f"{module.twice.py_func.__module__}.{module.twice.py_func.__qualname__}"


def test_second_process_waits_and_loads_instead_of_compiling(tmp_path, monkeypatch):
    module, lock = _guarded_kernel(tmp_path, "tiny_kernel_wait", monkeypatch)

    def compile_slowly():
        time.sleep(0.3)                     # the parent must wait for the lock meanwhile
        vars(module.twice).pop("compile")   # unguarded: this process holds the lock
        module.twice(3)

    pid = _locked_in_child(lock, compile_slowly)
    assert _count_compiles(module.twice, lambda: module.twice(4)) == 0   # loaded from the cache
    assert module.twice(5) == 10
    assert os.waitpid(pid, 0)[1] == 0


def test_a_crashing_compiler_does_not_block(tmp_path, monkeypatch):
    module, lock = _guarded_kernel(tmp_path, "tiny_kernel_crash", monkeypatch)

    def die():
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)

    pid = _locked_in_child(lock, die)
    assert _count_compiles(module.twice, lambda: module.twice(4)) == 1   # compiled here
    assert module.twice(4) == 8
    assert os.waitpid(pid, 0)[1] != 0


def test_no_split_without_jit_second_cpu_or_writable_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("GAMMA_SERIAL_COMPILE", raising=False)
    reason: list = []
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    assert not warmup.split_possible(reason)
    monkeypatch.setattr(numba.config, "DISABLE_JIT", False)
    monkeypatch.setattr(warmup, "cpus_available", lambda: 1)
    assert not warmup.split_possible(reason)
    monkeypatch.setattr(warmup, "cpus_available", lambda: 2)
    monkeypatch.setattr(warmup.threading, "active_count", lambda: 2)
    assert not warmup.split_possible(reason)
    monkeypatch.setattr(warmup.threading, "active_count", lambda: 1)
    monkeypatch.setenv("GAMMA_SERIAL_COMPILE", "1")
    assert not warmup.split_possible(reason)
    assert reason == ["NUMBA_DISABLE_JIT is set", "one CPU", "other threads are running",
                      "GAMMA_SERIAL_COMPILE is set"]

    class Unwritable:                       # a cache folder under a plain file
        class _cache:
            _cache_path = str(tmp_path / "a_file" / "cache")

    (tmp_path / "a_file").write_text("")
    assert not warmup._cache_writable([Unwritable])


@pytest.mark.parametrize("body, status", [("hang", -signal.SIGKILL), ("crash", 1)])
def test_helper_is_reaped_or_killed(monkeypatch, body, status):
    def hang(parent, job):
        time.sleep(60)

    def crash(parent, job):
        raise RuntimeError("the helper broke")

    monkeypatch.setattr(warmup, "_started", False)
    monkeypatch.setattr(warmup, "_helper", {})
    monkeypatch.setattr(warmup, "split_possible", lambda: True)
    monkeypatch.setattr(warmup, "all_cached", lambda: False)
    monkeypatch.setattr(warmup, "guard_all", lambda lock_dir: None)
    monkeypatch.setattr(warmup, "_helper_main", {"hang": hang, "crash": crash}[body])
    assert warmup.start()
    assert not warmup.start()               # only the first call acts
    pid, lock_dir = warmup._helper["pid"], warmup._helper["lock_dir"]
    if body == "crash":
        assert warmup.wait(timeout=30) == status
    assert warmup.stop() == status
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)                     # gone, and reaped
    assert not lock_dir.exists()


_RUN = """
import json, sys
from numba.core import event
compiled = []

class Listener(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        func = ev.data["dispatcher"].py_func
        if func.__module__.startswith("gamma."):
            compiled.append(f"{func.__module__}.{func.__qualname__} {ev.data['args']}")

event.register("numba:compile", Listener())
import gamma
from gamma import warmup
from gamma.costmodel import engine
from gamma.workload import Layer
layer = Layer("CONV", K=16, C=8, Y=10, X=10, R=3, S=3)
gamma.search([layer], "edge", num_pop=16, epochs=2, plots=False, outdir=sys.argv[1], seed=3)
helper = warmup._helper.get("pid")
print(json.dumps({"compiled": compiled, "helper": helper, "status": warmup.wait(60)}))
"""


def _run(tmp_path: Path, name: str, cache: Path) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache),
               GAMMA_COMPILE_LOG=str(tmp_path / f"helper-{name}"))
    env.pop("GAMMA_SERIAL_COMPILE", None)
    out = subprocess.run([sys.executable, "-c", _RUN, str(tmp_path / name)], env=env,
                         capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _helper_compiled(tmp_path: Path, name: str) -> list[str]:
    """``kernel (argument types)`` of each compilation the helper logged."""
    lines = []
    for log in tmp_path.glob(f"helper-{name}.*"):
        lines += [line.split(maxsplit=1)[1] for line in log.read_text().splitlines()]
    return [line for line in lines if line.startswith("gamma.")]


def _names(compiled: list[str]) -> set[str]:
    return {line.split()[0] for line in compiled}


@pytest.mark.slow
def test_cold_search_compiles_each_kernel_once(tmp_path):
    cache = tmp_path / "cache"
    first = _run(tmp_path, "first", cache)
    here, helper = first["compiled"], _helper_compiled(tmp_path, "first")
    if warmup.cpus_available() >= 2 and hasattr(os, "fork"):
        assert first["helper"] is not None and first["status"] == 0
        # the main kernel and the stages the helper leaves to this process
        assert {"gamma.costmodel.engine.evaluate_batch", "gamma.costmodel.engine._finish",
                "gamma.costmodel.engine._top_outputs", "gamma.costmodel.tables._twice_level"
                } <= _names(here)
        # the helper's stages and the busiest-PE kernel, for this process to load, and
        # the search's kernels from the last one back
        assert {"gamma.costmodel.engine._expand", "gamma.costmodel.levels._parser_reason",
                "gamma.costmodel.engine._level_arrays",
                "gamma.costmodel.busiest_kernel.busiest_batch",
                "gamma.search.kernels.rank_in_group"} <= _names(helper)
        # the main kernel compiled once (its first call's types: engine.run_batch), and
        # each stage once, with its declared signature
        compiled = [line.split()[0].rsplit(".", 1)[1] for line in here + helper]
        for name in ("evaluate_batch", *(caller.stage.name for caller in engine.STAGES)):
            assert compiled.count(name) == 1, name
        assert not set(here) & set(helper)      # no kernel compiled twice for the same types
    else:
        assert first["helper"] is None and helper == []
    second = _run(tmp_path, "second", cache)
    assert second == {"compiled": [], "helper": None, "status": None}
    assert _helper_compiled(tmp_path, "second") == []
    ahead = subprocess.run([sys.executable, "-m", "gamma.warmup"], capture_output=True,
                           text=True, timeout=600, env=dict(os.environ, NUMBA_CACHE_DIR=str(cache)))
    assert ahead.returncode == 0
    assert ahead.stderr.startswith("gamma: kernels cached (")     # nothing left to compile


def test_a_stuck_helper_is_stopped(tmp_path, monkeypatch):
    lock = tmp_path / "kernel.lock"
    ready = tmp_path / "ready"

    def stuck(parent, job):
        with warmup._file_lock(lock):
            ready.touch()
            time.sleep(60)

    monkeypatch.setattr(warmup, "_started", False)
    monkeypatch.setattr(warmup, "_helper", {})
    monkeypatch.setattr(warmup, "split_possible", lambda: True)
    monkeypatch.setattr(warmup, "all_cached", lambda: False)
    monkeypatch.setattr(warmup, "guard_all", lambda lock_dir: None)
    monkeypatch.setattr(warmup, "_helper_main", stuck)
    monkeypatch.setattr(warmup, "LOCK_PATIENCE_S", 0.2)
    assert warmup.start()
    for _ in range(3000):                   # at most 30 s
        if ready.exists():
            break
        time.sleep(0.01)
    assert ready.exists()
    with warmup._file_lock(lock):           # waits, then stops the helper
        assert warmup._helper["status"] == -signal.SIGKILL


@pytest.mark.parametrize("layer", [
    Layer("CONV", K=64, C=64, Y=56, X=56, R=3, S=3),
    Layer("CONV", K=64, C=3, Y=230, X=230, R=7, S=7, stride=2, N=2),
    Layer("DSCONV", K=1, C=960, Y=9, X=9, R=3, S=3),
    Layer("GEMM", K=4096, C=4096, Y=4096, X=1, R=1, S=1),
    Layer("NGCONV", K=8, C=8, G=4, Y=16, X=16, R=3, S=3)], ids=lambda layer: layer.type)
def test_the_warm_up_mapping_reaches_every_stage(layer):
    """For any layer, the warm-up's one mapping is valid and maps a dimension twice,
    so its evaluation runs every stage of the main kernel."""
    import numpy as np

    from gamma import costmodel
    from gamma.hardware import load_hardware

    mapping = warmup._one_mapping(layer)
    for hw in (load_hardware("edge"), load_hardware("cloud")):
        assert costmodel.evaluate(layer, hw, mapping).valid.all()
        raw = costmodel._analyse(hw, costmodel._layer_tables(layer, "conv"),
                                 costmodel._directive_arrays(mapping), np.full(1, hw.num_pes),
                                 np.full(1, hw.noc_bw_value), physical=False)
        assert raw.out_int[engine.O_TWICE, 0] == 1


def test_the_helper_stages_are_stages():
    names = [caller.stage.name for caller in engine.STAGES]
    assert set(warmup.HELPER_STAGES) < set(names)


def test_trace_restores_the_kernels_when_the_run_fails():
    bound = engine.evaluate_batch

    def run():
        assert engine.evaluate_batch is not bound      # a shim while tracing
        raise RuntimeError("broken run")

    with pytest.raises(RuntimeError, match="broken run"):
        warmup._trace(run)
    assert engine.evaluate_batch is bound
