"""Checkpoint and resume: a run killed with SIGKILL, or stopped by Ctrl-C, continues with
``--resume OUTDIR`` to the same results as an uninterrupted run; other settings are refused."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from run_folders import run_folder

from gamma import runner
from gamma.cli import main

ROOT = Path(__file__).resolve().parents[1]
TIMING = ["seconds"]

# Four distinct layers; the later ones are slow enough to be killed part-way.
MODEL = """K,C,Y,X,R,S,T,stride
16,16,16,16,3,3,1,1
64,32,30,30,3,3,1,1
96,48,22,22,3,3,1,1
128,64,16,16,3,3,1,1
"""


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text(MODEL)
    return path


def flags(model, out, *extra):
    return ["--model", str(model), "--num_pop", "20", "--epochs", "20", "--seed", "7",
            "--no_plots", "--log_level", "0", "--jobs", "1", "--checkpoint_every", "2",
            "--outdir", str(out), *extra]


def results(out):
    """results.csv of the run folder ``out``, or of the run in the sweep folder ``out``."""
    folder = out if (out / "run.yaml").is_file() else run_folder(out)
    return pd.read_csv(folder / "results.csv").drop(columns=TIMING)


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path, model, capsys):
    sweep = tmp_path / "killed"
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *flags(model, sweep)], cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    try:
        # Kill once layer 1 is in results.csv and layer 2 has a mid-layer checkpoint.
        while time.monotonic() < deadline and proc.poll() is None:
            runs = list(sweep.glob("*/checkpoints/layer_2.pkl")) if sweep.is_dir() else []
            if runs and (runs[0].parent.parent / "results.csv").is_file():
                break
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    out = run_folder(sweep)
    partial = results(out)
    assert 1 <= len(partial) < 4  # killed part-way, finished layers kept
    assert yaml.safe_load((out / "run.yaml").read_text())["status"] == "running"

    assert main(["--resume", str(out), "--log_level", "1"]) == 0
    text = capsys.readouterr().out
    assert "layer 1: " in text and "from the checkpoint" in text
    assert main(flags(model, tmp_path / "straight")) == 0
    pd.testing.assert_frame_equal(results(out), results(tmp_path / "straight"))
    history = [pd.read_csv(d / "history.csv") for d in (out, run_folder(tmp_path / "straight"))]
    pd.testing.assert_frame_equal(*history)
    run = yaml.safe_load((out / "run.yaml").read_text())
    assert run["status"] == "done" and len(run["resumed"]) == 1
    assert not (out / "checkpoints").exists()  # a complete run keeps no checkpoints


def test_ctrl_c_keeps_finished_layers_and_resumes(tmp_path, model, capsys, monkeypatch):
    sweep = tmp_path / "run"
    real = runner.run_job

    def interrupt_on_layer_3(job, *args, **kwargs):
        if job.key == 3:
            raise KeyboardInterrupt
        return real(job, *args, **kwargs)

    monkeypatch.setattr(runner, "run_job", interrupt_on_layer_3)
    assert main(flags(model, sweep)) == 130
    out = run_folder(sweep)
    err = capsys.readouterr().err
    assert "interrupted" in err and f"--resume {out}" in err
    run = yaml.safe_load((out / "run.yaml").read_text())
    assert run["status"] == "interrupted" and "--resume" in run["note"]
    assert list(results(out)["layer"]) == [1, 2]

    monkeypatch.setattr(runner, "run_job", real)
    assert main(["--resume", str(out)]) == 0
    assert main(flags(model, tmp_path / "straight")) == 0
    pd.testing.assert_frame_equal(results(out), results(tmp_path / "straight"))
    assert (out / "summary.csv").is_file()

    # A finished run: nothing to do.
    assert main(["--resume", str(out)]) == 0
    assert "nothing to resume" in capsys.readouterr().out


def _interrupted_run(tmp_path, model, monkeypatch, *extra):
    out = tmp_path / "run"
    real = runner.run_job

    def stop(job, *args, **kwargs):
        if job.key == 2:
            raise KeyboardInterrupt
        return real(job, *args, **kwargs)

    monkeypatch.setattr(runner, "run_job", stop)
    assert main(flags(model, out, *extra)) == 130
    monkeypatch.setattr(runner, "run_job", real)
    return run_folder(out)


def fails(capsys, argv, *words):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gamma: error: --resume") and len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, err


def test_resuming_with_other_settings_is_refused(tmp_path, model, capsys, monkeypatch):
    out = _interrupted_run(tmp_path, model, monkeypatch)
    capsys.readouterr()
    fails(capsys, ["--resume", str(out), "--epochs", "21"], "--epochs 21", "--epochs 20")
    fails(capsys, ["--resume", str(out), "--seed", "8"], "--seed")
    fails(capsys, ["--resume", str(out), "--fitness1", "energy"], "--fitness1")
    fails(capsys, ["--resume", str(out), "--outdir", str(tmp_path / "elsewhere")], "--outdir")
    model.write_text(MODEL.replace("16,16,16,16", "16,16,18,18"))
    fails(capsys, ["--resume", str(out)], "model file")
    model.write_text(MODEL)
    # Same values, or settings that do not change results, are accepted.
    assert main(["--resume", str(out), "--seed", "7", "--epochs", "20", "--jobs", "2",
                 "--log_level", "0", "--checkpoint_every", "3"]) == 0
    assert yaml.safe_load((out / "run.yaml").read_text())["settings"]["checkpoint_every"] == 3


def test_resuming_after_the_hardware_file_changed_is_refused(tmp_path, model, capsys, monkeypatch):
    hw = tmp_path / "hw.yaml"
    hw.write_text((ROOT / "hwconfigs" / "edge.yaml").read_text())
    out = _interrupted_run(tmp_path, model, monkeypatch, "--hwconfig", str(hw))
    data = yaml.safe_load(hw.read_text())
    assert data["l2_size"] == 108000
    hw.write_text(yaml.safe_dump({**data, "l2_size": 200000}))
    capsys.readouterr()
    fails(capsys, ["--resume", str(out)], "l2_size", "200000", "108000")


def test_resume_needs_a_run_folder(tmp_path, capsys):
    fails(capsys, ["--resume", str(tmp_path / "nothing")], "run.yaml")
    (tmp_path / "run.yaml").write_text("just: [text\n")
    fails(capsys, ["--resume", str(tmp_path)], "YAML")


def test_overwrite_does_not_reuse_the_old_runs_checkpoints(tmp_path, model, monkeypatch):
    out = _interrupted_run(tmp_path, model, monkeypatch)
    assert (out / "checkpoints" / "layer_1.result.pkl").is_file()
    # the same run again with --overwrite replaces the interrupted run's folder, checkpoints too
    assert main(flags(model, out.parent, "--overwrite")) == 0
    assert [d.name for d in out.parent.iterdir() if d.is_dir()] == [out.name]
    assert main(flags(model, tmp_path / "fresh")) == 0
    pd.testing.assert_frame_equal(results(out), results(tmp_path / "fresh"))
    assert len(list((tmp_path / "fresh").iterdir())) == 2        # the run's folder and runs.csv
