"""Compiled search for the busiest PE of each mapping (see :mod:`gamma.costmodel.busiest`).

Per candidate the directives become a table of *tilings* (variable, level,
size, offset, spatial) in loop order.  Each variable's work is followed down
the levels as a small multiset of windows ``(start, extent, count)``: a
TemporalMap turns a window into its ``J`` sub-windows, a SpatialMap keeps the
sub-windows ``j = u, u + U, ...`` of unit ``u``.  A PE is one unit index per
level; its MACs are the product over variables of their work, the sliding
pairs (Y with R, X with S) counted jointly.

Windows are merged by extent alone unless the pair is *positional*: its
filter dimension is cut into partial windows somewhere, and the output rows an
input window holds then depend on where it starts.  Without positional pairs
unit 0 of every level is the busiest: of ``J`` windows it gets
``(J - 1) // U + 1``, all full but possibly the last, no other unit gets more
or larger ones, and a larger window never holds less work below.  So one walk
down the levels gives the answer (:func:`busiest_batch`).  With a positional
pair the same holds at levels that map no positional variable spatially; at
the others every unit that receives a window is visited, depth first
(:func:`busiest_positional`, compiled separately as only mappings that cut a
filter spatially need it).

Packed arrays keep calls cheap: ``tl`` (5, T) is the tiling table (rows
``_VAR, _LVL, _M, _O, _SP``), ``state`` (3, L + 1, 8, cap) the windows of every
variable after each level (rows ``_START, _EXT, _CNT``) with lengths ``st_n``,
``buf`` (3, 2, cap) a ping-pong scratch multiset.
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: Variables: N, G, K, C, Y, X, R, S (directive codes 0-7; Y' = 8, X' = 9).
NUM_VARS = 8
_Y, _X, _R, _S = 4, 5, 6, 7
_VAR, _LVL, _M, _O, _SP = range(5)
_START, _EXT, _CNT = range(3)
#: Most windows a positional variable may list unmerged per PE.
_APPEND_LIMIT = 1 << 16


@njit(cache=True)
def _tilings(i, dim, size, offset, spatial, nl, present, extent, stride, out_stride, tl):
    """Fill the tiling table of candidate ``i``; returns the number of tilings.

    ``Y'``/``X'`` become input rows with ``(size - 1) * out_stride + Sz(R)`` (the
    level's first R directive; ``out_stride`` 1 reads them as MAESTRO does, and
    so does a level whose ``Sz(R)`` cuts the filter);
    under a stride, a Y/X tiling of at least the filter holds
    ``out = (size + st - R) // st`` output rows: size ``(out - 1) * st + R``,
    offset ``out * st``.
    """
    nt = 0
    slots = dim.shape[2]
    for lvl in range(nl):
        filt_y, filt_x = extent[_R], extent[_S]
        seen_r = seen_s = False
        for slot in range(slots):
            code = dim[i, lvl, slot]
            if code == _R and not seen_r:
                filt_y, seen_r = size[i, lvl, slot], True
            elif code == _S and not seen_s:
                filt_x, seen_s = size[i, lvl, slot], True
        for slot in range(slots):
            code = np.int64(dim[i, lvl, slot])
            if code < 0:
                continue
            var = code if code < NUM_VARS else code - 4
            if not present[var]:
                continue
            m = max(size[i, lvl, slot], 1)
            o = max(offset[i, lvl, slot], 1)
            if _Y <= var <= _X:
                slide = var + 2
                if code >= NUM_VARS:
                    # (A Y' tile beside a cut filter holds input rows, as in levels.py.)
                    filt = filt_y if var == _Y else filt_x
                    rows_stride = out_stride if filt >= extent[slide] else 1
                    m = (m - 1) * rows_stride + filt
                    o *= rows_stride
                if stride != 1 and m >= extent[slide]:
                    out = (m + stride - extent[slide]) // stride
                    m = (out - 1) * stride + extent[slide]
                    o = out * stride
            tl[_VAR, nt], tl[_LVL, nt], tl[_M, nt], tl[_O, nt] = var, lvl, m, o
            tl[_SP, nt] = spatial[i, lvl, slot]
            nt += 1
    return nt


@njit(cache=True, inline="always")
def _num_windows(ext, m, o):
    return 1 if ext <= m else 1 + (ext - m + o - 1) // o


# ----------------------------------------------------------- unit 0 walk


@njit(cache=True, inline="always")
def _merge(ext, cnt, var, side, n, e, c):
    """Add ``c`` windows of extent ``e`` to ``ext/cnt[var, side, :n]``; new length."""
    if e <= 0 or c <= 0:
        return n
    for k in range(n):
        if ext[var, side, k] == e:
            cnt[var, side, k] += c
            return n
    ext[var, side, n], cnt[var, side, n] = e, c
    return n + 1


@njit(cache=True)
def _unit0_work(nt, tl, units, extent, stride, ext, cnt, num, side):
    """MACs of PE (0, 0, ...), the busiest when no pair is positional.

    Windows are kept as extents with counts in ``ext/cnt[var, side]``; a tiling
    adds at most one distinct extent to its variable.
    """
    for var in range(NUM_VARS):
        ext[var, 0, 0], cnt[var, 0, 0] = extent[var], 1
        num[var], side[var] = 1, 0
    for t in range(nt):
        v, m, o = tl[_VAR, t], tl[_M, t], tl[_O, t]
        src = side[v]
        dst = 1 - src
        per = units[tl[_LVL, t]] if tl[_SP, t] else 1
        n = 0
        for k in range(num[v]):
            e, c = ext[v, src, k], cnt[v, src, k]
            if e <= m:
                n = _merge(ext, cnt, v, dst, n, e, c)
                continue
            last = (e - m + o - 1) // o
            has_last = last % per == 0
            n = _merge(ext, cnt, v, dst, n, m, c * (last // per + 1 - has_last))
            if has_last:
                n = _merge(ext, cnt, v, dst, n, e - last * o, c)
        num[v], side[v] = n, dst
    work = np.int64(1)
    for var in range(NUM_VARS):
        total = np.int64(0)
        for k in range(num[var]):
            e = ext[var, side[var], k]
            if _Y <= var <= _X:
                # Output rows a window of e input rows holds (it starts on a
                # multiple of the stride: offsets are multiples of it).
                filt = extent[var + 2]
                e = (e - filt) // stride + 1 if e >= filt else 0
            total += cnt[var, side[var], k] * e
        work *= total
    return work


# ------------------------------------------------------ positional search


@njit(cache=True, inline="always")
def _add(buf, side, n, a, e, c, mode):
    """Add ``c`` windows ``[a, a + e)`` to ``buf[:, side, :n]``; new length.

    ``mode`` 0 merges by extent alone (``a`` is dropped), 1 appends (merging
    only with the last entry: the buffer was sized for every window), 2 merges
    by start and extent.
    """
    if e <= 0 or c <= 0:
        return n
    if mode == 0:
        a = 0
    if mode == 1:
        if n > 0 and buf[_EXT, side, n - 1] == e and buf[_START, side, n - 1] == a:
            buf[_CNT, side, n - 1] += c
            return n
    else:
        for k in range(n):
            if buf[_EXT, side, k] == e and buf[_START, side, k] == a:
                buf[_CNT, side, k] += c
                return n
    buf[_START, side, n], buf[_EXT, side, n], buf[_CNT, side, n] = a, e, c
    return n + 1


@njit(cache=True)
def _tile(buf, src, n_src, m, o, units, u, sp, mode):
    """Sub-windows of ``buf[:, src]`` under one tiling (unit ``u`` if spatial)
    into ``buf[:, 1 - src]``; their number."""
    dst = 1 - src
    n = 0
    for k in range(n_src):
        a0, e, c = buf[_START, src, k], buf[_EXT, src, k], buf[_CNT, src, k]
        J = _num_windows(e, m, o)
        if mode:
            j = u if sp else 0
            while j < J:
                n = _add(buf, dst, n, a0 + j * o, min(m, e - j * o), c, mode)
                j += units if sp else 1
            continue
        if sp:
            owned = (J - 1 - u) // units + 1 if u <= J - 1 else 0
            has_last = (J - 1) % units == u
        else:
            owned, has_last = J, True
        if J == 1:
            n = _add(buf, dst, n, 0, e, c * owned, 0)
            continue
        n = _add(buf, dst, n, 0, m, c * (owned - has_last), 0)
        if has_last:
            n = _add(buf, dst, n, 0, e - (J - 1) * o, c, 0)
    return n


@njit(cache=True, inline="always")
def _mode(var, pos):
    """Window mode of ``var`` (:func:`_add`): Y and R share pos[0], X and S pos[1]."""
    return pos[(var - _Y) % 2] if var >= _Y else 0


@njit(cache=True, inline="always")
def _load(state, st_n, lvl, var, buf):
    """Copy ``var``'s windows at level ``lvl`` into side 0 of ``buf``; their number."""
    n = st_n[lvl, var]
    for k in range(n):
        for row in range(3):
            buf[row, 0, k] = state[row, lvl, var, k]
    return n


