"""A set of int64 rows with batch membership: which mappings were already scored.

The search mutates again every child that repeats a scored mapping
(:func:`gamma.search.ga._fresh`); with tens of thousands of scored rows and
several checks per generation, a Python set of row bytes costs more than the
breeding.  :class:`RowSet` keeps the rows in one array and an open-addressing
hash table of their indices (compiled, linear probing, at most half full);
a lookup compares the candidate rows exactly, so membership is exact whatever
the hash collisions.
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: Odd 64-bit multipliers of the row hash, one per column (drawn once, fixed).
_MULTIPLIERS = (np.random.default_rng(0x5EED).integers(1, 2**63 - 1, 512, dtype=np.int64)
                | 1).view(np.uint64)


@njit(cache=True)
def _hash_rows(rows, mult):
    """(P,) uint64: a multiply-add over the columns (wrapping modulo 2**64), then a
    xor-shift-multiply finaliser so that nearby rows spread over all bits."""
    n, width = rows.shape
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        h = np.uint64(0)
        for j in range(width):
            h += np.uint64(rows[i, j]) * mult[j]
        h ^= h >> np.uint64(31)
        h *= np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
        out[i] = h
    return out


def row_hash(rows: np.ndarray) -> np.ndarray:
    """(P,) uint64 hash of each int64 row of ``rows`` (P, W), W <= 512."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    return _hash_rows(rows, _MULTIPLIERS[:rows.shape[1]])


@njit(cache=True)
def _same(a, i, b, j):
    """Whether row ``i`` of ``a`` equals row ``j`` of ``b`` (a loop: numba compiles no all(...))."""
    for c in range(a.shape[1]):  # noqa: SIM110
        if a[i, c] != b[j, c]:
            return False
    return True


@njit(cache=True)
def _find(slots, hashes, store, row_source, i, h):
    """Index in ``store`` of the row equal to ``row_source[i]`` (hash ``h``), or -1;
    with the table slot where the search stopped."""
    mask = np.uint64(len(slots) - 1)
    at = h & mask
    while True:
        j = slots[at]
        if j < 0:
            return -1, at
        if hashes[j] == h and _same(store, j, row_source, i):
            return j, at
        at = (at + np.uint64(1)) & mask


@njit(cache=True)
def _duplicates(slots, hashes, store, rows, h):
    """(P,) bool: rows already in the table or equal to an earlier row of ``rows``."""
    n = rows.shape[0]
    dup = np.zeros(n, dtype=np.bool_)
    size = 1
    while size < 2 * n:
        size *= 2
    local = np.full(size, -1, dtype=np.int64)       # this batch's rows, by index
    for i in range(n):
        if _find(slots, hashes, store, rows, i, h[i])[0] >= 0:
            dup[i] = True
        j, at = _find(local, h, rows, rows, i, h[i])
        if j >= 0:
            dup[i] = True
        else:
            local[at] = i
    return dup


@njit(cache=True)
def _insert(slots, hashes, store, size, rows, h):
    """Append the rows not in the table to ``store`` (room assured by the caller)
    and index them; returns the new row count."""
    for i in range(rows.shape[0]):
        j, at = _find(slots, hashes, store, rows, i, h[i])
        if j >= 0:
            continue
        for c in range(rows.shape[1]):      # not ``store[size] = rows[i]``, whose shape
            store[size, c] = rows[i, c]     # check alone takes 1.5 s to compile
        hashes[size] = h[i]
        slots[at] = size
        size += 1
    return size


@njit(cache=True)
def _reindex(slots, hashes, size):
    """Index rows ``0..size-1`` (distinct) in the empty table ``slots``."""
    mask = np.uint64(len(slots) - 1)
    for j in range(size):
        at = hashes[j] & mask
        while slots[at] >= 0:
            at = (at + np.uint64(1)) & mask
        slots[at] = j


class RowSet:
    """Distinct int64 rows of a fixed width, added in batches.

    Examples
    --------
    >>> seen = RowSet(np.array([[5, 6]]))
    >>> seen.duplicates(np.array([[1, 2], [5, 6], [1, 2]])).tolist()
    [False, True, True]
    """

    def __init__(self, rows: np.ndarray | None = None, width: int = 0):
        rows = np.empty((0, width), np.int64) if rows is None else np.asarray(rows, np.int64)
        self._width = rows.shape[1] if rows.ndim == 2 else width
        self._store = np.empty((0, self._width), np.int64)
        self._hashes = np.empty(0, np.uint64)
        self._slots = np.full(16, -1, np.int64)
        self._size = 0
        self.add(rows)

    def __len__(self) -> int:
        return self._size

    @property
    def rows(self) -> np.ndarray:
        """(N, W) the distinct rows, in the order first added (a copy)."""
        return self._store[:self._size].copy()

    def duplicates(self, rows: np.ndarray) -> np.ndarray:
        """(P,) bool: rows already in the set or repeating an earlier row of ``rows``."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros(0, dtype=bool)
        self._check_width(rows)
        return _duplicates(self._slots, self._hashes, self._store, rows, row_hash(rows))

    def add(self, rows: np.ndarray) -> None:
        """Add the rows not yet in the set."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if not len(rows):
            return
        self._check_width(rows)
        self._reserve(self._size + len(rows))
        self._size = _insert(self._slots, self._hashes, self._store, self._size, rows,
                             row_hash(rows))

    def _check_width(self, rows: np.ndarray) -> None:
        if self._size == 0 and rows.shape[1] != self._width:      # width set by the first rows
            self._width = rows.shape[1]
            self._store = np.empty((0, self._width), np.int64)
        if rows.shape[1] != self._width:
            raise ValueError(f"RowSet holds rows of width {self._width}, got {rows.shape[1]}")

    def _reserve(self, count: int) -> None:
        """Room for ``count`` rows; the table at most half full (rebuilt when it grows)."""
        if count > len(self._store):
            capacity = max(2 * len(self._store), count, 64)
            store = np.empty((capacity, self._width), np.int64)
            store[:self._size] = self._store[:self._size]
            hashes = np.empty(capacity, np.uint64)
            hashes[:self._size] = self._hashes[:self._size]
            self._store, self._hashes = store, hashes
        if 2 * count > len(self._slots):
            size = len(self._slots)
            while 2 * count > size:
                size *= 2
            self._slots = np.full(size, -1, np.int64)
            _reindex(self._slots, self._hashes, self._size)
