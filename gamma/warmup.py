"""Compile the numba kernels in two processes at once on a cold cache.

A first run on a machine with an empty numba cache spends most of its time
compiling: in one process the cost model's kernels take about 15 s and the
search's about 6 s more.  The cost model's main kernel
(:func:`gamma.costmodel.engine.evaluate_batch`) calls its big stages through
their addresses (:mod:`gamma.costmodel.stages`), so it compiles without them,
and each stage compiles on its own, from its declared signature.

Where the platform can fork and a second CPU is free, :func:`start` forks a
helper process, which compiles the stages :data:`HELPER_STAGES` and then the
busiest-PE kernel, while :func:`lead` compiles the main kernel in this process
with one evaluation, then the other stages, then loads the helper's from the
cache.  The helper then compiles the kernels of a tiny search (16 x 3, through a
stand-in for the main kernel: figures of the right types, no analysis), traced
in plain Python (:func:`_trace`), from the one the search calls last back to the
first, while this process's search compiles (or loads) them from the first on.
On a 2-core machine the first evaluation then takes about 8 s instead of 15,
and a first search about 11 s instead of 22.

Both processes compile through :func:`guard`: a per-kernel file lock makes
whichever process reaches a kernel second wait for the first and then load
it from the cache (numba looks there before compiling), so no kernel is
compiled twice, and a kernel both need is never compiled by both.  The
operating system releases a lock when its holder exits, so a crashing or
killed helper never blocks this process (which then compiles what is
missing); the helper dies with this process (``PR_SET_PDEATHSIG``) and is
killed and reaped when this process exits.

Nothing changes without a usable split: one CPU, no ``fork`` or file locks,
``NUMBA_DISABLE_JIT``, a numba cache directory that cannot be written,
``GAMMA_SERIAL_COMPILE`` set, or a cache that already holds the kernels: the
kernels then compile (or load) in this process on first use.
``GAMMA_COMPILE_LOG=<path>`` makes the helper list what it compiles in
``<path>.<pid>``.  ``python -m gamma.warmup`` fills the cache ahead of a first
run (e.g. when installing).
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np

#: The helper's process id and its state while it runs (only in the process that forked it).
_helper: dict = {}
#: Seconds this process waits for the helper to compile one kernel before it
#: stops the helper (far beyond any kernel's compile time: a safety net only).
LOCK_PATIENCE_S = 300.0
#: The stages of the cost model's main kernel that the helper compiles, in this
#: order (qualified names; ``engine.STAGES`` lists them all): the expansion step,
#: which with ``call_volumes`` is the longest (about 4 s on 2 busy cores), then
#: the level arrays and the parser's checks, the first stages of the table, which
#: the lead reaches when its main kernel is compiled (about 5 s): they are cached
#: about then.  The lead compiles the others, in the table's order.
HELPER_STAGES = ("_expand", "_parser_reason", "_level_arrays")
_reaping = threading.Lock()
_started = False


def cpus_available() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def gamma_dispatchers() -> list:
    """The numba kernels of the loaded ``gamma`` modules (cost model and search)."""
    found: dict[int, object] = {}
    for _, _, kernel in _kernel_bindings():
        found.setdefault(id(kernel), kernel)
    return list(found.values())


def _import_kernels() -> None:
    """Import every module that defines kernels the search calls."""
    import gamma.costmodel  # noqa: F401
    import gamma.search.ga  # noqa: F401


def _cache_writable(dispatchers) -> bool:
    """Whether numba can write the cache files of all ``dispatchers``."""
    try:
        paths = {d._cache._cache_path for d in dispatchers}
    except AttributeError:                  # no on-disk cache (or numba internals changed)
        return False
    for path in paths:
        try:
            os.makedirs(path, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError:
            return False
    return True


def split_possible(reason: list | None = None) -> bool:
    """Whether a second process can compile half of the kernels (see module doc);
    appends why not to ``reason``."""
    import numba

    why = None
    if numba.config.DISABLE_JIT:
        why = "NUMBA_DISABLE_JIT is set"
    elif not hasattr(os, "fork") or not hasattr(os, "register_at_fork"):
        why = "the platform cannot fork"
    elif cpus_available() < 2:
        why = "one CPU"
    elif threading.active_count() > 1:
        # another thread may hold a lock (numba's compiler lock) that the fork would copy held
        why = "other threads are running"
    elif os.environ.get("GAMMA_SERIAL_COMPILE"):
        why = "GAMMA_SERIAL_COMPILE is set"
    else:
        try:
            import fcntl  # noqa: F401
        except ImportError:
            why = "no file locks"
    if why is None:
        _import_kernels()
        if not _cache_writable(gamma_dispatchers()):
            why = "the numba cache directory is not writable"
    if why is not None and reason is not None:
        reason.append(why)
    return why is None


# ---------------------------------------------------------------------------
# Per-kernel compile locks
# ---------------------------------------------------------------------------

@contextmanager
def _file_lock(path: Path):
    """Hold an exclusive lock on ``path`` (a no-op when it cannot be opened)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:                         # the lock folder is gone: compile unguarded
        yield
        return
    try:
        waited = 0.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # released if the holder dies
                break
            except BlockingIOError:
                if waited > LOCK_PATIENCE_S and running():
                    stop()                  # a stuck helper: kill it, which frees the lock
                time.sleep(0.02)
                waited += 0.02
        yield
    finally:
        os.close(fd)                        # closing releases the lock


