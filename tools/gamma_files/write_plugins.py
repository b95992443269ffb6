"""Write the shipped GAMMA-named plugins from the transcribed fixture.

Usage::

    python tools/gamma_files/write_plugins.py [tests/fixtures/gamma_constraints.json] [-o data/mapping_cstr]

Every constraint of the fixture (see ``transcribe.py``) becomes a plugin at the
path GAMMA keeps it, under ``data/mapping_cstr/`` (``dla_map.py``,
``flexiblity_classes_example/dla_dir/dla_map_0000.py``,
``advanced_cstr/accel_cstr/dla_accel.py``), holding the same dictionary value
for value.  The four top-level ``mapping_cstr`` plugins also get YAML twins in
``yaml/``.  ``tests/test_gamma_files.py`` checks that the shipped files still
match the fixture.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

#: What each family models (one comment line per file).
_FAMILY = {"dla": "NVDLA-like weight stationary: K across clusters, C across the PEs of a cluster",
           "eye": "Eyeriss-like row stationary: Y' across clusters, R and Y' across the PEs of a cluster",
           "tpu": "TPU-like systolic array, run on each layer's im2col GEMM (lowered by the file name)",
           "example": "a partly constrained example of the format"}
_HARDWARE = {"dla": "NVDLA-like hardware", "eye": "Eyeriss-like hardware", "tpu": "TPU-like hardware"}
_AXES = ("ordering", "parallelization", "array shape", "tiling")
_DIMS = ("K", "C", "Y", "X", "R", "S")


def _value(key: str, value) -> str:
    if key in ("sp", "sp2"):
        return f"np.array({json.dumps(value)})"
    return json.dumps(value)


def _keys(body: dict) -> list[str]:
    """A level's keys in reading order: parallelism, order, tiles, then the rest."""
    keys = [k for k in ("sp", "sp2", "sp_sz", "order") if k in body]
    keys += [k for k in _DIMS if k in body]
    return keys + sorted(k for k in body if k not in keys)


def _level_lines(variable: str, level: str, body: dict) -> list[str]:
    keys = _keys(body)
    lines = [f'{variable}["{level}"] = {{']
    lines += [f'    "{k}": {_value(k, body[k])},' for k in keys]
    return lines + ["}"]


def _comment(rel: str, variable: str) -> list[str]:
    stem = Path(rel).stem
    family = _FAMILY.get(stem.split("_")[0], "")
    if variable == "accel_cstr":
        family = f"{_HARDWARE[stem.split('_')[0]]}: buffer and NoC kinds per level"
    lines = [f"# {stem}: GAMMA's {rel} constraint, value for value.", f"# {family}."]
    code = stem.rsplit("_", 1)[-1]
    if "flexiblity_classes_example" in rel and len(code) == 4:
        lines.append(f"# Flexibility class {code} (bits: {', '.join(_AXES)}; 1 = left free).")
    if variable == "accel_cstr":
        lines.append("# gamma.plugins.translate_accel turns the kinds into a mapping constraint.")
    return lines


def python_text(rel: str, entry: dict) -> str:
    variable, levels = entry["variable"], entry["levels"]
    uses_numpy = any("sp" in body or "sp2" in body for body in levels.values())
    lines = _comment(rel, variable)
    lines += ["import numpy as np", ""] if uses_numpy else [""]
    lines.append(f"{variable} = {{}}")
    for level in ("L3", "L2", "L1"):
        if level in levels:
            lines += _level_lines(variable, level, levels[level])
    return "\n".join(lines) + "\n"


def yaml_text(rel: str, entry: dict) -> str:
    stem = Path(rel).stem
    lines = [f"# {stem} in YAML: the same constraint as ../{stem}.py (GAMMA's {rel})."]
    for level in ("L3", "L2", "L1"):
        body = entry["levels"].get(level)
        if body is None:
            continue
        lines.append(f"{level}:")
        for key in _keys(body):
            value = body[key]
            value = value[0] if key == "sp2" and isinstance(value, list) else value
            text = f"[{', '.join(value)}]" if isinstance(value, list) else str(value)
            lines.append(f"  {key}: {text}")
    if stem.startswith("tpu"):
        lines.append("lower_to_gemm: true")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixture", type=Path, nargs="?",
                        default=Path("tests/fixtures/gamma_constraints.json"))
    parser.add_argument("-o", "--out", type=Path, default=Path("data/mapping_cstr"))
    args = parser.parse_args(argv)
    plugins = json.loads(args.fixture.read_text())["plugins"]
    for rel, entry in plugins.items():
        inner = Path(rel).relative_to("data/mapping_cstr")
        target = args.out / inner
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(python_text(rel, entry))
        if len(inner.parts) == 1 and entry["variable"] == "mapping_cstr":
            (args.out / "yaml" / inner.with_suffix(".yaml")).write_text(yaml_text(rel, entry))
    print(f"{args.out}: wrote {len(plugins)} plugins")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
