"""The genome, its decoding, constraints, and each GA operator on its own."""
import numpy as np
import pytest

from gamma import constraints as cst
from gamma.costmodel.directives import DIM_CODE, EMPTY
from gamma.errors import GammaInputError
from gamma.mapping import (
    C,
    K,
    Population,
    R,
    S,
    X,
    Y,
    describe,
    dim_sizes,
    divisor_table,
    random_divisor,
    to_directives,
    units_per_level,
)
from gamma.search.estimates import estimate
from gamma.search.params import GAParams
from gamma.search.seeding import seeded_population
from gamma.search.space import SearchSpace, random_population, repair
from gamma.search.trust import HonestStrategy
from gamma.search.variation import (
    age,
    crossover,
    grow,
    mutate_cluster,
    mutate_par,
    mutate_tile,
    neighbour,
    reorder,
    vary,
)
from gamma.workload import Layer

HONEST = HonestStrategy(GAParams())

CONV = Layer("CONV", K=64, C=64, Y=56, X=56, R=3, S=3)
DSCONV = Layer("DSCONV", K=1, C=32, Y=112, X=112, R=3, S=3)
GEMM = Layer("GEMM", K=768, C=3072, Y=512, X=1, R=1, S=1)


def space(layer=CONV, lo=1, hi=3, **kw):
    return SearchSpace(layer=layer, num_pes=168, slevel_min=lo, slevel_max=hi, **kw)


def pop_of(sp, n=200, seed=0):
    return random_population(sp, n, np.random.default_rng(seed))


def well_formed(pop, sp):
    """The invariants every operator + repair must keep."""
    assert np.all((pop.levels >= sp.slevel_min) & (pop.levels <= sp.slevel_max))
    assert np.all(np.sort(pop.order, axis=2) == np.arange(6))
    assert np.all(pop.tile >= 1)
    assert np.all(pop.tile[:, 0] <= sp.max_tile)
    for level in range(1, pop.max_levels):
        assert np.all(pop.tile[:, level] <= pop.tile[:, level - 1])
    assert np.all(np.isin(pop.par, sp.par_choices))
    assert np.all(units_per_level(pop, sp.num_pes) >= 1)
    assert np.all(cst.check(pop, sp.constraint, sp.layer, sp.num_pes))


def test_dim_sizes_are_output_centric():
    assert list(dim_sizes(CONV)) == [64, 64, 54, 54, 3, 3]
    assert dim_sizes(DSCONV)[K] == 1
    assert list(dim_sizes(GEMM)) == [768, 3072, 512, 1, 1, 1]


def test_divisors():
    table, count = divisor_table(12)
    assert list(table[12, :count[12]]) == [1, 2, 3, 4, 6, 12]
    values = random_divisor(np.array([12, 7, 1, 64] * 50), np.random.default_rng(0))
    assert np.all(np.array([12, 7, 1, 64] * 50) % values == 0)


@pytest.mark.parametrize("layer", [CONV, DSCONV, GEMM])
def test_random_population_is_well_formed(layer):
    sp = space(layer)
    pop = pop_of(sp)
    well_formed(pop, sp)
    assert set(np.unique(pop.levels)) == {1, 2, 3}
    assert np.all(pop.tile[:, :, R] == layer.R) and np.all(pop.tile[:, :, S] == layer.S)


def test_decoding_to_directives():
    sp = space(lo=2, hi=3)
    pop = pop_of(sp, 50)
    d = to_directives(pop, CONV)
    assert d.dim.shape == (50, 3, 6)
    assert np.array_equal(d.num_levels, pop.levels)
    for i in range(50):
        for level in range(3):
            used = level < pop.levels[i]
            assert np.all((d.dim[i, level] == EMPTY) != used)
            if not used:
                continue
            names = [("K", "C", "Y'", "X'", "R", "S")[o] for o in pop.order[i, level]]
            assert list(d.dim[i, level]) == [DIM_CODE[n] for n in names]
            assert list(d.size[i, level]) == list(pop.tile[i, level, pop.order[i, level]])
            assert d.spatial[i, level].sum() == 1
            par_slot = list(pop.order[i, level]).index(pop.par[i, level])
            assert d.dim[i, level][d.spatial[i, level]][0] == DIM_CODE[names[par_slot]]
            assert d.cluster[i, level] == (pop.cluster[i, level] if level else 0)
    np.testing.assert_array_equal(d.size, d.offset)


