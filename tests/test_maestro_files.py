"""Reading and writing MAESTRO mapping files, and scoring them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gamma.costmodel import DIM_CODE, DIM_NAMES, EMPTY, Directives
from gamma.errors import GammaInputError
from gamma.evaluation import evaluate_mapping_file, format_summary
from gamma.hardware import Hardware, load_hardware
from gamma.maestro_files import parse_mapping, read_mapping, write_mapping
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
        d1.dim[0, 0], d1.size[0, 0], d1.offset[0, 0], d1.spatial[0, 0], strict=True) if c != EMPTY]
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


TWO_LAYERS = """\
Network n {
  Layer good {
    Type: CONV
    Dimensions { N: 1, N: 1, K: 8, C: 4, R: 3, S: 3, Y: 10, X: 10 }
    Dataflow {
      SpatialMap(1,1) K;
      TemporalMap(4,4) C;
      TemporalMap(Sz(R),Sz(R)) R;
      TemporalMap(Sz(S),Sz(S)) S;
      TemporalMap(Sz(R),1) Y;
      TemporalMap(Sz(S),1) X;
    }
  }
  Layer broken {
    Type: CONV
    Dimensions { K: 8, C: 4, R: 3, S: 3, Y: 10, X: 10 }
    Dataflow {
      SpatialMap(1,1) Q;
    }
  }
  Layer reuses {
    Type: CONV
    Dimensions { K: 16, C: 4, R: 3, S: 3, Y: 12, X: 12 }
  }
}
"""


def test_a_dimension_declared_twice_with_one_value_is_read_with_a_warning():
    entries = read_mapping(TWO_LAYERS, "dup.m")
    assert entries[0].error == "" and entries[0].layer.N == 1
    assert entries[0].warnings == ("dup.m:4: dimension N given twice with the same value 1; "
                                   "read once",)
    with pytest.warns(UserWarning, match="dup.m:4: dimension N given twice"):
        parse_mapping(TWO_LAYERS.replace("SpatialMap(1,1) Q", "SpatialMap(1,1) K"), "dup.m")


def test_a_dimension_declared_twice_with_two_values_is_an_error_naming_the_line():
    text = TWO_LAYERS.replace("N: 1, N: 1", "N: 1, K: 3, N: 2")
    entry = read_mapping(text, "dup.m")[0]
    assert entry.layer is None
    assert entry.error == "dup.m:4: dimension N given twice with different values (1 and 2)"


def test_a_bad_layer_gets_its_own_row_and_the_others_are_scored(tmp_path):
    path = tmp_path / "net.m"
    path.write_text(TWO_LAYERS)
    df = evaluate_mapping_file(path, load_hardware("edge"))
    assert df["Layer Number"].tolist() == ["good", "broken", "reuses"]
    assert df["Valid"].tolist() == [True, False, True]
    assert df.loc[1, "Reason"].startswith(f"{path}:18: unknown dimension 'Q'")
    assert pd.isna(df.loc[1, "Runtime (Cycles)"])
    # the third layer reuses the first's dataflow (MAESTRO keeps the last one read)
    assert df.loc[2, "Num MACs"] == df.loc[2, "True MACs"] == 16 * 4 * 10 * 10 * 9
    assert "dimension N given twice" in df.loc[0, "Warning"]
    summary = format_summary(df)
    assert "WARNING: layer broken is invalid" in summary and "given twice" in summary


def test_evaluate_exits_1_when_a_layer_fails_and_keeps_the_others(tmp_path, capsys):
    from gamma.cli import main
    path, out = tmp_path / "net.m", tmp_path / "rows.csv"
    path.write_text(TWO_LAYERS)
    assert main(["evaluate", str(path), "--hw_file", "edge", "--out", str(out)]) == 1
    assert "1 of 3 layers could not be evaluated" in capsys.readouterr().err
    assert pd.read_csv(out)["Valid"].tolist() == [True, False, True]
    path.write_text(TWO_LAYERS.replace("SpatialMap(1,1) Q", "SpatialMap(1,1) K"))
    assert main(["evaluate", str(path), "--hw_file", "edge"]) == 0


MODEL_ONLY = """\
Network m {
  Layer a { Type: CONV Dimensions { K: 8, C: 4, R: 3, S: 3, Y: 10, X: 10 } }
  Layer b { Type: CONV Stride { X: 2, Y: 2 } Dimensions { K: 8, C: 8, R: 5, S: 5, Y: 15, X: 15 } }
}
"""
DATAFLOW_ONLY = """\
Dataflow {
  SpatialMap(1,1) K;
  TemporalMap(4,4) C;
  TemporalMap(Sz(R),Sz(R)) R;
  TemporalMap(Sz(S),Sz(S)) S;
  TemporalMap(Sz(R),1) Y;
  TemporalMap(Sz(S),1) X;
}
"""


def test_a_model_only_file_is_scored_with_a_dataflow_file_resolved_per_layer(tmp_path):
    model, dataflow = tmp_path / "model.m", tmp_path / "kcp.m"
    model.write_text(MODEL_ONLY)
    dataflow.write_text(DATAFLOW_ONLY)
    without = evaluate_mapping_file(model, load_hardware("edge"))
    assert not without["Valid"].any()
    assert "--dataflow" in without.loc[0, "Reason"]
    df = evaluate_mapping_file(model, load_hardware("edge"), dataflow)
    assert df["Valid"].tolist() == [True, True]
    # Sz(R) is the layer's own filter: 3 rows for a, 5 for b
    a, b = (entry.directives for entry in read_mapping(MODEL_ONLY, "model.m",
                                                       dataflow_text=DATAFLOW_ONLY))
    assert a.size[0, 0, 2] == 3 and b.size[0, 0, 2] == 5


@pytest.mark.parametrize("text, words", [
    (DATAFLOW_ONLY, "dataflow-only file"),
    ("num_pes: 256\nl1_size_cstr: 100\n", "hardware file"),
    ("Network n {\n Layer a {\n Type: CONV\n", "end of file"),
    ("Network n {\n}\n}\n", "got '}'"),
    ("Dataflow {\n SpatialMap(1,1) K;\n", "dataflow-only file"),
])
def test_files_that_are_not_mappings_get_one_line(text, words):
    with pytest.raises(GammaInputError) as err:
        read_mapping(text, "x.m")
    assert str(err.value).startswith("x.m:") and words in str(err.value)
    assert "\n" not in str(err.value)


def test_a_maestro_gemm_file_is_scored_in_maestro_s_gemm_form(tmp_path):
    # MAESTRO (4eb08d1) on this file and hardware: 40,222 output L2 writes; the same layer
    # written as GAMMA's CONV form scores 40,404 (its M is a sliding window).
    path, hw_path = tmp_path / "gemm.m", tmp_path / "hw.m"
    path.write_text("Network 0 {\nLayer GEMM {\nType: GEMM\nDimensions { M: 222, N: 26, K: 7 }\n"
                    "Dataflow {\nTemporalMap(1,1) K;\nTemporalMap(1,1) N;\nSpatialMap(1,1) M;\n}\n}\n}\n")
    hw_path.write_text("num_pes: 4096\nl1_size_cstr: 512\nl2_size_cstr: 108000\nnoc_bw_cstr: 1000\n"
                       "offchip_bw_cstr: 50\nNoC_NumHops: 4\n")
    (entry,) = read_mapping(path.read_text(), "gemm.m")
    assert entry.gemm_form == "maestro"
    row = evaluate_mapping_file(path, load_hardware(str(hw_path))).iloc[0]
    assert row["output l2 write"] == 40222 and row["Runtime (Cycles)"] == 729
