"""What a search run tells its user while it runs: a progress bar and one line per layer.

:class:`Console` receives the run's events (:mod:`gamma.run`); the command
line prints them, the Python API (:func:`gamma.search`) is quiet unless given
a ``log_level``.  Nothing here changes a result.
"""
from __future__ import annotations

import sys
import time

from gamma.objectives import OBJECTIVE_UNITS


class ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, total: int, stream=None, enabled=None):
        self.total, self.done = max(total, 1), 0
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.perf_counter()

    def advance(self, amount: int, label: str = "") -> None:
        self.done += amount
        if not self.enabled:
            return
        frac = min(self.done / self.total, 1.0)
        bar = "#" * int(30 * frac)
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0
        self.stream.write(f"\r[{bar:<30}] {100 * frac:5.1f}% {label[:40]:<40} "
                          f"{elapsed:6.1f}s, ~{eta:5.1f}s left")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class Console:
    """The events of one run, printed according to ``log_level``.

    Parameters
    ----------
    log_level : {0, 1, 2}
        0 quiet, 1 one line per layer and a summary, 2 also one line per generation.
    """

    def __init__(self, log_level: int = 1):
        self.log_level = log_level
        self.bar = ProgressBar(0, enabled=False)

    def info(self, text: str) -> None:
        """A line of information (co-design decisions, summaries)."""
        if self.log_level >= 1:
            print(text, flush=True)

    @property
    def info_or_none(self):
        """:meth:`info`, or None when quiet (for functions that skip their messages then)."""
        return self.info if self.log_level >= 1 else None

    def start(self, total_samples: int) -> None:
        self.bar = ProgressBar(total_samples, enabled=None if self.log_level else False)

    def generation(self, job, record: dict, cfg, samples: int) -> None:
        """A generation of ``job`` finished (in-process runs only)."""
        self.bar.advance(samples, f"layer {job.key}")
        if self.log_level >= 2:
            best = record[f"best_{cfg.fitness1}"]
            print(f"layer {job.key} gen {record['generation']}: best {cfg.fitness1} {best:.6g} "
                  f"{OBJECTIVE_UNITS[cfg.fitness1]}, feasible {100 * record['feasible_fraction']:.0f}%, "
                  f"samples {record['samples']}", flush=True)

    def layer(self, job, result, line: str, *, advance: int = 0) -> None:
        """A layer's search finished; ``line`` describes its result."""
        if advance:
            self.bar.advance(advance, f"layer {job.key}")
        if self.log_level >= 1:
            if self.bar.enabled:
                self.bar.stream.write("\n")
            print(line, flush=True)

    def close(self) -> None:
        self.bar.close()
