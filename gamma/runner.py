"""Run the search over the layers of a model: in parallel, on a cluster, resumably.

Layers with the same shape (:attr:`Layer.shape_key`) are searched once and
reported for every occurrence.  Each distinct shape is one job with its own
random stream, ``SeedSequence(seed, spawn_key=(layer index,))`` keyed by the
1-based index of its first occurrence, so results do not depend on the
workers, on completion order or on interruptions.

Parallelism is a ``map``-like argument (``workers``), as SciPy's ``workers``:
``1`` runs the jobs in this process, ``n > 1`` in ``n`` worker processes
(forked after the cost model's kernels load, where the platform can fork), a
``distributed.Client`` on its Dask cluster (through joblib's Dask
backend; a worker that dies has its job redone elsewhere by Dask), and any
other callable is used as ``map(func, iterable)``.  Only pools created here
are closed here.  Inside a job the population is vectorized.

Checkpoints (:class:`Checkpoints`): a finished job's :class:`LayerResult` is
pickled to ``<folder>/layer_<N>.result.pkl`` as soon as it arrives, and a
running job's search state to ``<folder>/layer_<N>.pkl`` every ``every``
generations (both by atomic replace; by default every 5 generations once the
search has run a second since its start or last save).  :func:`run_model`
given the same folder again skips the finished jobs and continues the others
from their state; the results equal an uninterrupted run's.
"""
from __future__ import annotations

import logging
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from gamma.errors import GammaInputError
from gamma.files import write_atomic
from gamma.hardware import Hardware
from gamma.search.ga import GAConfig, LayerResult, LayerSearch
from gamma.workload import Layer

log = logging.getLogger("gamma")


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
    if num_layer > len(layers):
        raise GammaInputError(f"--num_layer {num_layer}: the model has only {len(layers)} layers "
                              f"(give 1 to {len(layers)}, or 0 for all)")
    count = num_layer or len(layers)
    return [(i + 1, layers[i]) for i in range(count)]


@dataclass(frozen=True)
class Job:
    """One distinct layer shape: its occurrences (1-based indices) and the layer."""
    indices: tuple[int, ...]
    layer: Layer

    @property
    def count(self) -> int:
        """How often the shape occurs in the model."""
        return len(self.indices)

    @property
    def key(self) -> int:
        return self.indices[0]


def group_layers(selected) -> list[Job]:
    """Distinct shapes in order of first occurrence.

    ``selected``: (1-based index, Layer) pairs, or Layers (numbered from 1).
    """
    pairs = [(i + 1, x) if isinstance(x, Layer) else x for i, x in enumerate(selected)]
    groups: dict[tuple, list] = {}
    for index, layer in pairs:
        groups.setdefault(layer.shape_key, [layer, []])[1].append(index)
    return [Job(tuple(idx), layer) for layer, idx in groups.values()]


