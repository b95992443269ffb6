"""The other optimizers (``--method pso|portfolio|oneplusone|cma|de|tbpsa|ngopt|pure_ga``) on
GAMMA's map space: budget, constraints, feasibility order, repeatability, co-design, resume."""
import pickle
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from gamma import constraints as cst
from gamma.hardware import Hardware
from gamma.mapping import NUM_DIMS
from gamma.plugins import load_mapping_cstr
from gamma.search import blackbox
from gamma.search.blackbox import (
    INFEASIBLE,
    METHODS,
    NEVERGRAD,
    Encoding,
    blackbox_search,
    loss,
    make_search,
)
from gamma.search.config import GAConfig
from gamma.workload import Layer

HW = Hardware(num_pes=168, l1_size=512, l2_size=108000, noc_bw=81920000, name="edge")
CONV = Layer("CONV", K=64, C=64, Y=56, X=56, R=3, S=3)
TINY = GAConfig(num_pop=6, epochs=3)


def _needs(method):
    if method in NEVERGRAD:
        pytest.importorskip("nevergrad")


def _run(method, cfg=TINY, seed=0, layer=CONV, hw=HW, **kw):
    _needs(method)
    return blackbox_search(layer, hw, replace(cfg, method=method), np.random.default_rng(seed), **kw)


def _spy(monkeypatch):
    """Record every population scored (and its size) by the searches of this module."""
    scored = []
    real = blackbox.score

    def spy(pop, *args, **kwargs):
        scored.append(pop.copy())
        return real(pop, *args, **kwargs)

    monkeypatch.setattr(blackbox, "score", spy)
    return scored


@pytest.mark.parametrize("method", METHODS)
def test_exactly_num_pop_times_epochs_samples_in_epochs_calls(method, monkeypatch):
    scored = _spy(monkeypatch)
    cfg = GAConfig(num_pop=5, epochs=4)
    result = _run(method, cfg)
    assert [len(pop) for pop in scored] == [5, 5, 5, 5]
    assert result.samples == 20 and len(result.scored) == 20
    assert list(result.history["samples"]) == [5, 10, 15, 20]
    assert result.method == method


@pytest.mark.parametrize("method", METHODS)
def test_every_scored_mapping_meets_the_mapping_constraint(method, monkeypatch):
    """dla_map (K across clusters, C across 16 PEs, fixed inner tiles and order) holds for
    every candidate scored, not only for the best."""
    scored = _spy(monkeypatch)
    constraint = load_mapping_cstr("dla_map").constraint
    cfg = GAConfig(num_pop=6, epochs=2, constraint=constraint)
    result = _run(method, cfg)
    for pop in scored + [result.best]:
        assert cst.check(pop, constraint, CONV, HW.num_pes).all()
        assert (pop.cluster[:, 1] == 16).all() and (pop.par[:, 1] == 1).all()   # C across 16 PEs
    assert result.samples == 12


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_result_other_seed_differs(method):
    a, b, c = _run(method, seed=3), _run(method, seed=3), _run(method, seed=4)
    assert a.best_scores["runtime"] == b.best_scores["runtime"]
    np.testing.assert_array_equal(a.scored["latency_1"], b.scored["latency_1"])
    assert not np.array_equal(a.scored["latency_1"], c.scored["latency_1"])


@pytest.mark.parametrize("method", METHODS)
def test_codesign_gives_each_candidate_a_pe_count_within_the_limit(method, monkeypatch):
    scored = _spy(monkeypatch)
    cfg = GAConfig(num_pop=6, epochs=2, pe_limit=64, area_budget=1.0)
    result = _run(method, cfg)
    pes = np.concatenate([pop.pes for pop in scored])
    assert ((pes >= 1) & (pes <= 64)).all() and len(np.unique(pes)) > 1
    assert 1 <= result.best_scores["num_pes"] <= 64 and result.samples == 12


@pytest.mark.parametrize("method", ["cma", "pure_ga"])
def test_honest_trust_holds_and_undercount_is_accepted_only_when_asked(method):
    """Under the default (exact) trust the best feasible mapping is exact and not an
    undercount; the same search with trust="undercount" may report either."""
    cfg = GAConfig(num_pop=10, epochs=3)
    honest = _run(method, cfg, seed=1)
    if honest.feasible:
        assert honest.best_scores["exact_analysis"] and not honest.best_scores["undercount"]
        assert honest.best_scores["runtime"] * HW.num_pes >= CONV.macs
    lax = _run(method, replace(cfg, trust="undercount"), seed=1)
    assert lax.samples == 30


def test_loss_keeps_the_ga_order():
    table = {"latency": np.array([100.0, 100.0, 90.0, 50.0, 50.0, 50.0]),
             "energy": np.array([2.0, 1.0, 5.0, 1.0, 1.0, 1.0]),
             "violation": np.array([0.0, 0.0, 0.0, 0.5, 3.0, np.inf])}
    lex = loss(table, GAConfig())
    assert list(np.argsort(lex)) == [2, 1, 0, 3, 4, 5]          # feasible by latency, energy ties
    assert (lex[3:] >= INFEASIBLE).all() and (lex[:3] < INFEASIBLE).all()
    assert np.isfinite(lex).all()
    pareto = loss(table, GAConfig(pareto=True))
    assert pareto[1] < pareto[0] < pareto[2]                     # latency x energy: 100, 200, 450