@njit(cache=True)
def _expand_var(var, lvl, u, units, nt, tl, mode, state, st_n, buf):
    """Apply the level's tilings of ``var`` to ``state[:, lvl]`` into ``state[:, lvl + 1]``."""
    n = _load(state, st_n, lvl, var, buf)
    side = 0
    for t in range(nt):
        if tl[_VAR, t] == var and tl[_LVL, t] == lvl:
            n = _tile(buf, side, n, tl[_M, t], tl[_O, t], units, u, tl[_SP, t], mode)
            side = 1 - side
    for k in range(n):
        for row in range(3):
            state[row, lvl + 1, var, k] = buf[row, side, k]
    st_n[lvl + 1, var] = n
    return n


@njit(cache=True)
def _candidates(lvl, units, nt, tl, nsp, pos, state, st_n, buf, cand):
    """Unit indices of level ``lvl`` worth visiting, into ``cand[lvl]``; their number.

    Unit 0 dominates unless a positional variable is mapped spatially here: then
    every unit that receives a window of each SpatialMap is listed.
    """
    bound = units
    branch = False
    for var in range(NUM_VARS):
        if nsp[lvl, var] == 0:
            continue
        mode = _mode(var, pos)
        branch = branch or mode > 0
        # The first SpatialMap's parents: the level's earlier TemporalMaps applied.
        n = _load(state, st_n, lvl, var, buf)
        side = 0
        for t in range(nt):
            if tl[_VAR, t] != var or tl[_LVL, t] != lvl:
                continue
            if tl[_SP, t]:
                most = 0
                for k in range(n):
                    most = max(most, _num_windows(buf[_EXT, side, k], tl[_M, t], tl[_O, t]))
                bound = min(bound, most)
                break
            n = _tile(buf, side, n, tl[_M, t], tl[_O, t], units, 0, False, mode)
            side = 1 - side
    if not branch:
        bound = min(bound, 1)
    for u in range(bound):
        cand[lvl, u] = u
    return bound