def layer_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of the layer at 1-based ``index``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoints:
    """Where a run's per-layer checkpoints live (picklable: it travels to the workers).

    Parameters
    ----------
    folder : Path
        ``<outdir>/checkpoints``.  On a multi-machine cluster it should be on a
        shared file system; if a worker cannot write it, the run goes on
        without mid-layer checkpoints (finished layers are still saved by
        the process that runs :func:`run_model`).
    every : int, optional
        Save a running search's state every ``every`` generations; 0 = never.
        None (the default): every :attr:`AUTO_EVERY` generations, but not sooner
        than :attr:`AUTO_MIN_SECONDS` after the search started or was last
        saved.  A save costs a few milliseconds (its state is pickled and
        renamed into place), which at the rate of every 5 generations came to
        about 7 % of a whole-model search of layers that take a quarter of a
        second each; such a layer has nothing worth saving mid-way.
    """

    folder: Path
    every: int | None = None

    #: The default policy (``every=None``): the generations between saves ...
    AUTO_EVERY: ClassVar[int] = 5
    #: ... and the least time between them, or since the search started (seconds).
    AUTO_MIN_SECONDS: ClassVar[float] = 1.0

    def due(self, generation: int, seconds_since_save: float) -> bool:
        """Whether a running search that has run ``generation`` generations, the
        last save (or its start) ``seconds_since_save`` ago, is saved now."""
        if self.every is None:
            return (generation % self.AUTO_EVERY == 0
                    and seconds_since_save >= self.AUTO_MIN_SECONDS)
        return self.every > 0 and generation % self.every == 0

    def state_path(self, key: int) -> Path:
        return Path(self.folder) / f"layer_{key}.pkl"

    def result_path(self, key: int) -> Path:
        return Path(self.folder) / f"layer_{key}.result.pkl"

    def seen_path(self, key: int) -> Path:
        """The side file of a running state's scored rows (int64, appended to as it runs)."""
        return Path(self.folder) / f"layer_{key}.seen"

    def save_state(self, key: int, state: dict, written: int = 0) -> int:
        """Save a running search's state; return how many of its scored rows are saved.

        The scored rows (``state["seen"]``, most of a state's bytes, only ever
        appended to) go to :meth:`seen_path`, the rest to :meth:`state_path`.
        ``written``: rows the previous save of this same search wrote (only the
        rows after them are appended); 0 writes the side file anew.
        """
        seen = state.get("seen")
        if not (isinstance(seen, np.ndarray) and seen.ndim == 2):
            _dump(self.state_path(key), state, durable=False)
            return 0
        path = self.seen_path(key)
        rows = np.ascontiguousarray(seen, dtype=np.int64)
        path.parent.mkdir(parents=True, exist_ok=True)
        if 0 < written <= len(rows):
            with open(path, "ab") as handle:      # a torn append is past the saved row count
                handle.write(rows[written:].tobytes())
        else:
            write_atomic(path, rows.tobytes(), durable=False)
        marker = {"side_file": path.name, "rows": len(rows), "width": rows.shape[1]}
        # rewritten every few generations: not flushed to disk (see write_atomic)
        _dump(self.state_path(key), {**state, "seen": marker}, durable=False)
        return len(rows)

    def save_result(self, key: int, result: LayerResult) -> None:
        """Save a finished layer, then drop its running state."""
        _dump(self.result_path(key), result)
        self.state_path(key).unlink(missing_ok=True)
        self.seen_path(key).unlink(missing_ok=True)

    def load_state(self, key: int) -> dict | None:
        state = _load(self.state_path(key))
        if isinstance(state, dict) and isinstance(state.get("seen"), dict):
            state["seen"] = self._load_seen(key, state["seen"])
            if state["seen"] is None:
                return None
        return state

    def _load_seen(self, key: int, marker: dict) -> np.ndarray | None:
        """The scored rows a state's marker points to (None, with a warning, if missing)."""
        path = self.seen_path(key)
        need = int(marker["rows"]) * int(marker["width"]) * 8
        try:
            data = path.read_bytes()[:need]
        except OSError as err:
            data, reason = b"", str(err)
        else:
            reason = f"{len(data)} of {need} bytes"
        if len(data) < need:
            log.warning("ignoring the checkpoint %s (its scored rows %s: %s); that layer is "
                        "searched again", self.state_path(key), path, reason)
            return None
        return np.frombuffer(data, dtype=np.int64).reshape(int(marker["rows"]),
                                                           int(marker["width"])).copy()

    def load_result(self, key: int) -> LayerResult | None:
        return _load(self.result_path(key))

    def clear(self) -> None:
        """Delete every checkpoint (the run is complete: nothing is left to resume)."""
        folder = Path(self.folder)
        if not folder.is_dir():
            return
        for path in [*folder.glob("layer_*.pkl"), *folder.glob("layer_*.seen")]:
            path.unlink(missing_ok=True)
        if not any(folder.iterdir()):
            folder.rmdir()

    def finished(self) -> list[int]:
        """Keys of the layers with a saved result."""
        folder = Path(self.folder)
        if not folder.is_dir():
            return []
        return sorted(int(p.name.split("_")[1].split(".")[0])
                      for p in folder.glob("layer_*.result.pkl"))


def _dump(path: Path, obj, durable: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), durable=durable)


def _load(path: Path):
    """The pickled object at ``path``, or None if absent or unreadable (then it is recomputed)."""
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as err:  # written by another version, or damaged outside gamma
        log.warning("ignoring the checkpoint %s (%s: %s); that layer is searched again",
                    path, type(err).__name__, err)
        return None


# ---------------------------------------------------------------------------
# One job
# ---------------------------------------------------------------------------

