"""Stage/pipeline cost model of a partition over the chiplets of a multi-chip module.

A candidate partition gives every layer a *stage* (``stage[l]`` in ``[0, N)``)
and every stage a distinct chiplet (``place[s]``, a permutation of the N
chiplets).  It is valid when every dependency goes forward (``stage[u] <=
stage[v]`` for each edge ``u -> v``) and each stage's weights fit the memory
of its chiplet.  Stages run as a pipeline, one inference per step.

Time of a stage (cycles) = the latency of its layers on its chiplet (from the
per-layer mapping search) + receiving every tensor that enters it + sending
every tensor that leaves it.  A tensor of ``E`` elements sent between chiplets
``h`` hops apart takes ``ceil(E / link_bw) + h * link_latency`` cycles (one
transfer per edge: a tensor consumed by two stages is sent twice).

* period = the slowest stage's time; throughput = 1 / period.
* latency of one inference = the longest path through the stage graph, a stage
  starting when every stage it receives from has finished.
* energy (nJ) = the layers' energy on their chiplets + ``E * h * link_energy``
  per crossing tensor.

The model's own input and final output are not link traffic (they come from
and go to the host, the same for every partition).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gamma.partition.graph import LayerGraph

#: Objectives and the columns of :func:`evaluate` each one sorts by, in order.
OBJECTIVE_KEYS = {"throughput": ("period", "latency", "energy"),
                  "latency": ("latency", "period", "energy"),
                  "energy": ("energy", "period", "latency")}


def hop_matrix(count: int, topology: str) -> np.ndarray:
    """Hops between chiplets ``(count, count)`` on a ring or on a 2-D mesh.

    The mesh has ``rows x cols`` chiplets with ``rows`` the largest divisor of
    ``count`` not above its square root, numbered in snake (boustrophedon)
    order so that consecutive chiplets are neighbours, as on the ring.
    """
    ids = np.arange(count)
    if topology == "ring":
        d = np.abs(ids[:, None] - ids[None, :])
        return np.minimum(d, count - d).astype(np.int64)
    if topology != "mesh":
        raise ValueError(f"unknown topology {topology!r}")
    rows = max(r for r in range(1, math.isqrt(count) + 1) if count % r == 0)
    cols = count // rows
    row = ids // cols
    col = np.where(row % 2 == 0, ids % cols, cols - 1 - ids % cols)
    return (np.abs(row[:, None] - row[None, :]) + np.abs(col[:, None] - col[None, :])).astype(np.int64)


@dataclass(frozen=True)
class Package:
    """The chiplets of a multi-chip module and their links.

    Attributes
    ----------
    kinds : ndarray of int64, shape (chiplets,)
        Chiplet type of each chiplet (a column of the cost tables).
    kind_names : tuple of str
        Name of each chiplet type.
    memory : ndarray of int64, shape (chiplets,)
        Weight storage per chiplet (elements); 0 = unlimited.
    hops : ndarray of int64, shape (chiplets, chiplets)
    link_bw : float
        Elements per cycle of one link.
    link_latency : int
        Cycles per hop.
    link_energy : float
        nJ per element per hop.
    """

    kinds: np.ndarray
    kind_names: tuple
    memory: np.ndarray
    hops: np.ndarray
    link_bw: float = 64.0
    link_latency: int = 20
    link_energy: float = 1.0e-3
    topology: str = "ring"

    @property
    def count(self) -> int:
        return len(self.kinds)

    @property
    def capacity(self) -> np.ndarray:
        """Memory per chiplet with 0 (unlimited) as a number larger than any model."""
        return np.where(self.memory > 0, self.memory, np.iinfo(np.int64).max // 4)

    @property
    def identical(self) -> bool:
        return len(set(self.kinds.tolist())) == 1 and len(set(self.memory.tolist())) == 1


@dataclass(frozen=True)
class CostTables:
    """Per-layer costs on each chiplet type: ``latency`` (int64 cycles) and
    ``energy`` (nJ), both shaped ``(layers, kinds)``."""

    latency: np.ndarray
    energy: np.ndarray


@dataclass(frozen=True)
class Problem:
    """Everything a partition is scored against."""

    graph: LayerGraph
    package: Package
    costs: CostTables

    def transfer_cycles(self, hops: np.ndarray) -> np.ndarray:
        """Cycles to move each edge's tensor over ``hops`` (shape ``(..., edges)``); 0 hops = 0."""
        per = np.ceil(self.graph.elements / self.package.link_bw).astype(np.int64)
        return np.where(hops > 0, per + hops * int(self.package.link_latency), 0)


def _per_stage(values: np.ndarray, stage: np.ndarray, count: int) -> np.ndarray:
    """Sum ``values (P, M)`` into ``(P, count)`` bins given by ``stage (P, M)``."""
    pop = values.shape[0]
    flat = (np.arange(pop)[:, None] * count + stage).ravel()
    return np.bincount(flat, weights=values.ravel().astype(np.float64),
                       minlength=pop * count).reshape(pop, count)


