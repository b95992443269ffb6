"""Iteration states of a level call and the analysis cases built from them (compiled).

Per directive MAESTRO distinguishes an Init step, Steady steps and an Edge step
(maestro-model.md §4.2) and analyses every combination ("case", §4.3).  Every
per-case quantity of the model depends on a case only through

* ``c``, the innermost directive not in its Init step (-1: all Init), and
* which directives are in their Edge step,

because a directive outside ``c``'s inner loops contributes the same factors
whether it is in its Init or a Steady step (§4.4-4.6).  The model therefore
evaluates *case classes* ``(c, step of c, set of Edge directives outside c)``,
each weighted by the number of steps it stands for.  A class has a
representative position per directive: ``INIT`` for Init/Steady outside ``c``
and for everything inside ``c``; ``STEADY`` or ``EDGE`` for ``c``; ``EDGE`` for
Edge directives outside ``c``.

A class is identified by its key ``((c + 1) * 2 + kind) * 2**V + mask`` (kind 1:
``c`` is in its Edge step; mask: the Edge set outside ``c`` as bits of loop
positions); key 0 is the all-Init class.  The key orders the rows of a call and
maps MAESTRO's individual cases (in enumeration order, needed for the few
order-dependent outputs) back to their class.

Per-directive state flags of a call are bitmasks over loop positions (at most
62 positions), stored in the call's columns ``K_HAS_STEADY`` ... ``K_EDGE_EE``
of ``call_int`` (:mod:`gamma.costmodel.layout`); the Steady step counts in ``call_steady``.
The earlier directive of a variable mapped twice is no loop position: its
steps only repeat cases (``K_PH_*``, bits from :data:`PHANTOM_BIT` on).
Nothing here creates array views (each would cost reference-count updates in
compiled code): helpers take whole arrays and indices.
"""
from __future__ import annotations

from numba import njit

from gamma.costmodel.intmath import tdiv
from gamma.costmodel.layout import (
    K_EDGE_EE,
    K_HAS_EDGE,
    K_HAS_STEADY,
    K_INIT_EDGE,
    K_PH_EDGE,
    K_PH_STEADY,
    K_PH_WEIGHT,
    K_UNROLLED,
    R_C,
    R_KEY,
    R_WEIGHT,
)
from gamma.costmodel.tables import twice_fields

INIT, STEADY, EDGE = 0, 1, 2
#: First bit of the state masks that marks the earlier directive of a variable
#: mapped twice (:func:`iteration_states`); loop positions use the bits below.
PHANTOM_BIT = 32
#: MAESTRO counts the steps of one case in a 32-bit int.
INT32_MAX = 2**31 - 1


@njit(cache=True, error_model="numpy", inline="always")
def _spatial_steps(dim, m, o, units):
    """Steady step count, whether there are Steady steps and whether there is an
    Edge step of a SpatialMap(m, o) over ``dim`` on ``units`` sub-units."""
    coverage = m + o * (units - 1)
    ns = tdiv(tdiv(dim - m, o) + 1, units) - 1
    has_steady = coverage < dim and ns > 0
    has_edge = (dim > coverage and (ns + 1) * o * units + coverage > dim
                and ns * o * units + coverage != dim)
    return ns, has_steady, has_edge


@njit(cache=True, error_model="numpy", inline="always")
def _temporal_steps(dim, m, o):
    """Steady step count, whether there are Steady steps and whether there is an
    Edge step of a TemporalMap(m, o) over ``dim``."""
    ns = tdiv(dim - m, o)
    return ns, m < dim and ns > 0, not dim < m and ns * o + m < dim


@njit(cache=True, error_model="numpy", inline="always")
def iteration_states(k, lvl, nvar, call_dims, lv_order, ps_size, ps_ofs, spatial_mask, units,
                     twice, a_size, a_ofs, call_int, call_steady):
    """Per-directive states of level call ``k`` (IterationAnalysis, §4.2).

    ``call_dims[k]`` holds the call's dimension sizes per variable,
    ``lv_order[lvl]`` the variable at each loop position, ``ps_size[lvl]`` /
    ``ps_ofs[lvl]`` the directive arguments per loop position.  Writes the state
    masks into ``call_int[k]`` and the Steady step counts into ``call_steady[k]``.

    A variable mapped twice (``twice``: the level's descriptor,
    :func:`gamma.costmodel.tables.twice_fields`) has its loop position and its
    states from the later directive B (class, ``ps_size``/``ps_ofs``); MAESTRO
    keeps one state per dimension name, B's, so the earlier directive A
    (``a_size``, ``a_ofs``) only repeats every case with its own steps.  They go
    to the call's ``K_PH_STEADY``/``K_PH_EDGE`` masks, as bit ``PHANTOM_BIT + q``
    for A standing before loop position q (MAESTRO's case order, :func:`case_key`),
    and multiply every class weight by ``K_PH_WEIGHT``.

    Returns
    -------
    (bool, int)
        Whether some case would count more than 2^31-1 steps (MAESTRO's step
        counter overflows), and the number of case classes.
    """
    biggest, classes, edges_below = 1.0, 1, 0
    m_steady = m_edge = m_unrolled = m_init_edge = m_edge_ee = 0
    ph_steady = ph_edge = 0
    ph_weight = 1
    d_mask, a_sp, b_sp, before = twice_fields(twice)
    # The class each loop position's states follow (B's for the repeated variable).
    states_sp = (spatial_mask & ~d_mask) | (d_mask if b_sp else 0)
    for p in range(nvar):
        bit = 1 << p
        dim, m, o = call_dims[k, lv_order[lvl, p]], ps_size[lvl, p], ps_ofs[lvl, p]
        if d_mask & bit:
            ns, steady, edge = (_spatial_steps(dim, a_size, a_ofs, units) if a_sp
                                else _temporal_steps(dim, a_size, a_ofs))
            phantom = 1 << (PHANTOM_BIT + before)
            if steady:
                ph_steady, ph_weight = phantom, ph_weight + ns
                biggest *= max(ns, 1)
            if edge:
                ph_edge, ph_weight = phantom, ph_weight + 1
        if states_sp & bit:
            # SpatialMap: the whole array advances by offset*units per step.
            coverage = m + o * (units - 1)
            ns, has_steady, has_edge = _spatial_steps(dim, m, o, units)
            unrolled = dim <= coverage
            remaining = dim - (ns + 1) * o * units
            active = 1 if remaining < m else tdiv(remaining - m, o) + 1
            if dim < coverage:
                m_init_edge |= bit
            if (active - 1) * o + m < remaining:
                m_edge_ee |= bit
        else:
            ns, has_steady, has_edge = _temporal_steps(dim, m, o)
            unrolled = dim <= m
            if dim < m:
                m_init_edge |= bit
        if has_steady:
            m_steady |= bit
            biggest *= max(ns, 1)
        if has_edge:
            m_edge |= bit
        if unrolled:
            m_unrolled |= bit
        call_steady[k, p] = ns
        # Classes with c = p: (Steady, Edge) x subsets of the Edge directives outside.
        classes += (has_steady + has_edge) << edges_below
        edges_below += has_edge
    call_int[k, K_HAS_STEADY] = m_steady
    call_int[k, K_HAS_EDGE] = m_edge
    call_int[k, K_UNROLLED] = m_unrolled
    call_int[k, K_INIT_EDGE] = m_init_edge
    call_int[k, K_EDGE_EE] = m_edge_ee
    call_int[k, K_PH_STEADY], call_int[k, K_PH_EDGE] = ph_steady, ph_edge
    call_int[k, K_PH_WEIGHT] = ph_weight
    return biggest > INT32_MAX, classes