def run_job(job: Job, hw: Hardware, cfg: GAConfig, seed: int, evaluate=None,
            on_generation=None, *, checkpoints: Checkpoints | None = None,
            state: dict | None = None) -> LayerResult:
    """Search one distinct layer (GA, other optimizers, random or exhaustive search, per
    ``cfg.method``);
    the result carries its proven latency bound (``LayerResult.lower_bound``).

    Parameters
    ----------
    checkpoints : Checkpoints, optional
        Save the search's state every ``checkpoints.every`` generations.
    state : dict, optional
        A saved state (:meth:`LayerSearch.state`) to continue from instead of
        starting afresh; the result is the same as an uninterrupted search's.
    """
    if cfg.method == "exhaustive":
        # an exact search is not checkpointed mid-layer: a resumed run redoes the layer
        from gamma.search.exhaustive import exhaustive_search
        return exhaustive_search(job.layer, hw, cfg, layer_rng(seed, job.key), evaluate=evaluate,
                                 on_generation=on_generation)
    from gamma.search.blackbox import METHODS, BlackBoxSearch, make_search
    other = cfg.method in METHODS          # nevergrad's optimizers and pure_ga
    search = None
    if state is not None:
        try:
            search = (BlackBoxSearch if other else LayerSearch).from_state(
                state, job.layer, hw, cfg, evaluate=evaluate, on_generation=on_generation)
        except (ValueError, KeyError, TypeError) as err:  # saved by another version or run
            log.warning("layer %d: ignoring its checkpoint (%s); searching it from the start",
                        job.key, err)
    if search is None:
        search = (make_search if other else LayerSearch)(
            job.layer, hw, cfg, layer_rng(seed, job.key), evaluate=evaluate,
            on_generation=on_generation)
    can_save = checkpoints is not None and checkpoints.every != 0
    written = 0             # scored rows this search has saved (appended to after)
    saved_at = time.monotonic()
    while search.step():
        if (can_save and not search.done
                and checkpoints.due(search.generation, time.monotonic() - saved_at)):
            try:
                written = checkpoints.save_state(job.key, search.state(), written)
                saved_at = time.monotonic()
            except OSError as err:  # e.g. a cluster worker without the shared folder
                log.warning("layer %d: cannot write its checkpoint (%s); going on without",
                            job.key, err)
                can_save = False
    return with_bound(search.run(), hw, cfg)


def with_bound(result: LayerResult, hw: Hardware, cfg: GAConfig) -> LayerResult:
    """``result`` with its proven latency bound (:func:`gamma.bounds.layer_bounds`) set."""
    from gamma.bounds import layer_bounds
    if not result.lower_bound:
        result.lower_bound = layer_bounds(result.layer, hw, cfg).latency_cycles
    return result


def _run_indexed(i: int, job: Job, hw, cfg, seed, evaluate, checkpoints, state):
    return i, run_job(job, hw, cfg, seed, evaluate, checkpoints=checkpoints, state=state)


# ---------------------------------------------------------------------------
# Workers: 1, n, a Dask client, or a map-like callable
# ---------------------------------------------------------------------------

def is_dask_client(workers) -> bool:
    """Whether ``workers`` is a ``distributed.Client`` (without importing distributed)."""
    return any(c.__name__ == "Client" and c.__module__.startswith("distributed")
               for c in type(workers).__mro__)


def _execute(calls: list[tuple], workers):
    """Run ``_run_indexed(*call)`` for every call; yield ``(i, result)`` as they finish."""
    if not calls:
        return
    if is_dask_client(workers):
        import joblib
        with joblib.parallel_config(backend="dask", client=workers):
            yield from joblib.Parallel(n_jobs=-1, return_as="generator_unordered")(
                joblib.delayed(_run_indexed)(*call) for call in calls)
    elif callable(workers):
        yield from workers(_star_run, calls)
    elif isinstance(workers, (int, np.integer)) and workers >= 1:
        if workers == 1 or len(calls) == 1:
            yield from map(_star_run, calls)
        else:
            yield from _process_pool(calls, min(int(workers), len(calls)))
    else:
        raise GammaInputError(f"workers must be a positive number of processes, a Dask client "
                              f"or a map-like callable, got {workers!r}")


def _star_run(call):
    return _run_indexed(*call)


