"""The busiest-PE floor against a brute-force loop-nest simulator (tests/loopnest_sim.py).

Random mappings of small layers in every directive form the floor covers:
strides 1, 2 and 4, filters up to 7x7, 1-3 levels, sliding windows (offset
below, and above, the size), input-centric Y/X and output-centric Y'/X',
two SpatialMaps in a level, a dimension mapped twice in a level, filters cut
spatially, tiles and clusters that do not divide.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import loopnest_sim as sim
import numpy as np
import pytest

from gamma.costmodel import evaluate
from gamma.costmodel.busiest import busiest_pe_macs
from gamma.costmodel.directives import DIM_CODE, EMPTY, Directives
from gamma.hardware import Hardware
from gamma.maestro_files import parse_mapping
from gamma.workload import Layer

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SLOTS = 9
MAX_LEVELS = 3


def random_layer(rng: np.random.Generator, scale: int = 1) -> Layer:
    """A small CONV, DSCONV or GEMM-like layer, stride 1, 2 or 4, filter up to 7x7.

    ``scale`` multiplies the channel and row ranges.
    """
    kind = str(rng.choice(["CONV", "CONV", "DSCONV", "GEMM"]))
    if kind == "GEMM":
        return Layer("GEMM", K=int(rng.integers(1, 8 * scale + 1)),
                     C=int(rng.integers(1, 8 * scale + 1)),
                     Y=int(rng.integers(1, 12 * scale + 1)), X=1, R=1, S=1)
    stride = int(rng.choice([1, 2, 4]))
    r, s = (int(v) for v in rng.integers(1, 8, size=2))
    y = r + int(rng.integers(0, (2 * stride + 4) * scale))
    x = s + int(rng.integers(0, (2 * stride + 3) * scale))
    return Layer(kind, K=int(rng.integers(1, 4 * scale + 1)), C=int(rng.integers(1, 3 * scale + 1)),
                 Y=y, X=x, R=r, S=s, stride=stride, N=int(rng.choice([1, 1, 1, 2])))


def _dims_of(layer: Layer):
    names = ["K", "C", "Y", "X", "R", "S"]
    if layer.type == "DSCONV":
        names.remove("K")
    if layer.N > 1:
        names.append("N")
    return names


def random_mapping(layer: Layer, rng: np.random.Generator, scale: int = 1):
    """One random mapping as directive arrays (1, MAX_LEVELS, SLOTS), its PEs and forms."""
    full = {"N": layer.N, "K": layer.K, "C": layer.C, "Y": layer.Y, "X": layer.X,
            "R": layer.R, "S": layer.S}
    levels = int(rng.integers(1, MAX_LEVELS + 1))
    dim = np.full((1, MAX_LEVELS, SLOTS), EMPTY, dtype=np.int8)
    size = np.zeros((1, MAX_LEVELS, SLOTS), dtype=np.int64)
    offset = np.zeros_like(size)
    spatial = np.zeros((1, MAX_LEVELS, SLOTS), dtype=bool)
    cluster = np.zeros((1, MAX_LEVELS), dtype=np.int64)
    forms = {f"{levels} levels", layer.type, f"stride {layer.stride}"}
    for lvl in range(levels):
        names = [d for d in _dims_of(layer) if rng.random() < 0.85]
        if rng.random() < 0.15:
            names.append(str(rng.choice(_dims_of(layer))))
            forms.add("dimension mapped twice in a level")
        names = list(rng.permutation(names)) or ["C"]
        num_spatial = 2 if rng.random() < 0.25 and len(names) > 1 else 1
        spatial_slots = set(rng.choice(len(names), size=num_spatial, replace=False).tolist())
        if num_spatial == 2:
            forms.add("two SpatialMaps in a level")
        for slot, name in enumerate(names):
            sp = slot in spatial_slots
            code, m = name, int(rng.integers(1, full[name] + 2))
            if name in ("R", "S") and not sp:
                m = full[name]
            if name in ("R", "S") and sp and m < full[name]:
                forms.add("filter cut spatially")
            if name in ("Y", "X"):
                filt = full["R" if name == "Y" else "S"]
                if rng.random() < 0.5:
                    # Output rows: the window holds m - filt + 1 of them.
                    code, m = name + "'", max(m - filt + 1, 1)
                    forms.add("output-centric Y'/X'")
                elif filt > 1:
                    forms.add("input-centric Y/X, filter > 1")
            o = m
            if name not in ("R", "S") and rng.random() < 0.35:
                o = int(rng.integers(1, m + 2))
                if o != m:
                    forms.add("sliding window (offset < size)" if o < m else "offset > size")
            dim[0, lvl, slot] = DIM_CODE[code]
            size[0, lvl, slot], offset[0, lvl, slot], spatial[0, lvl, slot] = m, o, sp
        if lvl:
            cluster[0, lvl] = int(rng.integers(1, 4 * scale + 1))
    num_pes = int(rng.integers(1, 24 * scale + 1))
    product = int(np.prod(cluster[0, 1:levels])) if levels > 1 else 1
    if num_pes % product:
        forms.add("clusters not dividing the PEs")
    directives = Directives(dim, size, offset, spatial, cluster, np.array([levels]))
    return directives, num_pes, forms


def _cases(count: int, seed: int, scale: int = 1):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        layer = random_layer(rng, scale)
        directives, num_pes, forms = random_mapping(layer, rng, scale)
        yield layer, directives, num_pes, forms


def _check(count: int, seed: int, scale: int = 1):
    forms_seen, mismatches = Counter(), []
    for layer, directives, num_pes, forms in _cases(count, seed, scale):
        want = sim.busiest(layer, directives, 0, num_pes)
        got = int(busiest_pe_macs(layer, directives, num_pes)[0])
        forms_seen.update(forms)
        if got != want:
            mismatches.append((layer.describe(), num_pes, got, want))
    return forms_seen, mismatches


def test_floor_equals_the_simulated_busiest_pe_on_5000_mappings():
    forms, mismatches = _check(5000, seed=2)
    print("cases per directive form:", dict(sorted(forms.items())))
    assert mismatches == []
    assert len(forms) == 17 and min(forms.values()) >= 300


@pytest.mark.slow
def test_floor_equals_the_simulated_busiest_pe_on_larger_layers_and_arrays():
    # Channels and rows up to 4x larger, up to 96 PEs and clusters of up to 16.
    forms, mismatches = _check(3000, seed=5, scale=4)
    print("cases per directive form:", dict(sorted(forms.items())))
    assert mismatches == []
    assert len(forms) == 17 and min(forms.values()) >= 100


def test_the_factored_count_equals_walking_every_step_of_the_loop_nest():
    # simulate() sums each dimension's windows per PE; mac_multiset() lists every
    # MAC of every step of the full loop nest.  They must agree PE by PE.
    checked = 0
    for layer, directives, num_pes, _ in _cases(400, seed=3):
        if layer.macs > 1500:
            continue
        per_pe, _ = sim.mac_multiset(layer, directives, 0, num_pes)
        counts = sim.simulate(layer, directives, 0, num_pes)
        assert {pe: n for pe, n in per_pe.items() if n} == {
            pe: int(counts[pe]) for pe in zip(*np.nonzero(counts), strict=True)}
        assert int(busiest_pe_macs(layer, directives, num_pes)[0]) == counts.max()
        checked += 1
    assert checked > 150


def _exact_fixture_cases(budget: int):
    """MAESTRO fixture cases whose MAC count is the layer's, cheap enough to simulate."""
    for line in (FIXTURES / "maestro_cases.jsonl").read_text().splitlines():
        record = json.loads(line)
        (layer, directives), = parse_mapping(record["mapping_m"])
        if record["expected"].get("macs") != layer.macs:
            continue
        num_pes = record["hw"]["num_pes"]
        _, units = sim.complete(layer, directives, 0, num_pes)
        cost = int(np.prod(units)) * (layer.Yo * layer.Y + layer.Xo * layer.X + layer.K + layer.C)
        if cost <= budget:
            yield record["id"], layer, directives, num_pes


