"""Hardware/mapping co-design under an area budget: per layer and whole model."""
from __future__ import annotations

import numpy as np
import pytest
from run_folders import run_folder

from gamma import codesign as cd
from gamma import codesign_model as cdm
from gamma.costmodel import evaluate
from gamma.errors import GammaInputError
from gamma.hardware import AreaModel, Hardware, load_hardware
from gamma.mapping import to_directives
from gamma.search.ga import GAConfig, search_layer
from gamma.search.params import GAParams
from gamma.search.seeding import structured_population
from gamma.search.space import SearchSpace, cluster_product, random_population, repair
from gamma.search.trust import HonestStrategy
from gamma.search.variation import mutate_pe, vary
from gamma.workload import Layer

HW = Hardware(num_pes=168, noc_bw=81920000, name="edge")          # buffers unlimited
SMALL = Layer("CONV", K=16, C=8, Y=10, X=10, R=3, S=3, name="small")
POINTWISE = Layer("CONV", K=32, C=16, Y=8, X=8, R=1, S=1, name="pw")
DEPTHWISE = Layer("DSCONV", K=1, C=16, Y=10, X=10, R=3, S=3, name="dw")
BUDGET = 0.01   # mm²: about 30 PEs


def _cfg(**kw):
    base = dict(num_pop=16, epochs=6, fitness1="latency", fitness2="energy", area_budget=BUDGET)
    base.update(kw)
    return GAConfig(**base)


def _codesign(layer, pe_limit=0, **kw):
    cfg = cd.layer_codesign_config([layer], HW, _cfg(**kw), pe_limit=pe_limit)
    return cfg, search_layer(layer, HW, cfg, np.random.default_rng(1))


# -- area model ---------------------------------------------------------------

def test_area_parts_sum_and_digamma_formula():
    area = AreaModel()
    parts = area.parts_um2(100, 64, 5000)
    assert parts["pe"] == pytest.approx(282 * 100)
    assert parts["l1"] + parts["l2"] == pytest.approx(0.086 * 8 * (64 * 100 + 5000))
    assert area.area_um2(100, 64, 5000) == pytest.approx(sum(p for p in parts.values()))


def test_maestro_area_model_from_yaml(tmp_path):
    path = tmp_path / "hw.yaml"
    path.write_text("num_pes: 64\nnoc_bw: 32\narea: {model: maestro}\n")
    hw = load_hardware(path)
    assert hw.area.model == "maestro"
    l1, l2 = np.array([100]), np.array([2000])
    costs_area = __import__("gamma.costmodel.hwcost", fromlist=["area_power"]).area_power(
        64, 1, 32, l1, l2)[0]
    assert hw.area.area_um2(64, l1, l2, noc_bw=32) == pytest.approx(costs_area)
    with pytest.raises(GammaInputError):
        AreaModel(model="nope")


# -- per-layer co-design --------------------------------------------------------

@pytest.mark.parametrize("layer", [SMALL, DEPTHWISE])
def test_budget_holds_when_area_is_not_an_objective(layer):
    cfg, result = _codesign(layer)
    assert result.feasible
    budget = cfg.area_budget_um2
    s = result.best_scores
    assert s["area"] <= budget
    assert s["area"] == pytest.approx(s["area_pe"] + s["area_l1"] + s["area_l2"] + s["area_noc"])
    assert np.all(result.front_scores["area"] <= budget)
    # the reported design re-scored by the cost model on its own PE count
    costs = evaluate(layer, HW.replace(num_pes=int(s["num_pes"])), to_directives(result.best, layer))
    assert costs.runtime[0] == s["runtime"]
    assert HW.area.area_um2(s["num_pes"], costs.l1_size_req[0], costs.l2_size_req[0]) <= budget


def test_budget_holds_in_pareto_mode_with_area_objective():
    cfg, result = _codesign(SMALL, fitness2="area", pareto=True)
    assert len(result.front) and np.all(result.front_scores["area"] <= cfg.area_budget_um2)


