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

The busiest PE is the first unit of every level: at a level a SpatialMap of
``n`` chunks over ``u`` units gives unit 0 chunks ``0, u, 2u, ...`` — the most
chunks, all full but possibly the last.  Dimensions are tiled independently,
so its work is the product over dimensions of the extent it covers of each.
A dimension's extent is followed through the levels as a few distinct tile
sizes with their counts (a full tile and an edge tile per level).
"""
from __future__ import annotations

import numpy as np

from gamma.costmodel.directives import DIM_CODE, EMPTY, Directives
from gamma.workload import Layer

#: Dimensions of the iteration space, by directive code; Y and X output-centric.
_SPACE = ("N", "G", "K", "C", "Y'", "X'", "R", "S")


def _space_sizes(layer: Layer) -> dict:
    return {"N": layer.N, "G": layer.G, "K": 1 if layer.type == "DSCONV" else layer.K,
            "C": layer.C, "Y'": layer.Y - layer.R + 1, "X'": layer.X - layer.S + 1,
            "R": layer.R, "S": layer.S}


def busiest_pe_macs(layer: Layer, directives: Directives, num_pes) -> np.ndarray:
    """MACs of the busiest PE of each mapping, shape (N,), int64.

    Parameters
    ----------
    layer : Layer
    directives : Directives
        N mappings.
    num_pes : int or ndarray of shape (N,)
        PEs of each candidate's hardware.

    Returns
    -------
    ndarray of shape (N,), int64
        The busiest PE's MACs.  Where the mapping is outside what this floor
        covers — a strided layer, a directive whose offset differs from its
        size, input-centric ``Y``/``X`` under a filter taller/wider than 1, two
        SpatialMaps in one level — the floor falls back to
        ``ceil(true MACs / PEs)``, the average PE's share.
    """
    n, levels, _ = directives.dim.shape
    pes = np.broadcast_to(np.asarray(num_pes, dtype=np.int64), (n,))
    average = -(-layer.macs // pes)
    sizes = _space_sizes(layer)
    codes = {name: DIM_CODE[name] for name in _SPACE}
    # Input-centric Y/X mean the same as Y'/X' only without a sliding window.
    alias = {DIM_CODE["Y"]: codes["Y'"] if layer.R == 1 else None,
             DIM_CODE["X"]: codes["X'"] if layer.S == 1 else None}
    dim = directives.dim.astype(np.int64)
    for code, target in alias.items():
        if target is not None:
            dim = np.where(dim == code, target, dim)
    known = np.isin(dim, [*codes.values(), EMPTY])
    in_use = np.arange(levels)[None, :] < directives.num_levels[:, None]
    used = (dim != EMPTY) & in_use[..., None]
    covered = (np.all(known | ~used, axis=(1, 2))
               & np.all((directives.offset == directives.size) | ~used, axis=(1, 2))
               & (np.sum(directives.spatial & used, axis=2) <= 1).all(axis=1)
               & (layer.stride == 1))

    cluster = np.where(in_use, directives.cluster, 1)
    cluster[:, 0] = 1
    units = cluster.copy()
    units[:, 0] = np.maximum(pes // np.prod(cluster, axis=1), 1)

    work = np.ones(n, dtype=np.int64)
    for name in _SPACE:
        # (N, M) distinct extents of this dimension and how many tiles have each.
        extent = np.full((n, 1), sizes[name], dtype=np.int64)
        count = np.ones((n, 1), dtype=np.int64)
        for level in range(levels):
            slot = (dim[:, level] == codes[name]) & in_use[:, level, None]
            has = slot.any(axis=1)
            tile = np.where(has, np.where(slot, directives.size[:, level], 0).max(axis=1), 0)
            spatial = (slot & directives.spatial[:, level]).any(axis=1)
            tile = np.where(has, np.maximum(tile, 1), extent.max(axis=1))[:, None]
            step = np.maximum(np.minimum(tile, extent), 1)
            full, edge = extent // step, extent % step
            chunks = full + (edge > 0)
            # Unit 0 of a spatial level takes chunks 0, u, 2u, ...; the edge
            # chunk is its own when it is the last of those.
            u = np.where(spatial, units[:, level], 1)[:, None]
            mine = -(-chunks // u)
            edge_mine = (edge > 0) & ((mine - 1) * u == chunks - 1)
            extent = np.concatenate([step, edge], axis=1)
            count = np.concatenate([count * (mine - edge_mine), count * edge_mine], axis=1)
        work *= np.sum(extent * count, axis=1)
    return np.where(covered, np.maximum(work, average), average)
