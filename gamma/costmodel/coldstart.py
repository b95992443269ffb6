"""A one-line notice on stderr before the cost model's kernels are compiled.

The kernels are compiled by numba on their first call and cached on disk
(``__pycache__`` next to the sources, or ``NUMBA_CACHE_DIR``).  Without a
usable cache the first call takes seconds, which looks like a hang; so before
that call :func:`announce_compilation` checks whether the cache holds the
entry kernels for this machine and, if not, says so on stderr, whatever stderr
is connected to (a terminal, a file, a pipe).  The check reads two small index
files, once per process.  On a cold cache with a second CPU it also splits the
compilation between this process and a helper (:mod:`gamma.warmup`).
"""
from __future__ import annotations

import hashlib
import sys

#: Cold compilation of the cost model's and the search's kernels in one process,
#: as a first search on a 2-core machine measures it (seconds).
COMPILE_SECONDS = 25
#: The same shared between this process and a helper (:mod:`gamma.warmup`).
PARALLEL_COMPILE_SECONDS = 12

_announced = False


def _has_cached_overload(dispatcher) -> bool:
    """Whether numba's on-disk cache holds a current compilation of ``dispatcher``
    for this machine (same bytecode, same CPU and numba version)."""
    cache = dispatcher._cache
    index = cache._cache_file._load_index()     # {} when missing or stale
    if not index:
        return False
    magic = dispatcher.targetctx.codegen().magic_tuple()
    code = hashlib.sha256(dispatcher.py_func.__code__.co_code).hexdigest()
    return any(key[1] == magic and key[2][0] == code for key in index)


def cost_model_kernels() -> list:
    """The cost model's kernels that ``evaluate`` calls from Python: the main kernel,
    its stages and the busiest-PE kernel (each compiles with its own callees)."""
    from gamma.costmodel.busiest_kernel import busiest_batch
    from gamma.costmodel.engine import STAGES, evaluate_batch

    return [evaluate_batch, *(caller.stage.kernel for caller in STAGES), busiest_batch]


def kernels_cached(dispatchers=None) -> bool:
    """Whether ``dispatchers`` (default: :func:`cost_model_kernels`) are compiled or
    load from the cache (True when unsure)."""
    if dispatchers is None:
        dispatchers = cost_model_kernels()
    try:
        return all(d.signatures or _has_cached_overload(d) for d in dispatchers)
    except Exception:           # numba's cache internals changed: stay quiet
        return True


def announce_compilation(stream=None, job=None) -> bool:
    """Print the compilation notice on ``stream`` (stderr) if the kernels are not
    cached; only the first call of a process checks.  Returns whether it printed.

    On a cold cache with a second CPU, this also starts a helper process that
    compiles half of the kernels meanwhile (:func:`gamma.warmup.start`;
    ``job``: the coming search's ``(layer, hw, cfg)``, if known).
    """
    global _announced
    if _announced:
        return False
    _announced = True
    from gamma import warmup

    try:
        parallel = warmup.start(job)
    except Exception:           # the kernels then compile here, as without a helper
        parallel = False
    printed = not kernels_cached()
    if printed:
        stream = sys.stderr if stream is None else stream
        seconds = PARALLEL_COMPILE_SECONDS if parallel else COMPILE_SECONDS
        print(f"gamma: compiling the cost model's kernels (first run only, about "
              f"{seconds} s)...", file=stream, flush=True)
    if parallel:
        warmup.lead(job)        # the cost model here while the helper compiles the search
    return printed
