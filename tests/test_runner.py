"""The runner: workers given as 1, n, or a map; checkpoints; resuming a layer part-way."""
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from gamma.costmodel import evaluate as costmodel_evaluate
from gamma.errors import GammaInputError
from gamma.hardware import load_hardware
from gamma.runner import Checkpoints, group_layers, run_job, run_model, select_layers
from gamma.search.ga import GAConfig
from gamma.workload import Layer

HW = load_hardware("edge")
CFG = GAConfig(num_pop=8, epochs=7)
A = Layer("CONV", K=32, C=16, Y=14, X=14, R=3, S=3)
B = Layer("CONV", K=64, C=32, Y=9, X=9, R=3, S=3)
LAYERS = [A, B, A]
SEED = 21

class Counting:
    """The cost model, counting calls (one per generation); raises after ``stop`` calls."""

    def __init__(self, stop=None):
        self.calls, self.stop = 0, stop

    def __call__(self, layer, hw, directives):
        if self.stop is not None and self.calls >= self.stop:
            raise KeyboardInterrupt
        self.calls += 1
        return costmodel_evaluate(layer, hw, directives)


def assert_same(a, b):
    assert a.best.keys() == b.best.keys() and a.best_scores == b.best_scores
    assert a.samples == b.samples and a.feasible == b.feasible
    assert a.scored.equals(b.scored)
    pd.testing.assert_frame_equal(a.history, b.history)


@pytest.fixture(scope="module")
def reference():
    return run_model(select_layers(LAYERS), HW, CFG, SEED, workers=1)


def test_workers_forms_give_the_same_results(reference):
    two = run_model(select_layers(LAYERS), HW, CFG, SEED, workers=2)
    with ThreadPoolExecutor(2) as pool:
        mapped = run_model(select_layers(LAYERS), HW, CFG, SEED, workers=pool.map)
    legacy = run_model(select_layers(LAYERS), HW, CFG, SEED, jobs=1)
    for other in (two, mapped, legacy):
        assert [j.indices for j, _ in other] == [(1, 3), (2,)]
        for (_, x), (_, y) in zip(reference, other, strict=True):
            assert_same(x, y)


def test_bad_workers_is_an_input_error():
    with pytest.raises(GammaInputError, match="workers"):
        run_model(select_layers(LAYERS), HW, CFG, SEED, workers=0)


def test_finished_layers_are_saved_and_not_searched_again(tmp_path, reference):
    ck = Checkpoints(tmp_path / "ck", every=3)
    seen = []
    run_model(select_layers(LAYERS), HW, CFG, SEED, checkpoints=ck,
              on_result=lambda job, r: seen.append(job.key))
    assert seen == [1, 2] and ck.finished() == [1, 2]
    assert not list((tmp_path / "ck").glob("layer_?.pkl"))  # running states are dropped
    counting, restored, fresh = Counting(), [], []
    again = run_model(select_layers(LAYERS), HW, CFG, SEED, checkpoints=ck, evaluate=counting,
                      on_result=lambda job, r: fresh.append(job.key),
                      on_restored=lambda job, r: restored.append(job.key))
    assert counting.calls == 0 and restored == [1, 2] and fresh == []
    for (_, x), (_, y) in zip(reference, again, strict=True):
        assert_same(x, y)


def test_checkpoint_policy():
    auto = Checkpoints("ck")
    assert auto.every is None           # the default: every 5 generations, a second apart
    assert auto.due(5, 1.0) and auto.due(10, 30.0)
    assert not auto.due(5, 0.5) and not auto.due(4, 30.0)
    assert Checkpoints("ck", every=2).due(2, 0.0) and not Checkpoints("ck", every=2).due(3, 9.0)
    assert not Checkpoints("ck", every=0).due(5, 9.0)


