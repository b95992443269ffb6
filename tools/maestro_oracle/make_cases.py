"""Generate MAESTRO oracle cases: random single-layer mappings and MAESTRO's shipped layers.

Usage::

    python tools/maestro_oracle/make_cases.py random --maestro PATH --count 20000 \
        --seed 7 --jobs 2 --out cases.jsonl --errors errors.jsonl
    python tools/maestro_oracle/make_cases.py twice --maestro PATH --count 2000 \
        --seed 11 --out twice_cases.jsonl --errors twice_errors.jsonl
    python tools/maestro_oracle/make_cases.py shipped --maestro PATH --repo MAESTRO_CHECKOUT \
        --out shipped.jsonl --errors shipped_errors.jsonl

Records follow the schema of ``tests/fixtures/maestro_cases.jsonl`` /
``maestro_errors.jsonl``: one MAESTRO process per case, run in an empty
directory; cases MAESTRO evaluates go to ``--out``, inputs it rejects, crashes
on or evaluates to runtime 0 go to ``--errors``.
"""
from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from maestro_run import run_case  # noqa: E402
from random_cases import random_case, twice_case  # noqa: E402
from shipped_cases import shipped_cases  # noqa: E402


def _run(args: tuple[str, dict]) -> dict:
    maestro, record = args
    record["expected"] = run_case(maestro, record["mapping_m"], record["hw_m"])
    return record


def _random_record(args: tuple[str, int, int, bool]) -> dict:
    maestro, seed, index, twice = args
    return _run((maestro, (twice_case if twice else random_case)(seed, index)))


def _write(records, out: Path, errors: Path) -> tuple[int, int]:
    n_ok = n_err = 0
    with open(out, "w") as ok_file, open(errors, "w") as err_file:
        for record in records:
            line = json.dumps(record, separators=(",", ":")) + "\n"
            if "error" in record["expected"]:
                err_file.write(line)
                n_err += 1
            else:
                ok_file.write(line)
                n_ok += 1
    return n_ok, n_err


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("random", "twice", "shipped"),
                        help="random mappings, random mappings with a dimension mapped twice "
                             "in a level, or MAESTRO's shipped layers")
    parser.add_argument("--maestro", required=True, help="MAESTRO binary")
    parser.add_argument("--out", required=True, type=Path, help="JSONL of evaluated cases")
    parser.add_argument("--errors", required=True, type=Path, help="JSONL of error cases")
    parser.add_argument("--count", type=int, default=1000, help="random cases")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--start", type=int, default=0, help="index of the first random case")
    parser.add_argument("--jobs", type=int, default=1, help="parallel MAESTRO processes")
    parser.add_argument("--repo", type=Path, help="MAESTRO source checkout (shipped mode)")
    args = parser.parse_args(argv)
    if not Path(args.maestro).is_file():
        parser.error(f"--maestro {args.maestro}: no such file")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        if args.mode in ("random", "twice"):
            work = [(args.maestro, args.seed, i, args.mode == "twice")
                    for i in range(args.start, args.start + args.count)]
            records = pool.map(_random_record, work, chunksize=16)
        else:
            if args.repo is None or not (args.repo / "data" / "mapping").is_dir():
                parser.error(f"--repo {args.repo}: not a MAESTRO checkout (no data/mapping)")
            cases, counts = shipped_cases(args.repo)
            print(f"{counts['files']} mapping files, {counts['layers']} layers, "
                  f"{len(cases)} cases", file=sys.stderr)
            records = pool.map(_run, [(args.maestro, r) for r in cases], chunksize=4)
        n_ok, n_err = _write(records, args.out, args.errors)
    print(f"{n_ok} evaluated, {n_err} errors", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