def guard(dispatcher, lock_dir: Path) -> None:
    """Make ``dispatcher`` compile (or load from the cache) a new signature only
    while holding its lock file in ``lock_dir``: a process that finds the lock
    taken waits, then finds the other's compilation in the cache."""
    if "compile" in vars(dispatcher):       # already guarded
        return
    from numba.core import sigutils

    compile_ = dispatcher.compile
    path = lock_dir / f"{dispatcher.py_func.__module__}.{dispatcher.py_func.__qualname__}"

    def guarded_compile(sig):
        args, _ = sigutils.normalize_signature(sig)
        if tuple(args) in dispatcher.overloads:
            return compile_(sig)
        with _file_lock(path):
            return compile_(sig)

    dispatcher.compile = guarded_compile


def guard_all(lock_dir: Path) -> None:
    """:func:`guard` every kernel of :func:`gamma_dispatchers`."""
    for dispatcher in gamma_dispatchers():
        guard(dispatcher, lock_dir)


# ---------------------------------------------------------------------------
# The helper process
# ---------------------------------------------------------------------------

def _stand_in(macs: int):
    """A stand-in for ``engine.run_batch``: fills its outputs with plausible
    random figures (valid, ``macs`` MACs, small buffers, runtime at least the
    MACs per PE) so the search downstream runs every operator."""
    from gamma.costmodel import engine

    names = list(engine.evaluate_batch.py_func.__code__.co_varnames[
        :engine.evaluate_batch.py_func.__code__.co_argcount])
    at = {name: names.index(name) for name in ("num_pes", "lanes", "out_int", "out_float",
                                               "out_reason")}
    rng = np.random.default_rng(0)

    def run_batch(*args):
        out_int, out_float = args[at["out_int"]], args[at["out_float"]]
        pes = np.asarray(args[at["num_pes"]], dtype=np.int64)
        n = out_int.shape[1]
        floor = -(-macs // (pes * int(args[at["lanes"]])))
        out_int[:] = rng.integers(1, 64, size=out_int.shape)
        out_int[engine.O_RUNTIME] = floor * rng.integers(1, 5, size=n)
        out_int[engine.O_MACS] = macs
        out_float[engine.F_ACTIVE] = pes
        out_float[engine.F_INTENSITY] = rng.uniform(0.5, 4.0, size=n)
        args[at["out_reason"]][:] = 0
        return n

    return run_batch


def _default_job():
    """The helper's warm-up search: a ResNet-like 3x3 convolution on the edge hardware."""
    from gamma.hardware import load_hardware
    from gamma.search.config import GAConfig
    from gamma.workload import Layer

    return (Layer("CONV", K=64, C=64, Y=56, X=56, R=3, S=3),
            load_hardware("edge"), GAConfig())


def _helper_main(parent: int, job) -> None:
    """Body of the helper process: :data:`HELPER_STAGES` and the busiest-PE kernel,
    then the kernels of a 16 x 3 search with the stand-in cost-model kernel, the
    last one first (:func:`compile_backwards`)."""
    from dataclasses import replace

    from gamma.costmodel import busiest, engine
    from gamma.search.ga import search_layer

    _die_with_parent()
    if os.getppid() != parent:
        return
    layer, hw, cfg = job if job is not None else _default_job()
    tiny = replace(cfg, num_pop=16, epochs=3, method="gamma")
    log = os.environ.get("GAMMA_COMPILE_LOG")
    with compile_log(f"{log}.{os.getpid()}" if log else None):
        compile_stages(HELPER_STAGES)
        with suppress(Exception):       # whatever fails here compiles (and raises) on first use
            busiest.busiest_pe_macs(layer, _one_mapping(layer), hw.num_pes)
        engine.run_batch = _stand_in(layer.macs)
        compile_backwards(lambda: search_layer(layer, hw, tiny, np.random.default_rng(0)))
        search_layer(layer, hw, tiny, np.random.default_rng(0))     # whatever the trace missed


def compile_stages(names) -> None:
    """Compile the main kernel's stages ``names`` (qualified names), in that order.
    Errors are ignored: a stage that fails here compiles, and raises, on first use."""
    from gamma.costmodel import engine

    found = {caller.stage.name: caller.stage for caller in engine.STAGES}
    with suppress(Exception):
        for name in names:
            found[name].compile()


def _kernel_bindings() -> list:
    """``(module, name, kernel)`` for every module-level name bound to a numba kernel
    in the loaded ``gamma`` modules."""
    from numba.core.registry import CPUDispatcher

    return [(module, name, value)
            for module_name, module in list(sys.modules.items())
            if module_name.startswith("gamma.") and module is not None
            for name, value in list(vars(module).items()) if isinstance(value, CPUDispatcher)]


def _trace(run) -> list:
    """``(kernel, argument types)`` of each separately compiled kernel that ``run()``
    calls, in the order of first call, without compiling anything: ``run`` runs
    as plain Python, with every kernel's name bound to a shim that records the
    call (unless the kernel is inlined into its callers) and runs the kernel's
    Python source."""
    import warnings

    from numba import typeof

    calls: list = []

    def shim(kernel):
        record = kernel.targetoptions.get("inline", "never") == "never"

        def run_python(*args):
            if record:
                call = (kernel, tuple(typeof(a) for a in args))
                if call not in calls:
                    calls.append(call)
            return kernel.py_func(*args)
        return run_python

    bindings = _kernel_bindings()
    try:
        for module, name, kernel in bindings:
            setattr(module, name, shim(kernel))
        # integer kernels wrap around where NumPy scalars warn (hashing)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            run()
    finally:
        for module, name, kernel in bindings:
            setattr(module, name, kernel)
    return calls


def compile_backwards(run) -> None:
    """Compile the kernels ``run()`` calls (:func:`_trace`), the last one first: this
    process's search compiles them in the order it calls them, so the two meet in
    the middle instead of one waiting behind the other.  Errors are ignored:
    whatever is missing then compiles on first use, and raises there."""
    with suppress(Exception):
        for kernel, types in _trace(run)[::-1]:
            kernel.compile(types)


@contextmanager
def compile_log(path: str | None):
    """Append one line per kernel compilation (``module.name (types)``) to ``path``
    as each finishes (None: nothing): to check which process compiled what."""
    if path is None:
        yield
        return
    from numba.core import event

    class Listener(event.Listener):
        def on_start(self, ev):
            pass

        def on_end(self, ev):
            func = ev.data["dispatcher"].py_func
            with open(path, "a") as out:
                out.write(f"{time.time():.3f} {func.__module__}.{func.__qualname__} "
                          f"{ev.data['args']}\n")

    with event.install_listener("numba:compile", Listener()):
        yield


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent exits (elsewhere: nothing)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)       # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _fork_helper(job, lock_dir: Path) -> int:
    """Fork the helper; in the helper, run :func:`_helper_main` and exit (never return)."""
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)    # Ctrl-C ends it quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        _helper_main(parent, job)
        status = 0
    except BaseException:                   # noqa: BLE001 - the parent compiles what is missing
        pass
    finally:
        os._exit(status)


