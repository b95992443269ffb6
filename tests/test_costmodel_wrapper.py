"""The Python side of evaluate: per-layer tables reused, the busiest-PE floor on valid rows."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

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


RESNET18_L6 = Layer("CONV", K=128, C=64, Y=58, X=58, R=3, S=3, stride=2)
#: GAMMA's dla_map read as a 3x3 *output* tile per step (Y' = R), two levels.
THREE_ROW_TILE = (Path(__file__).parent / "fixtures" / "strided_three_row_tile.m").read_text()
#: The same mapping written input-centric: 7 input rows (3 outputs at stride 2), sliding 6.
SEVEN_ROW_WINDOW = (THREE_ROW_TILE.replace("TemporalMap(3,3) Y'", "TemporalMap(7,6) Y")
                    .replace("TemporalMap(3,3) X'", "TemporalMap(7,6) X"))


def _parsed(text):
    from gamma.maestro_files import parse_mapping
    (layer, directives), = parse_mapping(text)
    return layer, directives


def test_strided_output_tiles_get_the_stride_aware_analysis():
    hw = load_hardware("edge")
    layer, tile = _parsed(THREE_ROW_TILE)
    assert layer == RESNET18_L6 or layer.shape_key == RESNET18_L6.shape_key
    maestro = evaluate(layer, hw, tile, analysis="maestro")
    # MAESTRO's figures (its own binary gives these): 2.25x the layer's MACs.
    assert (maestro.macs[0], maestro.runtime[0]) == (130_056_192, 828_101)
    assert not maestro.exact_analysis[0] and not maestro.physical_analysis[0]
    physical = evaluate(layer, hw, tile)
    assert physical.physical_analysis[0] and physical.exact_analysis[0]
    assert physical.macs[0] == layer.macs == 57_802_752
    # 3 output rows read (3 - 1) * 2 + 3 = 7 input rows: both spellings are one mapping.
    _, window = _parsed(SEVEN_ROW_WINDOW)
    same = evaluate(layer, hw, window)
    assert same.physical_analysis[0]
    for f in ("runtime", "macs", "l1_size_req", "l2_size_req", "input_l2_read", "busiest_pe_macs"):
        assert getattr(same, f)[0] == getattr(physical, f)[0], f
    # The busiest PE does at least the average share, and the runtime covers it.
    assert physical.busiest_pe_macs[0] >= -(-layer.macs // hw.num_pes)
    assert physical.runtime[0] * hw.simd_lanes >= physical.busiest_pe_macs[0]


def test_one_output_row_per_step_keeps_maestro_figures_on_strided_layers():
    hw = load_hardware("edge")
    layer, one_row = _parsed(THREE_ROW_TILE.replace("TemporalMap(3,3) Y'", "TemporalMap(1,1) Y'")
                             .replace("TemporalMap(3,3) X'", "TemporalMap(1,1) X'"))
    maestro = evaluate(layer, hw, one_row, analysis="maestro")
    physical = evaluate(layer, hw, one_row)
    assert maestro.exact_analysis[0] and not physical.physical_analysis[0]
    for f in fields(physical):
        if f.name != "physical_analysis":
            np.testing.assert_array_equal(getattr(physical, f.name), getattr(maestro, f.name))


def test_a_full_width_strided_tile_holds_the_layers_columns_not_more():
    # X' 56 is the whole output width as MAESTRO counts it (X - S + 1), 28 columns at
    # stride 2: the stride-aware window is the 57 columns that feed an output (the
    # 58th feeds none), not (56 - 1) * 2 + 3 = 113, so L1 is what the search's
    # estimate expects.
    from gamma.search.estimates import footprint

    hw = load_hardware("edge")
    layer, tile = _parsed((Path(__file__).parent / "fixtures"
                           / "strided_full_width_tile.m").read_text())
    physical = evaluate(layer, hw, tile)
    assert physical.physical_analysis[0] and physical.exact_analysis[0]
    assert physical.macs[0] == layer.macs
    # one level-1 tile per PE: K1 C1, 3 input rows of 57 columns, double-buffered
    assert physical.input_l1_size_req[0] == 2 * 3 * 57
    inner = np.array([[1, 1, 1, 56, 3, 3]], dtype=float)     # K C Y' X' R S
    assert physical.l1_size_req[0] == 2 * footprint(inner, layer)[0] == 702


def test_unknown_analysis_is_refused():
    import pytest
    with pytest.raises(ValueError, match="analysis must be one of"):
        evaluate(LAYER, load_hardware("edge"), _one_level("K", 1), analysis="exact")
