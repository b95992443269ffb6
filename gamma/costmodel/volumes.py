"""Per-case data volumes of one cluster level (maestro-model.md §4.4-4.6), compiled.

:func:`call_volumes` computes, for every case-class row of a level call, the
critical-path partial sums, the MACs of the step, the output egress, the ingress
of both input tensors and the edge state that selects the tile sizes handed to
the level below (:func:`sub_size`).  It follows MAESTRO's reuse-analysis
functions (GetPEEgressVolume, GetPEIngressVolume, GetSpatialEgressTraffic, ...):
per directive one of the level-static sizes is picked (mapped / unique / edge
variants, see :mod:`gamma.costmodel.tables`) and multiplied over the directives
coupled to a tensor.  Only SpatialMaps have role-dependent factors, so each
product is computed once over the other directives and finished per role.

Sub-unit roles: the *first* sub-unit of a spatial step, the *other* sub-units
(which reuse what overlaps with their neighbour), and the *edge-edge* unit
(``ee``: the last active one at a spatial edge, with a partial tile).

Data layout (no array views are created, and only a few arrays are passed:
each array handed to a compiled function that is not inlined costs atomic
reference-count updates; scalar helpers have one explicit signature each, so
that numba compiles them once instead of once per combination of literal
arguments):

* ``sizes`` (MAX_LEVELS, V, 8) int64: per level and loop position, the columns
  of :mod:`gamma.costmodel.tables`;
* ``lvi`` (MAX_LEVELS, NUM_LEVEL_INTS) int64: per level the sub-units, the
  SpatialMap and per-tensor coupling bitmasks over loop positions, ...
  (:mod:`gamma.costmodel.tables`);
* a case class is given by bitmasks over loop positions: ``edge`` (directives
  in their Edge step), ``steady`` (the changing directive in a Steady step), the
  derived ``is_edge`` (Edge step, or an Init step that is already an edge) and
  ``has_ee`` (edge-edge flag); the call's state masks come from
  :mod:`gamma.costmodel.cases`.
"""
from __future__ import annotations

from numba import njit

from gamma.costmodel import layout as lay
from gamma.costmodel.tables import (
    L_COUPLED,
    L_DUP,
    L_EDGE_UNITS,
    L_FIRST_SPATIAL,
    L_LAST_SPATIAL,
    L_LAST_SPATIAL_ALL,
    L_SPATIAL,
    L_UNITS,
    MAPPED,
    MAPPED_EDGE,
    OUT_MAPPED,
    OUT_MAPPED_EDGE,
    OUT_UNIQUE,
    OUT_UNIQUE_EDGE,
    UNIQUE,
    UNIQUE_EDGE,
    twice_fields,
)

INPUT, FILTER, OUTPUT = 0, 1, 2


@njit("int64(boolean, boolean, boolean, boolean, boolean, boolean, "
      "boolean, int64, int64, int64, int64, int64, int64)", cache=True, error_model="numpy")
def _out_factor(first, ee, reuse_at_edge, one_edge_unit, steady, edge, is_edge, m, me, om, ou,
                ome, oue):
    """Factor of an output-coupled SpatialMap in a sub-unit's egress or partial sums
    (GetPEEgressVolume)."""
    if first:
        plain = om
    else:
        plain = ou if ou != 0 else 1       # MAESTRO skips a factor of 0
    if steady:
        return plain
    if not edge:                           # Init step
        if is_edge and ee:
            return ome if (one_edge_unit or not reuse_at_edge) else oue
        return plain
    if one_edge_unit:
        # MAESTRO reads the input-space edge size here (not Y'/X').
        return me if (first or ee) else 1
    return oue if ee else plain


@njit("int64(boolean, boolean, boolean, boolean, boolean, "
      "boolean, int64, int64, int64, int64)", cache=True, error_model="numpy")
def _reduction_factor(first, ee, one_edge_unit, steady, edge, is_edge, m, u, me, ue):
    """Factor of a SpatialMap not coupled to the output in a sub-unit's partial sums."""
    if first:
        plain = m
    else:
        plain = u if u != 0 else 1
    if steady:
        return plain
    if not edge:
        return me if (is_edge and ee) else plain
    if one_edge_unit:
        return me if (first or ee) else 1
    return ue if ee else plain


@njit("int64(boolean, boolean, int64, int64, boolean, boolean, "
      "boolean, boolean, int64, int64, int64, int64)", cache=True, error_model="numpy")
