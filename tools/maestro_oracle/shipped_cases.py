"""Cut MAESTRO's shipped multi-layer mapping files into single-layer cases.

Every ``Layer`` of every mapping file (a ``.m`` file with a ``Network`` and at
least one ``Dataflow``) becomes its own file: the source file's ``Constant``s,
then ``Network <name> { <the layer's text> }``.  Comments are removed, the
dimension and dataflow text is kept as written.  A layer without a dataflow
gets the previous layer's (MAESTRO reuses it).
"""
from __future__ import annotations

import re
from pathlib import Path

#: 168-PE edge hardware of the shared reference set (``edge168``).
EDGE168 = ("num_pes: 168\nl1_size_cstr: 512\nl2_size_cstr: 108000\nnoc_bw_cstr: 64\n"
           "offchip_bw_cstr: 1000\nNoC_NumHops: 1\n")
_COMMENT = re.compile(r"//[^\n]*")
_CONSTANT = re.compile(r"^\s*Constant\s+(\w+)\s+(\w+)\s*;?\s*$", re.M)
_UNLIMITED = 2147483647


def _block_end(text: str, open_at: int) -> int:
    """Index just past the brace closing the one at ``open_at``."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unbalanced braces")


def _value(token: str, constants: dict) -> int:
    token = token.strip()
    return int(constants.get(token, token))


def _layer_dict(layer_text: str, constants: dict) -> dict:
    kind = re.search(r"Type\s*:\s*(\w+)", layer_text).group(1)
    dims_text = re.search(r"Dimensions\s*\{([^}]*)\}", layer_text).group(1)
    out = {"type": kind}
    for name, value in re.findall(r"(\w+)\s*:?\s+(\w+)", dims_text.replace(":", ": ")):
        out[name] = _value(value, constants)
    stride = re.search(r"Stride\s*\{([^}]*)\}", layer_text)
    out["stride"] = 1
    if stride:
        values = dict(re.findall(r"(\w+)\s*:?\s*(\w+)", stride.group(1)))
        out["stride"] = _value(values.get("Y", values.get("X", "1")), constants)
    return out


def split_file(path: Path) -> list[tuple[str, str, dict]]:
    """(layer name, one-layer mapping text, layer dict) for every layer of ``path``."""
    text = _COMMENT.sub("", path.read_text(errors="replace")).replace("\u2019", "'")
    if "Network" not in text or "Dataflow" not in text:
        return []
    constants = dict(_CONSTANT.findall(text))
    for name, value in list(constants.items()):
        constants[name] = _value(value, constants)
    prelude = "".join(f"Constant {n} {v};\n" for n, v in _CONSTANT.findall(text))
    net = re.search(r"Network\s+(\S+)\s*\{", text)
    body_end = _block_end(text, net.end() - 1)
    cases, previous_dataflow, pos = [], None, net.end()
    while True:
        match = re.compile(r"Layer\s+(\S+)\s*\{").search(text, pos, body_end)
        if not match:
            break
        end = _block_end(text, match.end() - 1)
        layer_text = text[match.start():end]
        flow = re.search(r"Dataflow\s*\{", layer_text)
        if flow:
            previous_dataflow = layer_text[flow.start():_block_end(layer_text, flow.end() - 1)]
        elif previous_dataflow is not None:
            layer_text = layer_text[:-1].rstrip() + "\n" + previous_dataflow + "\n}"
        lines = [ln.strip() for ln in layer_text.splitlines() if ln.strip()]
        one = prelude + f"Network {net.group(1)} {{\n" + "\n".join(lines) + "\n}\n"
        cases.append((match.group(1), one, _layer_dict(layer_text, constants)))
        pos = end
    return cases


def hw_dict(hw_m: str) -> dict:
    """Schema ``hw`` of a hw file (MAESTRO's defaults for missing keys)."""
    values = dict(re.findall(r"^\s*(\w+)\s*:\s*(\d+)", hw_m, re.M))
    return {"num_pes": int(values.get("num_pes", 1)),
            "l1_size": int(values.get("l1_size_cstr", _UNLIMITED)),
            "l2_size": int(values.get("l2_size_cstr", _UNLIMITED)),
            "noc_bw": int(values.get("noc_bw_cstr", _UNLIMITED)),
            "offchip_bw": int(values.get("offchip_bw_cstr", _UNLIMITED)),
            "noc_hops": int(values.get("NoC_NumHops", 1)), "simd_lanes": 1}


def shipped_cases(repo: Path) -> tuple[list[dict], dict]:
    """Records (without ``expected``) for every layer of every shipped mapping file,
    on ``accelerator_1.m`` and on the 168-PE edge hw; and counts of files/layers."""
    hw_files = {"acc1": (repo / "data" / "hw" / "accelerator_1.m").read_text(),
                "edge168": EDGE168}
    records, files, layers = [], 0, 0
    for path in sorted(repo.rglob("*.m")):
        cut = split_file(path)
        if not cut:
            continue
        files += 1
        layers += len(cut)
        rel = path.relative_to(repo).as_posix()
        for index, (name, text, layer) in enumerate(cut):
            for hw_name, hw_m in hw_files.items():
                records.append({
                    "id": f"oracle-shipped-{rel}.{index}.{name}.{hw_name}",
                    "source": "maestro-shipped", "layer": layer, "hw": hw_dict(hw_m),
                    "genome": None, "mapping_m": text, "hw_m": hw_m,
                    "meta": {"file": rel, "layer_name": name, "layer_index": index,
                             "hw_name": hw_name}})
    return records, {"files": files, "layers": layers}
