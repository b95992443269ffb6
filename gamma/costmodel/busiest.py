"""The busiest PE's MACs: a floor under any honest runtime of a mapping.

MAESTRO prices a level's steps from a few representative cases weighted by how
often they occur, and sizes some of those cases once per level rather than per
call.  An inner level's edge step, for one, is sized from the *full* parent
tile (``parent mod tile``) even under the parent's own edge step, whose true
edge differs: K = 64 tiled by 55 and then by 6 is priced 55 + (6 + 1) = 62 of
its 64, an undercount, and 40 then 7 is priced 66, an overcount (the test
suite pins this rule).  A PE still computes every MAC it is given, one per lane
per cycle, so a mapping cannot run in fewer than ``busiest / lanes`` cycles,
``busiest`` being the MACs of its busiest PE.  When MAESTRO reports less, its
analysis of that mapping is not trustworthy, just as a throughput above the
PE count is not (:attr:`gamma.costmodel.Costs.exact_analysis`).

How a mapping assigns MACs to PEs
---------------------------------
* ``Y'``/``X'`` directives become input rows/columns of size
  ``s + Sz(R) - 1`` (the level's R directive); under a stride ``st``, a Y/X
  directive at least as large as the filter holds ``out = (size + st - R) //
  st`` output rows and steps ``out * st`` input rows (MAESTRO's stride rewrite;
  the window spans the true ``(out - 1) * st + R`` input rows of those outputs).
* A directive ``(m, o)`` cuts its dimension's current window of ``S`` elements
  into ``1 + ceil((S - m) / o)`` windows (one if ``S <= m``), the last one
  clipped; a TemporalMap visits them all, a SpatialMap gives unit ``u`` of its
  level windows ``u, u + U, ...``.  Directives nest in loop order, levels nest;
  the top level has ``max(PEs // prod(Cluster sizes), 1)`` units.
* A step computes every index of its N, G, K, C windows and, for an input
  window ``[a, b)`` and filter window ``[r0, r1)``, the filter taps
  ``[r0, r1)`` of every output row whose whole filter window lies in
  ``[a, b)``; recomputed MACs count each time.

The count is exact for every mapping form (strides, sliding windows,
input-centric windows, two SpatialMaps or a dimension mapped twice in a level,
clusters that do not divide the PEs), computed by
:mod:`gamma.costmodel.busiest_kernel`.  Unit 0 of every level is the busiest
unless a filter is cut into partial windows (a SpatialMap on R or S smaller
than the filter): then where a window starts decides which output rows it
holds, and the kernel searches the units of the levels that map Y, X, R or S
spatially.  ``tests/loopnest_sim.py`` checks it against an enumeration of
every window of every PE.
"""
from __future__ import annotations

import numpy as np

from gamma.costmodel.busiest_kernel import busiest_batch, busiest_positional
from gamma.costmodel.directives import Directives
from gamma.workload import Layer


def variables(layer: Layer):
    """Per variable N, G, K, C, Y, X, R, S: whether the layer has it, its size."""
    present = np.array([layer.N > 1, layer.type == "NGCONV", layer.type != "DSCONV",
                        True, True, True, True, True])
    extent = np.array([layer.N, layer.G if layer.type == "NGCONV" else 1,
                       layer.K if layer.type != "DSCONV" else 1, layer.C, layer.Y, layer.X,
                       layer.R, layer.S], dtype=np.int64)
    return present, extent


def busiest_pe_macs(layer: Layer, directives: Directives, num_pes,
                    out_stride: int = 1) -> np.ndarray:
    """MACs of the busiest PE of each mapping, shape (N,), int64.

    Parameters
    ----------
    layer : Layer
    directives : Directives
        N mappings.
    num_pes : int or ndarray of shape (N,)
        PEs of each candidate's hardware.
    out_stride : int
        1 reads ``Y'``/``X'`` tiles as MAESTRO does (``t + R - 1`` input rows),
        the layer's stride as the stride-aware analysis does
        (``(t - 1) * stride + R``; :mod:`gamma.costmodel.levels`).

    Returns
    -------
    ndarray of shape (N,), int64
        The MACs of the mapping's busiest PE, recomputed MACs included.  Equals
        ``ceil(layer.macs / PEs)`` only when the mapping splits the work evenly.
    """
    n = len(directives)
    # a writable copy: a broadcast view is read-only, a type the kernel would compile apart
    pes = np.array(np.broadcast_to(np.asarray(num_pes, dtype=np.int64), (n,)))
    present, extent = variables(layer)
    args = (np.ascontiguousarray(directives.dim, dtype=np.int64),   # as evaluate: one compile
            np.ascontiguousarray(directives.size, dtype=np.int64),
            np.ascontiguousarray(directives.offset, dtype=np.int64),
            np.ascontiguousarray(directives.spatial, dtype=np.bool_),
            np.ascontiguousarray(directives.cluster, dtype=np.int64),
            np.ascontiguousarray(directives.num_levels, dtype=np.int64),
            pes, present, extent, np.int64(layer.stride), np.int64(out_stride))
    busiest, positional = busiest_batch(*args, np.arange(n))
    if positional.any():
        # A filter cut into partial windows: search the units (rarely needed,
        # compiled on first use).
        index = np.flatnonzero(positional)
        out_rows = np.array([layer.Yo, layer.Xo], dtype=np.int64)
        busiest[index] = busiest_positional(*args, out_rows, index)
    return busiest