def _check_fixtures(budget: int):
    cases = 0
    for case_id, layer, directives, num_pes in _exact_fixture_cases(budget):
        counts = sim.simulate(layer, directives, 0, num_pes)
        assert counts.sum() == layer.macs, case_id
        assert busiest_pe_macs(layer, directives, num_pes)[0] == counts.max(), case_id
        cases += 1
    return cases


def test_simulator_computes_every_mac_of_maestro_exact_fixture_cases():
    # Where MAESTRO counts exactly the layer's MACs, every MAC is computed once.
    assert _check_fixtures(budget=100_000) >= 60


@pytest.mark.slow
def test_simulator_computes_every_mac_of_all_small_maestro_exact_fixture_cases():
    assert _check_fixtures(budget=3_000_000) >= 240


def test_cost_model_runtime_is_floored_by_the_simulated_busiest_pe():
    valid = undercount = 0
    for layer, directives, num_pes, _ in _cases(300, seed=4):
        lanes = 1 + num_pes % 3
        costs = evaluate(layer, Hardware(num_pes=num_pes, simd_lanes=lanes), directives)
        if not costs.valid[0]:
            continue
        out_stride = layer.stride if costs.physical_analysis[0] else 1
        busiest = sim.busiest(layer, directives, 0, num_pes, out_stride)
        assert costs.busiest_pe_macs[0] == busiest
        assert costs.undercount[0] == (costs.runtime[0] * lanes < busiest)
        if not costs.undercount[0]:
            assert costs.runtime[0] * lanes >= busiest
        valid += 1
        undercount += bool(costs.undercount[0])
    print(f"{valid} valid, {undercount} undercount")
    assert valid > 50 and undercount > 0


