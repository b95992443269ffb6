"""Iteration states of a level call and the analysis cases built from them.

Per directive MAESTRO distinguishes an Init step, Steady steps and an Edge step
(maestro-model.md §4.2) and analyses every combination ("case", §4.3).  Every
per-case quantity of the model depends on a case only through

* ``c``, the innermost directive not in its Init step (-1: all Init), and
* which directives are in their Edge step,

because a directive outside ``c``'s inner loops contributes the same factors
whether it is in its Init or a Steady step (§4.4-4.6).  The model therefore
evaluates *case classes* ``(c, step of c, set of Edge directives outside c)``,
each weighted by the number of steps it stands for.  A class is a row with a
representative position per directive: ``INIT`` for Init/Steady outside ``c``
and for everything inside ``c``; ``STEADY`` or ``EDGE`` for ``c``; ``EDGE`` for
Edge directives outside ``c``.

Individual cases in MAESTRO's enumeration order (needed for the few
order-dependent outputs) are mapped back to their class by key: a class's key
``((c + 1) * 2 + [step of c is Edge]) * 2**V + (Edge set as bits)`` orders the
rows of a job.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numba import njit

from gamma.costmodel.intmath import cdiv

INIT, STEADY, EDGE = 0, 1, 2
#: MAESTRO counts the steps of one case in a 32-bit int.
INT32_MAX = 2**31 - 1


@dataclass
class States:
    """Iteration states of J level calls, per loop position; arrays are (J, V).

    Attributes
    ----------
    has_steady, has_edge : bool
        Whether the directive has Steady steps / an Edge step.
    steady : int64
        Number of Steady steps.
    unrolled : bool
        The Init step covers the whole dimension.
    init_edge : bool
        The Init step is already an edge step (dimension smaller than the tile).
    edge_ee : bool
        SpatialMaps: the last active sub-unit of the Edge step gets a partial tile.
    """

    has_steady: np.ndarray
    has_edge: np.ndarray
    steady: np.ndarray
    unrolled: np.ndarray
    init_edge: np.ndarray
    edge_ee: np.ndarray

    @property
    def num_states(self):
        return 1 + self.has_steady + self.has_edge


def iteration_states(dim, size, offset, spatial, units) -> States:
    """Per-directive states for dimension sizes ``dim`` (IterationAnalysis, §4.2).

    Parameters
    ----------
    dim, size, offset : ndarray (J, V), int64
        Dimension size seen by this call, directive size and offset, per loop position.
    spatial : ndarray (J, V), bool
    units : ndarray (J,), int64
        Sub-units of the level.
    """
    units = units[:, None]
    # TemporalMap
    t_steady = cdiv(dim - size, offset)
    t_init_edge = dim < size
    t_has_steady = (size < dim) & (t_steady > 0)
    t_has_edge = ~t_init_edge & (t_steady * offset + size < dim)
    # SpatialMap: the whole array advances by offset*units per step.
    coverage = size + offset * (units - 1)
    s_steady = cdiv(cdiv(dim - size, offset) + 1, units) - 1
    s_init_edge = dim < coverage
    s_unrolled = dim <= coverage
    s_has_steady = (coverage < dim) & (s_steady > 0)
    s_has_edge = (~s_unrolled & ((s_steady + 1) * offset * units + coverage > dim)
                  & (s_steady * offset * units + coverage != dim))
    remaining = dim - (s_steady + 1) * offset * units
    active = np.where(remaining < size, 1, cdiv(remaining - size, offset) + 1)
    edge_ee = (active - 1) * offset + size < remaining
    return States(
        has_steady=np.where(spatial, s_has_steady, t_has_steady),
        has_edge=np.where(spatial, s_has_edge, t_has_edge),
        steady=np.where(spatial, s_steady, t_steady),
        unrolled=np.where(spatial, s_unrolled, dim <= size),
        init_edge=np.where(spatial, s_init_edge, t_init_edge),
        edge_ee=spatial & edge_ee)


def step_count_overflow(states: States) -> np.ndarray:
    """(J,) True where some case would count more than 2^31-1 steps."""
    biggest = np.where(states.has_steady, np.maximum(states.steady, 1), 1).astype(np.float64)
    return np.prod(biggest, axis=1) > INT32_MAX


@dataclass
class Classes:
    """Present case classes of J jobs, grouped by job (rows sorted by key within a job).

    Attributes
    ----------
    job : ndarray (M,), int64
    c : ndarray (M,), int64
        Changing loop position (-1: the all-Init class).
    pos : ndarray (M, V), int8
    weight : ndarray (M,), int64
        Number of steps the class stands for.
    key : ndarray (M,), int64
    start : ndarray (J,), int64
        First row of each job (every job has its all-Init class first).
    """

    job: np.ndarray
    c: np.ndarray
    pos: np.ndarray
    weight: np.ndarray
    key: np.ndarray
    start: np.ndarray


@njit(cache=True, error_model="numpy")
def _count_classes(has_steady, has_edge):
    nj, nvar = has_steady.shape
    counts = np.ones(nj, dtype=np.int64)
    for j in range(nj):
        edges_below = 0
        for c in range(nvar):
            kinds = (1 if has_steady[j, c] else 0) + (1 if has_edge[j, c] else 0)
            counts[j] += kinds << edges_below
            if has_edge[j, c]:
                edges_below += 1
    return counts


@njit(cache=True, error_model="numpy")
def _fill_classes(has_steady, has_edge, steady, start, total):
    nj, nvar = has_steady.shape
    job = np.empty(total, dtype=np.int64)
    case_c = np.empty(total, dtype=np.int64)
    pos = np.zeros((total, nvar), dtype=np.int8)
    weight = np.empty(total, dtype=np.int64)
    key = np.empty(total, dtype=np.int64)
    for j in range(nj):
        r = start[j]
        job[r], case_c[r], weight[r], key[r] = j, -1, 1, 0
        r += 1
        edge_bits = 0
        for c in range(nvar):
            for kind in range(2):
                if (kind == 0 and not has_steady[j, c]) or (kind == 1 and not has_edge[j, c]):
                    continue
                for mask in range(1 << c):
                    if mask & ~edge_bits:
                        continue
                    w = steady[j, c] if kind == 0 else 1
                    for q in range(c):
                        if (mask >> q) & 1:
                            pos[r, q] = EDGE
                        elif has_steady[j, q]:
                            w *= 1 + steady[j, q]
                    pos[r, c] = STEADY if kind == 0 else EDGE
                    job[r], case_c[r], weight[r] = j, c, w
                    key[r] = ((c + 1) * 2 + kind) * (1 << nvar) + mask
                    r += 1
            if has_edge[j, c]:
                edge_bits |= 1 << c
    return job, case_c, pos, weight, key


def enumerate_classes(states: States) -> Classes:
    """The classes present for each job, with their step counts."""
    counts = _count_classes(states.has_steady, states.has_edge)
    start = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    job, case_c, pos, weight, key = _fill_classes(
        states.has_steady, states.has_edge, states.steady.astype(np.int64), start,
        int(counts.sum()))
    return Classes(job=job, c=case_c, pos=pos, weight=weight, key=key, start=start)


@njit(cache=True, error_model="numpy")
def _case_row(j, k, num_states, freq, has_steady, start, keys, end, nvar):
    """Class row of MAESTRO's enumerated case ``k`` of job ``j`` (§4.3 order)."""
    c, kind, mask = -1, 0, 0
    for p in range(nvar):
        idx = 0 if k == 0 else ((k - 1) // freq[j, p] + 1) % num_states[j, p]
        if idx == 0:
            continue
        state = STEADY if (idx == 1 and has_steady[j, p]) else EDGE
        if c >= 0 and kind == 1:
            mask |= 1 << c
        c, kind = p, (1 if state == EDGE else 0)
    key = 0 if c < 0 else ((c + 1) * 2 + kind) * (1 << nvar) + mask
    lo, hi = start[j], end
    while lo < hi:                      # rows of a job are sorted by key
        mid = (lo + hi) // 2
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _radix(states: States):
    num_states = states.num_states.astype(np.int64)
    freq = np.cumprod(num_states[:, ::-1], axis=1)[:, ::-1]
    total = freq[:, 0].copy()
    freq = np.concatenate([freq[:, 1:], np.ones((len(freq), 1), dtype=np.int64)], axis=1)
    return num_states, np.ascontiguousarray(freq), total


@njit(cache=True, error_model="numpy")
def _scan_first(valid, start, keys, num_states, freq, total, has_steady):
    nj, nvar = num_states.shape
    n_rows = keys.shape[0]
    first = np.full(nj, -1, dtype=np.int64)
    lead_count = np.zeros(nj, dtype=np.int64)
    lead_rows = np.empty(nj, dtype=np.int64)
    extra_jobs = []
    extra_rows = []
    for j in range(nj):
        end = start[j + 1] if j + 1 < nj else n_rows
        lead_rows[j] = start[j]
        lead_count[j] = 1
        if valid[start[j]]:
            first[j] = start[j]
            continue
        for k in range(1, total[j]):
            row = _case_row(j, k, num_states, freq, has_steady, start, keys, end, nvar)
            extra_jobs.append(j)
            extra_rows.append(row)
            lead_count[j] += 1
            if valid[row]:
                first[j] = row
                break
        if first[j] < 0:                   # no valid case: only case 0 sizes the buffers
            for _ in range(lead_count[j] - 1):
                extra_jobs.pop()
                extra_rows.pop()
            lead_count[j] = 1
    jobs = np.empty(nj + len(extra_jobs), dtype=np.int64)
    rows = np.empty(nj + len(extra_jobs), dtype=np.int64)
    jobs[:nj] = np.arange(nj)
    rows[:nj] = lead_rows
    for i in range(len(extra_jobs)):
        jobs[nj + i] = extra_jobs[i]
        rows[nj + i] = extra_rows[i]
    return first, lead_count, jobs, rows


def first_valid_cases(states: States, classes: Classes, valid):
    """First analysed (non-skipped) case of every job in MAESTRO's order.

    Returns
    -------
    first_row : (J,) its class row, -1 if every case is skipped
    lead_count : (J,) number of enumerated cases up to and including it
    lead : (jobs, rows)
        Class rows of those cases (MAESTRO sizes the buffers from all of them:
        skipped leading cases accumulate, maestro-model.md §4.9).
    """
    num_states, freq, total = _radix(states)
    first, lead_count, jobs, rows = _scan_first(
        valid, classes.start, classes.key, num_states, freq, total, states.has_steady)
    return first, lead_count, (jobs, rows)


@njit(cache=True, error_model="numpy")
def _scan_last(valid, compute, macs, ingress, start, keys, num_states, freq, total, has_steady,
               l2_output, l2_input):
    nj, nvar = num_states.shape
    n_rows = keys.shape[0]
    offchip = np.zeros(nj, dtype=np.int64)
    intensity = np.full(nj, np.nan)
    for j in range(nj):
        end = start[j + 1] if j + 1 < nj else n_rows
        bound = max(l2_output[j], l2_input[j])
        rank = 0
        for k in range(total[j] - 1, -1, -1):
            row = _case_row(j, k, num_states, freq, has_steady, start, keys, end, nvar)
            if not valid[row]:
                continue
            cd = max(compute[row], 1)
            need = max(l2_output[j] // cd, l2_input[j] // cd)
            if rank == 0:
                intensity[j] = macs[row] / ingress[row] if ingress[row] != 0 else np.inf
            if rank < 62:
                offchip[j] = max(offchip[j], need >> (rank + 1))
            rank += 1
            if rank >= 62 or (bound >> (rank + 1)) == 0:
                break
    return offchip, intensity


def last_cases(states: States, classes: Classes, valid, compute, macs, ingress, l2_output,
               l2_input):
    """Order-dependent top-level figures from MAESTRO's last analysed cases (§4.10).

    The off-chip requirement is updated per analysed case as
    ``r = max(r, L2_out // cd, L2_in // cd) // 2``, so only the last few cases
    can matter; the arithmetic intensity is that of the last analysed case.
    """
    num_states, freq, total = _radix(states)
    return _scan_last(valid, compute, macs, ingress, classes.start, classes.key, num_states,
                      freq, total, states.has_steady, l2_output, l2_input)