def test_dsconv_has_no_k_directive():
    sp = space(DSCONV, lo=2, hi=2)
    pop = pop_of(sp, 30)
    assert not np.any(pop.par == K)
    d = to_directives(pop, DSCONV)
    assert not np.any(d.dim == DIM_CODE["K"])
    assert np.all(d.dim[:, :, 5] == EMPTY) and np.all(d.dim[:, :, :5] != EMPTY)
    assert "K" not in describe(pop, 0, DSCONV)


def test_describe():
    sp = space(lo=2, hi=2)
    pop = pop_of(sp, 1)
    text = describe(pop, 0, CONV)
    assert text.count("|") == 1 and "Cluster(" in text and text.count("*") == 2


# ------------------------------------------------------------------ operators

def test_crossover_swaps_one_dimension_at_every_level():
    sp = space(lo=2, hi=2)
    a, b = pop_of(sp, 100, 1), pop_of(sp, 100, 2)
    x, y = crossover(a, b, sp, np.random.default_rng(0), rate=1.0, level_rate=0.0)
    for i in range(100):
        changed = np.flatnonzero(np.any(x.tile[i] != a.tile[i], axis=0))
        assert len(changed) <= 1
        if len(changed):
            d = changed[0]
            assert np.array_equal(x.tile[i, :, d], b.tile[i, :, d])
            assert np.array_equal(y.tile[i, :, d], a.tile[i, :, d])
    assert np.array_equal(x.order, a.order) and np.array_equal(x.par, a.par)
    assert not np.array_equal(x.tile, a.tile)
    well_formed(repair(x, sp, np.random.default_rng(0)), sp)


def test_level_crossover_swaps_whole_levels():
    sp = space(lo=2, hi=2)
    a, b = pop_of(sp, 100, 1), pop_of(sp, 100, 2)
    x, _ = crossover(a, b, sp, np.random.default_rng(0), rate=0.0, level_rate=1.0)
    for i in range(100):
        from_b = [np.array_equal(x.order[i, lvl], b.order[i, lvl]) and x.par[i, lvl] == b.par[i, lvl]
                  for lvl in range(2)]
        assert sum(from_b) >= 1


def test_reorder_swaps_two_loops_of_one_level():
    sp = space(lo=2, hi=2)
    pop = pop_of(sp, 200)
    out = reorder(pop, sp, np.random.default_rng(0), rate=1.0)
    diff = (out.order != pop.order).sum(axis=(1, 2))
    assert set(np.unique(diff)) <= {0, 2} and (diff == 2).sum() > 150
    assert np.array_equal(out.tile, pop.tile)
    well_formed(out, sp)


def test_reorder_respects_a_fixed_order():
    fixed = cst.MAESTRO_CSTR.combined(cst.MappingConstraint.from_gamma_dict(
        {"L2": {"order": ["R", "S", "K"]}}))
    sp = space(lo=2, hi=2, constraint=fixed)
    pop = pop_of(sp, 100)
    assert np.all(pop.order[:, 0, 3:] == [R, S, K])
    out = reorder(pop, sp, np.random.default_rng(0), rate=1.0)
    assert np.all(out.order[:, 0, 3:] == [R, S, K])


def test_mutate_tile_changes_only_free_tiles_within_bounds():
    sp = space(lo=2, hi=2)
    pop = pop_of(sp, 300)
    out = mutate_tile(pop, sp, np.random.default_rng(0), rate=1.0, loci=1)
    changed = out.tile != pop.tile
    assert changed.any(axis=(1, 2)).mean() > 0.5
    assert changed.sum(axis=(1, 2)).max() == 1
    assert not changed[:, :, [R, S]].any()            # fixed by maestro_cstr
    assert np.all(out.tile[:, 0] <= sp.max_tile)
    inner = changed[:, 1].any(axis=1)      # an inner tile is redrawn within its parent tile
    assert np.all(out.tile[inner, 1] <= out.tile[inner, 0])
    assert np.array_equal(out.order, pop.order) and np.array_equal(out.par, pop.par)
    well_formed(repair(out, sp, np.random.default_rng(0)), sp)