def test_decoding_covers_the_map_space_and_stays_inside_it():
    cfg = GAConfig(slevel_min=1, slevel_max=3)
    space = cfg.space(CONV, HW)
    enc = Encoding(space)
    assert enc.dim == 1 + 3 * (2 + 2 * NUM_DIMS)
    rng = np.random.default_rng(0)
    u = np.vstack([np.zeros(enc.dim), np.ones(enc.dim), rng.random((500, enc.dim))])
    pop = enc.decode(u, rng)
    assert set(np.unique(pop.levels)) == {1, 2, 3}
    assert set(np.unique(pop.par[:, 0])) == set(space.par_choices)
    act = pop.active()
    assert (pop.tile >= 1).all() and (pop.tile[:, 0] <= space.max_tile).all()
    assert (pop.tile[:, 1:] <= pop.tile[:, :-1]).all()
    clusters = np.where(act, pop.cluster, 1)[:, 1:].prod(axis=1)
    assert (clusters <= HW.num_pes).all()
    assert (np.sort(pop.order, axis=2) == np.arange(NUM_DIMS)).all()     # permutations
    free = space.free_tiles[0]                                            # R, S: the whole filter
    assert (pop.tile[0, 0][free] == 1).all()                              # u = 0: smallest tiles
    assert pop.tile[1, 0].tolist() == space.max_tile.tolist()            # u = 1: largest


def test_use_factor_decodes_to_divisors():
    cfg = GAConfig(use_factor=True)
    space = cfg.space(CONV, HW)
    enc = Encoding(space)
    pop = enc.decode(np.random.default_rng(1).random((200, enc.dim)), np.random.default_rng(1))
    assert (space.sizes % pop.tile[:, 0] == 0).all()
    assert (pop.tile[:, 0] % pop.tile[:, 1] == 0).all()


@pytest.mark.parametrize("method", ["cma", "de", "pure_ga"])
def test_resume_after_a_generation_equals_the_uninterrupted_run(method):
    _needs(method)
    cfg = replace(TINY, method=method)
    whole = make_search(CONV, HW, cfg, np.random.default_rng(5)).run()
    search = make_search(CONV, HW, cfg, np.random.default_rng(5))
    search.step()
    saved = pickle.loads(pickle.dumps(search.state()))
    resumed = type(search).from_state(saved, CONV, HW, cfg).run()
    np.testing.assert_array_equal(whole.scored["latency_1"], resumed.scored["latency_1"])
    assert resumed.samples == whole.samples == 18
    with pytest.raises(ValueError):
        type(search).from_state(saved, CONV, HW, replace(cfg, num_pop=7))


def test_infeasible_everywhere_is_reported_not_hidden():
    """An L1 too small for any mapping: the search spends its budget and returns its least
    violating candidate, flagged infeasible."""
    hw = Hardware(num_pes=168, l1_size=1, l2_size=108000, noc_bw=81920000, name="tiny-l1")
    result = _run("pure_ga", GAConfig(num_pop=6, epochs=2), hw=hw)
    assert not result.feasible and result.samples == 12 and result.best_scores["violation"] > 0


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="pure_ga"):
        make_search(CONV, HW, GAConfig(method="gamma"), np.random.default_rng(0))


@pytest.mark.parametrize("method", ["oneplusone", "pure_ga"])
def test_pareto_mode_returns_the_front_of_every_feasible_candidate(method):
    cfg = GAConfig(num_pop=10, epochs=3, pareto=True)
    result = _run(method, cfg, seed=2)
    assert result.feasible and len(result.front) >= 1 and result.samples == 30
    lat, energy = result.front_scores["latency"], result.front_scores["energy"]
    assert (np.diff(lat) > 0).all() and (np.diff(energy) < 0).all()     # non-dominated, sorted
    feasible = result.scored[result.scored["feasible"]]
    assert lat.min() == feasible["latency_1"].min()


def test_missing_nevergrad_is_a_one_line_input_error(monkeypatch):
    import sys

    from gamma.errors import GammaInputError

    monkeypatch.setitem(sys.modules, "nevergrad", None)          # import nevergrad now fails
    with pytest.raises(GammaInputError, match=r"--method tbpsa: .*pip install -e \.\[nevergrad\]"):
        make_search(CONV, HW, replace(TINY, method="tbpsa"), np.random.default_rng(0))


def test_the_command_line_runs_other_methods_by_gammas_names(tmp_path):
    """GAMMA's run_others.sh spells the methods DE, CMA, pureGA: the same searches run.
    (GAMMA's default budget: with a handful of samples a black-box optimizer may draw no
    exactly analysed mapping of the strided stem, whose multi-row tiles MAESTRO's
    level-static edge sizes miscount.)"""
    from run_folders import run_folder

    from gamma.cli import main

    pytest.importorskip("nevergrad")
    for spelling, method in (("DE", "de"), ("pureGA", "pure_ga")):
        out = tmp_path / method
        assert main(["--model", "resnet18", "--num_layer", "2", "--method", spelling, "--num_pop", "20",
                     "--epochs", "10", "--seed", "1", "--log_level", "0", "--no_plots", "--jobs", "1",
                     "--outdir", str(out)]) == 0
        rows = pd.read_csv(run_folder(out) / "results.csv")
        assert list(rows["samples"]) == [200, 200]
        assert f"Method-{method}" in run_folder(out).name
