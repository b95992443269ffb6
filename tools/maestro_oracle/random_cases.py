"""Random single-layer MAESTRO cases that stress what the shared reference set does not.

Each case is a layer, a hardware file and a 1-3 level dataflow drawn with a
seeded ``numpy.random.Generator``.  The draws favour mappings MAESTRO analyses
(full R/S temporal tiles, cluster products within the PE count) but keep a
share of inputs it rejects or crashes on, so that the model's error reasons are
checked too.
"""
from __future__ import annotations

import numpy as np

_STRIDES = np.array([1, 1, 1, 2, 2, 4])
_PES = np.array([1, 4, 16, 64, 168, 256, 1024, 4096])
_BW = np.array([1, 4, 16, 64, 256, 1000, 81920000])
_OFFCHIP = np.array([1, 8, 32, 50, 1000, 81920000])
_BUFFERS = ((16, 256), (512, 108000), (5120, 1080000), (4194304, 25165824))
_CONV_DIMS = ("K", "C", "Y", "X", "R", "S")


def _tile(rng: np.random.Generator, parent: int) -> int:
    """A tile size in [1, parent], biased to 1, full, divisors and small values."""
    pick = rng.random()
    if parent <= 1 or pick < 0.25:
        return 1
    if pick < 0.45:
        return parent
    if pick < 0.7:
        divisors = [d for d in range(1, parent + 1) if parent % d == 0]
        return int(rng.choice(divisors))
    return int(rng.integers(1, parent + 1))


def random_layer(rng: np.random.Generator) -> dict:
    """A layer dict in the records' schema: type, dimensions, stride."""
    kind = rng.choice(["CONV", "CONV", "CONV", "DSCONV", "GEMMCONV", "FCCONV", "GEMM"])
    if kind == "GEMM":
        return {"type": "GEMM", "M": int(rng.integers(1, 300)), "N": int(rng.integers(1, 300)),
                "K": int(rng.integers(1, 300)), "stride": 1}
    if kind in ("GEMMCONV", "FCCONV"):
        rows = 1 if kind == "FCCONV" else int(rng.integers(1, 200))
        return {"type": "CONV", "K": int(rng.integers(1, 512)), "C": int(rng.integers(1, 512)),
                "Y": rows, "X": 1, "R": 1, "S": 1, "stride": 1, "form": kind}
    r = int(rng.choice([1, 1, 2, 3, 3, 3, 5, 7, 11]))
    s = r if rng.random() < 0.8 else int(rng.integers(1, 12))
    stride = int(rng.choice(_STRIDES))
    out_y, out_x = int(rng.integers(1, 30)), int(rng.integers(1, 30))
    layer = {"type": str(kind), "K": 1 if kind == "DSCONV" else int(rng.integers(1, 200)),
             "C": int(rng.integers(1, 130)), "Y": (out_y - 1) * stride + r,
             "X": (out_x - 1) * stride + s, "R": r, "S": s, "stride": stride}
    return layer


def random_hw(rng: np.random.Generator) -> tuple[dict, str]:
    """A hardware dict (schema ``hw``) and the hw file text."""
    l1, l2 = _BUFFERS[int(rng.integers(len(_BUFFERS)))]
    hw = {"num_pes": int(rng.choice(_PES)), "l1_size": l1, "l2_size": l2,
          "noc_bw": int(rng.choice(_BW)), "offchip_bw": int(rng.choice(_OFFCHIP)),
          "noc_hops": int(rng.choice([1, 1, 1, 2, 4])), "simd_lanes": 1}
    text = (f"num_pes: {hw['num_pes']}\nl1_size_cstr: {l1}\nl2_size_cstr: {l2}\n"
            f"noc_bw_cstr: {hw['noc_bw']}\noffchip_bw_cstr: {hw['offchip_bw']}\n"
            f"NoC_NumHops: {hw['noc_hops']}\n")
    return hw, text


def _layer_dims(layer: dict) -> dict:
    """Dimensions the dataflow maps (output rows/cols for Y'/X' tiles)."""
    if layer["type"] == "GEMM":
        return {d: layer[d] for d in ("M", "N", "K")}
    dims = {d: layer[d] for d in _CONV_DIMS}
    if layer["type"] == "DSCONV":
        del dims["K"]
    return dims