def test_use_factor_draws_divisors():
    sp = space(lo=1, hi=1, use_factor=True)
    pop = pop_of(sp, 200)
    assert np.all(sp.sizes % pop.tile[:, 0] == 0)
    out = mutate_tile(pop, sp, np.random.default_rng(1), rate=1.0, loci=3)
    assert np.all(sp.sizes % out.tile[:, 0] == 0)


def test_mutate_par_changes_parallel_dims():
    sp = space(lo=2, hi=2)
    pop = pop_of(sp, 300)
    out = mutate_par(pop, sp, np.random.default_rng(0), rate=1.0, refit_rate=0.7)
    assert (out.par != pop.par).any(axis=1).mean() > 0.5
    assert np.array_equal(out.order, pop.order)
    well_formed(repair(out, sp, np.random.default_rng(0)), sp)


def test_mutate_par_respects_sp_constraint():
    cstr = cst.MAESTRO_CSTR.combined(cst.MappingConstraint.from_gamma_dict(
        {"L2": {"sp": ["K"]}, "L1": {"sp": ["C", "Y"]}}))
    sp = space(lo=2, hi=2, constraint=cstr)
    pop = pop_of(sp, 100)
    out = repair(mutate_par(pop, sp, np.random.default_rng(0), rate=1.0, refit_rate=0.7), sp,
                     np.random.default_rng(0))
    assert np.all(out.par[:, 0] == K) and np.all(np.isin(out.par[:, 1], [C, Y]))


def test_mutate_cluster():
    sp = space(lo=2, hi=2)
    pop = pop_of(sp, 300)
    out = mutate_cluster(pop, sp, np.random.default_rng(0), rate=1.0)
    assert (out.cluster[:, 1] != pop.cluster[:, 1]).mean() > 0.5
    assert np.array_equal(out.cluster[:, 0], pop.cluster[:, 0])
    well_formed(repair(out, sp, np.random.default_rng(0)), sp)
    fixed = space(lo=2, hi=3, fixed_cluster=12)
    fpop = pop_of(fixed, 50)
    assert np.all(fpop.cluster[:, 1:] == 12)
    assert np.array_equal(mutate_cluster(fpop, fixed, np.random.default_rng(0), rate=1).cluster,
                          fpop.cluster)


def test_growth_adds_a_level_under_the_default_constraint():
    sp = space(lo=1, hi=3)
    pop = pop_of(sp, 300)
    out = grow(pop, sp, np.random.default_rng(0), rate=1.0)
    grew = out.levels == pop.levels + 1
    assert np.array_equal(grew, pop.levels < 3)
    rows = np.flatnonzero(grew)
    new = out.levels[rows] - 1
    assert np.all(out.tile[rows, new] <= out.tile[rows, new - 1])
    assert np.all(out.tile[rows, new, R] == 3)
    well_formed(repair(out, sp, np.random.default_rng(0)), sp)


def test_aging_drops_a_level():
    sp = space(lo=1, hi=3)
    pop = pop_of(sp, 300)
    out = age(pop, sp, np.random.default_rng(0), rate=1.0)
    assert np.array_equal(out.levels, np.maximum(pop.levels - 1, 1))
    well_formed(out, sp)


@pytest.mark.parametrize("lo,hi", [(1, 1), (1, 2), (2, 2), (1, 3), (2, 3), (3, 3)])
def test_every_slevel_setting_varies_into_well_formed_mappings(lo, hi):
    sp = space(lo=lo, hi=hi)
    rng = np.random.default_rng(lo * 10 + hi)
    pop = seeded_population(sp, 40, rng, HONEST, l1_size=512, l2_size=108000)
    well_formed(pop, sp)
    for _ in range(5):
        pop = vary(pop, sp, rng, HONEST)
        well_formed(pop, sp)