def start(job=None) -> bool:
    """Start the helper process if the split pays (see module doc); returns whether it did.

    ``job``: ``(layer, hw, cfg)`` of the coming search, whose kernels the helper then
    compiles with exactly the coming signatures (default: a 3x3 convolution on the
    edge hardware with the default settings).  Only the first call of a process acts.
    """
    global _started
    if _started:
        return False
    _started = True
    if not split_possible() or all_cached():
        return False
    lock_dir = Path(tempfile.mkdtemp(prefix="gamma-compile-"))
    guard_all(lock_dir)
    try:
        pid = _fork_helper(job, lock_dir)
    except OSError:
        return False
    _helper.update(pid=pid, owner=os.getpid(), lock_dir=lock_dir, status=None)
    threading.Thread(target=_reap, args=(_helper,), daemon=True,
                     name="gamma-compile-reaper").start()
    atexit.register(stop)
    return True


def lead(job=None) -> None:
    """Compile the cost model's kernels here, first thing, while the helper compiles
    others: one evaluation of ``job``'s layer (``job`` as :func:`start` takes it)
    compiles the main kernel, then the stages the helper has not compiled."""
    layer, hw, _ = job if job is not None else _default_job()
    _evaluate_one(layer, hw)


def _one_mapping(layer):
    """A one-level mapping of ``layer`` (whatever its figures) that is valid for every
    layer type and reaches every stage of the cost model: the first output
    dimension spatially one at a time, every other dimension whole, and the first
    one mapped a second time (the stage of a level mapping a dimension twice)."""
    from gamma.costmodel import DIM_CODE, Directives
    from gamma.costmodel.layertable import layer_spec

    spec = layer_spec(layer)
    whole = dict(zip(spec.names, spec.sizes.tolist(), strict=True))
    first = next(name for name in ("K", "C", "G") if name in whole)
    order = [first, *(name for name in spec.names if name != first), first]
    size = np.array([[[1, *(whole[name] for name in order[1:-1]), 1]]], dtype=np.int64)
    return Directives(dim=np.array([[[DIM_CODE[name] for name in order]]], dtype=np.int8),
                      size=size, offset=size.copy(),
                      spatial=np.array([[[True] + [False] * (len(order) - 1)]]),
                      cluster=np.zeros((1, 1), dtype=np.int64),
                      num_levels=np.ones(1, dtype=np.int64))