@njit(cache=True)
def _pair_work(ref, lvl, mode, extent, stride, out_rows, state, st_n):
    """MACs along a sliding pair (``ref`` Y or X with its filter) in ``state[:, lvl]``."""
    slide = ref + 2
    filt = extent[slide]
    if mode == 0:
        rows = 0
        for k in range(st_n[lvl, ref]):
            e = state[_EXT, lvl, ref, k]
            if e >= filt:
                rows += state[_CNT, lvl, ref, k] * ((e - filt) // stride + 1)
        taps = 0
        for k in range(st_n[lvl, slide]):
            taps += state[_CNT, lvl, slide, k] * state[_EXT, lvl, slide, k]
        return rows * taps
    total = 0
    for k in range(st_n[lvl, ref]):
        a = state[_START, lvl, ref, k]
        b = a + state[_EXT, lvl, ref, k]
        for q in range(st_n[lvl, slide]):
            r0, w = state[_START, lvl, slide, q], state[_EXT, lvl, slide, q]
            # Output rows y with a <= y*st + r0 and y*st + r0 + w <= b, 0 <= y < out_rows.
            lo = max(-((r0 - a) // stride), 0)
            hi = min((b - r0 - w) // stride, out_rows - 1)
            if hi >= lo:
                total += state[_CNT, lvl, ref, k] * state[_CNT, lvl, slide, q] * w * (hi - lo + 1)
    return total


@njit(cache=True)
def _leaf_work(lvl, pos, extent, stride, out_rows, state, st_n):
    """MACs of the PE whose windows are ``state[:, lvl]``."""
    work = np.int64(1)
    for var in range(4):
        s = 0
        for k in range(st_n[lvl, var]):
            s += state[_CNT, lvl, var, k] * state[_EXT, lvl, var, k]
        work *= s
    for pair in range(2):
        if work == 0:
            return work
        work *= _pair_work(_Y + pair, lvl, pos[pair], extent, stride, out_rows[pair],
                           state, st_n)
    return work


@njit(cache=True)
def _prepare(lvl, units, nt, tl, nsp, pos, state, st_n, buf, cand):
    """Expand the level's unit-independent variables; list its unit candidates."""
    for var in range(NUM_VARS):
        if nsp[lvl, var] == 0:
            _expand_var(var, lvl, 0, units, nt, tl, _mode(var, pos), state, st_n, buf)
    return _candidates(lvl, units, nt, tl, nsp, pos, state, st_n, buf, cand)


@njit(cache=True)
def _search(nl, units, nt, tl, nsp, pos, extent, stride, out_rows, state, st_n, buf, cand,
            ncand, ptr):
    """Depth-first search over the unit index of every level; the largest PE work."""
    if nl == 0:
        return _leaf_work(0, pos, extent, stride, out_rows, state, st_n)
    best = np.int64(0)
    lvl = 0
    ncand[0] = _prepare(0, units[0], nt, tl, nsp, pos, state, st_n, buf, cand)
    ptr[0] = 0
    while True:
        if ptr[lvl] >= ncand[lvl]:
            if lvl == 0:
                return best
            lvl -= 1
            continue
        u = cand[lvl, ptr[lvl]]
        ptr[lvl] += 1
        empty = False
        for var in range(NUM_VARS):
            if nsp[lvl, var]:
                got = _expand_var(var, lvl, u, units[lvl], nt, tl, _mode(var, pos), state,
                                  st_n, buf)
                empty = empty or got == 0
        if empty:
            continue
        if lvl + 1 == nl:
            best = max(best, _leaf_work(nl, pos, extent, stride, out_rows, state, st_n))
            continue
        lvl += 1
        ncand[lvl] = _prepare(lvl, units[lvl], nt, tl, nsp, pos, state, st_n, buf, cand)
        ptr[lvl] = 0


@njit(cache=True)
def _capacity(nt, tl, units, extent, pos):
    """Choose each positional pair's window mode (in ``pos``); the buffer size it needs.

    Extents alone: a tiling adds at most one distinct extent.  Kept by start,
    a variable has at most ``prod J`` windows per PE (``J`` of the largest
    window at each tiling, ``ceil(J / U)`` for a SpatialMap); beyond
    :data:`_APPEND_LIMIT` they are merged by start and extent instead, at most
    ``extent * distinct extents`` of them.
    """
    cap = nt + 2
    for pair in range(2):
        if pos[pair] == 0:
            continue
        windows, merged = 1, 1
        for var in (_Y + pair, _R + pair):
            count, largest, tv = 1, extent[var], 0
            for t in range(nt):
                if tl[_VAR, t] != var:
                    continue
                tv += 1
                J = _num_windows(largest, tl[_M, t], tl[_O, t])
                if tl[_SP, t]:
                    J = (J + units[tl[_LVL, t]] - 1) // units[tl[_LVL, t]]
                count = min(count * J, _APPEND_LIMIT + 1)
                largest = min(largest, tl[_M, t])
            windows = max(windows, count)
            merged = max(merged, extent[var] * min(tv + 1, extent[var]))
        pos[pair] = 1 if windows <= _APPEND_LIMIT else 2
        cap = max(cap, (windows if pos[pair] == 1 else merged) + 1)
    return cap


@njit(cache=True, inline="always")
def _setup(i, dim, size, offset, spatial, cluster, num_levels, num_pes, present, extent, stride,
           out_stride, tl, units, pos):
    """Tiling table, units per level and positional pairs of candidate ``i``;
    returns ``(levels, tilings)``."""
    nl = min(max(num_levels[i], 0), dim.shape[1])
    nt = _tilings(i, dim, size, offset, spatial, nl, present, extent, stride, out_stride, tl)
    inner = 1
    for lvl in range(1, nl):
        units[lvl] = max(cluster[i, lvl], 1)
        inner *= units[lvl]
    units[0] = max(num_pes[i] // inner, 1)
    pos[0] = pos[1] = 0
    for t in range(nt):
        if tl[_VAR, t] >= _R and tl[_M, t] < extent[tl[_VAR, t]]:
            pos[tl[_VAR, t] - _R] = 1
    return nl, nt


@njit(cache=True)
def busiest_batch(dim, size, offset, spatial, cluster, num_levels, num_pes, present, extent,
                  stride, out_stride, index):
    """MACs of the busiest PE of candidates ``index`` without a positional pair.

    ``present``/``extent`` (8,) give, per variable N, G, K, C, Y, X, R, S,
    whether the layer has it and its size (Y/X in input rows); ``out_stride``
    is 1 (``Y'`` tiles read as MAESTRO reads them) or the stride (the
    stride-aware analysis, :mod:`gamma.costmodel.levels`).  Returns
    ``(busiest, positional)``, both (N,): candidates with a filter cut into
    partial windows get ``positional`` True and are left to
    :func:`busiest_positional` (compiled only when such a mapping is scored).
    Both have the shape of ``index``: scoring a subset takes no copy of the batch.
    """
    levels, slots = dim.shape[1], dim.shape[2]
    n = len(index)
    most = levels * slots
    tl = np.zeros((5, most), np.int64)
    pos = np.zeros(2, np.int64)
    units = np.ones(max(levels, 1), np.int64)
    ext = np.zeros((NUM_VARS, 2, most + 1), np.int64)
    cnt = np.zeros((NUM_VARS, 2, most + 1), np.int64)
    num = np.zeros(NUM_VARS, np.int64)
    side = np.zeros(NUM_VARS, np.int64)
    result = np.zeros(n, np.int64)
    positional = np.zeros(n, np.bool_)
    for j in range(n):
        _, nt = _setup(index[j], dim, size, offset, spatial, cluster, num_levels, num_pes,
                       present, extent, stride, out_stride, tl, units, pos)
        if pos[0] or pos[1]:
            positional[j] = True
        else:
            result[j] = _unit0_work(nt, tl, units, extent, stride, ext, cnt, num, side)
    return result, positional


@njit(cache=True)
def busiest_positional(dim, size, offset, spatial, cluster, num_levels, num_pes, present,
                       extent, stride, out_stride, out_rows, index):
    """MACs of the busiest PE of candidates ``index`` (any mapping), shape (len(index),).

    As :func:`busiest_batch`; ``out_rows`` (2,) holds ``Y'`` and ``X'``.
    """
    levels, slots = dim.shape[1], dim.shape[2]
    tl = np.zeros((5, levels * slots), np.int64)
    pos = np.zeros(2, np.int64)
    width = max(levels, 1)
    units = np.ones(width, np.int64)
    ncand = np.zeros(width, np.int64)
    ptr = np.zeros(width, np.int64)
    nsp = np.zeros((width, NUM_VARS), np.int64)
    st_n = np.zeros((levels + 1, NUM_VARS), np.int64)
    cap, cand_width = 0, 0
    state = np.zeros((3, levels + 1, NUM_VARS, 1), np.int64)
    buf = np.zeros((3, 2, 1), np.int64)
    cand = np.zeros((width, 1), np.int64)
    result = np.zeros(len(index), np.int64)
    for j in range(len(index)):
        nl, nt = _setup(index[j], dim, size, offset, spatial, cluster, num_levels, num_pes,
                        present, extent, stride, out_stride, tl, units, pos)
        need = _capacity(nt, tl, units, extent, pos)
        need_w = 2
        for lvl in range(nl):
            need_w = max(need_w, units[lvl] + 1)
        if need > cap or need_w > cand_width:
            cap, cand_width = max(need, cap), max(need_w, cand_width)
            state = np.zeros((3, levels + 1, NUM_VARS, cap), np.int64)
            buf = np.zeros((3, 2, cap), np.int64)
            cand = np.zeros((width, cand_width), np.int64)
        nsp[:] = 0
        for t in range(nt):
            nsp[tl[_LVL, t], tl[_VAR, t]] += tl[_SP, t]
        for var in range(NUM_VARS):
            state[_START, 0, var, 0], state[_EXT, 0, var, 0] = 0, extent[var]
            state[_CNT, 0, var, 0] = 1
            st_n[0, var] = 1
        result[j] = _search(nl, units, nt, tl, nsp, pos, extent, stride, out_rows, state, st_n,
                            buf, cand, ncand, ptr)
    return result
