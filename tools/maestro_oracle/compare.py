"""Compare the cost model with MAESTRO's numbers on oracle records.

Usage::

    python tools/maestro_oracle/compare.py cases.jsonl[.gz] errors.jsonl[.gz] ... [--examples 1]

Prints the agreement per field (exact fields: equal; float fields: relative
1e-5), then the disagreements grouped by class -- the set of mismatching
fields plus the mapping's features (type, stride, levels, input-centric Y/X,
spatial R/S, a dimension mapped twice) -- with the smallest example of each.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import warnings
from collections import Counter, defaultdict
from pathlib import Path

from gamma.costmodel import MAESTRO_EXACT_FIELDS, MAESTRO_FLOAT_FIELDS, evaluate, reason_class, reason_text
from gamma.errors import GammaInputError
from gamma.hardware import Hardware, from_maestro_values
from gamma.maestro_files import parse_mapping

EXACT = MAESTRO_EXACT_FIELDS
FLOAT = MAESTRO_FLOAT_FIELDS


def load(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def hardware_of(record: dict) -> Hardware:
    return from_maestro_values(record["hw"])


def gemm_form(record: dict) -> str:
    """``"maestro"`` for a layer written as MAESTRO's own ``Type: GEMM``."""
    return "maestro" if record["layer"]["type"] == "GEMM" else "conv"


def features(record: dict) -> str:
    """Short description of the mapping's features, for grouping disagreements."""
    text = record["mapping_m"]
    flow = text[text.index("Dataflow"):]
    lines = [ln.strip() for ln in flow.splitlines() if "Map" in ln or "Cluster" in ln]
    levels = 1 + sum("Cluster" in ln for ln in lines)
    tags = [record["layer"]["type"], f"s{record['layer'].get('stride', 1)}", f"L{levels}"]
    if any(ln.endswith((" Y;", " X;")) for ln in lines):
        tags.append("inputYX")
    if any(ln.startswith("SpatialMap") and ln.endswith((" R;", " S;")) for ln in lines):
        tags.append("spatialRS")
    seen, twice = set(), False
    for ln in lines:
        if "Cluster" in ln:
            seen = set()
            continue
        dim = ln.rstrip(";").split()[-1].rstrip("'")
        twice = twice or dim in seen
        seen.add(dim)
    if twice:
        tags.append("dim-twice")
    return " ".join(tags)


def check(record: dict) -> tuple[list[str], str]:
    """Mismatching fields of one record ([] = agreement) and a note."""
    expected = record["expected"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (layer, directives), = parse_mapping(record["mapping_m"], record["id"])
    except GammaInputError as err:
        if "error" in expected and expected["error_class"] in ("rejected-parse-error",
                                                                "rejected-other"):
            return [], ""
        return ["parse"], str(err)
    row = evaluate(layer, hardware_of(record), directives,
                   gemm_form=gemm_form(record), analysis="maestro").row(0)
    if "error" in expected:
        if row["valid"]:
            return ["error-valid"], expected["error_class"]
        got = reason_class(row["reason"])
        return ([] if got == expected["error_class"] else ["error-class"]), \
            f"{got} vs {expected['error_class']}"
    if not row["valid"]:
        return ["invalid"], reason_text(row["reason"])
    bad = [k for k in EXACT if row[k] != expected[k]]
    bad += [k for k in FLOAT if not math.isclose(row[k], expected[k], rel_tol=1e-5,
                                                 abs_tol=1e-9)]
    note = "; ".join(f"{k}: ours {row[k]} maestro {expected[k]}" for k in bad[:6])
    return bad, note


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--examples", type=int, default=1, help="examples per class")
    parser.add_argument("--dump", type=Path, help="write disagreeing records here (JSONL)")
    args = parser.parse_args(argv)
    records = [r for path in args.files for r in load(path)]
    per_field, classes, n_cases = Counter(), defaultdict(list), 0
    for record in records:
        bad, note = check(record)
        if "error" not in record["expected"]:
            n_cases += 1
            for k in (EXACT + FLOAT if bad and bad[0] in ("invalid", "parse") else bad):
                per_field[k] += 1
        if bad:
            key = (" ".join(bad[:4]) + (" ..." if len(bad) > 4 else ""), features(record))
            classes[key].append((len(record["mapping_m"]), record["id"], note, record))
    n_err = len(records) - n_cases
    print(f"{len(records)} records: {n_cases} evaluated by MAESTRO, {n_err} errors")
    print("agreement per field (evaluated cases):")
    for k in EXACT + FLOAT:
        print(f"  {k:28s} {n_cases - per_field[k]:7d}/{n_cases}")
    n_bad = sum(len(v) for v in classes.values())
    print(f"disagreeing records: {n_bad} in {len(classes)} classes")
    ordered = sorted(classes.items(), key=lambda kv: -len(kv[1]))
    for (fields, feats), members in ordered:
        members.sort(key=lambda m: m[:2])
        print(f"\n== {len(members)} x [{fields}] ({feats})")
        for _, rid, note, record in members[:args.examples]:
            print(f"  {rid}: {note}\n  hw: {json.dumps(record['hw'])}")
            print("  " + record["mapping_m"].replace("\n", "\n  "))
    if args.dump:
        with open(args.dump, "w") as dump:
            for _, members in ordered:
                dump.writelines(json.dumps(m[3]) + "\n" for m in members)
    return 0 if not classes else 1


if __name__ == "__main__":
    sys.exit(main())