def _evaluate_one(layer, hw) -> None:
    """Evaluate :func:`_one_mapping` of ``layer`` on ``hw``, which compiles the kernels
    :func:`gamma.costmodel.evaluate` calls; errors are ignored: the search then
    compiles what is missing."""
    from gamma.costmodel import evaluate

    with suppress(Exception):
        evaluate(layer, hw, _one_mapping(layer))


def entry_kernels() -> list:
    """Kernels whose cache entries stand for the whole work: the cost model's
    (:func:`gamma.costmodel.coldstart.cost_model_kernels`), and two of the
    search's, one from the middle of its calls and the one it calls last (the
    helper compiles the search's kernels from the last one back, this process
    from the first one on)."""
    from gamma.costmodel.coldstart import cost_model_kernels
    from gamma.search import kernels, rowset

    return [*cost_model_kernels(), rowset._insert, kernels.rank_in_group]


def all_cached() -> bool:
    """Whether the on-disk cache holds a current compilation of every :func:`entry_kernels`."""
    from gamma.costmodel.coldstart import kernels_cached

    return kernels_cached(entry_kernels())


def _reap(helper: dict) -> None:
    """Collect the helper's exit status as soon as it exits (no zombie is left)."""
    while _poll(helper) is None:
        time.sleep(0.05)


def _poll(helper: dict, block: bool = False) -> int | None:
    """The helper's exit status if it has exited (after ``block``: waiting for it)."""
    with _reaping:          # one waitpid at a time, so a reaped pid is never signalled
        if helper["status"] is None:
            try:
                done, status = os.waitpid(helper["pid"], 0 if block else os.WNOHANG)
                if done:
                    helper["status"] = os.waitstatus_to_exitcode(status)
            except ChildProcessError:       # reaped elsewhere
                helper["status"] = -1
        return helper["status"]


def running() -> bool:
    """Whether this process's helper is still compiling."""
    return _helper.get("status", 0) is None


def stop() -> int | None:
    """Kill the helper if it still runs and wait for it; returns its exit status
    (None when there was none).  Called at exit."""
    helper = _helper
    if helper.get("owner") != os.getpid():
        return None
    with _reaping:
        if helper["status"] is None:
            with suppress(ProcessLookupError):
                os.kill(helper["pid"], signal.SIGKILL)
    status = _poll(helper, block=True)
    _remove(helper["lock_dir"])
    return status


def wait(timeout: float | None = None) -> int | None:
    """Wait up to ``timeout`` seconds for the helper to finish; returns its exit
    status (None when it still runs or there was none)."""
    end = None if timeout is None else time.monotonic() + timeout
    while running() and (end is None or time.monotonic() < end):
        time.sleep(0.02)
    return _helper.get("status")


def _remove(lock_dir: Path) -> None:
    for path in lock_dir.glob("*"):
        path.unlink(missing_ok=True)
    with suppress(OSError):
        lock_dir.rmdir()


def main(argv=None) -> int:
    """``python -m gamma.warmup``: fill the numba cache now (e.g. when installing), so
    the first search starts at once; prints what it did on stderr."""
    from dataclasses import replace

    from gamma.costmodel.coldstart import announce_compilation
    from gamma.search.ga import search_layer

    if argv:
        print("usage: python -m gamma.warmup  (compiles the kernels into numba's cache)",
              file=sys.stderr)
        return 2
    start_time = time.perf_counter()
    layer, hw, cfg = job = _default_job()
    announce_compilation(job=job)
    search_layer(layer, hw, replace(cfg, num_pop=16, epochs=3), np.random.default_rng(0))
    print(f"gamma: kernels cached ({time.perf_counter() - start_time:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
