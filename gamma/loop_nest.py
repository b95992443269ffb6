"""A mapping as a readable loop nest: ``for`` / ``par_for`` loops, one block per cluster level."""
from __future__ import annotations

import math
import re

# Directive dimension -> loop variable stem.
_VAR = {"N": "n", "G": "g", "K": "k", "C": "c", "Y": "y", "X": "x", "R": "r", "S": "s",
        "Y'": "yo", "X'": "xo"}


def loop_nest(text: str, num_pes: int | None = None, source: str = "<mapping>") -> str:
    """A MAESTRO mapping (``.m`` text) as an indented ``for`` nest, one block per level.

    Uses :func:`gamma.maestro_files.parse_mapping`; a file it cannot read is
    shown as its directive lines indented per ``Cluster`` level instead.
    ``par_for`` marks a ``SpatialMap`` (its tiles are spread over the units of
    that level); ``range(start, stop, step)`` steps by the directive's offset, and
    each loop walks the tile of the same dimension one level up.
    """
    try:
        from gamma.maestro_files import parse_mapping
        layers = parse_mapping(text, source)
    except Exception:  # noqa: BLE001 - any unreadable file falls back to the raw lines
        return _raw_nest(text)
    blocks = [_nest_of(layer, directives, num_pes) for layer, directives in layers]
    return "\n\n".join(blocks)


def _nest_of(layer, d, num_pes: int | None) -> str:
    from gamma.costmodel.directives import DIM_NAMES, EMPTY

    full = {"N": layer.N, "G": layer.G, "K": layer.K, "C": layer.C, "Y": layer.Y,
            "X": layer.X, "R": layer.R, "S": layer.S, "Y'": layer.Yo, "X'": layer.Xo}
    levels = int(d.num_levels[0])
    clusters = [int(d.cluster[0, lvl]) if lvl else 1 for lvl in range(levels)]
    units = list(clusters)
    if num_pes:
        inner = math.prod(clusters[1:]) if levels > 1 else 1
        units[0] = max(num_pes // max(inner, 1), 1)
    extent = dict(full)      # extent of each dimension inside the enclosing tile
    var = {name: None for name in full}  # loop variable of the enclosing level's tile
    lines = [f"# {layer.type} {layer.name}: K={layer.K} C={layer.C} Y={layer.Y} X={layer.X} "
             f"R={layer.R} S={layer.S} stride={layer.stride}  (Y'={layer.Yo}, X'={layer.Xo})"]
    depth = 0
    for lvl in range(levels):
        pad = "  " * depth
        unit = "PE" if lvl == levels - 1 else "cluster"
        if lvl == 0:
            if num_pes and levels > 1:
                per = math.prod(clusters[1:])
                who = f"{num_pes} PEs as {units[0]} cluster(s) of {per} PE(s)"
            elif num_pes:
                who = f"{num_pes} PEs"
            else:
                who = "the whole PE array"
            lines.append(f"{pad}# level 0: {who}")
        else:
            lines.append(f"{pad}# level {lvl}: Cluster({clusters[lvl]}) - inside each cluster, "
                         f"{clusters[lvl]} {unit}(s)")
        tiles = {}
        for slot in range(d.dim.shape[2]):
            code = int(d.dim[0, lvl, slot])
            if code == EMPTY:
                continue
            name = DIM_NAMES[code]
            size, offset = int(d.size[0, lvl, slot]), int(d.offset[0, lvl, slot])
            spatial = bool(d.spatial[0, lvl, slot])
            span = extent.get(name, 1)
            steps = 1 if size >= span else math.ceil((span - size) / max(offset, 1)) + 1
            v = f"{_VAR.get(name, name.lower())}{lvl}"
            outer = var.get(name)
            start, stop = (f"{outer}", f"{outer} + {span}") if outer else ("0", f"{span}")
            word = "par_for" if spatial else "for"
            note = f"{name}: tile {size}, {steps} step{'s' if steps != 1 else ''}"
            if spatial:
                note += (f", spatial over {units[lvl]} {unit}(s)" if (lvl or num_pes)
                         else ", spatial")
                if (lvl or num_pes) and steps > units[lvl]:
                    note += f" ({math.ceil(steps / units[lvl])} folds)"
            lines.append(f"{'  ' * depth}{word} {v} in range({start}, {stop}, {offset}):"
                         f"  # {note}")
            depth += 1
            tiles[name] = (v, size)
        for name, (v, size) in tiles.items():
            var[name], extent[name] = v, min(size, extent.get(name, size))
    lines.append(f"{'  ' * depth}MAC on the innermost tile")
    return "\n".join(lines)


def _raw_nest(text: str) -> str:
    """The Dataflow directive lines, indented one step per Cluster level."""
    out, depth, inside = [], 0, False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if re.match(r"(Layer|Type|Stride|Dimensions)\b", line):
            out.append(line.rstrip("{ ").strip() if line.startswith("Layer") else line)
            continue
        if line.startswith("Dataflow"):
            inside, depth = True, 1
            out.append("Dataflow:")
            continue
        if not inside:
            continue
        if line.startswith("}"):
            inside = False
            continue
        if line.startswith("Cluster"):
            out.append("  " * depth + line)
            depth += 1
            continue
        out.append("  " * depth + line)
    return "\n".join(out) if out else text
