"""Brute-force loop-nest simulator: which MACs every PE of a mapping computes.

Written independently of :mod:`gamma.costmodel.busiest` to check it.  For one
mapping of a small layer it walks every window of every directive of every
level for every PE and counts the MACs ``(n, g, k, c, y', x', r, s)`` each PE
computes, recomputations included.

Semantics
---------
*Completion.*  Directives on a dimension the layer does not have (``K`` of a
depthwise layer, ``G`` outside NGCONV, ``N`` of size 1) are dropped.  ``Y'``
(``X'``) is rewritten to input rows ``Y`` (``X``) with size
``s + Sz(R) - 1`` (``Sz(R)``: the level's first R directive, the whole filter
without one) and the same offset, as MAESTRO does; with ``out_stride`` equal
to the stride (the cost model's stride-aware analysis) a tile of ``s`` output
rows spans ``(s - 1) * st + Sz(R)`` input rows instead, except in a level whose
``Sz(R)`` is smaller than the filter: there a ``Y'`` tile pairs input rows with
filter rows (row-stationary) and keeps MAESTRO's reading in both analyses.  With a stride ``st != 1``
a ``Y``/``X`` directive of size ``>= R`` (``S``) is rewritten as MAESTRO does
to hold ``out = (size + st - R) // st`` output rows, stepping ``out * st``
input rows; its size is the true input span of those rows,
``(out - 1) * st + R``.  (For ``R >= st`` that is MAESTRO's size; for
``R < st`` MAESTRO records the ``out * R`` rows actually read and treats them
as ``out`` output rows, which is what the true span gives here.)  The user's
offset is discarded, as by MAESTRO.  A dimension a level does not map keeps the
parent's window.

*Windows.*  A directive ``(size m, offset o)`` on a dimension whose current
window is ``[s, e)`` (``S = e - s``) makes ``J = 1`` window if ``S <= m``, else
``J = 1 + ceil((S - m) / o)`` windows ``[s + j*o, min(s + j*o + m, e))``; only
the last can be clipped, and empty windows (``o > m``) hold nothing.  A
TemporalMap visits all ``J`` in turn; a SpatialMap gives unit ``u`` of its
level (``U`` units) the windows ``j = u, u + U, ...``.  Directives nest in
loop order, so a second directive on a dimension in the same level tiles the
first one's window (sharing the level's unit index when spatial).  Levels nest:
the top level has ``max(num_pes // prod(Cluster sizes), 1)`` units, level
``l >= 1`` has ``Cluster(n_l)`` units, and a PE is one unit index per level.

*MACs of a step.*  A step is one window per directive of every level; the
innermost windows decide its MACs.  Every index of ``N, G, K, C`` in its
window; for the sliding pairs (``Y``, ``R``) and (``X``, ``S``) with input
window ``[a, b)`` and filter window ``[r0, r1)``, the step computes
``(y', r)`` for every ``r`` in ``[r0, r1)`` and every output row
``0 <= y' < Y'`` whose whole filter window lies in the input window:
``a <= y'*st + r0`` and ``y'*st + r1 - 1 < b``.  With the full filter window
that is "the output rows whose whole input window the step holds", and a
window of ``m`` input rows holds ``(m - R) // st + 1`` of them when it starts on
a multiple of the stride, MAESTRO's ``m - R + 1`` at stride 1.
"""
from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from gamma.costmodel.directives import DIM_NAMES, EMPTY
from gamma.workload import Layer

#: Independent dimensions and the sliding pairs (input dim, filter dim).
PLAIN = ("N", "G", "K", "C")
PAIRS = (("Y", "R"), ("X", "S"))


def layer_sizes(layer: Layer) -> dict:
    """Extent of every dimension the layer has (Y/X in input rows/columns)."""
    sizes = {"N": layer.N, "G": layer.G if layer.type == "NGCONV" else 1,
             "K": 1 if layer.type == "DSCONV" else layer.K, "C": layer.C,
             "Y": layer.Y, "X": layer.X, "R": layer.R, "S": layer.S}
    return sizes


def _has(layer: Layer, name: str) -> bool:
    if name == "N":
        return layer.N > 1
    if name == "G":
        return layer.type == "NGCONV"
    if name == "K":
        return layer.type != "DSCONV"
    return True


