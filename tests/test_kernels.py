"""The compiled kernels of the search reproduce the NumPy expressions they replaced, bit for bit."""
import numpy as np
import pytest

from gamma.costmodel.directives import EMPTY
from gamma.mapping import _DIRECTIVE_CODE, NUM_DIMS, C, K, Population, to_directives, units_per_level
from gamma.search import kernels
from gamma.search.estimates import estimate
from gamma.search.params import GAParams
from gamma.search.seeding import structured_population
from gamma.search.space import SearchSpace, random_population
from gamma.workload import Layer

CONV = Layer("CONV", K=64, C=32, Y=30, X=30, R=3, S=3)
STRIDED = Layer("CONV", K=64, C=3, Y=230, X=230, R=7, S=7, stride=2)
DEPTHWISE = Layer("DSCONV", K=1, C=32, Y=58, X=58, R=3, S=3)


def random_genes(rng, n, levels):
    """Unrepaired genes: any values the operators may leave before repair."""
    return Population(par=rng.integers(0, 6, (n, levels)), par2=rng.integers(-1, 6, (n, levels)),
                      cluster=rng.integers(0, 40, (n, levels)),
                      order=np.argsort(rng.random((n, levels, NUM_DIMS)), axis=2),
                      tile=rng.integers(1, 99, (n, levels, NUM_DIMS)),
                      levels=rng.integers(1, levels + 1, n), pes=rng.integers(0, 300, n))