def _ingress_factor(first, ee, c, p, changing, moving, is_edge, one_edge_unit, m, u, me, ue):
    """Factor of a SpatialMap in the ingress of one sub-unit (GetPEIngressVolume);
    for ``c < 0`` in its full all-Init tile (GetPEMappedVolume)."""
    if c < 0:
        if not is_edge:
            return m
        if one_edge_unit:
            return me if (first or ee) else 1
        return me if ee else m
    full = me if ee else m
    if first:
        return full
    if not moving:
        return full if p <= c else (ue if ee else u)
    return (ue if ee else u) if changing else full


@njit(cache=True, error_model="numpy")
def call_volumes(sizes, lvi, lvl, nvar, r0, r1, m_unrolled, m_init_edge, m_edge_ee, row_int,
                 row_bool):
    """Volumes of the case-class rows ``r0:r1`` of a call of level ``lvl``.

    Reads the class of each row from ``row_int[R_C]`` (changing loop position,
    -1: all Init) and ``row_int[R_KEY]`` (:mod:`gamma.costmodel.cases`); the
    call's state masks are ``m_unrolled``, ``m_init_edge``, ``m_edge_ee``.
    Writes, per row (fields of :mod:`gamma.costmodel.layout`): critical-path
    partial sums, MACs of the step, output egress, input ingress, filter
    ingress, the ``is_edge`` mask (selects the tile sizes for the level below,
    :func:`sub_size`), silent exit, first SpatialMap at an edge, its edge-edge
    flag.

    Every product over directives factors into the directives that are not
    SpatialMaps (whose factors do not depend on the sub-unit's role, computed
    once per row, :func:`_base_factors`) and the at most two SpatialMaps (one
    factor per role, :func:`_spatial_factors`).  Integer products are exact in
    any order (also when they wrap).
    """
    # A variable mapped twice (tables.twice_fields): ``spatial`` holds the
    # earlier directive A's class (MAESTRO's lookups by name: output factors,
    # multicast), ``sp_own`` the later directive B's (its own factor); A adds a
    # factor of its own class (``a_sp``) standing before position ``before``.
    d_mask, a_sp, b_sp, before = twice_fields(lvi[lvl, L_DUP])
    spatial = lvi[lvl, L_SPATIAL]
    cin, cf = lvi[lvl, L_COUPLED + INPUT], lvi[lvl, L_COUPLED + FILTER]
    out = lvi[lvl, L_COUPLED + OUTPUT]
    units, edge_units = lvi[lvl, L_UNITS], lvi[lvl, L_EDGE_UNITS]
    last_in, last_f = lvi[lvl, L_LAST_SPATIAL + INPUT], lvi[lvl, L_LAST_SPATIAL + FILTER]
    first_sp = lvi[lvl, L_FIRST_SPATIAL]
    full_mask = (1 << nvar) - 1
    sp_own = (spatial & ~d_mask) | (d_mask if b_sp else 0)
    sp_any = spatial | sp_own
    # A temporal B has no edge-edge unit (only SpatialMap states carry one).
    no_ee = 0 if b_sp else d_mask
    for r in range(r0, r1):
        c, key = row_int[lay.R_C, r], row_int[lay.R_KEY, r]
        mask = key & full_mask
        edge = steady = 0
        if c >= 0:
            if (key >> nvar) & 1:
                edge = mask | (1 << c)
            else:
                edge, steady = mask, 1 << c
        moving = edge | steady
        init = full_mask & ~moving
        is_edge = edge | (init & m_init_edge)
        has_ee = ((edge & m_edge_ee) | (init & m_init_edge)) & ~no_ee
        # A directive inside c coupled to the tensor restarts (is not unrolled).
        inner_mask = ~((2 << c) - 1) if c >= 0 else 0
        inited_in = (cin & ~m_unrolled & inner_mask) != 0
        inited_f = (cf & ~m_unrolled & inner_mask) != 0
        # MAESTRO exits silently when a changing TemporalMap coupled to an input
        # tensor has a level-static unique size of 0 and does not restart.
        exits = False
        if c >= 0 and not (sp_own >> c) & 1 and sizes[lvl, c, UNIQUE] == 0:
            exits = ((((cin >> c) & 1) != 0 and not inited_in)
                     or (((cf >> c) & 1) != 0 and not inited_f))
        base_out, base_red, base_in, base_f = _base_factors(
            sizes, lvl, nvar, spatial, sp_own, out, cin, cf, c, steady, moving, is_edge,
            inited_in, inited_f, d_mask, a_sp)
        e, s_tf, s_tt, s_ft, i, f = _spatial_factors(
            sizes, lvl, spatial, sp_own, out, cin, cf, c, steady, edge, moving, is_edge,
            inited_in, inited_f, edge_units == 1, d_mask, a_sp, before)
        critical, macs, egress = _output_volumes(lvi, lvl, sp_any, base_out, base_red, e, s_tf,
                                                 s_tt, s_ft, is_edge, has_ee)
        # Input tensors (GetSpatialIngressTraffic).
        ingress_in = _ingress(c >= 0 and ((cin >> c) & 1) == 0, (spatial & cin) != 0,
                              (spatial & cin & is_edge) != 0,
                              last_in >= 0 and (has_ee >> last_in) & 1 != 0, units, edge_units,
                              base_in, i[0], i[1], i[2], i[3])
        ingress_f = _ingress(c >= 0 and ((cf >> c) & 1) == 0, (spatial & cf) != 0,
                             (spatial & cf & is_edge) != 0,
                             last_f >= 0 and (has_ee >> last_f) & 1 != 0, units, edge_units,
                             base_f, f[0], f[1], f[2], f[3])
        row_int[lay.R_PSUMS, r], row_int[lay.R_MACS, r] = critical, macs
        row_int[lay.R_EGRESS, r] = egress
        row_int[lay.R_INPUT, r], row_int[lay.R_FILTER, r] = ingress_in, ingress_f
        row_int[lay.R_IS_EDGE, r] = is_edge
        row_bool[lay.B_EXITS, r] = exits
        row_bool[lay.B_SP_EDGE, r] = (is_edge >> first_sp) & 1 != 0
        row_bool[lay.B_SP_EE, r] = (has_ee >> first_sp) & 1 != 0


