"""Iteration states of a level call and the analysis cases built from them (compiled).

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
rows of a call.

Per-call state arrays (length V, loop-position order) live in one bool matrix
``st`` with rows :data:`HAS_STEADY`, :data:`HAS_EDGE`, :data:`UNROLLED`,
:data:`INIT_EDGE`, :data:`EDGE_EE`, plus ``steady`` (int64, number of Steady steps).
"""
from __future__ import annotations

from numba import njit

from gamma.costmodel.intmath import tdiv

INIT, STEADY, EDGE = 0, 1, 2
#: MAESTRO counts the steps of one case in a 32-bit int.
INT32_MAX = 2**31 - 1
#: Rows of the per-call state matrix.
HAS_STEADY, HAS_EDGE, UNROLLED, INIT_EDGE, EDGE_EE = 0, 1, 2, 3, 4
NUM_STATE_FLAGS = 5


@njit(cache=True, error_model="numpy")
def iteration_states(dims, order, size, offset, spatial, units, st, steady):
    """Per-directive states of one level call (IterationAnalysis, §4.2).

    Parameters
    ----------
    dims : ndarray (V,)
        Dimension sizes seen by this call, per variable.
    order : ndarray (V,)
        Variable at each loop position.
    size, offset, spatial : ndarray (V,)
        Directive arguments per loop position.
    units : int
        Sub-units of the level.
    st : bool ndarray (NUM_STATE_FLAGS, V), output
    steady : int64 ndarray (V,), output

    Returns
    -------
    (bool, int)
        Whether some case would count more than 2^31-1 steps (MAESTRO's step
        counter overflows), and the number of case classes.
    """
    nvar = order.shape[0]
    biggest = 1.0
    classes = 1
    edges_below = 0
    for p in range(nvar):
        dim, m, o = dims[order[p]], size[p], offset[p]
        if spatial[p]:
            # SpatialMap: the whole array advances by offset*units per step.
            coverage = m + o * (units - 1)
            ns = tdiv(tdiv(dim - m, o) + 1, units) - 1
            unrolled = dim <= coverage
            has_steady = coverage < dim and ns > 0
            has_edge = (not unrolled and (ns + 1) * o * units + coverage > dim
                        and ns * o * units + coverage != dim)
            remaining = dim - (ns + 1) * o * units
            active = 1 if remaining < m else tdiv(remaining - m, o) + 1
            st[INIT_EDGE, p] = dim < coverage
            st[EDGE_EE, p] = (active - 1) * o + m < remaining
        else:
            ns = tdiv(dim - m, o)
            unrolled = dim <= m
            has_steady = m < dim and ns > 0
            has_edge = not dim < m and ns * o + m < dim
            st[INIT_EDGE, p] = dim < m
            st[EDGE_EE, p] = False
        st[HAS_STEADY, p] = has_steady
        st[HAS_EDGE, p] = has_edge
        st[UNROLLED, p] = unrolled
        steady[p] = ns
        if has_steady:
            biggest *= max(ns, 1)
        # Classes with c = p: (Steady, Edge) x subsets of the Edge directives outside.
        classes += (has_steady + has_edge) << edges_below
        edges_below += has_edge
    return biggest > INT32_MAX, classes


@njit(cache=True, error_model="numpy")
def fill_classes(st, steady, row0, case_c, weight, key, pos):
    """Write the call's case classes, sorted by key, into rows ``row0...``.

    Row ``row0`` is the all-Init class.  ``case_c`` gets the changing loop
    position (-1: all Init), ``weight`` the number of steps the class stands
    for, ``pos`` (rows, V) the representative position per directive.
    Returns the end row.
    """
    nvar = steady.shape[0]
    r = row0
    pos[r, :] = INIT
    case_c[r], weight[r], key[r] = -1, 1, 0
    r += 1
    edge_bits = 0
    for c in range(nvar):
        for kind in range(2):
            if (kind == 0 and not st[HAS_STEADY, c]) or (kind == 1 and not st[HAS_EDGE, c]):
                continue
            for mask in range(1 << c):
                if mask & ~edge_bits:
                    continue
                w = steady[c] if kind == 0 else 1
                for q in range(c):
                    if (mask >> q) & 1:
                        pos[r, q] = EDGE
                    else:
                        pos[r, q] = INIT
                        if st[HAS_STEADY, q]:
                            w *= 1 + steady[q]
                pos[r, c] = STEADY if kind == 0 else EDGE
                for q in range(c + 1, nvar):
                    pos[r, q] = INIT
                case_c[r], weight[r] = c, w
                key[r] = ((c + 1) * 2 + kind) * (1 << nvar) + mask
                r += 1
        if st[HAS_EDGE, c]:
            edge_bits |= 1 << c
    return r


@njit(cache=True, error_model="numpy")
def radix(st, num_states, freq):
    """MAESTRO's mixed-radix case counter: states per directive, place values; returns
    the number of cases (§4.3)."""
    nvar = num_states.shape[0]
    total = 1
    for p in range(nvar - 1, -1, -1):
        freq[p] = total
        num_states[p] = 1 + st[HAS_STEADY, p] + st[HAS_EDGE, p]
        total *= num_states[p]
    return total


@njit(cache=True, error_model="numpy")
def case_row(k, num_states, freq, st, keys, row0, row1):
    """Class row of MAESTRO's enumerated case ``k`` of a call (§4.3 order).

    The state index of directive p at case k is 0 for k = 0, else
    ``((k - 1) // freq[p] + 1) % num_states[p]``; rows ``row0:row1`` of the call
    are sorted by key, so the class is found by binary search.
    """
    nvar = num_states.shape[0]
    c, kind, mask = -1, 0, 0
    for p in range(nvar):
        idx = 0 if k == 0 else ((k - 1) // freq[p] + 1) % num_states[p]
        if idx == 0:
            continue
        is_edge = not (idx == 1 and st[HAS_STEADY, p])
        if c >= 0 and kind == 1:
            mask |= 1 << c
        c, kind = p, (1 if is_edge else 0)
    key = 0 if c < 0 else ((c + 1) * 2 + kind) * (1 << nvar) + mask
    lo, hi = row0, row1
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo
