"""GAMMA's own run scripts, with GAMMA's data files in GAMMA's places, run unchanged.

The flags are those of GAMMA's ``run_gamma.sh`` and ``run_gamma_with_hwconfig.sh``
(fewer generations, to keep the test short); the working directory is laid out
as a GAMMA checkout (``data/HWconfigs/hw_config.m``, ``data/mapping_cstr/...``).
"""
import json
from pathlib import Path

import pandas as pd

from gamma.cli import main

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "gamma_constraints.json").read_text())
HW_CONFIG = FIXTURE["hwconfigs"]["data/HWconfigs/hw_config.m"]
QUICK = ["--num_pop", "10", "--epochs", "3", "--seed", "1", "--log_level", "0", "--no_plots"]


def gamma_tree(tmp_path: Path) -> Path:
    """A working directory laid out as GAMMA's: its hardware file where GAMMA keeps it."""
    folder = tmp_path / "gamma_checkout" / "data" / "HWconfigs"
    folder.mkdir(parents=True)
    (folder / "hw_config.m").write_text("".join(f"{key}: {value}\n" for key, value in HW_CONFIG.items()))
    return tmp_path / "gamma_checkout"


def test_run_gamma_sh(tmp_path, monkeypatch):
    monkeypatch.chdir(gamma_tree(tmp_path))
    argv = ["--fitness1", "latency", "--fitness2", "power", "--num_pe", "168", "--l1_size", "512",
            "--l2_size", "108000", "--NocBW", "81920000", "--epochs", "10", "--model", "vgg16",
            "--singlelayer", "1"]
    assert main(argv + QUICK[:2] + QUICK[4:]) == 0
    index = pd.read_csv(Path("outputs") / "runs.csv")
    assert list(index["status"]) == ["done"] and index.loc[0, "fitness2"] == "power"


def test_run_gamma_with_hwconfig_sh(tmp_path, monkeypatch):
    monkeypatch.chdir(gamma_tree(tmp_path))
    argv = ["--fitness1", "latency", "--fitness2", "power", "--epochs", "10", "--model", "vgg16",
            "--singlelayer", "1", "--hwconfig", "hw_config.m", "--gamma_outputs"]
    assert main(argv + QUICK[:2] + QUICK[4:]) == 0
    run = next(Path("outputs").glob("GAMMA_vgg16-Lay1_*"))
    assert "_HW-hw_config_" in run.name
    result = pd.read_csv(run / "result_c.csv", index_col=0)
    assert result.loc[0, "PE"] == HW_CONFIG["NumPEs"] and result.loc[0, "runtime"] > 0


def test_a_sweep_over_three_layers_keeps_every_run(tmp_path, monkeypatch):
    monkeypatch.chdir(gamma_tree(tmp_path))
    for layer in ("1", "2", "3"):
        assert main(["--model", "vgg16", "--singlelayer", layer, "--hwconfig", "hw_config.m",
                     "--outdir", "outdir"] + QUICK) == 0
    index = pd.read_csv(Path("outdir") / "runs.csv")
    assert len(index) == 3 and (index["status"] == "done").all()
    for name in index["run"]:
        rows = pd.read_csv(Path("outdir") / name / "results.csv")
        assert len(rows) == 1 and rows["feasible"].all()
    assert [int(name.split("-Lay")[1].split("_")[0]) for name in index["run"]] == [1, 2, 3]
