"""A dimension mapped twice in one cluster level, against MAESTRO (``tests/fixtures/oracle/``).

The ``oracle-twice-*`` fixture records (``tools/maestro_oracle/random_cases.py``,
``twice_case``) each map one dimension of one level twice: MAESTRO's
row-stationary pair ``SpatialMap(s,o) S; ... TemporalMap(Sz(S),Sz(S)) S``, or a
second directive of either kind and any size on any dimension (``Y`` next to
``Y'`` included).  MAESTRO analyses such a level by mixing the two directives
(docs/maestro-model.md §6.3); every form with one repeated dimension must be
reproduced exactly, every MAESTRO error must come back with its error class.
Only a level repeating a dimension three times or repeating two dimensions
stays ``DUPLICATE_DIMENSION``.
"""
from __future__ import annotations

import re
from collections import Counter

from oracle_records import load, maestro_row, mismatches

from gamma.costmodel import reason_class
from gamma.costmodel import reasons as R

_DIRECTIVE = re.compile(r"(Spatial|Temporal)Map\(.*\)\s+(\S+);")


def _load(name: str, twice: bool) -> list[dict]:
    return [r for r in load(name) if ("twice" in r["meta"]) == twice]


CASES = _load("cases.jsonl.gz", twice=True)
ERRORS = _load("errors.jsonl.gz", twice=True)


def _row(record) -> dict:
    return maestro_row(record)[1]


def _repeats(text: str) -> list[list[tuple[str, str, str]]]:
    """Per level, each dimension it names more than once: (dimension, the classes
    of its directives in order as 'S'/'T', which are output-centric as "'"/".")."""
    found = []
    for level in text[text.index("Dataflow"):].split("Cluster"):
        directives = [m.groups() for m in _DIRECTIVE.finditer(level)]
        names = [name.rstrip("'") for _, name in directives]
        repeats = []
        for dim in sorted(set(names)):
            mine = [d for d in directives if d[1].rstrip("'") == dim]
            if len(mine) > 1:
                repeats.append((dim, "".join(kind[0] for kind, _ in mine),
                                "".join("'" if name.endswith("'") else "." for _, name in mine)))
        found.append(repeats)
    return found


def _form(record: dict) -> str:
    """The repeat the record was drawn with (``meta.twice``): 'TT', 'ST', 'TS' or
    'SS' (earlier and later directive), with '+Y' for a dimension named as Y and
    Y' (X alike); 'other' when a level repeats two dimensions or one three times."""
    levels = _repeats(record["mapping_m"])
    if any(len(r) > 1 or len(r[0][1]) > 2 for r in levels if r):
        return "other"
    dim = record["meta"]["twice"]["dim"]
    _, kinds, output = next(r[0] for r in levels if r and r[0][0] == dim)
    return kinds + ("+Y" if output in (".'", "'.") else "")


def test_every_form_with_one_repeat_agrees_exactly():
    """All four kind pairs (and Y next to Y') are evaluated and agree with MAESTRO
    on every field; only several repeats in a level are refused."""
    agreed, refused, failures = Counter(), Counter(), []
    for record in CASES:
        form, row = _form(record), _row(record)
        if form == "other":
            assert row["reason"] == R.DUPLICATE_DIMENSION, record["id"]
            refused[form] += 1
            continue
        if not row["valid"]:
            failures.append((record["id"], R.reason_text(row["reason"])))
            continue
        bad = mismatches(row, record["expected"])
        if bad:
            failures.append((record["id"], {k: (row[k], record["expected"][k]) for k in bad}))
        agreed[form] += 1
    assert not failures, (len(failures), failures[:5])
    assert min(agreed[kinds] for kinds in ("TT", "ST", "TS", "SS")) >= 80, agreed
    assert sum(agreed[kinds + "+Y"] for kinds in ("TT", "ST", "TS", "SS")) >= 50, agreed
    assert sum(agreed.values()) >= 2_000 and sum(refused.values()) < 20


def test_every_error_comes_back_with_maestros_class():
    """Where MAESTRO rejects, crashes, exits silently or reports runtime 0, the
    model is invalid with the same class (including the repeats it refuses)."""
    classes, failures = Counter(), []
    for record in ERRORS:
        expected, row = record["expected"]["error_class"], _row(record)
        classes[expected] += 1
        if row["valid"] or reason_class(row["reason"]) != expected:
            failures.append((record["id"], R.reason_text(row["reason"]), expected))
    assert not failures, (len(failures), failures[:5])
    assert min(classes[c] for c in ("crash-sigfpe", "silent-exit", "runtime-zero",
                                    "rejected-other", "rejected-invalid-mapping")) >= 10, classes


def test_rows_and_output_rows_below_the_top_level_are_rejected():
    """MAESTRO looks Y' up in an inner level's dimensions when the level also maps
    Y, and exits ('Dimension Y' not found'); at the top level both are analysed."""
    inner = [r for r in ERRORS if "not found" in r["expected"]["error"]]
    assert len(inner) >= 50
    for record in inner[:60]:
        assert _row(record)["reason"] == R.TWICE_OUTPUT_BELOW_TOP, record["id"]
    top = [r for r in CASES if _form(r).endswith("+Y")
           and any(output in (".'", "'.") for _, _, output in _repeats(r["mapping_m"])[0])]
    assert len(top) >= 20
    for record in top[:30]:
        assert _row(record)["valid"], record["id"]


def test_earlier_directive_class_decides_the_output_factor():
    """A smallest case per kind pair, on an output-coupled dimension (K), with
    MAESTRO's recorded runtime, MACs and output traffic."""
    for kinds in ("TT", "ST", "TS", "SS"):
        chosen = [r for r in CASES if _form(r) == kinds and r["meta"]["twice"]["dim"] == "K"]
        record = min(chosen, key=lambda r: len(r["mapping_m"]))
        row, expected = _row(record), record["expected"]
        for field in ("runtime", "macs", "output_l2_write", "output_l1_write", "filter_l2_read"):
            assert row[field] == expected[field], (kinds, record["id"], field)
