"""Writing result files: atomically, and as plain data YAML can hold."""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import numpy as np


def write_atomic(path, data: str | bytes, durable: bool = True) -> None:
    """Write ``data`` to a temporary file in the same folder, then rename it over ``path``.

    A reader (or a run killed part-way) sees either the old file or the new
    one, never half of one.  ``durable``: the file is flushed to disk before
    the rename, so it also survives a crash of the machine (a few ms; files
    rewritten every few generations, such as checkpoints, skip it: after a
    machine crash the previous one is used).  The file gets the usual mode for
    new files (mkstemp's are private).  Text is UTF-8.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    current = os.umask(0)   # reading the umask means setting it; put it straight back
    os.umask(current)
    return current


def plain(value):
    """``value`` as plain Python data YAML can hold: numpy scalars and arrays and tuples
    become Python numbers and lists, dict keys become strings."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
