"""Output files of a run, and that an exported .m re-scores to the reported row."""
import numpy as np
import pandas as pd
import pytest
import yaml
from run_folders import run_folder

from gamma.cli import main
from gamma.costmodel import evaluate
from gamma.errors import GammaInputError
from gamma.files import write_atomic
from gamma.hardware import load_hardware
from gamma.maestro_files import parse_mapping
from gamma.report import RESULT_COLUMNS, prepare_outdir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    argv = ["--model", "mobilenet_v2", "--num_layer", "4", "--num_pop", "10", "--epochs", "3",
            "--seed", "5", "--outdir", str(out), "--log_level", "0"]
    assert main(argv) == 0
    return run_folder(out)


def test_results_csv(run_dir):
    rows = pd.read_csv(run_dir / "results.csv")
    assert list(rows.columns) == RESULT_COLUMNS
    assert list(rows["layer"]) == [1, 2, 3, 4]
    assert set(rows["type"]) >= {"CONV", "DSCONV"}
    assert rows["feasible"].all() and rows["exact_analysis"].all()
    # every latency is at least its proven bound, which is at least MACs / PEs
    assert (rows["gap"] >= 1).all() and not rows["below_bound"].any()
    np.testing.assert_allclose(rows["gap"], rows["latency_cycles"] / rows["lower_bound"])
    assert (rows["lower_bound"] >= np.ceil(rows["macs"] / rows["num_pes"])).all()
    assert not rows["proven_optimal"].any()
    assert (rows["energy_lower_bound_nj"] <= rows["energy_nj"]).all()
    assert (rows["l1_req_elements"] <= 512).all() and (rows["l2_req_elements"] <= 108000).all()
    assert rows["samples"].sum() == 30 * rows["same_search_as_layer"].nunique()


def test_summary_history_and_run_yaml(run_dir):
    summary = pd.read_csv(run_dir / "summary.csv")
    rows = pd.read_csv(run_dir / "results.csv")
    assert summary.loc[0, "total_latency_cycles"] == rows["latency_cycles"].sum()
    assert summary.loc[0, "gap"] == pytest.approx(rows["latency_cycles"].sum()
                                                  / rows["lower_bound"].sum())
    assert summary.loc[0, "proven_optimal_layers"] == 0
    history = pd.read_csv(run_dir / "history.csv")
    assert set(history["generation"]) == {0, 1, 2}
    assert {"best_latency", "mean_energy", "feasible_fraction"} <= set(history.columns)
    run = yaml.safe_load((run_dir / "run.yaml").read_text())
    assert run["status"] == "done" and run["settings"]["seed"] == 5
    assert run["gamma_version"] and run["hardware"]["num_pes"] == 168
    for name in ("convergence.png", "layers.png"):
        assert (run_dir / "plots" / name).stat().st_size > 1000


def test_exported_mapping_rescores_to_the_reported_row(run_dir):
    rows = pd.read_csv(run_dir / "results.csv")
    hw = load_hardware("edge")
    for _, row in rows.iterrows():
        text = (run_dir / "mappings" / f"layer_{row['layer']}.m").read_text()
        [(layer, directives)] = parse_mapping(text)
        costs = evaluate(layer, hw, directives)
        assert costs.runtime[0] == row["latency_cycles"]
        assert costs.l1_size_req[0] == row["l1_req_elements"]
        assert costs.l2_size_req[0] == row["l2_req_elements"]
        assert costs.energy_nj[0] == pytest.approx(row["energy_nj"], rel=1e-9)


def test_pareto_outputs(tmp_path):
    out = tmp_path / "p"
    assert main(["--model", "resnet18", "--singlelayer", "2", "--pareto", "--num_pop", "12",
                 "--epochs", "3", "--seed", "2", "--outdir", str(out), "--log_level", "0"]) == 0
    front = pd.read_csv(run_folder(out) / "pareto.csv")
    assert len(front) >= 1 and set(front["layer"]) == {2}
    lat, en = front["latency_cycles"].to_numpy(), front["energy_nJ"].to_numpy()
    assert np.all(np.diff(lat) > 0) and np.all(np.diff(en) < 0)
    assert (run_folder(out) / "plots" / "pareto_layer_2.png").is_file()


def test_outdir_helpers(tmp_path):
    target = tmp_path / "x.csv"
    write_atomic(target, "a,b\n")
    assert target.read_text() == "a,b\n" and len(list(tmp_path.iterdir())) == 1
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("")
    with pytest.raises(GammaInputError, match="not empty"):
        prepare_outdir(tmp_path / "full")


