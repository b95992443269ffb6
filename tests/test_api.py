"""The Python API: the README's example runs as written, options are checked as on the
command line, a search through the API writes the files ``main.py`` writes."""
import runpy
from pathlib import Path

import pandas as pd
import pytest
from run_folders import run_folder

import gamma
from gamma.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_M = ROOT / "data" / "mappings" / "nvdla_like_kc_ws.m"
TIMING = {"results.csv": ["seconds"], "summary.csv": ["search_seconds", "model"],
          "history.csv": []}


@pytest.mark.slow
def test_the_readme_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    layers = gamma.load_model("resnet18")
    hw = gamma.load_hardware("edge", num_pes=256)
    result = gamma.search(layers, hw, num_pop=100, epochs=20, seed=1,
                          fitness=("latency", "energy"))
    assert len(result.layers) == len(layers) == 21
    assert result.layers["feasible"].all() and (result.layers["num_pes"] == 256).all()
    assert len(result.summary) == 1 and result.summary.loc[0, "layers"] == 21
    assert set(result.mappings) == set(range(1, 22))
    searched = result.layers.loc[result.layers["same_search_as_layer"] == result.layers["layer"], "layer"]
    assert result.pareto is None and set(result.history["layer"]) == set(searched)
    saved = result.save("outputs/run1")
    assert (saved / "results.csv").is_file() and (saved / "report.html").is_file()
    costs = gamma.evaluate(SHIPPED_M, hw)
    assert costs["Valid"].all()


def test_a_small_search_returns_plain_data(tmp_path):
    layers = gamma.load_model("resnet18")[1:3]
    result = gamma.search(layers, gamma.load_hardware("edge"), num_pop=10, epochs=3, seed=2,
                          plots=False)
    assert result.status == 0 and result.message is None
    assert list(result.layers["layer"]) == [1, 2]
    row = result.layers.iloc[1]
    assert row["K"] == 64 and row["latency_cycles"] >= row["lower_bound"] > 0
    assert result.mappings[2].startswith("Network") or "Layer" in result.mappings[2]
    assert (result.history.groupby("layer")["generation"].max() == 2).all()
    target = result.save(tmp_path / "copy")
    assert sorted(p.name for p in target.iterdir()) == sorted(
        p.name for p in result.outdir.iterdir() if p.name != "checkpoints")


def test_api_and_command_line_write_the_same_files(tmp_path):
    flags = dict(num_pop=12, epochs=3, seed=5, singlelayer=3, slevel_max=3, fixed_cluster=0,
                 par_rs=True)
    by_api = gamma.search("resnet18", "edge", outdir=tmp_path / "api", **flags).outdir
    argv = ["--model", "resnet18", "--hwconfig", "edge", "--num_pop", "12", "--epochs", "3",
            "--seed", "5", "--singlelayer", "3", "--slevel_max", "3", "--parRS", "--jobs", "1",
            "--log_level", "0", "--outdir", str(tmp_path / "cli")]
    assert main(argv) == 0
    by_cli = run_folder(tmp_path / "cli")
    for name, timing in TIMING.items():
        a = pd.read_csv(by_api / name).drop(columns=timing)
        b = pd.read_csv(by_cli / name).drop(columns=timing)
        pd.testing.assert_frame_equal(a, b)
    assert (by_api / "mappings" / "layer_3.m").read_text() == (by_cli / "mappings" / "layer_3.m").read_text()
    assert sorted(p.name for p in (by_api / "plots").iterdir()) == \
        sorted(p.name for p in (by_cli / "plots").iterdir())


def test_options_are_checked_with_the_command_lines_messages():
    layers = gamma.load_model("resnet18")[:1]
    with pytest.raises(gamma.GammaError, match="--num_pop must be at least 1, got 0"):
        gamma.search(layers, "edge", num_pop=0)
    with pytest.raises(gamma.GammaError, match="unknown option 'popsize'.*num_pop"):
        gamma.search(layers, "edge", popsize=10)
    with pytest.raises(gamma.GammaError, match="co-design.*needs --area_budget"):
        gamma.search(layers, "edge", num_pes=-1)
    with pytest.raises(gamma.GammaError, match="trust must be one of exact, undercount, any"):
        gamma.search(layers, "edge", trust="maestro")
    with pytest.raises(gamma.GammaError, match="unknown setting.*l3_size"):
        gamma.load_hardware("edge", l3_size=4)
    with pytest.raises(gamma.GammaError, match="nowhere.m does not exist"):
        gamma.evaluate("nowhere.m")


def test_evaluate_takes_a_path_or_the_text():
    by_path = gamma.evaluate(SHIPPED_M)
    by_text = gamma.evaluate(SHIPPED_M.read_text())
    pd.testing.assert_frame_equal(by_path, by_text)
    assert by_path.loc[0, "Valid"] and by_path.loc[0, "Runtime (Cycles)"] > 0


def test_ga_params_change_the_search_and_survive_a_resume(tmp_path):
    layers = gamma.load_model("resnet18")[1:2]
    plain = gamma.search(layers, "edge", num_pop=10, epochs=3, seed=3, plots=False)
    tuned = gamma.search(layers, "edge", num_pop=10, epochs=3, seed=3, plots=False,
                         params=gamma.GAParams(screen=1, tile=0.9), outdir=tmp_path / "tuned")
    assert not plain.history.equals(tuned.history)
    assert tuned.outdir.parent == tmp_path / "tuned"    # its own folder in the folder of runs
    again = gamma.resume(tuned.outdir)                  # complete: nothing left to run
    pd.testing.assert_frame_equal(again.layers, tuned.layers)
    with pytest.raises(ValueError, match="probability or share"):
        gamma.GAParams(tile=1.5)


def test_codesign_and_constraints_are_reachable(tmp_path):
    layers = gamma.load_model("resnet18")[1:2]
    result = gamma.search(layers, "edge", num_pes=-1, area_budget=0.5, num_pop=10, epochs=3, seed=1,
                          plots=False, mapping_cstr="dla_map")
    row = result.layers.iloc[0]
    assert row["num_pes"] > 0 and row["area_um2"] <= 0.5e6


def test_the_example_script_runs(tmp_path):
    runpy.run_path(str(ROOT / "examples" / "notebook_tour.py"), run_name="not_main")["main"](tmp_path)
    assert (tmp_path / "latency_per_layer.png").stat().st_size > 1000
    assert (tmp_path / "search" / "results.csv").is_file()


def test_the_api_names_are_functions_after_every_module_is_imported():
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(gamma.__path__, "gamma."):
        if not info.name.endswith(("onnx_import",)):
            importlib.import_module(info.name)
    assert gamma.search is gamma.api.search and gamma.evaluate is gamma.api.evaluate
    assert gamma.resume is gamma.api.resume
