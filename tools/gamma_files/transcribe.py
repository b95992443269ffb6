"""Transcribe GAMMA's constraint, hardware and model-header files into one JSON fixture.

Usage::

    python tools/gamma_files/transcribe.py GAMMA_CHECKOUT [-o tests/fixtures/gamma_constraints.json]

``GAMMA_CHECKOUT`` is a working tree of GAMMA's repository (a folder holding
``data/mapping_cstr``, ``data/HWconfigs`` and ``data/model``).  Each constraint
module is run with numpy available, and the dictionary it defines
(``mapping_cstr`` or ``accel_cstr``) is written as plain JSON data (numpy
arrays become lists), keyed by the file's path inside GAMMA's tree.  The
hardware files are read as ``key: value`` lines, and of every model CSV the
header and first data row are kept (the tests check that each still loads).
The output is sorted, so a re-run on the same checkout gives the same bytes.
"""
from __future__ import annotations

import argparse
import json
import runpy
import sys
from pathlib import Path

from gamma.files import plain


def constraint_of(path: Path) -> dict:
    """The constraint a GAMMA plugin module defines, plus its kind."""
    names = runpy.run_path(str(path))
    for variable in ("mapping_cstr", "accel_cstr"):
        if variable in names:
            return {"variable": variable, "levels": plain(names[variable])}
    raise SystemExit(f"{path}: defines neither mapping_cstr nor accel_cstr")


def hardware_of(path: Path) -> dict:
    """GAMMA's hardware file: one ``Key: value`` per line, values as ints."""
    values = {}
    for line in path.read_text().splitlines():
        if ":" in line:
            key, value = (part.strip() for part in line.split(":", 1))
            values[key] = int(value)
    return values


def model_heads(path: Path) -> list[str]:
    """The header and first data row of a model CSV, as text lines."""
    return [line for line in path.read_text().splitlines() if line.strip()][:2]


def transcribe(root: Path) -> dict:
    cstr_root = root / "data" / "mapping_cstr"
    plugins = {}
    for path in sorted(cstr_root.rglob("*.py")):
        if "costmodel_cstr" in path.parts:
            continue  # the cost-model rule is the product's MAESTRO_CSTR, tested elsewhere
        plugins[str(path.relative_to(root))] = constraint_of(path)
    hardware = {str(p.relative_to(root)): hardware_of(p)
                for p in sorted((root / "data" / "HWconfigs").glob("*"))}
    models = {str(p.relative_to(root)): model_heads(p)
              for p in sorted((root / "data" / "model").glob("*.csv"))}
    return {"plugins": plugins, "hwconfigs": hardware, "models": models}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a working tree of GAMMA's repository")
    parser.add_argument("-o", "--out", type=Path, default=Path("tests/fixtures/gamma_constraints.json"))
    args = parser.parse_args(argv)
    if not (args.checkout / "data" / "mapping_cstr").is_dir():
        print(f"{args.checkout}: no data/mapping_cstr folder; give a GAMMA working tree", file=sys.stderr)
        return 2
    data = transcribe(args.checkout)
    args.out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{args.out}: {len(data['plugins'])} plugins, {len(data['hwconfigs'])} hardware files, "
          f"{len(data['models'])} models")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
