"""The exact search: equal to full enumeration on tiny layers, honest at its time limit."""
import itertools

import numpy as np
import pytest

from gamma import constraints as cst
from gamma.bounds import layer_bounds
from gamma.hardware import Hardware
from gamma.mapping import NO_DIM, NUM_DIMS, Population
from gamma.runner import Job, run_job
from gamma.search.exhaustive import exhaustive_search, families
from gamma.search.ga import GAConfig, score
from gamma.workload import Layer

HW = Hardware(num_pes=4, l1_size=None, l2_size=None, noc_bw=81920000, name="tiny")
TINY = Layer("CONV", 2, 3, 3, 3, 1, 1)
FIXED_ORDER = cst.MAESTRO_CSTR.combined(cst.MappingConstraint(
    every_level=cst.LevelConstraint(order=("K", "C", "Y", "X", "R", "S")), name="fixed"))


def _brute_force(layer, hw, cfg) -> float:
    """Least feasible latency over every mapping, built directly (no pruning, no search)."""
    space = cfg.space(layer, hw)
    sizes = space.max_tile
    best = np.inf
    for levels in range(cfg.slevel_min, cfg.slevel_max + 1):
        width = cfg.slevel_max
        per_level_tiles = list(itertools.product(*[range(1, int(s) + 1) for s in sizes]))
        tile_sets = [t for t in itertools.product(per_level_tiles, repeat=levels)
                     if all(all(a >= b for a, b in zip(t[i], t[i + 1], strict=True))
                            for i in range(levels - 1))]
        orders = list(itertools.permutations(range(NUM_DIMS)))
        if cfg.constraint.level(0).order:
            orders = [tuple(range(NUM_DIMS))]
        for par in itertools.product(space.par_choices.tolist(), repeat=levels):
            for clusters in itertools.product(range(1, hw.num_pes + 1), repeat=levels - 1):
                if np.prod(clusters) > hw.num_pes:
                    continue
                rows = list(itertools.product(tile_sets, itertools.product(orders, repeat=levels)))
                n = len(rows)
                tile = np.ones((n, width, NUM_DIMS), dtype=np.int64)
                order = np.tile(np.arange(NUM_DIMS), (n, width, 1))
                for i, (t, o) in enumerate(rows):
                    tile[i, :levels] = t
                    order[i, :levels] = o
                cluster = np.ones((n, width), dtype=np.int64)
                cluster[:, 0] = 0
                cluster[:, 1:levels] = clusters
                par_row = np.full(width, par[0])
                par_row[:levels] = par
                pop = Population(par=np.tile(par_row, (n, 1)),
                                 par2=np.full((n, width), NO_DIM, dtype=np.int64),
                                 cluster=cluster, order=order, tile=tile,
                                 levels=np.full(n, levels, dtype=np.int64))
                pop = pop.take(cst.check(pop, cfg.constraint, layer, hw.num_pes))
                table = score(pop, layer, hw, cfg)
                if table["feasible"].any():
                    best = min(best, table["latency"][table["feasible"]].min())
    return best


def test_one_level_equals_full_enumeration():
    cfg = GAConfig(num_pop=6, epochs=2, slevel_min=1, slevel_max=1)
    result = exhaustive_search(TINY, HW, cfg, np.random.default_rng(0))
    assert result.proven_optimal and result.method == "exhaustive"
    assert result.best_scores["runtime"] == _brute_force(TINY, HW, cfg) == 19
    assert result.lower_bound == 19
    assert result.lower_bound >= layer_bounds(TINY, HW, cfg).latency_cycles


@pytest.mark.parametrize("layer", [Layer("DSCONV", 1, 3, 5, 5, 2, 2, 2),
                                   Layer("CONV", 2, 2, 5, 4, 2, 1, 2),
                                   Layer("GEMM", 3, 5, 2, 1, 1, 1)])
def test_strided_depthwise_and_gemm_layers_equal_full_enumeration(layer):
    cfg = GAConfig(num_pop=6, epochs=2, slevel_min=1, slevel_max=1)
    result = exhaustive_search(layer, HW, cfg, np.random.default_rng(2))
    assert result.proven_optimal
    assert result.best_scores["runtime"] == _brute_force(layer, HW, cfg)


def test_two_levels_equal_full_enumeration():
    layer = Layer("CONV", 2, 2, 2, 3, 1, 1)
    cfg = GAConfig(num_pop=6, epochs=2, slevel_min=1, slevel_max=2, constraint=FIXED_ORDER)
    result = exhaustive_search(layer, HW, cfg, np.random.default_rng(1))
    assert result.proven_optimal
    assert result.best_scores["runtime"] == _brute_force(layer, HW, cfg)


def test_undercounts_allowed_enumerates_everything():
    cfg = GAConfig(num_pop=6, epochs=2, slevel_min=1, slevel_max=1, trust="undercount")
    result = exhaustive_search(TINY, HW, cfg, np.random.default_rng(0))
    assert result.proven_optimal
    assert result.best_scores["runtime"] == _brute_force(TINY, HW, cfg)
    # nothing pruned, but one-step loops are not reordered: fewer than 4 dims x 54 tiles x 720 orders
    assert 4 * 54 < result.samples - 12 < 4 * 54 * 720
    # the bound stays the physical one: the gap shows a price below it
    assert result.lower_bound == layer_bounds(TINY, HW, cfg).latency_cycles