@njit(cache=True, error_model="numpy", inline="always")
def _base_factors(sizes, lvl, nvar, spatial, sp_own, out, cin, cf, c, steady, moving, is_edge,
                  inited_in, inited_f, d_mask, a_sp):
    """Products over the directives that are not SpatialMaps: output, reduction (the
    other output-uncoupled directives), input and filter factors of a case row.

    Output factors follow ``spatial`` (one per variable, the class MAESTRO finds
    by name), the others ``sp_own`` (one per directive); a temporal earlier
    directive A of a variable mapped twice (``d_mask``) adds its own factor."""
    base_out = base_red = base_in = base_f = 1
    for p in range(nvar):
        bit = 1 << p
        if spatial & sp_own & bit:
            continue            # a SpatialMap in every role
        m, me = sizes[lvl, p, MAPPED], sizes[lvl, p, MAPPED_EDGE]
        if out & bit:
            if not spatial & bit:
                if steady & bit:
                    base_out *= sizes[lvl, p, OUT_MAPPED]
                elif is_edge & bit:
                    base_out *= sizes[lvl, p, OUT_MAPPED_EDGE]
                else:
                    base_out *= sizes[lvl, p, OUT_MAPPED]
        elif not sp_own & bit:
            base_red *= me if is_edge & bit else m
        if (cin | cf) & bit and not sp_own & bit:
            if not moving & bit:
                factor_in = factor_f = me if is_edge & bit else m
            else:
                factor_in = factor_f = m
                if p == c:
                    if not inited_in:
                        factor_in = max(sizes[lvl, p, UNIQUE], 1)
                    if not inited_f:
                        factor_f = max(sizes[lvl, p, UNIQUE], 1)
            if cin & bit:
                base_in *= factor_in
            if cf & bit:
                base_f *= factor_f
    if d_mask and not a_sp:
        # Temporal A: B's state and tile sizes, never the changing directive
        # (B, later in the nest, is): its tile, at the edge in an edge step,
        # whole once the variable moves.
        p = 0
        while not (d_mask >> p) & 1:
            p += 1
        held = sizes[lvl, p, MAPPED_EDGE if is_edge & d_mask else MAPPED]
        if not out & d_mask:
            base_red *= held
        fetched = sizes[lvl, p, MAPPED] if moving & d_mask else held
        if cin & d_mask:
            base_in *= fetched
        if cf & d_mask:
            base_f *= fetched
    return base_out, base_red, base_in, base_f