@njit(cache=True, error_model="numpy", inline="always")
def fill_classes(k, nvar, call_int, call_steady, row0, row_int):
    """Write call ``k``'s case classes, sorted by key, into rows ``row0...``.

    Row ``row0`` is the all-Init class.  ``row_int[R_C]`` gets the changing loop
    position (-1: all Init), ``row_int[R_WEIGHT]`` the number of steps the class
    stands for, ``row_int[R_KEY]`` its key.  Returns the end row.
    """
    m_steady, m_edge = call_int[k, K_HAS_STEADY], call_int[k, K_HAS_EDGE]
    ph_weight = call_int[k, K_PH_WEIGHT]
    r = row0
    row_int[R_C, r], row_int[R_WEIGHT, r], row_int[R_KEY, r] = -1, ph_weight, 0
    r += 1
    for c in range(nvar):
        bit = 1 << c
        below = m_edge & (bit - 1)          # Edge directives outside c
        for kind in range(2):
            if kind == 0 and not (m_steady & bit):
                continue
            if kind == 1 and not (m_edge & bit):
                continue
            base = ((c + 1) * 2 + kind) << nvar
            mask = 0
            while True:                     # subsets of ``below``, increasing
                w = ph_weight * (call_steady[k, c] if kind == 0 else 1)
                for q in range(c):
                    qbit = 1 << q
                    if not (mask & qbit) and (m_steady & qbit):
                        w *= 1 + call_steady[k, q]
                row_int[R_C, r], row_int[R_WEIGHT, r], row_int[R_KEY, r] = c, w, base + mask
                r += 1
                if mask == below:
                    break
                mask = (mask - below) & below
    return r


@njit("int64(int64, int64, int64)", cache=True, error_model="numpy")
def num_cases(nvar, m_steady, m_edge):
    """Number of cases MAESTRO enumerates for a call: the product over directives
    of their states (Init, Steady if any, Edge if any) (§4.3); bits from
    ``PHANTOM_BIT`` on are the states of the earlier directive on a variable
    mapped twice (:func:`iteration_states`)."""
    total = 1
    for p in range(nvar):
        total *= 1 + ((m_steady >> p) & 1) + ((m_edge >> p) & 1)
    if (m_steady | m_edge) >> PHANTOM_BIT:
        for p in range(nvar):
            q = PHANTOM_BIT + p
            total *= 1 + ((m_steady >> q) & 1) + ((m_edge >> q) & 1)
    return total


@njit("int64(int64, int64, int64, int64, int64)", cache=True, error_model="numpy")
def case_key(case, nvar, m_steady, m_edge, total):
    """Key of the class of MAESTRO's enumerated case ``case`` of a call (§4.3 order).

    MAESTRO's case counter is mixed-radix: directive p has ``num_states[p]``
    states and place value ``freq[p]`` (the product of the states of the
    directives inside it); its state index at case k is 0 for k = 0, else
    ``((k - 1) // freq[p] + 1) % num_states[p]``.  ``total`` is
    :func:`num_cases`.  The rows of a call are sorted by key, so the class row
    is found by binary search.  The earlier directive of a variable mapped
    twice (bit ``PHANTOM_BIT + p`` of the masks: it stands before loop position
    p) is a digit of the counter that only repeats cases and does not change
    the class.
    """
    c, kind, mask = -1, 0, 0
    freq = total
    phantoms = (m_steady | m_edge) >> PHANTOM_BIT
    for p in range(nvar):
        if (phantoms >> p) & 1:
            q = PHANTOM_BIT + p
            freq //= 1 + ((m_steady >> q) & 1) + ((m_edge >> q) & 1)
        num_states = 1 + ((m_steady >> p) & 1) + ((m_edge >> p) & 1)
        freq //= num_states
        idx = 0 if case == 0 else ((case - 1) // freq + 1) % num_states
        if idx == 0:
            continue
        is_edge = not (idx == 1 and (m_steady >> p) & 1)
        if c >= 0 and kind == 1:
            mask |= 1 << c
        c, kind = p, (1 if is_edge else 0)
    return 0 if c < 0 else (((c + 1) * 2 + kind) << nvar) + mask