def test_repair_clamps_inner_tiles_and_clusters():
    sp = space(lo=2, hi=3)
    pop = pop_of(sp, 50)
    broken = pop.copy()
    broken.tile[:, 1:] = 10_000
    broken.tile[:, 0, K] = 0
    broken.cluster[:, 1:] = 500
    broken.levels[:] = 7
    fixed = repair(broken, sp, np.random.default_rng(0))
    well_formed(fixed, sp)
    assert np.all(np.prod(fixed.cluster[:, 1:], axis=1) <= 168)
    assert np.all(fixed.tile[:, 1:] == fixed.tile[:, :1].repeat(2, axis=1))


def test_constraints_no_cstr_frees_r_and_s():
    sp = space(lo=1, hi=2, constraint=cst.NO_CSTR)
    pop = pop_of(sp, 300)
    assert np.any(pop.tile[:, 0, R] < 3)
    well_formed(pop, sp)


def test_constraint_from_gamma_dict_applies_and_checks():
    dla = {"L2": {"sp": ["K"]},
           "L1": {"sp": ["C"], "sp_sz": 16, "order": ["C", "Y", "X", "R", "S", "K"],
                  "K": "K", "C": 1, "Y": "R", "X": "S", "R": "R", "S": "S"}}
    cstr = cst.MAESTRO_CSTR.combined(cst.MappingConstraint.from_gamma_dict(dla, name="dla_map"))
    sp = space(lo=2, hi=2, constraint=cstr)
    pop = pop_of(sp, 100)
    assert np.all(pop.par[:, 0] == K) and np.all(pop.par[:, 1] == C)
    assert np.all(pop.cluster[:, 1] == 16)
    assert np.all(pop.order[:, 1] == [C, Y, X, R, S, K])
    assert np.all(pop.tile[:, 1, K] == pop.tile[:, 0, K]) and np.all(pop.tile[:, 1, C] == 1)
    # "Y": "R" is the filter's window of input rows: one output row (Y' tile 1) per step
    assert np.all(pop.tile[:, 1, Y] == 1) and np.all(pop.tile[:, 1, X] == 1)
    assert cst.check(pop, cstr, CONV, 168).all()
    row = 0
    pop.tile[row, 1, C] = 2
    assert not cst.check(pop, cstr, CONV, 168)[row]


def test_constraint_sp_sz_dim_name_and_sp2():
    cstr = cst.MappingConstraint.from_gamma_dict(
        {"L2": {"sp": ["Y"]}, "L1": {"sp": ["R"], "sp2": ["Y"], "sp_sz": "R"}})
    sp = space(lo=2, hi=2, constraint=cstr, par_rs=True)
    pop = pop_of(sp, 100)
    assert np.all(pop.par2[:, 1] == Y) and np.all(pop.cluster[:, 1] <= pop.tile[:, 0, R])
    assert np.all(to_directives(pop, CONV).spatial[:, 1].sum(axis=1) == 2)


@pytest.mark.parametrize("bad", [{"L4": {}}, {"L2": {"sp": ["Q"]}}, {"L2": {"K": 0}},
                                 {"L2": {"colour": 1}}, {"L1": {"order": ["K", "K"]}}, []])
def test_bad_constraints_are_input_errors(bad):
    with pytest.raises(GammaInputError):
        cst.MappingConstraint.from_gamma_dict(bad)


def test_costmodel_constraint_names():
    assert cst.costmodel_constraint("maestro_cstr") is cst.MAESTRO_CSTR
    assert cst.costmodel_constraint("").is_empty()
    with pytest.raises(GammaInputError, match="costmodel_cstr"):
        cst.costmodel_constraint("timeloop")


def test_keys_ignore_padding_levels():
    sp = space(lo=1, hi=3)
    pop = pop_of(sp, 20)
    other = pop.copy()
    one = pop.levels == 1
    other.tile[one, 2] = 1
    assert pop.keys() == other.keys()
    assert Population.concatenate([pop, other]).keys()[:20] == pop.keys()


