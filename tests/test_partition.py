"""Partitioning a model over chiplets: the cost model by hand, the repair, the exact DP
against brute force, the searches and the ``partition`` sub-command."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gamma.errors import GammaInputError
from gamma.partition import search
from gamma.partition.graph import chain_graph, make_graph, output_elements, weight_elements
from gamma.partition.model import CostTables, Package, Problem, evaluate, hop_matrix
from gamma.workload import Layer


def gemm(m, n, k):
    return Layer("GEMM", K=n, C=k, Y=m, X=1, R=1, S=1)


def problem_of(layers, latency, energy=None, count=4, memory=0, topology="ring", edges=None,
               kinds=None, bw=8.0, hop_latency=10, link_energy=0.01):
    graph = chain_graph(layers) if edges is None else make_graph(layers, edges)
    latency = np.asarray(latency, dtype=np.int64).reshape(len(layers), -1)
    energy = np.ones(latency.shape) if energy is None else np.asarray(energy, float).reshape(latency.shape)
    kinds = np.zeros(count, np.int64) if kinds is None else np.asarray(kinds, np.int64)
    memory = np.broadcast_to(np.asarray(memory, np.int64), (count,)).copy()
    package = Package(kinds=kinds, kind_names=tuple(f"t{i}" for i in range(latency.shape[1])),
                      memory=memory, hops=hop_matrix(count, topology), link_bw=bw,
                      link_latency=hop_latency, link_energy=link_energy, topology=topology)
    return Problem(graph, package, CostTables(latency, energy))


def random_problem(rng, layers=8, count=4, tight=0.45, topology="ring", kinds=1):
    shapes = [gemm(int(rng.integers(4, 40)), int(rng.integers(4, 40)), int(rng.integers(4, 40)))
              for _ in range(layers)]
    total = sum(weight_elements(x) for x in shapes)
    largest = max(weight_elements(x) for x in shapes)
    return problem_of(shapes, rng.integers(50, 3000, (layers, kinds)), count=count,
                      # >= 2 x the largest layer and 2 x an even share: the layer order always fits
                      memory=max(2 * largest, int(tight * total), -(-2 * total // count)),
                      topology=topology,
                      kinds=np.arange(count) % kinds)


# ---------------------------------------------------------------------------
# Graph and topology
# ---------------------------------------------------------------------------

def test_weights_and_outputs_follow_the_layer_types():
    assert weight_elements(Layer("CONV", K=8, C=4, Y=10, X=10, R=3, S=3)) == 8 * 4 * 9
    assert weight_elements(Layer("DSCONV", K=1, C=16, Y=10, X=10, R=3, S=3)) == 16 * 9
    assert weight_elements(gemm(64, 32, 16)) == 32 * 16
    assert output_elements(Layer("CONV", K=8, C=4, Y=10, X=10, R=3, S=3, stride=1)) == 8 * 8 * 8
    assert output_elements(gemm(64, 32, 16)) == 64 * 32


def test_hops_on_ring_and_snake_mesh():
    ring = hop_matrix(8, "ring")
    assert ring[0, 4] == 4 and ring[0, 7] == 1 and ring[2, 5] == 3
    mesh = hop_matrix(8, "mesh")                      # 2 x 4, snake numbered
    assert all(mesh[i, i + 1] == 1 for i in range(7))
    assert mesh[0, 7] == 1 and mesh[0, 4] == 4 and mesh[0, 5] == 3 and mesh[3, 4] == 1
    assert np.array_equal(mesh, mesh.T) and np.all(np.diag(mesh) == 0)


# ---------------------------------------------------------------------------
# Cost model: a 4-chiplet partition computed by hand
# ---------------------------------------------------------------------------

def test_four_chiplet_partition_reproduces_hand_computed_throughput():
    # 5 GEMMs; outputs: 16x8=128, 16x4=64, 16x8=128, 16x2=32 elements
    layers = [gemm(16, 8, 4), gemm(16, 4, 8), gemm(16, 8, 4), gemm(16, 2, 8), gemm(16, 4, 2)]
    p = problem_of(layers, [1000, 400, 700, 300, 900], energy=[1, 2, 3, 4, 5], count=4,
                   topology="ring", bw=8.0, hop_latency=10, link_energy=0.01)
    stage = np.array([[0, 1, 1, 2, 3]])
    place = np.array([[0, 1, 3, 2]])          # stage 2 on chiplet 3: 2 hops from chiplet 1
    s = evaluate(p, stage, place)
    # transfers: L1->L2 128/8 + 1*10 = 26; L3->L4 128/8 + 2*10 = 36 (chiplet 1 -> 3);
    # L4->L5 32/8 + 1*10 = 14 (chiplet 3 -> 2)
    expected_stage = [1000 + 26, 26 + 400 + 700 + 36, 36 + 300 + 14, 14 + 900]
    assert s["stage_time"][0].tolist() == expected_stage
    assert s["period"][0] == 1162
    assert 1e6 / s["period"][0] == pytest.approx(860.585197934595)
    assert s["latency"][0] == sum(expected_stage)            # a chain: stages one after another
    assert s["link_elements"][0] == 128 + 2 * 128 + 32
    assert s["energy"][0] == pytest.approx(15 + 0.01 * (128 + 256 + 32))
    assert bool(s["valid"][0])


def test_latency_of_a_graph_is_its_longest_stage_path():
    layers = [gemm(8, 8, 8)] * 4
    # diamond: 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3 on four stages, bandwidth large: 1 cycle + hop latency
    p = problem_of(layers, [10, 100, 50, 10], edges=[(0, 1), (0, 2), (1, 3), (2, 3)], count=4,
                   bw=64.0, hop_latency=0)
    s = evaluate(p, np.array([[0, 1, 2, 3]]), np.array([[0, 1, 2, 3]]))
    # transfers are 64/64 = 1 cycle each; stage times: 10+2, 1+100+1, 1+50+1, 2+10
    assert s["stage_time"][0].tolist() == [12, 102, 52, 12]
    assert s["latency"][0] == 12 + 102 + 12     # stage 3 waits for stage 1 (not stage 2's sum)


def test_invalid_partitions_have_a_violation():
    layers = [gemm(8, 8, 8)] * 3
    p = problem_of(layers, [1, 1, 1], count=3, memory=64 * 2)
    s = evaluate(p, np.array([[0, 1, 0], [0, 0, 0], [0, 1, 2]]), np.tile([0, 1, 2], (3, 1)))
    assert s["valid"].tolist() == [False, False, True]
    assert s["violation"][0] >= 1 and 0 < s["violation"][1] < 1


# ---------------------------------------------------------------------------
# Repair (CP-SAT)
# ---------------------------------------------------------------------------

def test_repair_always_yields_a_valid_partition():
    pytest.importorskip("ortools")
    from gamma.partition.repair import Repairer

    rng = np.random.default_rng(7)
    for trial in range(6):
        p = random_problem(rng, layers=int(rng.integers(4, 10)), count=int(rng.integers(2, 6)),
                           kinds=2 if trial % 2 else 1)
        if trial >= 3:      # a graph with skip connections
            n = p.graph.num_layers
            edges = [(i, i + 1) for i in range(n - 1)] + [(i, i + 2) for i in range(0, n - 2, 2)]
            p = Problem(make_graph(p.graph.layers, edges), p.package, p.costs)
        repairer = Repairer(p, time_limit=5.0, seed=trial)
        n = p.package.count
        stage = rng.integers(0, n, (20, p.graph.num_layers))
        place = np.argsort(rng.random((20, n)), axis=1)
        assert not evaluate(p, stage, place)["valid"].all()
        for s0, p0 in zip(stage, place, strict=True):
            s1, p1 = repairer.repair(s0, p0)
            assert bool(evaluate(p, s1[None], p1[None])["valid"][0])
            assert sorted(p1.tolist()) == list(range(n))


def test_repair_keeps_a_valid_partition_and_moves_little():
    pytest.importorskip("ortools")
    from gamma.partition.repair import Repairer

    layers = [gemm(8, 8, 8)] * 4          # 64 weights each
    p = problem_of(layers, [1] * 4, count=2, memory=128)
    repairer = Repairer(p)
    s, q = repairer.repair(np.array([0, 0, 1, 1]), np.array([1, 0]))
    assert s.tolist() == [0, 0, 1, 1] and q.tolist() == [1, 0]
    s, _ = repairer.repair(np.array([0, 0, 0, 1]), np.array([0, 1]))   # 3 x 64 > 128
    assert s.tolist() == [0, 0, 1, 1]                                   # one layer moved one step


def test_repair_names_the_memory_when_nothing_fits():
    pytest.importorskip("ortools")
    from gamma.partition.repair import Repairer

    p = problem_of([gemm(8, 8, 8)] * 4, [1] * 4, count=2, memory=100)
    with pytest.raises(GammaInputError, match="--chiplet_mem"):
        Repairer(p).repair(np.zeros(4, np.int64), np.array([0, 1]))


# ---------------------------------------------------------------------------
# Exact: DP against brute force, CP-SAT against the DP
# ---------------------------------------------------------------------------

def brute_force(p, objective):
    layers, n = p.graph.num_layers, p.package.count
    stages = np.array([s for s in itertools.product(range(n), repeat=layers)
                       if all(a <= b for a, b in itertools.pairwise(s))])
    key = {"throughput": "period"}.get(objective, objective)
    best = np.inf
    for perm in itertools.permutations(range(n)):
        s = evaluate(p, stages, np.tile(perm, (len(stages), 1)))
        best = min(best, np.where(s["valid"], s[key], np.inf).min())
    return best


@pytest.mark.parametrize("objective", ["throughput", "latency", "energy"])
@pytest.mark.parametrize("topology", ["ring", "mesh"])
def test_chain_dp_matches_brute_force(objective, topology):
    rng = np.random.default_rng(3 if topology == "ring" else 4)
    for _ in range(2):
        p = random_problem(rng, layers=7, count=4, topology=topology)
        p = Problem(p.graph, p.package, CostTables(p.costs.latency, rng.random((7, 1)) * 10))
        found = search.chain_optimum(p, objective)
        key = {"throughput": "period"}.get(objective, objective)
        assert found.proven and found.scores["valid"]
        assert found.scores[key] == pytest.approx(brute_force(p, objective))


def test_chain_dp_declines_graphs_and_mixed_chiplets():
    rng = np.random.default_rng(5)
    assert search.chain_optimum(random_problem(rng, kinds=2), "throughput") is None
    p = random_problem(rng)
    dag = Problem(make_graph(p.graph.layers, [(0, 2), (1, 2)] + [(i, i + 1) for i in range(2, 7)]),
                  p.package, p.costs)
    assert search.chain_optimum(dag, "throughput") is None


def test_cp_sat_optimum_matches_brute_force_on_mixed_chiplets():
    pytest.importorskip("ortools")
    from gamma.partition.repair import solve_exact

    rng = np.random.default_rng(11)
    p = random_problem(rng, layers=6, count=4, kinds=2)
    out = solve_exact(p, "throughput", time_limit=30)
    assert out.proven
    s = evaluate(p, out.stage[None], out.place[None])
    assert s["period"][0] == brute_force(p, "throughput") == out.bound


# ---------------------------------------------------------------------------
# Searches
# ---------------------------------------------------------------------------

def test_searches_spend_the_budget_and_ga_reaches_the_optimum():
    pytest.importorskip("ortools")
    rng = np.random.default_rng(2)
    p = random_problem(rng, layers=12, count=4, tight=0.35)
    optimum = search.chain_optimum(p, "throughput").scores["period"]
    ga = search.run_ga(p, "throughput", 600, seed=1)
    assert ga.evaluations == 600 and ga.scores["valid"]
    assert ga.scores["period"] == optimum
    for fn in (search.run_random, search.run_anneal):
        other = fn(p, "throughput", 600, seed=1)
        assert other.evaluations == 600
        assert other.scores["period"] >= optimum


def test_canonical_numbers_used_stages_in_order():
    stage, place = search.canonical(np.array([[1, 1, 3, 3]]), np.array([[0, 1, 2, 3]]))
    assert stage.tolist() == [[0, 0, 1, 1]] and place.tolist() == [[1, 3, 0, 2]]


_HYPO_PROBLEM = random_problem(np.random.default_rng(21), layers=9, count=4, kinds=2)


@settings(max_examples=40, deadline=None)
@given(stage=st.lists(st.integers(0, 3), min_size=9, max_size=9), place=st.permutations(range(4)))
def test_repair_property_any_candidate_becomes_valid(stage, place):
    pytest.importorskip("ortools")
    from gamma.partition.repair import Repairer

    p = _HYPO_PROBLEM
    s1, p1 = Repairer(p, time_limit=5.0).repair(np.array(stage), np.array(place))
    assert bool(evaluate(p, s1[None], p1[None])["valid"][0])
    if evaluate(p, np.array([stage]), np.array([place]))["valid"][0]:
        assert s1.tolist() == stage and p1.tolist() == list(place)     # valid: left alone


@pytest.mark.parametrize("objective", ["latency", "energy"])
def test_ga_matches_the_dp_on_latency_and_energy(objective):
    pytest.importorskip("ortools")
    rng = np.random.default_rng(9)
    p = random_problem(rng, layers=10, count=4, tight=0.3)
    p = Problem(p.graph, p.package, CostTables(p.costs.latency, rng.random((10, 1)) * 50))
    optimum = search.chain_optimum(p, objective).scores[objective]
    found = search.run_ga(p, objective, 300, seed=3)
    assert found.scores[objective] == pytest.approx(optimum)
