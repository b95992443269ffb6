import numpy as np
import pytest

from gamma.search import rowset
from gamma.search.rowset import RowSet, row_hash


def _python_duplicates(rows, seen):
    """The reference: a set of row bytes."""
    batch, out = set(seen), []
    for row in rows:
        key = row.tobytes()
        out.append(key in batch)
        batch.add(key)
    return out


@pytest.mark.parametrize("constant_hash", [False, True])
def test_duplicates_match_a_set_of_rows_even_when_every_hash_collides(monkeypatch, constant_hash):
    if constant_hash:
        monkeypatch.setattr(rowset, "row_hash", lambda rows: np.zeros(len(rows), np.uint64))
    rng = np.random.default_rng(0)
    seen, reference = RowSet(width=5), set()
    for _ in range(6):
        rows = rng.integers(0, 3, (40, 5)).astype(np.int64)
        assert seen.duplicates(rows).tolist() == _python_duplicates(rows, reference)
        seen.add(rows)
        reference.update(row.tobytes() for row in rows)
        assert len(seen) == len(reference)
    assert {row.tobytes() for row in seen.rows} == reference


def test_rows_come_back_as_added_and_the_hash_tells_rows_apart():
    rows = np.array([[3, 1], [1, 3], [3, 1], [-2, 0]], dtype=np.int64)
    seen = RowSet(rows)
    assert seen.rows.tolist() == [[3, 1], [1, 3], [-2, 0]]
    assert len(set(row_hash(np.eye(30, dtype=np.int64)).tolist())) == 30
    assert RowSet().duplicates(np.empty((0, 4), np.int64)).shape == (0,)