def _physical_cases(count: int, seed: int):
    """Random strided mappings whose MACs MAESTRO miscounts and the stride-aware
    analysis counts exactly (``physical_analysis``): (layer, directives, PEs, lanes, costs)."""
    for layer, directives, num_pes, _ in _cases(count, seed):
        if layer.stride == 1:
            continue
        lanes = 1 + num_pes % 3
        costs = evaluate(layer, Hardware(num_pes=num_pes, simd_lanes=lanes), directives)
        if costs.physical_analysis[0]:
            yield layer, directives, num_pes, lanes, costs


def test_stride_aware_analysis_computes_every_mac_once_and_floors_its_runtime():
    # The simulator reads Y'/X' tiles as the stride-aware analysis does: its MACs
    # must be exactly the layer's, every one computed once, and the reported
    # runtime must cover the busiest PE's work.
    checked = walked = 0
    for layer, directives, num_pes, lanes, costs in _physical_cases(5000, seed=21):
        counts = sim.simulate(layer, directives, 0, num_pes, out_stride=layer.stride)
        assert counts.sum() == layer.macs == costs.macs[0], layer.describe()
        assert costs.busiest_pe_macs[0] == counts.max(), layer.describe()
        assert costs.runtime[0] * lanes >= counts.max()
        assert costs.exact_analysis[0] and not costs.undercount[0]
        if layer.macs <= 1500:
            per_pe, macs = sim.mac_multiset(layer, directives, 0, num_pes, layer.stride)
            assert set(macs.values()) == {1} and len(macs) == layer.macs
            walked += 1
        checked += 1
    print(f"{checked} stride-aware mappings, {walked} walked MAC by MAC")
    assert checked >= 100 and walked >= 20


