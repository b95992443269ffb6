"""The command line: bad input is one line and exit status 2; a real run works."""

from pathlib import Path

import pandas as pd
import pytest
from run_folders import run_folder

from gamma.cli import main

FAST = ["--num_pop", "8", "--epochs", "2", "--seed", "1", "--log_level", "0", "--no_plots"]


def fails_with(capsys, argv, *words, code=2):
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("gamma: error:")
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize("argv,words", [
    (["--model", "no_such_model"], ["--model", "no_such_model"]),
    (["--model", "/no/such/file.csv"], ["does not exist"]),
    (["--hwconfig", "/no/such/hw.yaml"], ["--hwconfig"]),
    (["--fitness1", "speed"], ["--fitness1", "speed"]),
    (["--num_pop", "0"], ["--num_pop"]),
    (["--epochs", "many"], ["--epochs"]),
    (["--l1_size", "-5"], ["--l1_size"]),
    (["--slevel_min", "3", "--slevel_max", "2"], ["--slevel_min"]),
    (["--slevel_max", "4"], ["--slevel_max"]),
    (["--singlelayer", "99"], ["--singlelayer"]),
    (["--fixedCluster", "1000"], ["--fixedCluster"]),
    (["--costmodel_cstr", "timeloop"], ["--costmodel_cstr"]),
    (["--pareto", "--fitness2", "latency"], ["--pareto"]),
    (["--num_pe", "-1"], ["--area_budget"]),
    (["--num_pe", "-1", "--area_budget", "0.00001"], ["--area_budget", "smallest design"]),
    (["--num_pe", "-1", "--area_budget", "0.00001", "--codesign", "model"], ["--area_budget"]),
    (["--area_budget", "-3"], ["--area_budget"]),
    (["--pe_limit", "512"], ["--pe_limit", "--num_pe -1"]),
    (["--mapping_cstr", "no_such_plugin"], ["--mapping_cstr", "no_such_plugin"]),
    (["--accel_cstr", "no_such_accel"], ["--accel_cstr", "no_such_accel"]),
    (["--no_such_flag"], ["unrecognized"]),
    (["--method", "exhaustive", "--time_limit", "-1"], ["--time_limit", ">= 0"]),
    (["--time_limit", "5"], ["--time_limit", "--method exhaustive"]),
    (["--method", "exhaustive", "--fitness1", "energy"], ["--method exhaustive", "--fitness1 latency"]),
    (["--method", "exhaustive", "--num_pe", "-1", "--area_budget", "1"], ["--method exhaustive",
                                                                          "--num_pe -1"]),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, words):
    err = fails_with(capsys, argv + ["--outdir", str(tmp_path / "out")], *words)
    assert len(err.splitlines()) == 1


def test_runs_into_one_outdir_keep_every_result(tmp_path):
    """A sweep writes many runs into one --outdir (as GAMMA's scripts do): each run gets its
    own folder, named from its settings, and a line in runs.csv; nothing is deleted."""
    (tmp_path / "keep.txt").write_text("mine")
    for layer in ("1", "2", "3"):
        assert main(["--model", "vgg16", "--singlelayer", layer, "--outdir", str(tmp_path)] + FAST) == 0
    assert main(["--model", "vgg16", "--singlelayer", "3", "--outdir", str(tmp_path)] + FAST) == 0
    folders = sorted(d.name for d in tmp_path.iterdir() if d.is_dir())
    assert len(folders) == 4 and (tmp_path / "keep.txt").read_text() == "mine"
    assert folders[0].startswith("GAMMA_vgg16-Lay1_SL-2-2_F1-latency_GEN-2_POP-8")
    assert folders[0].endswith("_HW-edge_Seed-1") and folders[3].endswith("_Seed-1_run2")
    index = pd.read_csv(tmp_path / "runs.csv")
    assert list(index["run"]) == [folders[0], folders[1], folders[2], folders[3]]
    assert (index["status"] == "done").all() and (index["layers"] == 1).all()
    for name in folders:
        assert (tmp_path / name / "results.csv").is_file()
    # --overwrite replaces only the run of the same name
    assert main(["--model", "vgg16", "--singlelayer", "1", "--outdir", str(tmp_path), "--overwrite"]
                + FAST) == 0
    assert sorted(d.name for d in tmp_path.iterdir() if d.is_dir()) == folders
    assert len(pd.read_csv(tmp_path / "runs.csv")) == 5


def test_gamma_outputs_write_gammas_result_file(tmp_path):
    assert main(["--model", "vgg16", "--num_layer", "2", "--gamma_outputs", "--outdir", str(tmp_path)]
                + FAST) == 0
    frame = pd.read_csv(run_folder(tmp_path) / "result_c.csv", index_col=0)
    assert list(frame.columns) == ["runtime", "area", "pe_area_ratio", "PE", "L1_size", "L2_size",
                                   "PE_area", "L1_area", "L2_area", "best_sol"]
    assert len(frame) == 2 and (frame["runtime"] > 0).all() and (frame["PE"] == 168).all()


def test_evaluate_bad_input(capsys):
    fails_with(capsys, ["evaluate", "--mapping_file", "/no/such.m"], "/no/such.m", "does not exist")
    fails_with(capsys, ["evaluate", "/no/such.m"], "/no/such.m", "does not exist")
    fails_with(capsys, ["evaluate"], "mapping file")
    fails_with(capsys, ["evaluate", "a.m", "--mapping_file", "b.m"], "two mapping files")


def test_evaluate_takes_the_file_as_argument_or_flag(capsys):
    from gamma.workload import PROJECT_ROOT
    path = str(PROJECT_ROOT / "data" / "mappings" / "nvdla_like_kc_ws.m")
    assert main(["evaluate", path, "--hwconfig", "edge"]) == 0
    positional = capsys.readouterr().out
    assert main(["evaluate", "--mapping_file", path, "--hw_file", "edge"]) == 0
    assert capsys.readouterr().out == positional and "runtime" in positional.lower()


def test_evaluate_reproduces_maestro_or_gives_the_stride_aware_figures(capsys, tmp_path):
    path = Path(__file__).parent / "fixtures" / "strided_three_row_tile.m"
    out = tmp_path / "rows.csv"
    assert main(["evaluate", str(path), "--hwconfig", "edge", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "130,056,192" in text and "not exact" in text and "--analysis physical" in text
    row = pd.read_csv(out).iloc[0]
    assert (row["Num MACs"], bool(row["Exact analysis"]), bool(row["Physical analysis"])) == (
        130_056_192, False, False)
    assert main(["evaluate", str(path), "--hwconfig", "edge", "--analysis", "physical",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "57,802,752" in text and "physical figures" in text and "not exact" not in text
    row = pd.read_csv(out).iloc[0]
    assert (row["Num MACs"], bool(row["Exact analysis"]), bool(row["Physical analysis"])) == (
        57_802_752, True, True)
    fails_with(capsys, ["evaluate", str(path), "--analysis", "exact"], "--analysis")


def test_a_small_search_runs(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["--model", "resnet18", "--num_layer", "3", "--outdir", str(out), "--log_level", "2",
                 "--num_pop", "8", "--epochs", "2", "--seed", "3", "--no_plots", "--jobs", "1"]) == 0
    text = capsys.readouterr().out
    assert "layer 1 gen 1:" in text and "layer 2 (also layers 3)" in text
    assert (run_folder(out) / "results.csv").is_file()
    assert (run_folder(out) / "mappings" / "layer_3.m").is_file()


def test_parallel_jobs_log_each_layer_and_match_one_job(capsys, tmp_path):
    common = ["--model", "resnet18", "--num_layer", "4", "--num_pop", "8", "--epochs", "3",
              "--seed", "4", "--no_plots", "--log_level", "1"]
    assert main(common + ["--outdir", str(tmp_path / "one"), "--jobs", "1"]) == 0
    capsys.readouterr()
    assert main(common + ["--outdir", str(tmp_path / "two"), "--jobs", "2"]) == 0
    text = capsys.readouterr().out
    assert "layer 1: " in text and "layer 2 (also layers 3, 4)" in text
    one = pd.read_csv(run_folder(tmp_path / "one") / "results.csv").drop(columns="seconds")
    two = pd.read_csv(run_folder(tmp_path / "two") / "results.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(one, two)
    history = [pd.read_csv(run_folder(tmp_path / d) / "history.csv") for d in ("one", "two")]
    pd.testing.assert_frame_equal(*history)


def test_jobs_default_is_all_cores():
    from gamma.flags import build_search_parser
    assert build_search_parser().parse_args([]).jobs is None  # resolved to os.cpu_count() at run time
    assert "all cores" in build_search_parser().format_help()


def test_stall_case_exits_non_zero_with_a_clear_message(capsys, tmp_path):
    code = main(["--singlelayer", "2", "--l1_size", "1", "--outdir", str(tmp_path / "o")] + FAST)
    assert code == 1
    err = capsys.readouterr().err
    assert "no feasible mapping after 16 samples each for layer(s) 2 (L1 needs " in err
    assert "> 1 (+" in err and "\n" not in err.strip()
    assert (run_folder(tmp_path / "o") / "results.csv").is_file()


def test_the_infeasibility_message_names_the_true_cause():
    from gamma.cli import infeasible_cause
    from gamma.hardware import Hardware
    from gamma.search.ga import GAConfig

    hw, cfg = Hardware(num_pes=168, l1_size=512, l2_size=108000), GAConfig()
    fits = dict(valid=True, reason=0, exact_analysis=True, undercount=False, macs=100,
                true_macs=100, runtime=10, busiest_pe_macs=10, l1_size_req=714,
                l2_size_req=50_000, area=1.0)
    assert infeasible_cause(fits, hw, cfg) == "L1 needs 714 > 512 (+202)"
    inexact = {**fits, "exact_analysis": False, "macs": 120, "l1_size_req": 10}
    assert infeasible_cause(inexact, hw, cfg) == (
        "no candidate MAESTRO analyses exactly: the closest counts 120 MACs for the layer's 100 "
        "(--allow_inexact accepts it)")
    assert infeasible_cause(inexact, hw, GAConfig(trust="any")) == "over the hardware limits"
    # a trusted candidate was scored: the limit it exceeds is the cause
    assert infeasible_cause(inexact, hw, cfg, closest_trusted=fits) == (
        "L1 needs 714 > 512 (+202) for the closest candidate whose analysis is trusted "
        "(the closer ones are not analysed exactly)")
    under = {**fits, "undercount": True, "busiest_pe_macs": 12, "l1_size_req": 10}
    assert "below its busiest PE's 12 MACs" in infeasible_cause(under, hw, cfg)


@pytest.mark.parametrize("flags", [["--mapping_cstr", "shi_map"], ["--accel_cstr", "eye_accel"],
                                   ["--mapping_cstr", "tpu_map"]])
def test_constraint_plugins_run(capsys, tmp_path, flags):
    out = tmp_path / "run"
    assert main(["--singlelayer", "2", "--outdir", str(out)] + flags + FAST) == 0
    run = (run_folder(out) / "run.yaml").read_text()
    assert "constraint_source" in run
    if "tpu_map" in flags:
        assert "lower_to_gemm: true" in run
        assert "GEMM" in (run_folder(out) / "results.csv").read_text()


def test_onnx_model_import_and_report_subcommands(capsys, tmp_path):
    pytest.importorskip("onnx")
    from test_onnx_import import build_small_convnet

    net = build_small_convnet(tmp_path)
    csv_path = tmp_path / "net.csv"
    assert main(["import-onnx", str(net), "-o", str(csv_path)]) == 0
    printed = capsys.readouterr().out
    assert f"to {csv_path}" in printed and "skipped" in printed
    out = tmp_path / "run"
    assert main(["--model", str(net), "--outdir", str(out), "--jobs", "1"] + FAST) == 0
    assert (run_folder(out) / "report.html").is_file()
    with open(run_folder(out) / "results.csv") as handle:
        assert len(handle.readlines()) - 1 == len(csv_path.read_text().splitlines()) - 1
    (run_folder(out) / "report.html").unlink()
    assert main(["report", str(run_folder(out))]) == 0
    assert (run_folder(out) / "report.html").is_file()
    fails_with(capsys, ["report", str(tmp_path / "nowhere")], "not a results folder")
    fails_with(capsys, ["import-onnx", str(tmp_path / "missing.onnx"), "-o", str(csv_path)])


def test_allow_undercount_admits_what_maestro_underprices(caplog, tmp_path):
    # resnet18 layer 2 (64,64,56,56,3,3): MAESTRO prices mappings at 1.005 of the bound
    # whose busiest PE needs 1.037 of it.
    argv = ["--model", "resnet18", "--singlelayer", "2", "--num_pop", "60", "--epochs", "10",
            "--seed", "1", "--log_level", "0", "--no_plots", "--jobs", "1"]
    assert main(argv + ["--outdir", str(tmp_path / "honest")]) == 0
    assert main(argv + ["--outdir", str(tmp_path / "maestro"), "--allow_undercount"]) == 0
    assert "--allow_undercount" in caplog.text
    honest = pd.read_csv(run_folder(tmp_path / "honest") / "results.csv").iloc[0]
    trusting = pd.read_csv(run_folder(tmp_path / "maestro") / "results.csv").iloc[0]
    assert not honest["undercount"] and honest["latency_cycles"] >= honest["busiest_pe_macs"]
    assert trusting["undercount"] and trusting["latency_cycles"] < honest["latency_cycles"]
    # the proven bound holds for honest runtimes only: the trusting run's gap shows it
    assert honest["gap"] >= 1 and not honest["below_bound"]
    assert trusting["lower_bound"] == honest["lower_bound"] == 700416
    assert trusting["below_bound"] == (trusting["gap"] < 1)
    assert trusting["gap"] < honest["gap"]


def test_exhaustive_proves_a_zoo_layer(capsys, tmp_path):
    """dlrmRMC1_m layer 3 (FC 32 x 128) on edge: the exact mode proves the GA's result optimal."""
    out = tmp_path / "exact"
    argv = ["--model", "dlrmRMC1_m", "--singlelayer", "3", "--method", "exhaustive",
            "--time_limit", "120", "--num_pop", "20", "--epochs", "5", "--seed", "1",
            "--no_plots", "--outdir", str(out)]
    assert main(argv) == 0
    assert "proven optimal" in capsys.readouterr().out
    row = pd.read_csv(run_folder(out) / "results.csv").iloc[0]
    assert bool(row["proven_optimal"]) and row["gap"] == 1.0
    assert row["lower_bound"] == row["latency_cycles"] == 28
    assert pd.read_csv(run_folder(out) / "summary.csv").loc[0, "proven_optimal_layers"] == 1


def test_console_shows_the_gap(capsys, tmp_path):
    assert main(["--singlelayer", "2", "--outdir", str(tmp_path / "g"), "--num_pop", "8",
                 "--epochs", "2", "--seed", "1", "--no_plots"]) == 0
    text = capsys.readouterr().out
    assert "gap 1.0" in text and "to 700416" in text


def test_main_py_exits_with_the_status_and_all_its_output(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, str(root / "main.py"), "--model", "resnet18", "--num_layer", "3",
               "--num_pop", "6", "--epochs", "2", "--no_plots", "--seed", "1", "--jobs", "1"]
    done = subprocess.run([*command, "--outdir", str(tmp_path / "a")], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0 and done.stdout.rstrip().splitlines()[-1].startswith("total latency")
    bad = subprocess.run([*command, "--hw_file", "nosuch"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert bad.returncode == 2 and bad.stderr.startswith("gamma: error: ")


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path):
    import subprocess
    import sys

    from gamma.cli import SIGPIPE_STATUS

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, str(root / "main.py"), "--model", "resnet18",
                             "--num_pop", "6", "--epochs", "2", "--no_plots", "--seed", "1",
                             "--jobs", "1", "--outdir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    proc.stdout.close()     # as `| head -0` does, long before the first layer's line is printed
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == SIGPIPE_STATUS
    assert "Traceback" not in stderr