@pytest.mark.parametrize("min_seconds, saves", [(0.0, [5, 10]), (3600.0, [])])
def test_the_default_policy_saves_a_running_search_once_it_has_run_long_enough(
        tmp_path, monkeypatch, min_seconds, saves):
    monkeypatch.setattr(Checkpoints, "AUTO_MIN_SECONDS", min_seconds)
    saved = []
    monkeypatch.setattr(Checkpoints, "save_state",
                        lambda self, key, state, written=0: saved.append(state["generation"]) or 0)
    job = group_layers(select_layers(LAYERS))[1]
    run_job(job, HW, GAConfig(num_pop=8, epochs=12), SEED, checkpoints=Checkpoints(tmp_path))
    assert saved == saves


def test_clear_deletes_the_checkpoints_only(tmp_path):
    ck = Checkpoints(tmp_path / "ck", every=1)
    run_model(select_layers(LAYERS), HW, CFG, SEED, checkpoints=ck)
    assert ck.finished() == [1, 2]
    ck.clear()
    assert ck.finished() == [] and not (tmp_path / "ck").exists()
    ck.clear()      # nothing left: no error
    mine = tmp_path / "shared"
    mine.mkdir()
    (mine / "notes.txt").write_text("not a checkpoint")
    Checkpoints(mine).clear()
    assert (mine / "notes.txt").is_file()


def test_an_unreadable_checkpoint_is_searched_again(tmp_path, reference, caplog):
    ck = Checkpoints(tmp_path, every=0)
    ck.result_path(2).write_bytes(b"not a pickle")
    out = run_model(select_layers(LAYERS), HW, CFG, SEED, checkpoints=ck)
    assert "ignoring the checkpoint" in caplog.text
    assert_same(out[1][1], reference[1][1])


def test_a_layer_interrupted_part_way_continues_from_its_checkpoint(tmp_path, reference):
    job = group_layers(select_layers(LAYERS))[1]
    ck = Checkpoints(tmp_path, every=2)
    with pytest.raises(KeyboardInterrupt):
        run_job(job, HW, CFG, SEED, Counting(stop=5), checkpoints=ck)
    state = ck.load_state(job.key)
    assert state is not None and ck.load_result(job.key) is None
    counting = Counting()
    resumed = run_model(select_layers(LAYERS), HW, CFG, SEED, checkpoints=ck, evaluate=counting)
    # Layer 1 from scratch (7 generations), layer 2 from generation 4 (3 more).
    assert counting.calls == CFG.epochs + (CFG.epochs - 4)
    for (_, x), (_, y) in zip(reference, resumed, strict=True):
        assert_same(x, y)
    assert ck.finished() == [1, 2] and ck.load_state(job.key) is None


def test_checkpoints_from_worker_processes(tmp_path, reference):
    ck = Checkpoints(tmp_path, every=1)
    out = run_model(select_layers(LAYERS), HW, CFG, SEED, workers=2, checkpoints=ck)
    assert ck.finished() == [1, 2]
    for (_, x), (_, y) in zip(reference, out, strict=True):
        assert_same(x, y)


def test_random_search_is_checkpointed_too(tmp_path):
    cfg = GAConfig(num_pop=8, epochs=5, method="random")
    ref = run_model(select_layers(LAYERS), HW, cfg, SEED)
    ck = Checkpoints(tmp_path, every=2)
    job = group_layers(select_layers(LAYERS))[0]
    with pytest.raises(KeyboardInterrupt):
        run_job(job, HW, cfg, SEED, Counting(stop=3), checkpoints=ck)
    assert ck.load_state(job.key) is not None
    out = run_model(select_layers(LAYERS), HW, cfg, SEED, checkpoints=ck)
    for (_, x), (_, y) in zip(ref, out, strict=True):
        assert_same(x, y)
        assert y.method == "random"


def test_a_checkpoint_of_other_settings_is_ignored(tmp_path, reference, caplog):
    job = group_layers(select_layers(LAYERS))[1]
    ck = Checkpoints(tmp_path, every=2)
    with pytest.raises(KeyboardInterrupt):
        run_job(job, HW, GAConfig(num_pop=6, epochs=7), SEED, Counting(stop=3), checkpoints=ck)
    out = run_model(select_layers(LAYERS), HW, CFG, SEED, checkpoints=ck)
    assert "ignoring its checkpoint" in caplog.text
    assert_same(out[1][1], reference[1][1])