def _fake_result(runtime, bound, proven=False):
    from types import SimpleNamespace

    from gamma.workload import Layer
    return SimpleNamespace(layer=Layer("CONV", 64, 64, 58, 58, 3, 3),
                           best_scores={"runtime": runtime}, lower_bound=bound,
                           proven_optimal=proven)


def test_bound_columns_flag_latencies_below_the_proven_bound():
    from gamma.report import bound_columns, gap_text
    ok = bound_columns(_fake_result(700673, 700416))
    assert ok["gap"] == pytest.approx(700673 / 700416) and not ok["below_bound"]
    assert gap_text(_fake_result(700673, 700416)) == "gap 1.0004 to 700416"
    # --allow_undercount: MAESTRO's runtime may be below what the busiest PE needs
    low = bound_columns(_fake_result(690000, 700416))
    assert low["below_bound"] and low["gap"] < 1
    assert "BELOW the proven bound" in gap_text(_fake_result(690000, 700416))
    assert gap_text(_fake_result(28, 28, proven=True)) == "proven optimal"
    missing = bound_columns(_fake_result(28, 0))
    assert np.isnan(missing["gap"]) and not missing["below_bound"]
    assert gap_text(_fake_result(28, 0)) == "no bound"


def test_columns_say_what_they_hold(tmp_path):
    """Chip sizes beside the mapping's needs, power in mW beside MAESTRO's figure, and
    the totals of a per-layer co-design not presented as one chip."""
    from gamma.cli import main

    flags = ["--model", "vgg16", "--num_layer", "2", "--num_pop", "8", "--epochs", "2", "--seed", "1",
             "--log_level", "0", "--jobs", "1", "--no_plots"]
    assert main(flags + ["--outdir", str(tmp_path / "fixed")]) == 0
    rows = pd.read_csv(run_folder(tmp_path / "fixed") / "results.csv")
    assert (rows["l1_size"] == 512).all() and (rows["l2_size"] == 108000).all()
    assert (rows["l1_req_elements"] <= 512).all() and (rows["l1_req_elements"] < 512).any()
    assert (rows["area_um2"] == rows["area_um2"].iloc[0]).all()          # one chip
    assert (rows["area_need_um2"] < rows["area_um2"]).all()
    ratio = rows["power_mw"] * rows["latency_cycles"] / (1000 * rows["energy_nj"])
    assert ((ratio - 1).abs() < 1e-9).all()                               # energy ÷ time at 1 GHz
    assert (rows["power_maestro"] > 100 * rows["power_mw"]).all()
    summary = pd.read_csv(run_folder(tmp_path / "fixed") / "summary.csv")
    assert summary.loc[0, "designs"] == "fixed" and summary.loc[0, "num_pes"] == 168

    assert main(flags + ["--num_pe", "-1", "--area_budget", "0.5",
                         "--outdir", str(tmp_path / "per_layer")]) == 0
    rows = pd.read_csv(run_folder(tmp_path / "per_layer") / "results.csv")
    assert (rows["l1_size"] == rows["l1_req_elements"]).all()
    summary = pd.read_csv(run_folder(tmp_path / "per_layer") / "summary.csv")
    assert summary.loc[0, "designs"].startswith("one per layer") and pd.isna(summary.loc[0, "num_pes"])

    assert main(flags + ["--num_pe", "-1", "--area_budget", "0.5", "--codesign", "model",
                         "--outdir", str(tmp_path / "model")]) == 0
    summary = pd.read_csv(run_folder(tmp_path / "model") / "summary.csv")
    rows = pd.read_csv(run_folder(tmp_path / "model") / "results.csv")
    assert summary.loc[0, "samples"] > rows["samples"].sum()              # the exploration counts


def test_results_csv_holds_every_finished_layer_at_once(tmp_path, monkeypatch):
    """results.csv is rewritten as each layer finishes, sorted by layer: a run killed
    between two layers leaves every finished row on disk, however fast they came."""
    from gamma import report

    seen = []
    add = report.RunReport.add

    def add_and_read(self, indices, result):
        add(self, indices, result)
        seen.append((tuple(indices), list(pd.read_csv(self.outdir / "results.csv")["layer"])))

    monkeypatch.setattr(report.RunReport, "add", add_and_read)
    out = tmp_path / "run"
    argv = ["--model", "resnet18", "--num_layer", "5", "--num_pop", "6", "--epochs", "1",
            "--seed", "2", "--outdir", str(out), "--log_level", "0", "--no_plots"]
    assert main(argv) == 0
    finished = set()
    for indices, layers in seen:
        finished.update(indices)
        assert layers == sorted(finished)
    assert finished == {1, 2, 3, 4, 5}
    final = pd.read_csv(run_folder(out) / "results.csv")
    assert list(final["layer"]) == [1, 2, 3, 4, 5]