def complete(layer: Layer, directives, index: int, num_pes: int, out_stride: int = 1):
    """Levels of mapping ``index`` after completion: ``(tilings, units)``.

    ``tilings[name]`` lists ``(level, size, offset, spatial)`` in loop order;
    ``units[l]`` is the number of units of level ``l``.
    """
    nl = int(directives.num_levels[index])
    st = layer.stride
    full = layer_sizes(layer)
    tilings = {name: [] for name in full}
    for lvl in range(nl):
        entries = []
        for slot in range(directives.dim.shape[2]):
            code = int(directives.dim[index, lvl, slot])
            if code == EMPTY:
                continue
            name = DIM_NAMES[code]
            base = name.rstrip("'")
            if not _has(layer, base):
                continue
            entries.append((base, name.endswith("'"), int(directives.size[index, lvl, slot]),
                            int(directives.offset[index, lvl, slot]),
                            bool(directives.spatial[index, lvl, slot])))
        filt = {}
        for base, _, size, _, _ in entries:
            if base in ("R", "S") and base not in filt:
                filt[base] = size
        for base, output, size, offset, spatial in entries:
            size, offset = max(size, 1), max(offset, 1)
            for ref, slide in PAIRS:
                if base != ref:
                    continue
                if output:
                    cut = filt.get(slide, full[slide])
                    rows_stride = out_stride if cut >= full[slide] else 1
                    size = (size - 1) * rows_stride + cut
                    offset *= rows_stride
                if st != 1 and size >= full[slide]:
                    out = (size + st - full[slide]) // st
                    size, offset = (out - 1) * st + full[slide], out * st
            tilings[base].append((lvl, size, offset, spatial))
    clusters = [max(int(directives.cluster[index, lvl]), 1) for lvl in range(1, nl)]
    top = max(num_pes // int(np.prod(clusters, dtype=np.int64)), 1)
    return tilings, [top, *clusters]


def _split(start: int, end: int, size: int, offset: int):
    """The windows a directive cuts ``[start, end)`` into, as (start, end)."""
    extent = end - start
    count = 1 if extent <= size else 1 + -(-(extent - size) // offset)
    return [(start + j * offset, min(start + j * offset + size, end)) for j in range(count)]


def pe_windows(extent: int, tilings, units, pe):
    """Innermost windows of one dimension a PE visits, one per step along it."""
    windows = [(0, extent)]
    for lvl, size, offset, spatial in tilings:
        nxt = []
        for start, end in windows:
            for j, (a, b) in enumerate(_split(start, end, size, offset)):
                if spatial and j % units[lvl] != pe[lvl]:
                    continue
                if a < b:
                    nxt.append((a, b))
        windows = nxt
    return windows


def rows_held(a: int, b: int, r0: int, r1: int, stride: int, out_rows: int) -> int:
    """Output rows ``y'`` whose filter window ``[r0, r1)`` lies in input window ``[a, b)``."""
    return sum(1 for y in range(out_rows) if a <= y * stride + r0 and y * stride + r1 <= b)


def pe_macs(layer: Layer, tilings, units, pe) -> int:
    """MACs one PE computes over the whole mapping (recomputations counted)."""
    full = layer_sizes(layer)
    total = 1
    for name in PLAIN:
        total *= sum(b - a for a, b in pe_windows(full[name], tilings[name], units, pe))
    for (ref, slide), out_rows in zip(PAIRS, (layer.Yo, layer.Xo), strict=True):
        refs = pe_windows(full[ref], tilings[ref], units, pe)
        slides = pe_windows(full[slide], tilings[slide], units, pe)
        total *= sum((r1 - r0) * rows_held(a, b, r0, r1, layer.stride, out_rows)
                     for a, b in refs for r0, r1 in slides)
    return total


def simulate(layer: Layer, directives, index: int, num_pes: int,
             out_stride: int = 1) -> np.ndarray:
    """MACs of every PE of mapping ``index``, shape ``units`` (one axis per level)."""
    tilings, units = complete(layer, directives, index, num_pes, out_stride)
    counts = np.zeros(units, dtype=np.int64)
    for pe in itertools.product(*(range(u) for u in units)):
        counts[pe] = pe_macs(layer, tilings, units, pe)
    return counts


def busiest(layer: Layer, directives, index: int, num_pes: int, out_stride: int = 1) -> int:
    """MACs of the busiest PE of mapping ``index``."""
    return int(simulate(layer, directives, index, num_pes, out_stride).max())


def mac_multiset(layer: Layer, directives, index: int, num_pes: int, out_stride: int = 1):
    """Every MAC computed, step by step: ``(per-PE counts, Counter of MAC tuples)``.

    Walks the full loop nest (the Cartesian product of every directive's
    windows, level by level) and lists each step's MACs explicitly; only for
    tiny layers.  A MAC is ``(n, g, k, c, y', x', r, s)``.
    """
    tilings, units = complete(layer, directives, index, num_pes, out_stride)
    full = layer_sizes(layer)
    names = (*PLAIN, "Y", "X", "R", "S")
    per_pe, macs = Counter(), Counter()
    for pe in itertools.product(*(range(u) for u in units)):
        steps = [[(0, full[name])] for name in names]
        for d, name in enumerate(names):
            steps[d] = pe_windows(full[name], tilings[name], units, pe)
        # Steps along different dimensions combine freely (the loop nest).
        for step in itertools.product(*steps):
            w = dict(zip(names, step, strict=True))
            for n, g, k, c in itertools.product(*(range(*w[name]) for name in PLAIN)):
                for y, r in _pairs(w["Y"], w["R"], layer.stride, layer.Yo):
                    for x, s in _pairs(w["X"], w["S"], layer.stride, layer.Xo):
                        macs[(n, g, k, c, y, x, r, s)] += 1
                        per_pe[pe] += 1
    return per_pe, macs


def _pairs(ref_window, slide_window, stride, out_rows):
    (a, b), (r0, r1) = ref_window, slide_window
    for y in range(out_rows):
        if a <= y * stride + r0 and y * stride + r1 <= b:
            for r in range(r0, r1):
                yield y, r