def test_seeded_population_fills_the_pes():
    sp = space(lo=2, hi=2)
    rng = np.random.default_rng(0)
    seeded = seeded_population(sp, 30, rng, HONEST, l1_size=512, l2_size=108000)
    rand = random_population(sp, 30, rng)
    est_seeded = estimate(seeded, sp)[0][:10]
    est_random = estimate(rand, sp)[0]
    assert np.median(est_seeded) < np.median(est_random) / 3
    assert len(set(seeded.keys())) == 30


def test_neighbour_makes_one_small_move_and_keeps_mappings_valid():
    sp = space(lo=2, hi=2)
    pop = seeded_population(sp, 200, np.random.default_rng(1), HONEST, l1_size=512, l2_size=108000)
    out = neighbour(pop, sp, np.random.default_rng(2), HONEST)
    well_formed(out, sp)
    moved = (out.tile != pop.tile).any(axis=(1, 2)) | (out.cluster != pop.cluster).any(axis=1) \
        | (out.order != pop.order).any(axis=(1, 2))
    assert moved.mean() > 0.7
    assert np.array_equal(out.par, pop.par) and np.array_equal(out.levels, pop.levels)
    tiles = (out.tile != pop.tile).sum(axis=(1, 2))
    assert np.median(tiles[tiles > 0]) == 1       # mostly one tile (repair may clamp an inner one)


def test_depthwise_level_parallel_in_k_maps_c_spatially():
    """GAMMA writes a depthwise level whose parallel dim is K with C as its SpatialMap."""
    cstr = cst.MappingConstraint.from_gamma_dict({"L2": {"sp": ["K"]}, "L1": {"sp": ["C"]}})
    sp = space(DSCONV, lo=2, hi=2, constraint=cst.MAESTRO_CSTR.combined(cstr))
    pop = pop_of(sp, 20)
    assert np.all(pop.par[:, 0] == K)
    d = to_directives(pop, DSCONV)
    assert np.all(d.spatial[:, 0].sum(axis=1) == 1)
    assert np.all(d.dim[:, 0][d.spatial[:, 0]] == DIM_CODE["C"])
    assert "C" in describe(pop, 0, DSCONV).split("|")[0].split("*")[0].split()[-1]


def test_sp2_is_never_drawn_as_the_first_parallel_dim():
    cstr = cst.MappingConstraint.from_gamma_dict({"L1": {"sp": ["Y", "X"], "sp2": ["Y"]}})
    sp = space(lo=2, hi=2, constraint=cstr)
    pop = pop_of(sp, 200)
    assert np.all(pop.par[:, 1] == X) and np.all(pop.par2[:, 1] == Y)
    bad = pop.copy()
    bad.par[:, 1] = Y
    assert not cst.check(bad, cstr, CONV, 168).any()


def test_strided_layer_tiles_are_not_capped():
    # Tiles of several output rows are searched on strided layers (the cost model
    # analyses them stride-aware where MAESTRO miscounts them), up to the whole layer.
    strided = Layer("CONV", K=128, C=64, Y=57, X=57, R=3, S=3, stride=2)
    assert list(space(strided).max_tile[[Y, X]]) == list(dim_sizes(strided)[[Y, X]]) == [55, 55]
    cstr = cst.MappingConstraint.from_gamma_dict({"L2": {"X": "X"}, "L1": {"Y": 3}})
    sp = space(strided, lo=2, hi=2, constraint=cstr)
    pop = pop_of(sp, 50)
    assert np.all(cst.check(pop, cstr, strided, 168))
    assert pop.tile[:, 0, [Y, X]].max() <= 55


def test_packed_rows_equal_for_equal_mappings():
    sp = space(lo=1, hi=3)
    pop = pop_of(sp, 20)
    rows = pop.packed()
    assert rows.dtype == np.int64 and rows.shape == (20, 15 * 3)
    assert [r.tobytes() for r in rows] == pop.keys()
