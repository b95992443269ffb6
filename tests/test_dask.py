"""Layer searches on a real Dask cluster (scheduler and 2 worker processes on loopback).

The results equal the local run's, also when a worker dies part-way (Dask
reschedules its layer), and an unreachable scheduler is one clear error line.
"""
import os
import signal
import socket
import sys

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from run_folders import run_folder  # noqa: E402

from gamma import cli, runner  # noqa: E402
from gamma.hardware import load_hardware  # noqa: E402
from gamma.runner import run_model, select_layers  # noqa: E402
from gamma.search.ga import GAConfig  # noqa: E402
from gamma.workload import Layer  # noqa: E402

HW = load_hardware("edge")
CFG = GAConfig(num_pop=16, epochs=5)
# Six distinct shapes (plus one repeat): enough jobs to still be running when a worker is killed.
LAYERS = [Layer("CONV", K=16 * (i + 1), C=32, Y=16 + 2 * i, X=16 + 2 * i, R=3, S=3) for i in range(6)]
LAYERS.insert(3, LAYERS[0])
SEED = 13


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def local():
    return run_model(select_layers(LAYERS), HW, CFG, SEED, workers=1)


def same(a, b):
    assert [j.indices for j, _ in a] == [j.indices for j, _ in b]
    for (_, x), (_, y) in zip(a, b, strict=True):
        assert x.best.keys() == y.best.keys() and x.best_scores == y.best_scores
        assert x.scored.equals(y.scored)
        pd.testing.assert_frame_equal(x.history, y.history)


def test_dask_cluster_gives_the_local_results(cluster, local):
    with distributed.Client(cluster, set_as_default=False) as client:
        arrived = []
        out = run_model(select_layers(LAYERS), HW, CFG, SEED, workers=client,
                        on_result=lambda job, result: arrived.append(job.key))
    same(local, out)
    assert sorted(arrived) == [1, 2, 3, 5, 6, 7]


def test_a_worker_killed_mid_run_loses_no_layer(cluster, local):
    with distributed.Client(cluster, set_as_default=False) as client:
        pids = client.run(os.getpid)  # worker address -> process id
        killed = []

        def on_result(job, result):
            if not killed:  # the first result is in: the other jobs are queued or running
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        out = run_model(select_layers(LAYERS), HW, CFG, SEED, workers=client, on_result=on_result)
        assert killed
        client.wait_for_workers(2, timeout=20)  # the nanny restarted the killed worker
        assert killed[0] not in client.run(os.getpid).values()
    same(local, out)


def test_command_line_on_the_cluster(cluster, tmp_path, capsys):
    flags = ["--model", "resnet18", "--num_layer", "5", "--num_pop", "10", "--epochs", "3",
             "--seed", "2", "--no_plots", "--log_level", "1"]
    assert cli.main(flags + ["--outdir", str(tmp_path / "local"), "--jobs", "1"]) == 0
    assert cli.main(flags + ["--outdir", str(tmp_path / "dask"),
                             "--scheduler", cluster.scheduler_address]) == 0
    text = capsys.readouterr().out
    assert "layer 1: " in text and "over 5 layers" in text
    a, b = (pd.read_csv(run_folder(tmp_path / d) / "results.csv").drop(columns="seconds")
            for d in ("local", "dask"))
    pd.testing.assert_frame_equal(a, b)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "SCHEDULER_TIMEOUT_S", 1)
    address = f"tcp://127.0.0.1:{_free_port()}"
    assert cli.main(["--singlelayer", "2", "--outdir", str(tmp_path / "o"),
                     "--scheduler", address]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gamma: error: --scheduler") and "cannot reach" in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()  # nothing written


def test_missing_dask_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert cli.main(["--singlelayer", "2", "--outdir", str(tmp_path / "o"),
                     "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install -e .[dask]" in err and len(err.splitlines()) == 1