@njit(cache=True, error_model="numpy", inline="always")
def _spatial_factors(sizes, lvl, spatial, sp_own, out, cin, cf, c, steady, edge, moving, is_edge,
                     inited_in, inited_f, one, d_mask, a_sp, before):
    """SpatialMap factors per sub-unit role, each a 4-tuple over (first, ee) =
    (T, F), (F, F), (T, T), (F, T): output egress ``e``, input ``i`` and filter ``f``
    ingress; and the partial sums' ``s_tf``, ``s_tt``, ``s_ft``.

    Output factors follow ``spatial``, the others ``sp_own`` (see
    :func:`_base_factors`); a spatial earlier directive A of a variable mapped
    twice adds its factors, with B's state, never changing, and compared with
    the changing position as if at position ``before``."""
    e_tf = e_ff = e_tt = e_ft = 1
    s_tf = s_tt = s_ft = 1
    i_tf = i_ff = i_tt = i_ft = 1
    f_tf = f_ff = f_tt = f_ft = 1
    sp = (spatial & out) | sp_own | (d_mask if a_sp else 0)
    while sp:
        p = 0
        while not (sp >> p) & 1:
            p += 1
        bit = 1 << p
        sp &= ~bit
        st_p, ed_p, ie_p = (steady & bit) != 0, (edge & bit) != 0, (is_edge & bit) != 0
        m, u = sizes[lvl, p, MAPPED], sizes[lvl, p, UNIQUE]
        me, ue = sizes[lvl, p, MAPPED_EDGE], sizes[lvl, p, UNIQUE_EDGE]
        mv = (moving & bit) != 0
        if out & bit:
            if spatial & bit:
                om, ou = sizes[lvl, p, OUT_MAPPED], sizes[lvl, p, OUT_UNIQUE]
                ome, oue = sizes[lvl, p, OUT_MAPPED_EDGE], sizes[lvl, p, OUT_UNIQUE_EDGE]
                tf, ff, tt, ft = _out_roles(one, st_p, ed_p, ie_p, m, me, om, ou, ome, oue)
                e_tf, e_ff, e_tt, e_ft = e_tf * tf, e_ff * ff, e_tt * tt, e_ft * ft
                s_tf, s_tt = s_tf * tf, s_tt * tt
                s_ft *= _out_factor(False, True, False, one, st_p, ed_p, ie_p, m, me, om, ou,
                                    ome, oue)
        elif sp_own & bit:
            s_tf *= _reduction_factor(True, False, one, st_p, ed_p, ie_p, m, u, me, ue)
            s_tt *= _reduction_factor(True, True, one, st_p, ed_p, ie_p, m, u, me, ue)
            s_ft *= _reduction_factor(False, True, one, st_p, ed_p, ie_p, m, u, me, ue)
        if sp_own & bit:
            if cin & bit:
                tf, ff, tt, ft = _ingress_roles(c, p, p == c and not inited_in, mv, ie_p, one, m,
                                                u, me, ue)
                i_tf, i_ff, i_tt, i_ft = i_tf * tf, i_ff * ff, i_tt * tt, i_ft * ft
            if cf & bit:
                tf, ff, tt, ft = _ingress_roles(c, p, p == c and not inited_f, mv, ie_p, one, m,
                                                u, me, ue)
                f_tf, f_ff, f_tt, f_ft = f_tf * tf, f_ff * ff, f_tt * tt, f_ft * ft
        if a_sp and d_mask & bit:
            # A spatial earlier directive A: never the changing one, placed at ``before``.
            if not out & bit:
                s_tf *= _reduction_factor(True, False, one, st_p, ed_p, ie_p, m, u, me, ue)
                s_tt *= _reduction_factor(True, True, one, st_p, ed_p, ie_p, m, u, me, ue)
                s_ft *= _reduction_factor(False, True, one, st_p, ed_p, ie_p, m, u, me, ue)
            if cin & bit:
                tf, ff, tt, ft = _ingress_roles(c, before, False, mv, ie_p, one, m, u, me, ue)
                i_tf, i_ff, i_tt, i_ft = i_tf * tf, i_ff * ff, i_tt * tt, i_ft * ft
            if cf & bit:
                tf, ff, tt, ft = _ingress_roles(c, before, False, mv, ie_p, one, m, u, me, ue)
                f_tf, f_ff, f_tt, f_ft = f_tf * tf, f_ff * ff, f_tt * tt, f_ft * ft
    return ((e_tf, e_ff, e_tt, e_ft), s_tf, s_tt, s_ft, (i_tf, i_ff, i_tt, i_ft),
            (f_tf, f_ff, f_tt, f_ft))


@njit(cache=True, error_model="numpy", inline="always")
def _out_roles(one, st_p, ed_p, ie_p, m, me, om, ou, ome, oue):
    """:func:`_out_factor` of the four roles (T, F), (F, F), (T, T), (F, T), reuse at edges."""
    return (_out_factor(True, False, True, one, st_p, ed_p, ie_p, m, me, om, ou, ome, oue),
            _out_factor(False, False, True, one, st_p, ed_p, ie_p, m, me, om, ou, ome, oue),
            _out_factor(True, True, True, one, st_p, ed_p, ie_p, m, me, om, ou, ome, oue),
            _out_factor(False, True, True, one, st_p, ed_p, ie_p, m, me, om, ou, ome, oue))


@njit(cache=True, error_model="numpy", inline="always")
def _ingress_roles(c, p, changing, moving, ie_p, one, m, u, me, ue):
    """:func:`_ingress_factor` of the four roles (T, F), (F, F), (T, T), (F, T)."""
    return (_ingress_factor(True, False, c, p, changing, moving, ie_p, one, m, u, me, ue),
            _ingress_factor(False, False, c, p, changing, moving, ie_p, one, m, u, me, ue),
            _ingress_factor(True, True, c, p, changing, moving, ie_p, one, m, u, me, ue),
            _ingress_factor(False, True, c, p, changing, moving, ie_p, one, m, u, me, ue))


@njit(cache=True, error_model="numpy", inline="always")
def _output_volumes(lvi, lvl, sp_any, base_out, base_red, e, s_tf, s_tt, s_ft, is_edge, has_ee):
    """Critical-path partial sums (GetNumCriticalPathPartialSums), MACs of the step
    (GetOutputTensorSpatialMappingSize for partial sums) and output egress
    (GetSpatialEgressTraffic) of a case row, from its factors; ``sp_any``: the
    loop positions with a SpatialMap directive (either of a repeated variable's)."""
    spatial, out = lvi[lvl, L_SPATIAL], lvi[lvl, L_COUPLED + OUTPUT]
    units, edge_units = lvi[lvl, L_UNITS], lvi[lvl, L_EDGE_UNITS]
    last_out, last_all = lvi[lvl, L_LAST_SPATIAL + OUTPUT], lvi[lvl, L_LAST_SPATIAL_ALL]
    one = edge_units == 1
    e_tf, e_ff, e_tt, e_ft = e
    psum_base = base_out * base_red
    out_first, psum_first = base_out * e_tf, psum_base * s_tf
    mapped = (spatial & out) != 0
    at_edge = (spatial & out & is_edge) != 0
    ee = last_out >= 0 and (has_ee >> last_out) & 1 != 0
    if not mapped:
        egress = out_first
    elif not at_edge:
        egress = out_first + (units - 1) * (base_out * e_ff)
    else:
        egress = out_first
        if one and ee:
            egress = base_out * e_tt
        if edge_units > 1:
            egress += max(edge_units - (1 if ee else 0) - 1, 0) * (base_out * e_ff)
            if ee:
                egress += base_out * e_ft
    if mapped and at_edge and one and ee:
        critical = psum_base * s_tt
    else:
        critical = psum_first
    # Every SpatialMap of the level (after the output's own) decides the MACs.
    any_edge = (sp_any & is_edge) != 0
    last_ee = last_all >= 0 and (has_ee >> last_all) & 1 != 0
    if not any_edge:
        macs = units * psum_first
    else:
        macs = psum_first
        if one and last_ee:
            macs = psum_base * s_tt
        if edge_units > 1:
            macs += max(edge_units - (1 if last_ee else 0) - 1, 0) * psum_first
            if last_ee:
                macs += psum_base * s_ft
    return critical, macs, egress


@njit("int64(boolean, boolean, boolean, boolean, int64, "
      "int64, int64, int64, int64, int64, int64)", cache=True, error_model="numpy")
def _ingress(stationary, mapped, at_edge, ee, units, edge_units, base, v_tf, v_ff, v_tt, v_ft):
    """Ingress of an input tensor over the active sub-units (GetSpatialIngressTraffic)
    from its per-role SpatialMap factors (first / other unit, edge-edge or not)."""
    if stationary:
        return 0
    first = base * v_tf
    if not mapped:
        return first
    if not at_edge:
        return first + (units - 1) * (base * v_ff)
    if edge_units == 1 and ee:
        first = base * v_tt
    if edge_units > 1:
        full_units = max(edge_units - (1 if ee else 0) - 1, 0)
        if full_units:
            first += full_units * (base * v_ff)
        if ee:
            first += base * v_ft
    return first


@njit("int64(int64, int64, int64, int64, boolean, int64)", cache=True, error_model="numpy")
def sub_size(mapped, mapped_edge, is_spatial, is_edge, edge_edge, edge_units):
    """Dimension size of a directive for the level below (ConstructSubClusterDimension),
    for a regular unit or the edge-edge unit, from its level-static mapped sizes."""
    if not is_edge:
        return mapped
    if is_spatial and not edge_edge and edge_units != 1:
        return mapped
    return mapped_edge