def _out_size(layer: dict, d: str) -> int:
    f = layer["R"] if d == "Y" else layer["S"]
    return max((layer[d] - f) // layer["stride"] + 1, 1)


def _directive(rng, layer, d, parent, spatial, level, errors_ok) -> tuple[str, int]:
    """One directive text for dimension ``d`` and the tile it leaves for the level below."""
    kind = "SpatialMap" if spatial else "TemporalMap"
    if d in ("R", "S") and layer["type"] != "GEMM":
        full = layer[d]
        if spatial and level > 0 and rng.random() < 0.7:
            return f"SpatialMap(1,1) {d};", 1
        if errors_ok and rng.random() < 0.04:
            t = _tile(rng, full)
            return f"{kind}({t},{t}) {d};", t
        text = f"Sz({d})" if rng.random() < 0.3 else str(full)
        return f"{kind}({text},{text}) {d};", full
    if d in ("Y", "X") and layer["type"] != "GEMM":
        f = "R" if d == "Y" else "S"
        stride = layer["stride"]
        out = parent
        if rng.random() < 0.35:
            # Input-centric sliding window, as MAESTRO's shipped files write it.
            t = _tile(rng, out)
            if rng.random() < 0.5:
                size_txt = f"Sz({f})" if t == 1 else str(layer[f] + (t - 1) * stride)
                offset = t * stride if rng.random() < 0.5 else 1
                return f"{kind}({size_txt},{offset}) {d};", t
            size = layer[f] + (t - 1) * stride
            return f"{kind}({size},{t * stride}) {d};", t
        t = _tile(rng, out)
        if errors_ok and rng.random() < 0.02:
            t = int(rng.integers(1, layer[d] + 1))
        return f"{kind}({t},{t}) {d}';", t
    t = _tile(rng, parent)
    return f"{kind}({t},{t}) {d};", t


def random_dataflow(rng: np.random.Generator, layer: dict, num_pes: int) -> tuple[list, dict]:
    """Dataflow lines for 1-3 cluster levels and a ``meta`` dict describing the draw."""
    levels = int(rng.choice([1, 2, 2, 3, 3, 3]))
    errors_ok = rng.random() < 0.15
    dims = _layer_dims(layer)
    tiles = {d: (_out_size(layer, d) if d in ("Y", "X") and layer["type"] != "GEMM" else n)
             for d, n in dims.items()}
    lines, left = [], num_pes
    meta = {"levels": levels, "errors_ok": bool(errors_ok), "clusters": []}
    for level in range(levels):
        if level > 0:
            bound = left if not errors_ok else num_pes
            cluster = _tile(rng, max(bound, 1))
            if rng.random() < 0.2:
                cluster = int(rng.integers(1, max(bound, 1) + 1))
            left = max(left // max(cluster, 1), 1)
            text = f"Sz({rng.choice(list(dims))})" if rng.random() < 0.05 else str(cluster)
            lines.append(f"Cluster({text},P);")
            meta["clusters"].append(text)
        order = list(rng.permutation(list(dims)))
        n_spatial = 2 if rng.random() < 0.2 else 1
        if errors_ok and rng.random() < 0.1:
            n_spatial = int(rng.choice([0, 3]))
        spatial = set(order[int(i)] for i in rng.choice(len(order), size=min(n_spatial, len(order)),
                                                         replace=False))
        new_tiles = dict(tiles)
        for d in order:
            text, t = _directive(rng, layer, d, tiles[d], d in spatial, level, errors_ok)
            lines.append(text)
            new_tiles[d] = t
        if level > 0 and layer["type"] not in ("GEMM", "DSCONV") and rng.random() < 0.05:
            # MAESTRO's row-stationary files map S twice in one level.
            lines.insert(len(lines) - len(order), "SpatialMap(1,1) S;")
        tiles = new_tiles
    return lines, meta


def mapping_text(layer: dict, dataflow: list) -> str:
    """A self-contained one-layer MAESTRO mapping file."""
    kind = layer["type"]
    out = ["Network 0 {", f"Layer {kind} {{", f"Type: {kind}"]
    if layer.get("stride", 1) != 1:
        out.append(f"Stride {{ X: {layer['stride']}, Y: {layer['stride']} }}")
    names = ("M", "N", "K") if kind == "GEMM" else _CONV_DIMS
    out.append("Dimensions { " + ", ".join(f"{d}: {layer[d]}" for d in names) + " }")
    out.append("Dataflow {")
    out.extend(dataflow)
    out.extend(["}", "}", "}", ""])
    return "\n".join(out)


def random_case(seed: int, index: int) -> dict:
    """Record (without ``expected``) of random case ``index`` of a seeded run."""
    rng = np.random.default_rng([seed, index])
    layer = random_layer(rng)
    hw, hw_m = random_hw(rng)
    dataflow, meta = random_dataflow(rng, layer, hw["num_pes"])
    form = layer.pop("form", None)
    if form:
        meta["form"] = form
    return {"id": f"oracle-{seed}-{index:06d}", "source": "oracle-random", "layer": layer,
            "hw": hw, "genome": None, "mapping_m": mapping_text(layer, dataflow), "hw_m": hw_m,
            "meta": meta}


def _level_spans(lines: list) -> list:
    """(first, end) line indices of each cluster level's directives in a dataflow."""
    spans, first = [], 0
    for i, line in enumerate(lines):
        if line.startswith("Cluster"):
            spans.append((first, i))
            first = i + 1
    spans.append((first, len(lines)))
    return spans


def twice_case(seed: int, index: int) -> dict:
    """Random case ``index`` of a seeded run with one dimension mapped twice in a level.

    The base draw is :func:`random_case` (same seed and index); a second stream
    (``[seed, index, 2]``) then picks a level and, for CONV-like layers with
    probability 0.6, rewrites its R or S directive as MAESTRO's row-stationary
    pair ``SpatialMap(s,o) S; ... TemporalMap(Sz(S),Sz(S)) S`` at random
    positions; otherwise it adds a second directive (spatial or temporal, any
    size) on a dimension of the level.  ``meta["twice"]`` says which.
    """
    record = random_case(seed, index)
    rng = np.random.default_rng([seed, index, 2])
    text = record["mapping_m"]
    head, rest = text.split("Dataflow {\n", 1)
    body, tail = rest.split("\n}\n}\n}", 1)
    lines = body.split("\n")
    first, end = _level_spans(lines)[int(rng.integers(len(_level_spans(lines))))]
    level = lines[first:end]
    names = [line.rstrip(";").split()[-1] for line in level]
    layer = record["layer"]
    sliding = [d for d in ("R", "S") if d in names and layer["type"] != "GEMM"]
    if sliding and rng.random() < 0.6:
        d = str(rng.choice(sliding))
        del level[names.index(d)]
        size = 1 if rng.random() < 0.6 else int(rng.integers(1, layer[d] + 1))
        offset = 1 if rng.random() < 0.7 else size
        i, j = sorted(int(v) for v in rng.choice(len(level) + 2, size=2, replace=False))
        level.insert(i, f"SpatialMap({size},{offset}) {d};")
        level.insert(j, f"TemporalMap(Sz({d}),Sz({d})) {d};")
        twice = {"form": "pair", "dim": d}
    else:
        d = str(rng.choice(names)).rstrip("'")
        kind = "SpatialMap" if rng.random() < 0.5 else "TemporalMap"
        size = int(rng.integers(1, 8))
        offset = 1 if rng.random() < 0.5 else size
        level.insert(int(rng.integers(len(level) + 1)), f"{kind}({size},{offset}) {d};")
        twice = {"form": "other", "dim": d, "kind": kind}
    lines[first:end] = level
    record["mapping_m"] = head + "Dataflow {\n" + "\n".join(lines) + "\n}\n}\n}" + tail
    record["id"] = f"oracle-twice-{seed}-{index:06d}"
    record["meta"]["twice"] = twice
    return record