def test_time_limit_returns_the_best_with_a_proven_bound():
    layer = Layer("CONV", 16, 16, 10, 10, 3, 3)
    cfg = GAConfig(num_pop=10, epochs=3, slevel_min=1, slevel_max=2, time_limit=1e-6)
    result = exhaustive_search(layer, HW.replace(num_pes=12), cfg, np.random.default_rng(0))
    assert not result.proven_optimal
    bound = layer_bounds(layer, HW.replace(num_pes=12), cfg).latency_cycles
    assert bound <= result.lower_bound <= result.best_scores["runtime"]


def test_families_cover_levels_dims_and_clusters():
    cfg = GAConfig(slevel_min=1, slevel_max=2)
    fams = families(cfg.space(TINY, HW), 4)
    # 1 level: 4 dims; 2 levels: 16 dim pairs x clusters 1..4
    assert len(fams) == 4 + 16 * 4


def test_runner_runs_the_exact_mode():
    cfg = GAConfig(num_pop=6, epochs=2, slevel_min=1, slevel_max=1, method="exhaustive")
    result = run_job(Job((1,), TINY), HW, cfg, seed=0)
    assert result.proven_optimal and result.lower_bound == result.best_scores["runtime"]


@pytest.mark.parametrize("method", ["gamma", "random"])
def test_runner_sets_the_bound_of_other_methods(method):
    cfg = GAConfig(num_pop=6, epochs=2, method=method)
    result = run_job(Job((1,), TINY), HW, cfg, seed=0)
    assert result.lower_bound == layer_bounds(TINY, HW, cfg).latency_cycles
    assert not result.proven_optimal


@pytest.mark.parametrize("layer", [Layer("CONV", 24, 40, 17, 17, 5, 5, 2),
                                   Layer("DSCONV", 1, 32, 30, 30, 3, 3),
                                   Layer("GEMM", 30, 17, 23, 1, 1, 1),
                                   Layer("CONV", 13, 7, 11, 9, 3, 2)])
def test_one_step_loops_may_move_outermost(layer):
    """The exact mode's order reduction: a temporal loop whose tile is its whole parent
    changes no runtime, buffer need or feasibility wherever it sits."""
    from gamma.search.exhaustive import _canonical_orders
    from gamma.search.params import GAParams
    from gamma.search.seeding import structured_population
    from gamma.search.space import random_population
    hw = HW.replace(num_pes=30, l1_size=512)
    cfg = GAConfig(slevel_min=1, slevel_max=3, trust="any")
    space = cfg.space(layer, hw)
    rng = np.random.default_rng(4)
    pop = Population.concatenate([random_population(space, 400, rng),
                                  structured_population(space, 400, rng, GAParams())])
    moved = pop.copy()
    parent = np.concatenate([np.broadcast_to(space.sizes, (len(pop), 1, NUM_DIMS)),
                             pop.tile[:, :-1]], axis=1)
    movable = pop.tile >= parent
    np.put_along_axis(movable, pop.par[..., None], False, axis=2)
    for i in range(len(pop)):
        for level in range(pop.levels[i]):
            head = _canonical_orders(movable[i, level])[0][:int(movable[i, level].sum())]
            rest = [d for d in pop.order[i, level] if d not in head]
            moved.order[i, level] = [*head, *rest]
    assert (moved.order != pop.order).any()
    a, b = score(pop, layer, hw, cfg), score(moved, layer, hw, cfg)
    for name in ("runtime", "l1_size_req", "l2_size_req", "valid", "exact_analysis", "undercount",
                 "busiest_pe_macs", "feasible"):
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("layer", [Layer("CONV", 24, 40, 17, 17, 1, 1), Layer("FC", 100, 52, 1, 1, 1, 1),
                                   Layer("CONV", 13, 7, 11, 9, 3, 2), Layer("GEMM", 30, 17, 23, 1, 1, 1)])
def test_tile_chain_weights_never_exceed_the_busiest_pe(layer):
    """The exact mode prunes tile sets by a product of per-dimension shares: it must stay
    at or below the cost model's busiest PE for every mapping of the family."""
    from gamma.costmodel.busiest import busiest_pe_macs
    from gamma.mapping import to_directives
    from gamma.search.exhaustive import _dim_weights
    from gamma.search.space import random_population
    hw = HW.replace(num_pes=30)
    cfg = GAConfig(slevel_min=1, slevel_max=3)
    space = cfg.space(layer, hw)
    pop = random_population(space, 600, np.random.default_rng(7))
    busiest = busiest_pe_macs(layer, to_directives(pop, layer), hw.num_pes)
    for i in range(len(pop)):
        levels = int(pop.levels[i])
        family = (levels, tuple(pop.par[i, :levels]), tuple(pop.cluster[i, 1:levels]))
        chains = [pop.tile[i, :levels, d][None, :] for d in range(NUM_DIMS)]
        weights = _dim_weights(layer, family, chains, hw.num_pes)
        assert np.prod([w[0] for w in weights]) <= busiest[i]
