"""Proven lower bounds: no trusted mapping the search can produce scores below them."""
import itertools

import numpy as np
import pytest

from gamma.bounds import (
    busiest_lower_bound,
    energy_lower_bound,
    gap,
    layer_bounds,
    structure_bound,
    true_sizes,
)
from gamma.hardware import Hardware
from gamma.mapping import Population
from gamma.search.ga import GAConfig, score, search_layer
from gamma.search.params import GAParams
from gamma.search.seeding import structured_population
from gamma.search.space import random_population
from gamma.workload import Layer

EDGE = Hardware(num_pes=168, l1_size=512, l2_size=108000, noc_bw=81920000, name="edge")
HARDWARE = [EDGE, EDGE.replace(num_pes=7), EDGE.replace(num_pes=64, simd_lanes=4),
            EDGE.replace(num_pes=30, l1_size=None, l2_size=None)]
LAYERS = [Layer("CONV", 64, 3, 230, 230, 7, 7, 2), Layer("CONV", 128, 64, 58, 58, 3, 3, 2),
          Layer("DSCONV", 1, 96, 115, 115, 3, 3, 2), Layer("DSCONV", 1, 32, 114, 114, 3, 3, 1),
          Layer("GEMM", 30, 17, 23, 1, 1, 1), Layer("FC", 1000, 512, 1, 1, 1, 1),
          Layer("CONV", 13, 7, 11, 9, 3, 2, 1), Layer("CONV", 5, 6, 12, 12, 1, 1, 3),
          Layer("CONV", 24, 40, 17, 17, 5, 5, 2)]
RESNET_L2 = Layer("CONV", 64, 64, 58, 58, 3, 3)


def _trusted(table):
    return table["valid"] & table["exact_analysis"] & ~table["undercount"]


def _check_sound(layer, hw, cfg, pop):
    bound = layer_bounds(layer, hw, cfg)
    table = score(pop, layer, hw, cfg)
    ok = _trusted(table)
    assert np.all(table["runtime"][ok] >= bound.latency_cycles)
    assert np.all(table["busiest_pe_macs"][ok] >= bound.busiest_macs)
    assert np.all(table["energy_nj"][ok] >= bound.energy_nj * (1 - 1e-9))
    return int(ok.sum())


def test_no_trusted_random_mapping_scores_below_the_bound():
    rng = np.random.default_rng(1)
    checked = 0
    for layer, hw in itertools.product(LAYERS, HARDWARE):
        for levels, par_rs in itertools.product((1, 2, 3), (False, True)):
            cfg = GAConfig(slevel_min=1, slevel_max=levels, par_rs=par_rs)
            space = cfg.space(layer, hw)
            pop = Population.concatenate([random_population(space, 150, rng),
                                          structured_population(space, 150, rng, GAParams())])
            checked += _check_sound(layer, hw, cfg, pop)
    assert checked > 40000


def test_no_searched_mapping_scores_below_the_bound():
    """The GA seeks the cheapest mappings: its whole population, every layer."""
    for layer in LAYERS:
        for hw, levels in ((EDGE, 2), (HARDWARE[2], 3), (HARDWARE[1], 1)):
            cfg = GAConfig(num_pop=30, epochs=6, slevel_min=1, slevel_max=levels)
            result = search_layer(layer, hw, cfg, np.random.default_rng(3))
            bound = layer_bounds(layer, hw, cfg)
            if result.feasible:
                assert result.best_scores["runtime"] >= bound.latency_cycles
                assert result.best_scores["energy_nj"] >= bound.energy_nj * (1 - 1e-9)
            feasible = result.scored["feasible"].to_numpy()
            assert np.all(result.scored["latency_1"].to_numpy()[feasible] >= bound.latency_cycles)


def test_sound_on_a_small_sample():
    rng = np.random.default_rng(5)
    layer, hw = LAYERS[-1], HARDWARE[3]
    cfg = GAConfig(slevel_min=1, slevel_max=3, par_rs=True)
    pop = random_population(cfg.space(layer, hw), 400, rng)
    assert _check_sound(layer, hw, cfg, pop) > 50