def row_stationary_mapping(layer: Layer, rng: np.random.Generator):
    """An Eyeriss-like row-stationary mapping of a strided layer: the innermost
    level pairs ``SpatialMap(1,1)`` on R with one on Y or Y' (or S with X/X')
    below a level holding one output row (``Y'`` of 1 or ``Y`` of ``R``) and the
    whole filter; random tiles elsewhere, 2 or 3 levels, clusters around the
    filter size.  Returns (directives, num_pes, cluster, filter side)."""
    rows = rng.random() < 0.5
    ref, slide = ("Y", "R") if rows else ("X", "S")
    other_ref, other_slide = ("X", "S") if rows else ("Y", "R")
    full = {"K": layer.K, "C": layer.C, "Y'": layer.Y - layer.R + 1,
            "X'": layer.X - layer.S + 1, "R": layer.R, "S": layer.S}
    side = full[slide]
    levels = int(rng.integers(2, MAX_LEVELS + 1))
    dim = np.full((1, MAX_LEVELS, SLOTS), EMPTY, dtype=np.int8)
    size = np.zeros((1, MAX_LEVELS, SLOTS), dtype=np.int64)
    spatial = np.zeros((1, MAX_LEVELS, SLOTS), dtype=bool)
    cluster = np.zeros((1, MAX_LEVELS), dtype=np.int64)
    plain = [d for d in ("K", "C") if not (d == "K" and layer.type == "DSCONV")]
    for lvl in range(levels):
        innermost, parent = lvl == levels - 1, lvl == levels - 2
        entries = []
        for name in plain:
            entries.append((name, int(rng.integers(1, full[name] + 1)), False))
        other = other_ref + "'"
        entries.append((other, int(rng.integers(1, full[other] + 1)), False))
        entries.append((other_slide, full[other_slide], False))
        if innermost:
            entries.append((ref if rng.random() < 0.3 else ref + "'", 1, True))
            entries.append((slide, 1, True))
        elif parent:
            if rng.random() < 0.3:
                entries.append((ref, side, False))            # R input rows = one output row
            else:
                entries.append((ref + "'", 1, bool(rng.random() < 0.5)))
            entries.append((slide, side, False))
        else:
            entries.append((ref + "'", int(rng.integers(1, full[ref + "'"] + 1)), True))
            entries.append((slide, side, False))
        if not innermost and not any(sp for *_, sp in entries):
            entries[0] = (entries[0][0], entries[0][1], True)
        for slot, k in enumerate(rng.permutation(len(entries))):
            name, m, sp = entries[k]
            dim[0, lvl, slot], size[0, lvl, slot], spatial[0, lvl, slot] = DIM_CODE[name], m, sp
        if lvl:
            cluster[0, lvl] = int(rng.integers(1, 3)) if not innermost else max(
                int(rng.choice([side - 1, side, side + 1, 2 * side])), 1)
    top = int(rng.integers(1, 5))
    num_pes = top * int(np.prod(cluster[0, 1:levels]))
    directives = Directives(dim, size, size.copy(), spatial, cluster, np.array([levels]))
    return directives, num_pes, int(cluster[0, levels - 1]), side


def test_row_stationary_pairs_are_analysed_stride_aware_and_exact():
    # Eyeriss's row-stationary form cuts the filter over the PEs of a cluster,
    # unit u taking input row u and filter row u.  MAESTRO miscounts it on a
    # strided layer (its window reading of the level above); the stride-aware
    # analysis takes it over when the cluster has a unit per filter row, and
    # the simulator must find every MAC computed once and the runtime covering
    # the busiest PE.  With fewer units than filter rows it stays MAESTRO's.
    rng = np.random.default_rng(8)
    admitted = walked = spare = undercount = 0
    for _ in range(1500):
        stride = int(rng.choice([2, 3, 4]))
        r, s = (int(v) for v in rng.integers(2, 8, size=2))
        layer = Layer(str(rng.choice(["CONV", "DSCONV"])), K=int(rng.integers(1, 4)),
                      C=int(rng.integers(1, 3)), Y=r + int(rng.integers(0, 12)),
                      X=s + int(rng.integers(0, 12)), R=r, S=s, stride=stride)
        directives, num_pes, units, side = row_stationary_mapping(layer, rng)
        costs = evaluate(layer, Hardware(num_pes=num_pes), directives)
        if not costs.physical_analysis[0]:
            continue
        assert units >= side, "a level with fewer units than filter rows was taken over"
        counts = sim.simulate(layer, directives, 0, num_pes, out_stride=layer.stride)
        assert counts.sum() == layer.macs == costs.macs[0], layer.describe()
        assert costs.busiest_pe_macs[0] == counts.max(), layer.describe()
        assert costs.exact_analysis[0]
        # MAESTRO's case weighting may still price a partly idle step below the
        # busiest PE's work: flagged, as everywhere (trust policy).
        assert costs.undercount[0] == (costs.runtime[0] < counts.max())
        undercount += bool(costs.undercount[0])
        if layer.macs <= 2000:
            _, macs = sim.mac_multiset(layer, directives, 0, num_pes, layer.stride)
            assert set(macs.values()) == {1} and len(macs) == layer.macs, layer.describe()
            walked += 1
        admitted += 1
        spare += units > side
    print(f"{admitted} row-stationary mappings taken over, {walked} walked MAC by MAC, "
          f"{undercount} undercounts")
    assert admitted >= 100 and walked >= 30 and spare >= 10


