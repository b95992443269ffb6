"""The cost model against MAESTRO on the oracle fixtures (``tests/fixtures/oracle/``).

The fixtures were produced by ``tools/maestro_oracle/make_cases.py``: random
single-layer mappings stressing 1-4 levels, strides 1/2/4, filters up to
11x11, input-centric sliding windows, SpatialMaps over R/S, non-dividing tiles
and clusters, finite bandwidths and multi-hop NoCs, repeated dimensions, each
run through MAESTRO (4eb08d1).  (The layers of MAESTRO's own mapping files are
checked with the same tools against a MAESTRO checkout; they are not stored.)
Every evaluated record must agree exactly on the integer figures and to 1e-5
on MAESTRO's 6-digit floats; every rejected one must come back
invalid with MAESTRO's error class.

A level that maps one dimension twice is reproduced in every form (MAESTRO's
row-stationary ``SpatialMap(1,1) S; TemporalMap(Sz(S),Sz(S)) S`` and any other
pair of directives, ``tests/test_oracle_twice.py``) with ``exact_analysis``
false; a level repeating a dimension three times or two dimensions is reported
invalid (``DUPLICATE_DIMENSION``), the one deliberate deviation.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from oracle_records import load, maestro_row, mismatches

from gamma.costmodel import evaluate, reason_class
from gamma.costmodel import reasons as R
from gamma.errors import GammaInputError
from gamma.hardware import Hardware, from_maestro_values
from gamma.maestro_files import parse_mapping

CASES = load("cases.jsonl.gz")
ERRORS = load("errors.jsonl.gz")


def _hardware(record) -> Hardware:
    return from_maestro_values(record["hw"])


def _row(record):
    """The model's figures for a record (None: the parser rejects the mapping)."""
    try:
        return maestro_row(record)
    except GammaInputError:
        return None, None


def test_fixture_coverage():
    """The fixtures hold what they claim: >= 20,000 random records of 1 to 3 levels and more."""
    sources = Counter(r["source"] for r in CASES + ERRORS)
    assert sources["oracle-random"] >= 20_000
    levels = Counter(r["mapping_m"].count("Cluster(") + 1 for r in CASES)
    assert levels[3] > 5_000 and levels[1] > 1_000
    assert {r["layer"].get("stride", 1) for r in CASES} >= {1, 2, 4}


def test_oracle_cases_agree_exactly():
    duplicated, failures = 0, []
    for record in CASES:
        layer, row = _row(record)
        if row is None:
            failures.append((record["id"], "parser rejects the mapping"))
            continue
        if row["reason"] == R.DUPLICATE_DIMENSION:
            duplicated += 1        # the deliberate deviation, checked below
            continue
        if not row["valid"]:
            failures.append((record["id"], R.reason_text(row["reason"])))
            continue
        bad = mismatches(row, record["expected"])
        if bad:
            failures.append((record["id"], {k: (row[k], record["expected"][k]) for k in bad}))
        elif row["exact_analysis"] != (row["macs"] == layer.macs and row["throughput"]
                                       <= record["hw"]["num_pes"] * record["hw"]["simd_lanes"]
                                       and row["true_macs"] == layer.macs
                                       and _totals_fit(row)
                                       and not _maps_twice(record["mapping_m"])):
            failures.append((record["id"], "exact_analysis"))
    assert not failures, (len(failures), failures[:5])
    assert duplicated < 0.005 * len(CASES)


def _totals_fit(row) -> bool:
    """MAESTRO's total buffer sizes did not wrap at 32 bits."""
    return all(row[f"{buf}_size_req"] == sum(row[f"{t}_{buf}_size_req"]
                                              for t in ("input", "filter", "output"))
               for buf in ("l1", "l2"))


def test_oracle_errors_are_invalid():
    failures = []
    for record in ERRORS:
        expected = record["expected"]["error_class"]
        _, row = _row(record)
        if row is None:
            if expected not in ("rejected-parse-error", "rejected-other"):
                failures.append((record["id"], "parser", expected))
            continue
        if row["valid"]:
            failures.append((record["id"], "valid", expected))
        elif reason_class(row["reason"]) != expected:
            failures.append((record["id"], reason_class(row["reason"]), expected))
    assert not failures, (len(failures), failures[:5])


@pytest.mark.parametrize("kind", ["cases", "errors"])
def test_dimension_mapped_twice(kind):
    """Levels mapping a dimension twice are analysed (exact figures and error
    classes: the tests above), in MAESTRO's row-stationary pair and in every
    other form; only triple or double repeats in a level are
    DUPLICATE_DIMENSION.  Their analysis is never exact."""
    records = CASES if kind == "cases" else ERRORS
    twice = [r for r in records if _maps_twice(r["mapping_m"])]
    assert len(twice) > (1_500 if kind == "cases" else 500)
    refused = 0
    for record in twice:
        _, row = _row(record)
        assert row is not None, record["id"]
        refused += row["reason"] == R.DUPLICATE_DIMENSION
        if kind == "cases" and row["valid"]:
            assert not row["exact_analysis"], record["id"]
    assert refused < 0.01 * len(twice)
    valid = sum(_row(r)[1]["valid"] for r in twice)
    assert valid == (len(twice) - refused if kind == "cases" else 0)


def _maps_twice(text: str) -> bool:
    """Some level of the mapping text names a dimension twice (Y and Y' count as one)."""
    flow = text[text.index("Dataflow"):]
    seen = set()
    for line in flow.splitlines():
        line = line.strip()
        if line.startswith("Cluster"):
            seen = set()
        elif "Map" in line:
            dim = line.rstrip(";").split()[-1].rstrip("'")
            if dim in seen:
                return True
            seen.add(dim)
    return False


def test_gemm_forms_differ_on_a_partial_spatial_edge():
    """MAESTRO's ``Type: GEMM`` and GAMMA's GEMM-as-CONV score a spatial M edge
    differently; each form reproduces its own MAESTRO run (record values)."""
    record = next(r for r in CASES if r["id"] == "oracle-2026-018118")
    (layer, directives), = parse_mapping(record["mapping_m"], record["id"])
    hw = _hardware(record)
    native = evaluate(layer, hw, directives, gemm_form="maestro")
    as_conv = evaluate(layer, hw, directives)
    assert native.output_l2_write[0] == record["expected"]["output_l2_write"] == 40222
    assert as_conv.output_l2_write[0] == 40404
    assert np.array_equal(native.macs, as_conv.macs)
