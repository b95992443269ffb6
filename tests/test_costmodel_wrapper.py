"""The Python side of evaluate: per-layer tables reused, the busiest-PE floor on valid rows."""
from __future__ import annotations

from dataclasses import fields

import numpy as np

from gamma.costmodel import DIM_CODE, Directives, evaluate
from gamma.costmodel import reasons as R
from gamma.costmodel.busiest import busiest_pe_macs
from gamma.hardware import load_hardware
from gamma.workload import Layer

LAYER = Layer("CONV", K=16, C=8, Y=10, X=10, R=3, S=3)


def _one_level(spatial_dim: str | None, k_tile: int) -> Directives:
    """A one-level mapping K C Y' X' R S; ``spatial_dim`` None maps nothing spatially."""
    names = ("K", "C", "Y'", "X'", "R", "S")
    sizes = np.array([[[k_tile, 2, 1, 1, 3, 3]]], dtype=np.int64)
    return Directives(
        dim=np.array([[[DIM_CODE[n] for n in names]]], dtype=np.int8), size=sizes,
        offset=sizes.copy(), spatial=np.array([[[n == spatial_dim for n in names]]]),
        cluster=np.zeros((1, 1), dtype=np.int64), num_levels=np.ones(1, dtype=np.int64))


def test_floor_only_on_valid_rows_and_same_with_or_without_invalid_ones():
    hw = load_hardware("edge")
    good = Directives.concatenate([_one_level("K", k) for k in (1, 3, 5, 16)]
                                  + [_one_level("C", 1)])
    bad = _one_level(None, 2)
    mixed = Directives.concatenate([good.take(np.arange(2)), bad, good.take(np.arange(2, 5))])
    all_valid, with_invalid = evaluate(LAYER, hw, good), evaluate(LAYER, hw, mixed)
    assert all_valid.valid.all()
    assert with_invalid.reason[2] == R.NO_SPATIAL_MAP
    assert with_invalid.busiest_pe_macs[2] == 0 and not with_invalid.undercount[2]
    keep = np.array([0, 1, 3, 4, 5])
    for f in fields(all_valid):
        a, b = getattr(all_valid, f.name), getattr(with_invalid, f.name)[keep]
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f.name
    expected = busiest_pe_macs(LAYER, good, hw.num_pes)
    assert np.array_equal(all_valid.busiest_pe_macs, expected)
    # K tiles of 1 over 168 PEs: 16 PEs busy, each with all of C, Y', X', R, S.
    assert all_valid.busiest_pe_macs[0] == LAYER.macs // LAYER.K


def test_repeated_calls_and_layers_do_not_share_state():
    hw = load_hardware("edge")
    d = Directives.concatenate([_one_level("K", k) for k in (1, 2, 4)])
    other = Layer("CONV", K=16, C=8, Y=12, X=12, R=3, S=3)
    first = evaluate(LAYER, hw, d)
    evaluate(other, hw, d)
    again = evaluate(LAYER, hw, d)
    for f in fields(first):
        a, b = getattr(first, f.name), getattr(again, f.name)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f.name
    assert (first.macs == LAYER.macs).all()
    assert (evaluate(other, hw, d).macs == other.macs).all()
