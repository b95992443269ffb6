"""Checks of mapping-constraint plugins: the one validator and the per-layer check.

:func:`validate_levels` checks a plugin's constraint dictionary key by key
(levels, keys, dimension names, sizes) and returns it as plain, normalised
data; every problem is one :class:`~gamma.errors.GammaInputError` line naming
the file and the key.  :func:`check_against` rejects, before a layer's search,
constraints that this layer and hardware cannot meet.  Loading and resolving
plugin files is :mod:`gamma.plugins`.
"""
from __future__ import annotations

import itertools

import numpy as np

from gamma.constraints import LEVEL_KEYS, MappingConstraint
from gamma.errors import GammaInputError
from gamma.files import plain
from gamma.mapping import GENOME_DIMS, dim_sizes
from gamma.workload import Layer

#: The keys a level may hold.
LEVEL_FIELDS = ("sp", "sp2", "sp_sz", "order", *GENOME_DIMS)
_DIMS_TEXT = ", ".join(GENOME_DIMS)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dim(value, where: str) -> str:
    if not isinstance(value, str):
        raise GammaInputError(f"{where}: expected a dimension name ({_DIMS_TEXT}), got {value!r}")
    if value not in GENOME_DIMS:
        hint = " (write Y and X, not Y'/X')" if value in ("Y'", "X'") else ""
        raise GammaInputError(f"{where}: unknown dimension {value!r}; expected {_DIMS_TEXT}{hint}")
    return value


def _dim_list(value, where: str, *, max_len: int = 6) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise GammaInputError(f"{where}: expected a non-empty list of dimensions ({_DIMS_TEXT}), "
                              f"got {value!r}")
    dims = [_dim(v, where) for v in values]
    repeated = sorted({d for d in dims if dims.count(d) > 1})
    if repeated:
        raise GammaInputError(f"{where}: dimension {repeated[0]!r} is listed twice in {dims}")
    if len(dims) > max_len:
        raise GammaInputError(f"{where}: at most {max_len} dimensions, got {len(dims)}")
    return dims


def _size(value, where: str, what: str):
    """A positive int, a dimension name, or GAMMA's FIFO form ``[1, "R"]``."""
    if isinstance(value, list) and len(value) == 2 and _is_int(value[0]) and isinstance(value[1], str):
        return [value[0], _dim(value[1], where)]
    if isinstance(value, str):
        return _dim(value, where)
    if _is_int(value) and value >= 1:
        return value
    raise GammaInputError(f"{where}: {what} must be a positive int or a dimension name "
                          f"({_DIMS_TEXT}), got {value!r}")


def validate_levels(raw, where: str) -> dict:
    """Check a constraint dictionary key by key; return it as plain, normalised data.

    ``sp`` and ``order`` become lists, ``sp2`` one name, numpy values plain.
    """
    data = plain(raw)
    if not isinstance(data, dict):
        raise GammaInputError(f"{where}: mapping_cstr must be a dict with keys "
                              f"{', '.join(LEVEL_KEYS)}, got {type(raw).__name__}")
    out = {}
    for level in data:
        if level not in LEVEL_KEYS:
            raise GammaInputError(f"{where}: {level}: unknown level; GAMMA names the levels "
                                  f"{', '.join(LEVEL_KEYS)} (L2 outermost, then L1, then L3)")
    for level in (k for k in LEVEL_KEYS if k in data):
        body = data[level]
        at = f"{where}: {level}"
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise GammaInputError(f"{at}: expected a dict of keys such as sp, order, K; got {body!r}")
        clean = {}
        for key, value in body.items():
            here = f"{at}.{key}"
            if key not in LEVEL_FIELDS:
                raise GammaInputError(f"{here}: unknown key; allowed: {', '.join(LEVEL_FIELDS)}")
            if key == "sp":
                clean[key] = _dim_list(value, here)
            elif key == "sp2":
                dims = _dim_list(value, here, max_len=1)
                clean[key] = dims[0]
            elif key == "order":
                clean[key] = _dim_list(value, here)
            elif key == "sp_sz":
                clean[key] = _size(value, here, "the cluster size")
                if isinstance(clean[key], list):
                    raise GammaInputError(f"{here}: expected an int or a dimension name, got {value!r}")
            else:
                clean[key] = _size(value, here, "a tile")
        if "sp2" in clean and clean.get("sp") == [clean["sp2"]]:
            raise GammaInputError(f"{at}.sp2: {clean['sp2']!r} is also the only allowed 'sp'; a level's "
                                  "two parallel dimensions must differ")
        out[level] = clean
    # Fixed int tiles must shrink inwards (an inner tile never exceeds its parent's).
    for outer, inner in itertools.pairwise(LEVEL_KEYS):
        if outer not in out or inner not in out:
            continue
        for d in GENOME_DIMS:
            a, b = out[outer].get(d), out[inner].get(d)
            if _is_int(a) and _is_int(b) and b > a:
                raise GammaInputError(f"{where}: {inner}.{d}: fixed tile {b} is larger than {outer}.{d} = "
                                      f"{a}; an inner tile cannot exceed its parent's")
    return out