def evaluate(problem: Problem, stage: np.ndarray, place: np.ndarray) -> dict[str, np.ndarray]:
    """Score a population of partitions.

    Parameters
    ----------
    stage : ndarray of int, shape (P, layers)
        Stage of each layer.
    place : ndarray of int, shape (P, chiplets)
        Chiplet of each stage (a permutation).

    Returns
    -------
    dict of ndarray, each shaped (P,) unless noted
        ``period``, ``latency`` (cycles), ``energy`` (nJ), ``link_elements``
        (elements x hops), ``violation`` (0 when valid: stage steps of
        backward edges + overflowing weights as a share of the model's), ``valid`` (bool),
        ``stage_time`` and ``stage_weights`` (P, chiplets).
    """
    g, pkg, costs = problem.graph, problem.package, problem.costs
    stage = np.asarray(stage, dtype=np.int64)
    place = np.asarray(place, dtype=np.int64)
    pop, n = stage.shape[0], pkg.count
    rows = np.arange(pop)[:, None]
    chip = place[rows, stage]                                   # (P, L)
    kind = pkg.kinds[chip]
    layer_ids = np.arange(g.num_layers)[None, :]
    compute = costs.latency[layer_ids, kind]
    time = _per_stage(compute, stage, n)
    energy = costs.energy[layer_ids, kind].sum(axis=1)

    s_src, s_dst = stage[:, g.src], stage[:, g.dst]             # (P, E)
    hops = pkg.hops[chip[:, g.src], chip[:, g.dst]]
    xfer = problem.transfer_cycles(hops)
    time += _per_stage(xfer, s_src, n) + _per_stage(xfer, s_dst, n)
    traffic = (g.elements[None, :] * hops).sum(axis=1)
    energy = energy + traffic * pkg.link_energy

    weights = _per_stage(np.broadcast_to(g.weights, stage.shape), stage, n)
    over = np.maximum(weights - pkg.capacity[place], 0).sum(axis=1)
    backward = np.maximum(s_src - s_dst, 0).sum(axis=1)
    # dimensionless: stage steps of backward edges + overflowing share of the model's weights
    violation = backward + over / max(1, int(g.weights.sum()))

    # longest path through the stage graph: stage s starts when its senders are done
    edge_on = np.zeros((pop, n, n), dtype=bool)
    cross = s_src != s_dst
    p_idx = np.broadcast_to(rows, s_src.shape)
    edge_on[p_idx[cross], s_src[cross], s_dst[cross]] = True
    finish = np.zeros((pop, n))
    for s in range(n):                                           # over stages, not candidates
        ready = np.where(edge_on[:, :s, s], finish[:, :s], 0.0).max(axis=1, initial=0.0)
        finish[:, s] = ready + time[:, s]
    return {"period": time.max(axis=1), "latency": finish.max(axis=1), "energy": energy,
            "link_elements": traffic.astype(np.float64), "violation": violation.astype(np.float64),
            "valid": violation == 0, "stage_time": time, "stage_weights": weights}


def rank_order(scores: dict[str, np.ndarray], objective: str) -> np.ndarray:
    """Indices from best to worst: valid first (least violation), then the objective's keys.

    For throughput, equal periods are told apart by the next slowest stages
    (leximax of the stage times): a search on a plateau where several stages
    share the period is rewarded for unloading one of them.
    """
    primary, *rest = OBJECTIVE_KEYS[objective]
    keys = [scores[primary]]
    if objective == "throughput" and "stage_time" in scores:
        slow = -np.sort(-scores["stage_time"], axis=1)
        keys += [slow[:, i] for i in range(1, slow.shape[1])]
    keys += [scores[k] for k in rest]
    return np.lexsort(keys[::-1] + [scores["violation"]])


def objective_value(scores: dict[str, np.ndarray], objective: str) -> np.ndarray:
    """The primary value each objective minimizes (period, latency or energy)."""
    return scores[OBJECTIVE_KEYS[objective][0]]


def schedule(problem: Problem, stage: np.ndarray, place: np.ndarray) -> list[dict]:
    """Per-layer timing of one partition's first pipelined step (cycles).

    Each stage receives its inputs, runs its layers in order, then sends its
    outputs; step ``k`` of a layer runs ``k * period`` cycles later.
    """
    g, pkg = problem.graph, problem.package
    scores = evaluate(problem, stage[None], place[None])
    n = pkg.count
    chip = place[stage]
    hops = pkg.hops[chip[g.src], chip[g.dst]]
    xfer = problem.transfer_cycles(hops)
    receive = np.bincount(stage[g.dst], weights=xfer, minlength=n)
    time = scores["stage_time"][0]
    finish = np.zeros(n)
    for s in range(n):
        senders = {int(a) for a, b in zip(stage[g.src], stage[g.dst], strict=True) if a != b == s}
        finish[s] = max((finish[a] for a in senders), default=0.0) + time[s]
    start = finish - time
    clock = start + receive
    rows = []
    for layer_index, layer in enumerate(g.layers):
        s = int(stage[layer_index])
        c = int(chip[layer_index])
        cycles = int(problem.costs.latency[layer_index, pkg.kinds[c]])
        rows.append({"layer": layer_index + 1, "name": layer.name, "shape": layer.describe(),
                     "chiplet": c, "chiplet_type": pkg.kind_names[pkg.kinds[c]], "stage": s,
                     "start": float(clock[s]), "finish": float(clock[s] + cycles),
                     "compute_cycles": cycles, "weights": int(g.weights[layer_index]),
                     "period": float(scores["period"][0])})
        clock[s] += cycles
    return rows