def test_budget_is_enforced_on_fixed_hardware_too():
    hw = Hardware(num_pes=64)                   # 64 MACs alone: 18048 µm² > 0.01 mm²
    result = search_layer(SMALL, hw, _cfg(), np.random.default_rng(0))
    assert not result.feasible and result.best_scores["violation"] > 0
    ok = search_layer(SMALL, hw, _cfg(area_budget=0.05), np.random.default_rng(0))
    assert ok.feasible and ok.best_scores["area"] <= 0.05e6


def test_pe_counts_respect_limit_and_clusters():
    cfg, result = _codesign(SMALL, pe_limit=12)
    assert cfg.pe_limit == 12
    assert 1 <= result.best_scores["num_pes"] <= 12
    space = cfg.space(SMALL, HW)
    pop = random_population(space, 300, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    for _ in range(5):
        pop = vary(pop, space, rng, HonestStrategy(GAParams()))
        cl = cluster_product(pop)
        assert np.all((pop.pes >= 1) & (pop.pes <= 12)) and np.all(pop.pes % cl == 0)


def test_mutate_pe_follows_parallel_tile():
    space = SearchSpace(layer=SMALL, num_pes=200, codesign=True)
    pop = structured_population(space, 400, np.random.default_rng(0), GAParams())
    out = repair(mutate_pe(pop, space, np.random.default_rng(1), GAParams(), rate=1.0), space,
                     np.random.default_rng(2))
    cl = cluster_product(out)
    assert np.all(out.pes % cl == 0) and np.all(out.pes <= 200)
    chunks = np.ceil(space.sizes[out.par[:, 0]] / out.tile[np.arange(len(out)), 0, out.par[:, 0]])
    # most top-level cluster counts stay within the useful range (not idling)
    assert np.mean(out.pes // cl <= np.maximum(chunks, 1)) > 0.7


def test_unsatisfiable_budget_is_one_line_error():
    with pytest.raises(GammaInputError) as err:
        cd.layer_codesign_config([SMALL], HW, _cfg(area_budget=1e-5))
    message = str(err.value)
    assert "--area_budget" in message and "\n" not in message


def test_default_pe_limit_from_budget():
    said = []
    cfg = cd.layer_codesign_config([POINTWISE], HW, _cfg(area_budget=0.05), info=said.append)
    assert "--pe_limit" in said[0]
    assert cd.default_pe_limit(HW, 0.05) == 177            # 50000 // 282
    assert 1 <= cfg.pe_limit <= 177


def test_codesign_without_budget_is_an_error():
    with pytest.raises(GammaInputError, match="--area_budget"):
        cd.layer_codesign_config([SMALL], HW, _cfg(area_budget=0.0))


# -- whole-model co-design ---------------------------------------------------------

@pytest.fixture(scope="module")
def model_result():
    layers = [SMALL, POINTWISE, SMALL, DEPTHWISE]
    mcfg = cdm.ModelCodesignConfig(explore=(10, 4), polish=(12, 4), grid=4, refine=2)
    return layers, cdm.codesign_model(layers, HW, _cfg(), mcfg, seed=0)


def test_model_one_hardware_and_every_mapping_fits(model_result):
    layers, result = model_result
    hw = result.hardware
    assert len(result.groups) == 3 and [g.count for g in result.groups] == [2, 1, 1]
    assert hw.area.area_um2(hw.num_pes, hw.l1_size, hw.l2_size) <= BUDGET * 1e6
    assert result.totals["area_um2"] <= BUDGET * 1e6 and result.totals["feasible"]
    total = 0
    for group, res in zip(result.groups, result.results, strict=True):
        costs = evaluate(group.layer, hw, to_directives(res.best, group.layer))
        assert costs.valid[0] and costs.exact_analysis[0]
        assert costs.l1_size_req[0] <= hw.l1_size and costs.l2_size_req[0] <= hw.l2_size
        assert costs.runtime[0] == res.best_scores["runtime"]
        assert res.best_scores["num_pes"] == hw.num_pes
        total += group.count * costs.runtime[0]
    assert total == result.totals["latency_cycles"]
    # the hardware's buffers are exactly the largest needs
    assert hw.l1_size == max(r.best_scores["l1_size_req"] for r in result.results)


def test_model_pareto_outputs(model_result, tmp_path):
    _, result = model_result
    csv, png = cdm.write_pareto(result, tmp_path)
    assert csv.is_file() and png.stat().st_size > 1000
    points = result.points
    assert points["on_front"].any() and points["chosen"].sum() == 1
    chosen = points[points["chosen"]].iloc[0]
    within = points[points["within_budget"]]
    assert chosen["latency_cycles"] <= within["latency_cycles"].min()
    assert {"num_pes", "l1_size", "l2_size", "area_um2", "area_pe_um2", "area_l1_um2",
            "area_l2_um2", "latency_cycles"} <= set(points.columns)


def test_model_unsatisfiable_budget():
    with pytest.raises(GammaInputError, match="--area_budget"):
        cdm.codesign_model([SMALL, POINTWISE], HW, _cfg(area_budget=1e-5))


# -- command line ---------------------------------------------------------------------

CLI_FAST = ["--num_pop", "8", "--epochs", "3", "--seed", "1", "--log_level", "0"]


def _tiny_model(tmp_path):
    from gamma.workload import write_model
    path = tmp_path / "tiny.csv"
    write_model(path, [SMALL, POINTWISE, SMALL])
    return str(path)


def test_cli_unsatisfiable_budget_exit_2_one_line(capsys, tmp_path):
    from gamma.cli import main
    for mode in ("layer", "model"):
        code = main(["--model", _tiny_model(tmp_path), "--num_pe", "-1", "--area_budget", "1e-5",
                     "--codesign", mode, "--outdir", str(tmp_path / mode)] + CLI_FAST)
        err = capsys.readouterr().err.strip()
        assert code == 2 and err.startswith("gamma: error: --area_budget")
        assert len(err.splitlines()) == 1


def test_cli_layer_codesign_rows_have_hardware_columns(capsys, tmp_path):
    import pandas as pd

    from gamma.cli import main
    out = tmp_path / "run"
    assert main(["--model", _tiny_model(tmp_path), "--num_pe", "-1", "--area_budget", str(BUDGET),
                 "--pe_limit", "24", "--outdir", str(out), "--no_plots"] + CLI_FAST) == 0
    rows = pd.read_csv(run_folder(out) / "results.csv")
    assert (rows["area_um2"] <= BUDGET * 1e6).all() and rows["feasible"].all()
    assert ((rows["num_pes"] >= 1) & (rows["num_pes"] <= 24)).all()
    parts = rows["area_pe_um2"] + rows["area_l1_um2"] + rows["area_l2_um2"]
    assert np.allclose(parts, rows["area_um2"])
    assert (rows["l1_size"] == rows["l1_req_elements"]).all()


def test_cli_model_codesign(capsys, tmp_path):
    import pandas as pd

    from gamma.cli import main
    out = tmp_path / "run"
    assert main(["--model", _tiny_model(tmp_path), "--num_pe", "-1", "--area_budget", str(BUDGET),
                 "--codesign", "model", "--outdir", str(out)] + CLI_FAST) == 0
    rows = pd.read_csv(run_folder(out) / "results.csv")
    assert len(rows) == 3 and rows["feasible"].all()
    for column in ("num_pes", "l1_size", "l2_size", "area_um2"):
        assert rows[column].nunique() == 1, column          # one accelerator
    assert (rows["l1_req_elements"] <= rows["l1_size"]).all()
    assert (rows["l2_req_elements"] <= rows["l2_size"]).all()
    assert rows["area_um2"].iloc[0] <= BUDGET * 1e6
    points = pd.read_csv(run_folder(out) / "codesign_pareto.csv")
    assert points["on_front"].any() and points["chosen"].sum() == 1
    assert (run_folder(out) / "plots" / "codesign_pareto.png").is_file()