def _process_pool(calls: list[tuple], processes: int):
    """``_run_indexed`` over worker processes, results as they finish.

    Where the platform can fork, the workers are forked from this process
    after the cost model's kernels are loaded, so they start in milliseconds
    instead of importing everything again (about a second each).  Workers
    ignore Ctrl-C: this process handles it and stops them.
    """
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    if context.get_start_method() == "fork":
        _load_kernels(calls[0])
    pool = context.Pool(processes, initializer=_worker_signals)
    try:
        yield from pool.imap_unordered(_star_run, calls)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _load_kernels(call: tuple) -> None:
    """Load (or compile) the cost model's and the search's kernels in this process: a
    16 x 3 search of the first job's layer (three generations run every operator),
    whose result is dropped.  On a cold cache a helper process compiles part of
    them at the same time (:mod:`gamma.warmup`)."""
    from dataclasses import replace

    from gamma.costmodel.coldstart import announce_compilation
    from gamma.search.ga import search_layer

    _, job, hw, cfg, _, evaluate, *_ = call
    # on a cold cache, a helper process compiles half of the kernels meanwhile
    announce_compilation(job=(job.layer, hw, cfg))
    tiny = replace(cfg, num_pop=16, epochs=3, method="gamma")
    search_layer(job.layer, hw, tiny, np.random.default_rng(0), evaluate=evaluate)


def _worker_signals() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run_model(selected: list[tuple[int, Layer]], hw: Hardware, cfg: GAConfig, seed: int, *,
              workers=1, jobs: int | None = None, evaluate=None, on_result=None,
              on_generation=None, checkpoints: Checkpoints | None = None, on_restored=None
              ) -> list[tuple[Job, LayerResult]]:
    """Search every distinct layer of ``selected``.

    Parameters
    ----------
    workers : int, distributed.Client or callable
        1: in this process; n: ``n`` worker processes; a Dask client:
        its cluster; a callable: used as ``map(func, iterable)``.  The results
        are the same for all.
    jobs : int, optional
        Older name of ``workers`` (a number of processes).
    on_result : callable(Job, LayerResult), optional
        Called in this process as each job finishes (in completion order), after
        its checkpoint is saved: to write its rows at once.
    on_generation : callable(Job, record), optional
        Per-generation history records (only when the jobs run in this process).
    checkpoints : Checkpoints, optional
        Save finished layers and running states there; layers already saved
        there are not searched again and running states are continued.
    on_restored : callable(Job, LayerResult), optional
        Called for each layer taken from ``checkpoints`` (default: ``on_result``).

    Returns
    -------
    list of (Job, LayerResult)
        In job order (first occurrence in the model).
    """
    if jobs is not None:
        workers = jobs
    work = group_layers(selected)
    results: dict[int, LayerResult] = {}
    todo: list[Job] = []
    for job in work:
        saved = checkpoints.load_result(job.key) if checkpoints is not None else None
        if saved is not None:
            saved = with_bound(saved, hw, cfg)      # saved by a version without bounds
            results[job.key] = saved
            callback = on_restored or on_result
            if callback is not None:
                callback(job, saved)
        else:
            todo.append(job)
    calls = [(i, job, hw, cfg, seed, evaluate, checkpoints,
              checkpoints.load_state(job.key) if checkpoints is not None else None)
             for i, job in enumerate(todo)]
    in_process = (isinstance(workers, (int, np.integer)) and not is_dask_client(workers)
                  and (workers == 1 or len(calls) == 1))
    if in_process and on_generation is not None:
        finished = ((i, run_job(job, hw, cfg, seed, evaluate,
                                lambda rec, job=job: on_generation(job, rec),
                                checkpoints=checkpoints, state=state))
                    for i, job, *_, state in calls)
    else:
        finished = _execute(calls, workers)
    for i, result in finished:
        job = todo[i]
        if checkpoints is not None:
            checkpoints.save_result(job.key, result)
        results[job.key] = result
        if on_result is not None:
            on_result(job, result)
    return [(job, results[job.key]) for job in work]


#: Seconds to wait for ``--scheduler`` (and for its first worker) before giving up.
SCHEDULER_TIMEOUT_S = 10


def dask_client(address: str, timeout: float | None = None):
    """A ``distributed.Client`` on the scheduler at ``address`` with at least one worker."""
    timeout = SCHEDULER_TIMEOUT_S if timeout is None else timeout
    try:
        from distributed import Client
    except ImportError:
        raise GammaInputError(f"--scheduler {address}: Dask is not installed; install it with "
                              "pip install -e .[dask]  (or pip install 'dask[distributed]')") from None
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise GammaInputError(f"--scheduler {address}: cannot reach a Dask scheduler within "
                              f"{timeout:g} s ({reason}); start one with 'dask scheduler' and pass "
                              "its address, tcp://HOST:PORT") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError):
        client.close()
        raise GammaInputError(f"--scheduler {address}: the scheduler has no workers after "
                              f"{timeout:g} s; start some with 'dask worker {address}'") from None
    return client
