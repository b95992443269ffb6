"""The busiest PE's MACs (gamma.costmodel.busiest) and the undercount flag."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from test_costmodel_reference import hardware_of

from gamma.costmodel import evaluate
from gamma.costmodel.busiest import busiest_pe_macs
from gamma.hardware import Hardware
from gamma.maestro_files import parse_mapping
from gamma.mapping import NUM_DIMS, to_directives, units_per_level
from gamma.search.space import SearchSpace, random_population
from gamma.workload import Layer

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def brute_force_busiest(pop, i, layer, num_pes):
    """Walk every MAC of a tiny layer down the levels to its PE; the largest count.

    At each level a point's chunk along a dimension is ``offset // tile``
    within its parent tile; the spatial dimension's chunk picks the unit
    (``chunk mod units``); the chunk becomes the next level's parent tile.
    """
    sizes = SearchSpace(layer=layer, num_pes=num_pes).sizes
    units = units_per_level(pop.take([i]), num_pes)[0]
    counts = Counter()
    for point in np.ndindex(*sizes):
        start, extent, pe = np.zeros(NUM_DIMS, np.int64), sizes.copy(), []
        for level in range(int(pop.levels[i])):
            tile = np.minimum(pop.tile[i, level], extent)
            chunk = (np.array(point) - start) // tile
            start = start + chunk * tile
            extent = np.minimum(tile, extent - chunk * tile)
            pe.append(int(chunk[pop.par[i, level]] % units[level]))
        counts[tuple(pe)] += 1
    return max(counts.values())


@pytest.mark.parametrize("layer", [
    Layer("CONV", K=5, C=3, Y=6, X=5, R=2, S=2),
    Layer("DSCONV", K=1, C=7, Y=6, X=6, R=3, S=1),
    Layer("GEMM", K=9, C=6, Y=11, X=1, R=1, S=1),
])
@pytest.mark.parametrize("levels", [1, 2, 3])
def test_busiest_pe_matches_walking_every_mac_to_its_pe(layer, levels):
    # The walk above tiles output rows and filter taps independently, which is
    # the cost model's semantics only while the filter is not cut spatially
    # (par_rs); cut filters are checked against tests/loopnest_sim.py.
    num_pes = 12
    space = SearchSpace(layer=layer, num_pes=num_pes, slevel_min=levels, slevel_max=levels,
                            par_rs=False)
    pop = random_population(space, 40, np.random.default_rng(levels))
    got = busiest_pe_macs(layer, to_directives(pop, layer), num_pes)
    want = [brute_force_busiest(pop, i, layer, num_pes) for i in range(len(pop))]
    assert list(got) == want
    assert (got >= -(-layer.macs // num_pes)).all() and (got <= layer.macs).all()


def test_an_even_split_gives_every_pe_an_equal_share():
    layer = Layer("CONV", K=64, C=64, Y=58, X=58, R=3, S=3)
    text = """Network n { Layer L { Type: CONV
    Dimensions { K: 64, C: 64, Y: 58, X: 58, R: 3, S: 3 }
    Dataflow { SpatialMap(1,1) K; TemporalMap(64,64) C; TemporalMap(56,56) Y';
               TemporalMap(56,56) X'; TemporalMap(3,3) R; TemporalMap(3,3) S; } } }"""
    (parsed, directives), = parse_mapping(text)
    assert parsed.shape_key == layer.shape_key
    assert busiest_pe_macs(layer, directives, 64)[0] == layer.macs // 64
    # 48 PEs: the first PE takes K rows 0 and 48, two of the 64
    assert busiest_pe_macs(layer, directives, 48)[0] == 2 * layer.macs // 64


def test_strided_and_sliding_mappings_get_their_exact_floor_not_the_average():
    # 1x1 stride 2, Y' = X' = 4 output rows.  Y'(1,1) becomes Y(1,2): one output row
    # per window, windows 0..3 over 3 PEs -> PE 0 holds rows 0 and 3.  X'(2,2)
    # becomes X(1,2) (MAESTRO's stride rewrite): all 4 columns, one per step.
    strided = """Network n { Layer L { Type: CONV
    Stride { X: 2, Y: 2 }
    Dimensions { K: 4, C: 2, Y: 8, X: 8, R: 1, S: 1 }
    Dataflow { SpatialMap(1,1) Y'; TemporalMap(2,2) X'; TemporalMap(4,4) K; TemporalMap(2,2) C;
               TemporalMap(1,1) R; TemporalMap(1,1) S; } } }"""
    (layer, directives), = parse_mapping(strided)
    assert layer.macs == 128
    assert busiest_pe_macs(layer, directives, 3)[0] == 2 * 4 * 4 * 2
    # Input rows 3 at offset 1 over Y = 8: six windows of one output row each; of
    # five PEs the first holds windows 0 and 5.  X: six windows, one column each.
    sliding = """Network n { Layer L { Type: CONV
    Dimensions { K: 4, C: 2, Y: 8, X: 8, R: 3, S: 3 }
    Dataflow { SpatialMap(3,1) Y; TemporalMap(3,1) X; TemporalMap(4,4) K; TemporalMap(2,2) C;
               TemporalMap(3,3) R; TemporalMap(3,3) S; } } }"""
    (layer, directives), = parse_mapping(sliding)
    assert busiest_pe_macs(layer, directives, 5)[0] == 2 * 6 * 4 * 2 * 9 > -(-layer.macs // 5)


def test_the_busiest_pe_need_not_be_the_first():
    # One output row of a 3-tap filter, the taps spread over 3 PEs, the input rows
    # walked by a window of 2 stepping 1: [0, 2) then [1, 3).  PE r computes tap r
    # whenever input row r lies in the window: PE 1 twice, PEs 0 and 2 once.
    text = """Network n { Layer L { Type: CONV
    Dimensions { K: 1, C: 1, Y: 3, X: 1, R: 3, S: 1 }
    Dataflow { SpatialMap(1,1) R; TemporalMap(2,1) Y; TemporalMap(1,1) X; TemporalMap(1,1) S;
               TemporalMap(1,1) K; TemporalMap(1,1) C; } } }"""
    (layer, directives), = parse_mapping(text)
    assert busiest_pe_macs(layer, directives, 3)[0] == 2


def _reference(case_id):
    for line in (FIXTURES / "maestro_cases.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["id"] == case_id:
            return record
    raise KeyError(case_id)


@pytest.mark.parametrize("case_id,busiest,undercount", [
    # K256 C256 on 256 PEs, Cluster(4): one top cluster works (X' is 1); its first PE gets
    # 13 of every 16 C (SpatialMap(13) C over 4 PEs) and every K: 256 x 208 MACs, but
    # MAESTRO reports 52,047 cycles.
    ("pub-gamma-00177", 256 * 208, True),
    ("pub-gamma-00001", None, False),
])
def test_maestro_runtimes_below_the_busiest_pe_are_flagged(case_id, busiest, undercount):
    record = _reference(case_id)
    (layer, directives), = parse_mapping(record["mapping_m"])
    costs = evaluate(layer, hardware_of(record), directives)
    assert costs.runtime[0] == record["expected"]["runtime"]
    if busiest is not None:
        assert costs.busiest_pe_macs[0] == busiest
    assert costs.undercount[0] == undercount
    assert costs.undercount[0] == (costs.runtime[0] * record["hw"]["simd_lanes"] < costs.busiest_pe_macs[0])


def _inner_edge_priced(dim: int, outer: int, inner: int) -> int:
    """Work along one dimension as MAESTRO prices it: the inner level's edge step
    is sized from the *full* outer tile (``outer mod inner``), also under the outer
    level's edge step, whose actual edge is ``(dim mod outer) mod inner``."""
    static_edge = outer % inner or inner

    def under(size):
        return size // inner * inner + (static_edge if size % inner else 0)

    return dim // outer * under(outer) + (under(dim % outer) if dim % outer else 0)


@pytest.mark.parametrize("outer", [55, 50, 40])
@pytest.mark.parametrize("inner", range(3, 12))
def test_maestro_sizes_an_inner_edge_step_from_the_full_outer_tile(outer, inner):
    # K 64 tiled by `outer` at the top and by `inner` inside it; 16 MACs per K per
    # PE step.  The runtime is 16 x the priced K work plus a fill that does not
    # depend on the tiles: the edge rule alone moves it, down (an undercount)
    # as well as up, e.g. 55/6 prices 55 + (6 + 55 mod 6 = 1) = 62 K of 64.
    text = f"""Network n {{ Layer L {{ Type: CONV
    Dimensions {{ K: 64, C: 16, Y: 4, X: 2, R: 1, S: 1 }}
    Dataflow {{ TemporalMap({outer},{outer}) K; SpatialMap(1,1) Y; TemporalMap(2,2) X;
               TemporalMap(16,16) C; TemporalMap(1,1) R; TemporalMap(1,1) S;
               Cluster(2); SpatialMap(1,1) X; TemporalMap({inner},{inner}) K;
               TemporalMap(1,1) Y; TemporalMap(16,16) C; TemporalMap(1,1) R;
               TemporalMap(1,1) S; }} }} }}"""
    (layer, directives), = parse_mapping(text)
    costs = evaluate(layer, Hardware(num_pes=8), directives)
    priced = _inner_edge_priced(64, outer, inner)
    assert costs.runtime[0] == 16 * priced + 3
    assert costs.busiest_pe_macs[0] == 64 * 16
    assert costs.undercount[0] == (priced < 64)