def test_bound_is_strictly_above_macs_over_pes_when_the_layer_does_not_split():
    """ResNet-18 layer 2: 64 x 64 x 56 x 56 x 9 MACs do not split evenly over 168 PEs."""
    bound = layer_bounds(RESNET_L2, EDGE, GAConfig())
    assert bound.average_cycles == -(-RESNET_L2.macs // 168) == 688128
    assert bound.latency_cycles > bound.average_cycles
    # best split: Y' (56 rows) over 56 clusters, X' over 3 units: ceil(56 / 3) = 19 columns
    assert bound.busiest_macs == 700416 == 64 * 64 * 1 * 19 * 9


def test_bound_equals_macs_over_pes_when_the_layer_splits_evenly():
    layer = Layer("CONV", 64, 64, 58, 58, 3, 3)
    hw = EDGE.replace(num_pes=64)
    assert layer_bounds(layer, hw, GAConfig()).latency_cycles == layer.macs // 64


def test_structure_bound_by_hand():
    sizes = np.array([10, 3, 7, 1, 1, 1])
    units = np.array([[4, 1, 1, 1, 1, 1], [1, 2, 3, 1, 1, 1]])
    np.testing.assert_array_equal(structure_bound(sizes, units), [3 * 3 * 7, 10 * 2 * 3])


def test_one_level_bound_is_the_best_single_dimension():
    layer = Layer("CONV", 10, 3, 7, 7, 1, 1)
    # 1 level, 4 PEs: K over 4 -> ceil(10/4)*3*49 = 441; C -> 1*10*49 = 490; Y -> 2*10*3*7 = 420
    assert busiest_lower_bound(layer, 4, slevel_max=1) == 420
    # 2 levels: Y over 4 and ... 2 x 2: K 5 * Y 4 -> 5*3*4*7 = 420 ; K over 2, X over 2: 5*3*7*4 = 420
    assert busiest_lower_bound(layer, 4, slevel_max=2) == 420


def test_fixed_cluster_bound_uses_the_exact_unit_counts():
    layer = Layer("CONV", 64, 64, 58, 58, 3, 3)
    free = busiest_lower_bound(layer, 168, slevel_max=2)
    fixed = busiest_lower_bound(layer, 168, slevel_max=2, slevel_min=2, fixed_cluster=5)
    assert fixed >= free
    # 33 clusters of 5: best is C over 33 (ceil 64/33 = 2) and K over 5 (ceil 64/5 = 13)
    assert fixed == 13 * 2 * 56 * 56 * 9


def test_true_sizes_count_strided_outputs():
    layer = Layer("CONV", 64, 3, 230, 230, 7, 7, 2)
    np.testing.assert_array_equal(true_sizes(layer), [64, 3, 112, 112, 7, 7])
    assert np.prod(true_sizes(layer)) == layer.macs
    dw = Layer("DSCONV", 1, 32, 114, 114, 3, 3, 1)
    assert np.prod(true_sizes(dw)) == dw.macs


def test_lanes_divide_the_busiest_work():
    hw = EDGE.replace(simd_lanes=4)
    b1, b4 = layer_bounds(RESNET_L2, EDGE), layer_bounds(RESNET_L2, hw)
    assert b4.busiest_macs == b1.busiest_macs
    assert b4.latency_cycles == -(-b1.busiest_macs // 4)


def test_energy_bound_by_hand():
    layer = Layer("CONV", 2, 3, 4, 4, 3, 3)
    macs = 2 * 3 * 2 * 2 * 9
    expected = macs * (1 + 4 * 1.68) + 18.61 * (3 * 16 + 2 * 3 * 9 + 2 * 2 * 2)
    assert energy_lower_bound(layer) == pytest.approx(expected)


def test_gap():
    assert gap(110, 100) == pytest.approx(1.1)
    assert np.isnan(gap(110, 0))


@pytest.mark.parametrize("plugin", ["eye_map", "dla_map", "shi_map"])
def test_sound_under_mapping_constraints(plugin):
    """Constraints narrow the map space (a 2-D level with ``sp2`` falls back to MACs / PEs)."""
    from gamma.constraints import MAESTRO_CSTR
    from gamma.plugins import load_mapping_cstr
    constraint = MAESTRO_CSTR.combined(load_mapping_cstr(plugin).constraint)
    rng = np.random.default_rng(11)
    checked = 0
    for layer in (RESNET_L2, LAYERS[3], LAYERS[6], LAYERS[4]):
        cfg = GAConfig(slevel_min=1, slevel_max=3, constraint=constraint)
        space = cfg.space(layer, EDGE)
        pop = Population.concatenate([random_population(space, 300, rng),
                                      structured_population(space, 300, rng, GAParams())])
        checked += _check_sound(layer, EDGE, cfg, pop)
    assert checked > 100


def test_sound_with_fixed_clusters():
    rng = np.random.default_rng(12)
    for layer, fixed in itertools.product(LAYERS[1:7], (2, 5, 13)):
        cfg = GAConfig(slevel_min=2, slevel_max=3, fixed_cluster=fixed)
        pop = random_population(cfg.space(layer, EDGE), 300, rng)
        _check_sound(layer, EDGE, cfg, pop)