def numpy_units(pop, num_pes):
    act = pop.active()
    clusters = np.where(act, pop.cluster, 1)
    clusters[:, 0] = 1
    units = clusters.copy()
    with np.errstate(divide="ignore"):
        units[:, 0] = np.maximum(np.where(pop.pes > 0, pop.pes, num_pes) // np.prod(clusters, axis=1), 1)
    return np.where(act, units, 1)


def numpy_cycles(pop, space):
    n, levels = pop.par.shape
    rows = np.arange(n)
    units = numpy_units(pop, space.num_pes)
    act = pop.active()
    steps, outer = np.ones(n), np.ones(n)
    for level in range(levels):
        parent = (np.broadcast_to(space.sizes, (n, NUM_DIMS)) if level == 0
                  else pop.tile[:, level - 1]).astype(float)
        tile = pop.tile[:, level].astype(float)
        ratio = parent / tile
        p = pop.par[:, level]
        ratio[rows, p] = np.ceil(np.ceil(parent[rows, p] / tile[rows, p]) / units[:, level])
        factor = np.where(act[:, level], np.prod(ratio, axis=1), 1.0)
        steps *= factor
        outer *= np.where(act[:, level] & (level < pop.levels - 1), factor, 1.0)
    work = np.prod(pop.tile[rows, pop.levels - 1].astype(float), axis=1)
    return steps * work / space.layer.stride ** 2 + outer


@pytest.mark.parametrize("levels", [1, 2, 3])
def test_units_and_packed_rows_match_numpy(levels):
    pop = random_genes(np.random.default_rng(levels), 3000, levels)
    for num_pes in (168, 2**31 - 1):
        assert np.array_equal(units_per_level(pop, num_pes), numpy_units(pop, num_pes))
    act = pop.active()
    cluster = np.where(act, pop.cluster, -2)
    cluster[:, 0] = pop.pes
    flat = lambda a: np.where(act[..., None], a, -2).reshape(len(pop), -1)  # noqa: E731
    expected = np.concatenate([np.where(act, pop.par, -2), np.where(act, pop.par2, -2), cluster,
                               flat(pop.order), flat(pop.tile)], axis=1)
    assert np.array_equal(pop.packed(), expected)


@pytest.mark.parametrize("layer", [CONV, STRIDED, DEPTHWISE], ids=["conv", "strided", "depthwise"])
def test_estimate_is_bit_identical_to_the_numpy_formula(layer):
    rng = np.random.default_rng(0)
    for levels in (1, 2, 3):
        space = SearchSpace(layer, 168, slevel_min=1, slevel_max=levels)
        for pop in (random_population(space, 2000, rng),
                    structured_population(space, 2000, rng, GAParams())):
            assert np.array_equal(estimate(pop, space)[0], numpy_cycles(pop, space))


@pytest.mark.parametrize("layer", [CONV, DEPTHWISE], ids=["conv", "depthwise"])
def test_directives_match_the_numpy_decoding(layer):
    pop = random_genes(np.random.default_rng(1), 2000, 3)
    got = to_directives(pop, layer)
    keep = np.broadcast_to(pop.active()[..., None], pop.order.shape).copy()
    spatial = (pop.order == pop.par[..., None]) | (pop.order == pop.par2[..., None])
    if layer.type == "DSCONV":
        keep &= pop.order != K
        spatial |= (pop.order == C) & (pop.par[..., None] == K)
    slot = np.argsort(~keep, axis=2, kind="stable")
    dim = np.where(keep, _DIRECTIVE_CODE[pop.order], EMPTY)
    size = np.where(keep, np.take_along_axis(pop.tile, pop.order, axis=2), 0)
    for name, want in (("dim", dim), ("size", size), ("offset", size), ("spatial", keep & spatial)):
        assert np.array_equal(getattr(got, name), np.take_along_axis(want, slot, axis=2)), name
    assert got.dim.dtype == np.int8 and got.spatial.dtype == bool
    assert np.array_equal(got.cluster[:, 1:], np.where(pop.active(), pop.cluster, 0)[:, 1:])
    assert not got.cluster[:, 0].any()


def test_tile_values_follow_the_four_kinds_of_new_tile():
    old = np.array([5, 5, 5, 5, 5, 5, 5, 9], dtype=np.int64)
    bound = np.array([10, 10, 10, 10, 10, 10, 10, 8], dtype=np.int64)
    units = np.array([1, 1, 1, 1, 1, 1, 3, 1], dtype=np.int64)
    divisor = np.full(8, 2, dtype=np.int64)
    uniform = np.full(8, 0.55)
    step = np.array([0, 0, 0, 1, 2, 3, 0, 2], dtype=np.int64)
    k = np.array([1, 1, 1, 1, 1, 1, 2, 1], dtype=np.int64)
    kind = np.array([0, 1, 2, 2, 2, 2, 3, 2], dtype=np.int64)
    got = kernels.tile_values(old, bound, units, divisor, uniform, step, k, kind)
    # uniform 1 + int(0.55 * 10); divisor; 5 * 2; 5 // 2; 5 + 1; 5 - 1; ceil(10 / 6); 9 + 1 -> bound 8
    assert got.tolist() == [6, 2, 10, 2, 6, 4, 2, 8]


def test_raise_parents_lifts_outer_tiles_deepest_level_first():
    tile = np.ones((1, 3, NUM_DIMS), dtype=np.int64)
    tile[0, :, 4] = [2, 3, 5]                  # R tiles rising inwards
    fixed = np.zeros((3, NUM_DIMS), dtype=bool)
    fixed[1:, 4] = True
    assert kernels.raise_parents(tile, np.array([3]), fixed, np.full(NUM_DIMS, 4))
    assert tile[0, :, 4].tolist() == [4, 5, 5]  # lifted to 5, then capped by max_tile at level 0
    assert not kernels.raise_parents(tile, np.array([1]), fixed, np.full(NUM_DIMS, 4))


@pytest.mark.parametrize("collide", [False, True])
def test_rank_in_group_counts_equal_rows_before_each_row(collide):
    from gamma.search.rowset import row_hash
    rows = np.ascontiguousarray(np.random.default_rng(3).integers(0, 3, (300, 3)))
    hashes = row_hash(rows) % np.uint64(3) if collide else row_hash(rows)   # collisions forced
    got = kernels.rank_in_group(rows, np.argsort(hashes, kind="stable"), hashes)
    expected = [sum((rows[j] == rows[i]).all() for j in range(i)) for i in range(len(rows))]
    assert got.tolist() == expected
