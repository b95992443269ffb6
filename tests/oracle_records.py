"""The stored MAESTRO oracle records (tests/fixtures/oracle) and the model's
figures for them, shared by the oracle tests.

A record holds a single-layer mapping file, MAESTRO's hardware values and
MAESTRO's outputs (``expected``); ``tools/maestro_oracle`` regenerates them.
"""
from __future__ import annotations

import gzip
import json
import math
import warnings
from pathlib import Path

from gamma.costmodel import MAESTRO_EXACT_FIELDS, MAESTRO_FLOAT_FIELDS, evaluate
from gamma.hardware import from_maestro_values
from gamma.maestro_files import parse_mapping

ORACLE = Path(__file__).resolve().parent / "fixtures" / "oracle"


def load(name: str) -> list[dict]:
    """Every record of the gzipped JSON-lines fixture ``name``."""
    with gzip.open(ORACLE / name, "rt") as handle:
        return [json.loads(line) for line in handle]


def maestro_row(record: dict):
    """``(layer, the model's figures in MAESTRO's analysis)`` for a record; the
    parser's :class:`~gamma.errors.GammaInputError` propagates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (layer, directives), = parse_mapping(record["mapping_m"], record["id"])
    form = "maestro" if record["layer"]["type"] == "GEMM" else "conv"
    return layer, evaluate(layer, from_maestro_values(record["hw"]), directives,
                           gemm_form=form, analysis="maestro").row(0)


def mismatches(row: dict, expected: dict) -> list[str]:
    """Fields of ``row`` that differ from MAESTRO's: integers exactly, floats
    beyond MAESTRO's printed precision."""
    bad = [k for k in MAESTRO_EXACT_FIELDS if row[k] != expected[k]]
    return bad + [k for k in MAESTRO_FLOAT_FIELDS
                  if not math.isclose(row[k], expected[k], rel_tol=1e-5, abs_tol=1e-9)]