def check_against(constraint, layer: Layer, hw, source: str = "") -> None:
    """Reject constraints this layer and hardware cannot meet, before the search starts.

    Parameters
    ----------
    constraint : MappingConstraint or Plugin
        The constraint the search will run under (lower the layer first if
        the plugin says ``lower_to_gemm``).
    layer : Layer
    hw : Hardware or int
        The hardware, or its PE count.
    source : str
        The file to name in messages (default: the constraint's name).

    Raises
    ------
    GammaInputError
        One line naming the file and key, for: an int ``sp_sz`` above the PE
        count, or fixed cluster sizes whose product is; ``sp2`` equal to the
        only allowed ``sp``; an inner fixed tile that resolves larger than its
        parent's.  A fixed int tile above the layer's size (Y/X: output
        rows/columns) is read as the whole dimension, not rejected: GAMMA's
        own files fix ``C: 64`` or ``Y: 16`` whatever the layer.
    """
    if not isinstance(constraint, MappingConstraint):  # a Plugin
        source = source or constraint.source
        constraint = constraint.constraint
    where = source or constraint.name or "mapping constraint"
    num_pes = hw if isinstance(hw, (int, np.integer)) else hw.num_pes
    sizes = dim_sizes(layer)
    size_of = dict(zip(GENOME_DIMS, (int(s) for s in sizes), strict=True))
    depth = max(len(constraint.levels), 1)
    parent: dict[str, int | None] = dict(size_of)
    cluster_product = 1
    fixed_clusters = []
    for i in range(depth):
        c = constraint.level(i)
        key = LEVEL_KEYS[i]
        resolved: dict[str, int | None] = {}
        for dim, value in c.tiles:
            if layer.type == "DSCONV" and dim == "K":
                resolved[dim] = 1
                continue
            if isinstance(value, int):
                # A fixed tile above the layer's size is the whole dimension (GAMMA
                # passes it on unchanged; the search clips it the same way).
                resolved[dim] = min(value, size_of[dim])
            else:
                ref = parent.get(value)
                resolved[dim] = None if ref is None else max(1, min(ref, size_of[dim]))
            up = parent.get(dim)
            if i and up is not None and resolved[dim] is not None and resolved[dim] > up:
                what = (f"fixed tile {value}" if isinstance(value, int) else
                        f"the tile {value!r} resolves to {resolved[dim]} for {layer.describe()} and")
                raise GammaInputError(
                    f"{where}: {key}.{dim}: {what} is larger than {LEVEL_KEYS[i - 1]}'s {dim} tile {up}; "
                    "no mapping can satisfy both")
        if c.sp2 is not None and c.sp is not None and set(c.sp) <= {c.sp2}:
            raise GammaInputError(f"{where}: {key}.sp2: {c.sp2!r} is also the only allowed 'sp'; a "
                                  "level's two parallel dimensions must differ")
        if i and isinstance(c.sp_sz, int):
            if c.sp_sz > num_pes:
                raise GammaInputError(f"{where}: {key}.sp_sz: cluster size {c.sp_sz} is larger than the "
                                      f"{num_pes} PEs of the hardware")
            cluster_product *= c.sp_sz
            fixed_clusters.append(f"{key}.sp_sz={c.sp_sz}")
            if cluster_product > num_pes:
                raise GammaInputError(f"{where}: {key}.sp_sz: fixed cluster sizes "
                                      f"{' x '.join(fixed_clusters)} need {cluster_product} PEs, more "
                                      f"than the {num_pes} of the hardware")
        # The next level's parent tiles: fixed here, unknown (free) otherwise.
        parent = {d: resolved.get(d) for d in GENOME_DIMS}


__all__ = ["validate_levels", "check_against", "LEVEL_FIELDS"]


def search_under(name: str, layer: Layer, hw, *, num_pop: int, epochs: int, seed: int):
    """Search ``layer`` under the mapping plugin ``name`` and MAESTRO's cost-model
    constraint, as the command line does: ``(layer searched, LayerResult)``, the layer
    lowered to its im2col GEMM for the plugins that ask for it (TPU-like)."""
    from gamma.constraints import MAESTRO_CSTR
    from gamma.plugins import combine, load_mapping_cstr, lower_layer
    from gamma.search.ga import GAConfig, search_layer

    run = combine(MAESTRO_CSTR, load_mapping_cstr(name))
    layer = lower_layer(layer) if run.lower_to_gemm else layer
    check_against(run, layer, hw)
    cfg = GAConfig(num_pop=num_pop, epochs=epochs, constraint=run.constraint)
    return layer, search_layer(layer, hw, cfg, np.random.default_rng(seed))
