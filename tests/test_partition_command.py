"""The ``partition`` sub-command end to end (tiny models and per-layer budgets), and the
layer graph of ONNX models with skip connections."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gamma.errors import GammaInputError
from gamma.partition.command import build_parser, run
from gamma.workload import Layer, write_model

LAYERS = [Layer("CONV", K=8, C=4, Y=10, X=10, R=3, S=3), Layer("CONV", K=8, C=8, Y=8, X=8, R=3, S=3),
          Layer("GEMM", K=16, C=8, Y=36, X=1, R=1, S=1), Layer("GEMM", K=4, C=16, Y=36, X=1, R=1, S=1)]


@pytest.fixture
def model_csv(tmp_path):
    path = tmp_path / "tiny.csv"
    write_model(path, LAYERS)
    return path


def run_cli(*flags):
    return run(build_parser().parse_args(list(flags)))


def test_partition_writes_its_files(model_csv, tmp_path):
    out = tmp_path / "out"
    code = run_cli("--model", str(model_csv), "--chiplets", "4", "--num_pop", "4", "--epochs", "2",
                   "--budget", "60", "--method", "random", "--outdir", str(out), "--no_plots")
    assert code == 0
    table = pd.read_csv(out / "partition.csv")
    summary = pd.read_csv(out / "partition_summary.csv")
    assert table["layer"].tolist() == [1, 2, 3, 4]
    assert set(table["chiplet"]) <= {0, 1, 2, 3}
    assert (table["stage"].diff().fillna(0) >= 0).all()             # a chain: stages in order
    assert (table["finish"] > table["start"]).all()
    row = summary.iloc[0]
    assert row["evaluations"] == 60 and bool(row["valid"])
    assert row["throughput_per_mcycle"] == pytest.approx(1e6 / row["period_cycles"])
    busiest = max(row[f"util_chiplet{c}"] for c in range(4))
    assert busiest == pytest.approx(1.0)
    assert sum(row[f"mem_chiplet{c}"] for c in range(4)) == (8 * 4 * 9 + 8 * 8 * 9 + 16 * 8 + 4 * 16)
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<section id='partition'>" in page
    assert not (out / "partition_pipeline.png").exists()


def test_partition_ga_with_plots_and_mixed_chiplets(model_csv, tmp_path):
    pytest.importorskip("ortools")
    pytest.importorskip("matplotlib")
    out = tmp_path / "ga"
    code = run_cli("--model", str(model_csv), "--chiplet_hw", "edge,cloud,edge", "--num_pop", "4",
                   "--epochs", "2", "--budget", "80", "--chiplet_mem", "700", "--outdir", str(out),
                   "--topology", "ring")
    assert code == 0
    summary = pd.read_csv(out / "partition_summary.csv").iloc[0]
    assert summary["method"] == "ga" and summary["chiplets"] == 3 and bool(summary["valid"])
    assert max(summary[f"mem_chiplet{c}"] for c in range(3)) <= 700
    assert (out / "partition_pipeline.png").stat().st_size > 1000
    assert (out / "partition_placement.png").stat().st_size > 1000


def test_exact_is_no_worse_than_random(model_csv, tmp_path):
    periods = {}
    for method in ("exact", "random"):
        out = tmp_path / method
        run_cli("--model", str(model_csv), "--chiplets", "4", "--num_pop", "4", "--epochs", "2",
                "--budget", "20", "--method", method, "--outdir", str(out), "--no_plots")
        periods[method] = pd.read_csv(out / "partition_summary.csv").iloc[0]["period_cycles"]
    assert periods["exact"] <= periods["random"]


@pytest.mark.parametrize("flags, message", [
    (["--chiplet_mem", "300"], "layer 2 .* 576 weight elements"),
    (["--chiplet_mem", "400,400,400"], "one per chiplet"),
    (["--chiplets", "0"], "--chiplets must be at least 1"),
    (["--link_bw", "0"], "--link_bw must be positive"),
    (["--chiplet_hw", "edge,,cloud"], "empty entry"),
])
def test_bad_input_is_one_line(model_csv, tmp_path, flags, message):
    with pytest.raises(GammaInputError, match=message) as err:
        run_cli("--model", str(model_csv), "--num_pop", "2", "--epochs", "1",
                "--outdir", str(tmp_path / "x"), *flags)
    assert "\n" not in str(err.value)


def test_more_chiplets_than_layers_is_fine(model_csv, tmp_path):
    out = tmp_path / "many"
    assert run_cli("--model", str(model_csv), "--chiplets", "9", "--num_pop", "2", "--epochs", "1",
                   "--budget", "30", "--method", "anneal", "--outdir", str(out), "--no_plots") == 0
    assert pd.read_csv(out / "partition_summary.csv").iloc[0]["stages"] <= 4


def test_onnx_graph_keeps_skip_connections(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from gamma.partition.graph import onnx_graph

    def info(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], name="c1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w2"], ["b"], name="c2", pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["b", "w3"], ["c"], name="c3", pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c", "r"], ["s"], name="add"),
             helper.make_node("Conv", ["s", "w4"], ["y"], name="c4")]
    inputs = [info("x", [1, 4, 8, 8])] + [info(f"w{i}", [4, 4, 3, 3]) for i in (1, 2, 3)]
    inputs.append(info("w4", [2, 4, 1, 1]))
    graph = helper.make_graph(nodes, "g", inputs, [info("y", None)])
    path = tmp_path / "skip.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    g = onnx_graph(path)
    assert [x.name for x in g.layers] == ["c1", "c2", "c3", "c4"]
    assert sorted(zip(g.src.tolist(), g.dst.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2), (2, 3)]
    assert not g.is_chain
    assert g.elements.tolist() == [4 * 8 * 8] * 4
    assert np.array_equal(g.weights, [144, 144, 144, 8])