def whole_row_mapping(layer: Layer, rng: np.random.Generator):
    """A mapping of whole output rows with uneven tiles: every level names every
    dimension, R and S whole, Y'/X' output tiles, one SpatialMap per level and
    tiles drawn without regard to divisibility (partial spatial edges).
    Returns (directives, num_pes)."""
    full = {"K": layer.K, "C": layer.C, "Y'": layer.Yo if layer.stride == 1 else
            layer.Y - layer.R + 1, "X'": layer.X - layer.S + 1, "R": layer.R, "S": layer.S}
    names = [d for d in full if not (d == "K" and layer.type == "DSCONV")]
    levels = int(rng.integers(1, MAX_LEVELS + 1))
    dim = np.full((1, MAX_LEVELS, SLOTS), EMPTY, dtype=np.int8)
    size = np.zeros((1, MAX_LEVELS, SLOTS), dtype=np.int64)
    spatial = np.zeros((1, MAX_LEVELS, SLOTS), dtype=bool)
    cluster = np.zeros((1, MAX_LEVELS), dtype=np.int64)
    parent = dict(full)
    for lvl in range(levels):
        par = str(rng.choice([d for d in names if d not in ("R", "S")]))
        for slot, name in enumerate(rng.permutation(names)):
            m = full[name] if name in ("R", "S") else int(rng.integers(1, parent[name] + 1))
            dim[0, lvl, slot], size[0, lvl, slot] = DIM_CODE[name], m
            spatial[0, lvl, slot] = name == par
            parent[name] = m
        if lvl:
            cluster[0, lvl] = int(rng.integers(1, 6))
    num_pes = int(rng.integers(1, 25)) * max(int(np.prod(cluster[0, 1:levels])), 1)
    return Directives(dim, size, size.copy(), spatial, cluster, np.array([levels])), num_pes


def test_partial_spatial_edge_windows_are_counted_by_the_physical_analysis():
    # MAESTRO drops a partial last window of a spatial edge (its MACs go
    # missing); the physical analysis counts it.  Every mapping it takes over,
    # unstrided ones included, must compute each MAC once (simulator).
    rng = np.random.default_rng(12)
    taken = {1: 0, 2: 0}
    walked = 0
    for _ in range(5000):
        stride = int(rng.choice([1, 1, 1, 2]))
        r, s = (int(v) for v in rng.integers(1, 4, size=2))
        layer = Layer(str(rng.choice(["CONV", "DSCONV"])), K=int(rng.integers(1, 40)),
                      C=int(rng.integers(1, 40)), Y=r + int(rng.integers(0, 10)),
                      X=s + int(rng.integers(0, 10)), R=r, S=s, stride=stride)
        directives, num_pes = whole_row_mapping(layer, rng)
        costs = evaluate(layer, Hardware(num_pes=num_pes), directives)
        if not costs.physical_analysis[0]:
            continue
        counts = sim.simulate(layer, directives, 0, num_pes, out_stride=layer.stride)
        assert counts.sum() == layer.macs == costs.macs[0], layer.describe()
        assert costs.busiest_pe_macs[0] == counts.max(), layer.describe()
        assert costs.undercount[0] == (costs.runtime[0] < counts.max())
        if layer.macs <= 3000:
            _, macs = sim.mac_multiset(layer, directives, 0, num_pes, layer.stride)
            assert set(macs.values()) == {1} and len(macs) == layer.macs, layer.describe()
            walked += 1
        taken[stride] += 1
    print(f"taken over: {taken} (by stride), {walked} walked MAC by MAC")
    assert taken[1] >= 25 and taken[2] >= 200 and walked >= 100
