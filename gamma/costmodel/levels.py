"""From the user's directives to MAESTRO's completed cluster levels (maestro-model.md §2.1).

For every candidate and level this module reproduces what MAESTRO's cluster
analysis does before any cost is computed:

* checks the level structure (known dimensions, one directive per dimension,
  one or two SpatialMaps, R/S TemporalMaps covering the whole filter, at most
  three Cluster directives, cluster sizes fitting the PEs);
* rewrites ``Y'``/``X'`` directives to input rows/columns (size ``s + Sz(R) - 1``
  with the level's R directive);
* prepends the upper level's directives on dimensions the level leaves out, as
  TemporalMaps, in reverse upper order; at the top level appends
  ``TemporalMap(dim, dim)`` for every missing dimension, alphabetically;
* applies the stride fix to Y/X directives (discarding the user's offset);
* derives each lower level's dimension sizes ``min(directive size, dim size)``
  and the number of sub-units per level.

After completion every level maps each layer variable exactly once, so a level
is fully described by per-variable arrays of shape (N, V) plus the loop order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gamma.costmodel import reasons as R
from gamma.costmodel.directives import DIM_NAMES, EMPTY, Directives
from gamma.costmodel.layertable import LayerSpec

#: MAESTRO supports at most three Cluster directives.
MAX_LEVELS = 3


@dataclass
class Level:
    """One completed cluster level for a batch of N candidates (V variables).

    Attributes
    ----------
    size, offset : ndarray of shape (N, V), int64
        Directive size and offset per variable (after every rewrite).
    spatial : ndarray of shape (N, V), bool
        SpatialMap (True) or TemporalMap per variable.
    order : ndarray of shape (N, V), int64
        ``order[i, p]`` is the variable at loop position ``p`` (outermost first).
    dims : ndarray of shape (N, V), int64
        The level's own ("static") dimension sizes.
    units : ndarray of shape (N,), int64
        Sub-units (sub-clusters or PEs) of one cluster of this level.
    """

    size: np.ndarray
    offset: np.ndarray
    spatial: np.ndarray
    order: np.ndarray
    dims: np.ndarray
    units: np.ndarray


@dataclass
class LevelPlan:
    """All levels of a batch: ``levels[l]`` for l < max(num_levels)."""

    levels: list
    num_levels: np.ndarray
    reason: np.ndarray


def _first_error(reason, mask, code):
    """Record ``code`` for candidates in ``mask`` that have no error yet."""
    reason[(reason == R.OK) & mask] = code


def complete_levels(spec: LayerSpec, directives: Directives, num_pes: int) -> LevelPlan:
    """Complete every level of every candidate as MAESTRO does.

    Parameters
    ----------
    spec : LayerSpec
    directives : Directives
        Arrays of shape (N, L, D).
    num_pes : int

    Returns
    -------
    LevelPlan
        Per-level arrays; ``reason`` (N,) holds the first structural error
        (:mod:`gamma.costmodel.reasons`).  Levels of invalid candidates hold
        harmless placeholder values.
    """
    n, max_levels, slots = directives.dim.shape
    nvar = spec.num_vars
    rows = np.arange(n)
    reason = np.zeros(n, dtype=np.int64)
    num_levels = np.asarray(directives.num_levels, dtype=np.int64)
    _first_error(reason, num_levels > MAX_LEVELS, R.TOO_MANY_LEVELS)
    _first_error(reason, num_levels < 1, R.NO_SPATIAL_MAP)

    # Dimension code -> variable index (-1: not a layer variable), and whether the
    # code is an output-centric Y'/X'.
    code_to_var = np.full(len(DIM_NAMES) + 1, -1, dtype=np.int64)
    is_output_code = np.zeros(len(DIM_NAMES) + 1, dtype=bool)
    for code, name in enumerate(DIM_NAMES):
        base = name.rstrip("'")
        if base in spec.index:
            code_to_var[code] = spec.index[base]
        is_output_code[code] = name.endswith("'")
    # A batch dimension of size 1 is not a layer variable; directives on it map
    # a single element and are dropped.
    ignorable = np.zeros(len(DIM_NAMES) + 1, dtype=bool)
    if "N" not in spec.index and spec.layer.N == 1:
        ignorable[DIM_NAMES.index("N")] = True

    r_var, s_var = spec.index["R"], spec.index["S"]
    full_filter = {r_var: spec.sizes[r_var], s_var: spec.sizes[s_var]}
    cluster = np.asarray(directives.cluster, dtype=np.int64)
    used_levels = min(int(num_levels.max(initial=1)), max_levels)

    # Number of top-level sub-clusters: floor(num_pes / product of Cluster sizes).
    cluster_product = np.ones(n, dtype=np.int64)
    for lvl in range(1, max_levels):
        in_use = lvl < num_levels
        bad = in_use & (cluster[:, lvl] < 1)
        _first_error(reason, bad, R.BAD_DIRECTIVE_VALUE)
        cluster_product *= np.where(in_use & ~bad, cluster[:, lvl], 1)
    top_units = num_pes // cluster_product
    _first_error(reason, top_units < 1, R.CLUSTERS_EXCEED_PES)

    levels = []
    upper = None
    dims = np.broadcast_to(spec.sizes, (n, nvar)).copy()
    for lvl in range(used_levels):
        active = lvl < num_levels
        code = directives.dim[:, lvl, :].astype(np.int64)
        code = np.where(code == EMPTY, len(DIM_NAMES), code)
        present = (directives.dim[:, lvl, :] != EMPTY) & ~ignorable[code]
        var = np.where(present, code_to_var[code], -1)
        size = np.asarray(directives.size[:, lvl, :], dtype=np.int64)
        offset = np.asarray(directives.offset[:, lvl, :], dtype=np.int64)
        spatial = np.asarray(directives.spatial[:, lvl, :], dtype=bool) & present
        out_centric = is_output_code[code] & present

        _first_error(reason, active & (present & (var < 0)).any(axis=1), R.UNKNOWN_DIMENSION)
        counts = (var[:, :, None] == np.arange(nvar)).sum(axis=1)
        _first_error(reason, active & (counts > 1).any(axis=1), R.DUPLICATE_DIMENSION)
        num_spatial = spatial.sum(axis=1)
        _first_error(reason, active & (num_spatial == 0), R.NO_SPATIAL_MAP)
        _first_error(reason, active & (num_spatial > 2), R.TOO_MANY_SPATIAL_MAPS)
        _first_error(reason, active & (present & ((size < 1) | (offset < 1))).any(axis=1),
                     R.BAD_DIRECTIVE_VALUE)
        # Since 2021 MAESTRO demands TemporalMap(Sz(R), Sz(R)) R (and S alike).
        for fvar, full in full_filter.items():
            on_filter = present & ~spatial & (var == fvar)
            bad = on_filter & ((size != full) | (offset != full))
            _first_error(reason, active & bad.any(axis=1), R.RS_TEMPORAL_NOT_FULL)

        # Scatter the user's directives into per-variable arrays.
        valid_slot = var >= 0
        safe_var = np.maximum(var, 0)
        v_size = np.zeros((n, nvar), dtype=np.int64)
        v_ofs = np.zeros((n, nvar), dtype=np.int64)
        v_sp = np.zeros((n, nvar), dtype=bool)
        v_out = np.zeros((n, nvar), dtype=bool)
        key = np.full((n, nvar), 10_000, dtype=np.int64)
        rr = np.repeat(rows, slots).reshape(n, slots)
        for arr, values in ((v_size, size), (v_ofs, offset), (v_sp, spatial),
                            (v_out, out_centric)):
            arr[rr[valid_slot], safe_var[valid_slot]] = values[valid_slot]
        key[rr[valid_slot], safe_var[valid_slot]] = np.broadcast_to(
            np.arange(slots), (n, slots))[valid_slot]
        given = np.zeros((n, nvar), dtype=bool)
        given[rr[valid_slot], safe_var[valid_slot]] = True

        # Y'/X' -> Y/X with the level's own R/S directive size (§2.1).
        for ref, slide in ((spec.index["Y"], r_var), (spec.index["X"], s_var)):
            conv = given[:, ref] & v_out[:, ref]
            _first_error(reason, active & conv & ~given[:, slide], R.OUTPUT_DIM_WITHOUT_FILTER)
            v_size[:, ref] = np.where(conv, v_size[:, ref] + v_size[:, slide] - 1, v_size[:, ref])

        missing = ~given
        if upper is None:
            # Top level: unroll every missing variable, appended alphabetically.
            v_size = np.where(missing, dims, v_size)
            v_ofs = np.where(missing, dims, v_ofs)
            key = np.where(missing, 1_000 + np.arange(nvar), key)
        else:
            # Inherit the upper level's directive as a TemporalMap, prepended in
            # reverse upper loop order.
            v_size = np.where(missing, upper.size, v_size)
            v_ofs = np.where(missing, upper.offset, v_ofs)
            upper_rank = np.argsort(upper.order, axis=1)
            key = np.where(missing, -1 - upper_rank, key)
        order = np.argsort(key, axis=1, kind="stable")

        _apply_outer_stride(spec, v_size, v_ofs, is_top=upper is None)

        units = top_units if upper is None else np.where(active, cluster[:, lvl], 1)
        level = Level(size=np.maximum(v_size, 1), offset=np.maximum(v_ofs, 1), spatial=v_sp, order=order,
                      dims=dims, units=np.maximum(units, 1))
        levels.append(level)
        # Lower level dimension sizes (ConstructLowerClusterDimensionTable).
        dims = np.minimum(level.size, dims)
        upper = level
    return LevelPlan(levels=levels, num_levels=num_levels, reason=reason)


def _apply_outer_stride(spec: LayerSpec, size, offset, is_top: bool) -> None:
    """MAESTRO's stride fix on Y/X directives, in place (§2.1 rule c).

    For stride ``st != 1`` and a directive at least as large as the full filter
    side ``Rf``: ``out = (size + st - Rf) // st``; ``size = out*min(st, Rf) +
    max(Rf - st, 0)``; ``offset = out*st`` (``out*Rf`` below the top level when
    ``Rf < st``).
    """
    st = spec.stride
    if st == 1:
        return
    for ref, slide in (("Y", "R"), ("X", "S")):
        col = spec.index[ref]
        full = int(spec.sizes[spec.index[slide]])
        fix = size[:, col] >= full
        out = (size[:, col] + st - full) // st
        new_size = out * min(st, full) + max(full - st, 0)
        new_ofs = out * (full if (not is_top and full < st) else st)
        size[:, col] = np.where(fix, new_size, size[:, col])
        offset[:, col] = np.where(fix, new_ofs, offset[:, col])
