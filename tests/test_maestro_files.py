"""Reading and writing MAESTRO mapping files, and scoring them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gamma.costmodel import DIM_CODE, DIM_NAMES, EMPTY, Directives
from gamma.errors import GammaInputError
from gamma.evaluate import evaluate_mapping_file, format_summary
from gamma.hardware import Hardware, load_hardware
from gamma.maestro_files import parse_mapping, write_mapping
from gamma.workload import Layer

MAPPINGS = Path(__file__).resolve().parent.parent / "data" / "mappings"

EXAMPLE = """\
// two layers; the second reuses the first one's dataflow
Constant KT 4;
Network demo-net {
  Layer conv-1 {
    Type: CONV
    Stride { X: 2, Y: 2 }
    Dimensions { X: 30, Y: 30, S: 3, R: 3, C: 8, K: 16, N: 2 }
    Dataflow {
      SpatialMap(1,1) K;   // comment after a directive
      TemporalMap(KT,KT) C;
      TemporalMap(Sz(R),Sz(R)) R;
      TemporalMap(Sz(S),Sz(S)) S;
      TemporalMap(Sz(R),1) Y;
      TemporalMap(Sz(S),1) X;
      Cluster(4, L);
      SpatialMap(1,1) C;
    }
  }
  Layer conv2 {
    Type: CONV
    Dimensions { K: 16, C: 16, R: 3, S: 3, Y: 16, X: 16 }
  }
}
"""


def test_parse_example():
    (first, d1), (second, d2) = parse_mapping(EXAMPLE, "demo.m")
    assert first == Layer("CONV", K=16, C=8, Y=30, X=30, R=3, S=3, stride=2, N=2,
                          name="1")
    assert second.name == "conv2" and second.stride == 1
    assert d1.num_levels.tolist() == [2] and d1.cluster[0, 1] == 4
    level0 = [(DIM_NAMES[c], s, o, sp) for c, s, o, sp in zip(
        d1.dim[0, 0], d1.size[0, 0], d1.offset[0, 0], d1.spatial[0, 0]) if c != EMPTY]
    assert level0 == [("K", 1, 1, True), ("C", 4, 4, False), ("R", 3, 3, False),
                      ("S", 3, 3, False), ("Y", 3, 1, False), ("X", 3, 1, False)]
    for name in ("dim", "size", "offset", "spatial", "cluster", "num_levels"):
        assert np.array_equal(getattr(d1, name), getattr(d2, name))


def test_parse_gemm_and_ngconv():
    text = """Constant M 64; Network g { Layer fc { Type: GEMM
      Dimensions { K: 32, M: M, N: 16 }
      Dataflow { SpatialMap(1,1) N; TemporalMap(8,8) K; TemporalMap(Sz(M),Sz(M)) M; } }
      Layer grp { Type: NGCONV Dimensions { G: 4, K: 8, C: 8, R: 3, S: 3, Y: 10, X: 10 }
      Dataflow { SpatialMap(1,1) G; } } }"""
    (gemm, d), (ng, _) = parse_mapping(text)
    assert (gemm.type, gemm.K, gemm.C, gemm.Y) == ("GEMM", 16, 32, 64)
    assert [DIM_NAMES[c] for c in d.dim[0, 0]] == ["K", "C", "Y"]
    assert d.size[0, 0].tolist() == [1, 8, 64]
    assert (ng.type, ng.G) == ("NGCONV", 4)


@st.composite
def layer_and_mapping(draw):
    kind = draw(st.sampled_from(["CONV", "DSCONV", "NGCONV", "TRCONV", "GEMM", "FC"]))
    r, s = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    if kind in ("GEMM", "FC"):
        layer = Layer(kind, K=draw(st.integers(1, 99)), C=draw(st.integers(1, 99)),
                      Y=draw(st.integers(1, 99)) if kind == "GEMM" else 1, X=1, R=1, S=1)
    else:
        layer = Layer(kind, K=1 if kind == "DSCONV" else draw(st.integers(1, 99)),
                      C=draw(st.integers(1, 99)), Y=draw(st.integers(r, 99)),
                      X=draw(st.integers(s, 99)), R=r, S=s, stride=draw(st.integers(1, 3)),
                      N=draw(st.integers(1, 3)),
                      G=draw(st.integers(1, 4)) if kind == "NGCONV" else 1, name="L")
    levels, slots = draw(st.integers(1, 3)), draw(st.integers(1, 8))
    dims = np.array(draw(st.lists(st.lists(st.sampled_from(list(DIM_CODE.values())),
                                           min_size=slots, max_size=slots),
                                  min_size=levels, max_size=levels)), dtype=np.int8)[None]
    size = np.array(draw(st.lists(st.integers(1, 500), min_size=levels * slots,
                                  max_size=levels * slots))).reshape(1, levels, slots)
    offset = np.array(draw(st.lists(st.integers(1, 500), min_size=levels * slots,
                                    max_size=levels * slots))).reshape(1, levels, slots)
    spatial = np.array(draw(st.lists(st.booleans(), min_size=levels * slots,
                                     max_size=levels * slots))).reshape(1, levels, slots)
    cluster = np.array([[0] + draw(st.lists(st.integers(1, 64), min_size=levels - 1,
                                            max_size=levels - 1))])
    return layer, Directives(dims, size, offset, spatial, cluster, np.array([levels]))


@settings(max_examples=80, deadline=None)
@given(layer_and_mapping())
def test_write_parse_round_trip(case):
    layer, directives = case
    text = write_mapping(layer, directives, network="rt")
    (back, parsed), = parse_mapping(text, "rt.m")
    expected = layer.replace(type="CONV") if layer.type in ("GEMM", "FC") else layer
    assert back.replace(name=expected.name) == expected
    for name in ("dim", "size", "offset", "spatial", "cluster", "num_levels"):
        assert np.array_equal(getattr(parsed, name), getattr(directives, name)), name


@pytest.mark.parametrize("text, line, words", [
    ("Network n {\nLayer l {\nType: FC\n", 3, "FC"),
    ("Network n {\nLayer l {\nType: CONV\nDimensions { K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4 }\n"
     "Stride { X: 2, Y: 2 }\n}}", 5, "Stride"),
    ("Network n {\nLayer l {\nType: CONV\nDimensions { K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4 }\n"
     "Dataflow {\nSpatialMap(1,1) Q;\n}}}", 6, "Q"),
    ("Network n {\nLayer l {\nType: CONV\nDimensions { K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4 }\n"
     "Dataflow {\nTemporalMap(x,1) K;\n}}}", 6, "'x'"),
    ("Network n {\nLayer l {\nType: CONV\nDimensions { K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4 }\n"
     "Dataflow {\nTemporalMap(Sz(G),1) K;\n}}}", 6, "Sz(G)"),
    ("Network n {\nLayer l {\nType: CONV\nDimensions { K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4 }\n"
     "Dataflow {\nTemporalMap(0,1) K;\n}}}", 6, "positive"),
    ("Network n {\nLayer l {\nType: CONV\nDimensions { K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4 }\n"
     "Dataflow {\nSpatialMap(1,1) K;\n", 6, "end of file"),
    ("Network n {\nLayer l {\nType: CONV\nDimensions { K: 4, C: 4, R: 9, S: 1, Y: 4, X: 4 }\n"
     "Dataflow {\nSpatialMap(1,1) K;\n}}}", 2, "filter"),
    ("Network n {\nLayer l {\nType: CONV\nDimensions { K: 4, C: 4 }\n}}", 2, "missing"),
    ("Network n {\nLayer l {\nType: CONV\nDimensions { K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4 }\n"
     "Tiles { K: 4 }\n}}", 5, "Tiles"),
    ("Layer l {\n", 1, "Network"),
])
def test_malformed_input_names_the_line(text, line, words):
    with pytest.raises(GammaInputError) as err:
        parse_mapping(text, "bad.m")
    message = str(err.value)
    assert message.startswith(f"bad.m:{line}: "), message
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.m")), ids=lambda p: p.name)
def test_example_mappings_evaluate_exactly(path):
    df = evaluate_mapping_file(path, load_hardware("edge"))
    assert len(df) == 1
    row = df.iloc[0]
    assert row["Valid"] and row["Exact analysis"] and row["Reason"] == ""
    assert row["Num MACs"] == row["True MACs"] == 64 * 64 * 54 * 54 * 9
    assert row["Runtime (Cycles)"] * 168 >= row["Num MACs"]
    summary = format_summary(df)
    assert "conv2_x" in summary and "WARNING" not in summary


def test_summary_warns_for_invalid_layers(tmp_path):
    path = tmp_path / "bad.m"
    path.write_text("Network n {\nLayer big {\nType: CONV\n"
                    "Dimensions { K: 4, C: 4, R: 3, S: 3, Y: 8, X: 8 }\n"
                    "Dataflow {\nSpatialMap(1,1) K;\nTemporalMap(8,8) Y';\nTemporalMap(3,3) R;\n}\n}\n}\n")
    df = evaluate_mapping_file(path, Hardware(num_pes=4))
    assert not df.iloc[0]["Valid"]
    assert "runtime 0" in df.iloc[0]["Reason"]
    assert "WARNING: layer big is invalid" in format_summary(df)


def test_missing_mapping_file_is_an_input_error(tmp_path):
    missing = tmp_path / "nowhere.m"
    with pytest.raises(GammaInputError) as err:
        evaluate_mapping_file(missing, Hardware(num_pes=4))
    assert "nowhere.m" in str(err.value)
