"""Pack oracle records into the compressed test fixtures ``tests/fixtures/oracle/``.

Usage::

    python tools/maestro_oracle/make_fixtures.py random_cases.jsonl random_errors.jsonl \
        twice_cases.jsonl twice_errors.jsonl --out tests/fixtures/oracle

Writes ``cases.jsonl.gz`` (records MAESTRO evaluated) and ``errors.jsonl.gz``
(records it rejected, crashed on or evaluated to runtime 0), each sorted by
``id`` and gzip'd without a timestamp, so the same inputs give the same bytes.
Records cut from MAESTRO's own mapping files (source ``maestro-shipped``) are
left out: those files are MAESTRO's, not this project's to redistribute; check
them against a MAESTRO checkout with ``compare.py`` instead.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSONL files from make_cases.py")
    parser.add_argument("--out", required=True, type=Path, help="fixture folder")
    args = parser.parse_args(argv)
    cases, errors = [], []
    for path in args.files:
        with open(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    parser.error(f"{path}:{number}: not a JSON record ({err.msg})")
                if record["source"] == "maestro-shipped":
                    continue
                (errors if "error" in record["expected"] else cases).append(record)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, records in (("cases", cases), ("errors", errors)):
        records.sort(key=lambda r: r["id"])
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        with open(args.out / f"{name}.jsonl.gz", "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as out:
            out.write(text.encode())
        print(f"{name}: {len(records)} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
