"""Run a MAESTRO binary on one single-layer case and read its numbers.

One MAESTRO process per case, in an empty directory, with the flags the shared
reference set used (``--print_res=true --print_res_csv_file=true
--print_log_file=false``).  The results are read from the CSV row MAESTRO writes
and from its screen report, into the ``expected`` schema of
``tests/fixtures/maestro_cases.jsonl`` (cases) or ``{"error", "error_class"}``
(errors).
"""
from __future__ import annotations

import csv
import re
import signal
import subprocess
import tempfile
from pathlib import Path

#: CSV columns (0-based) of MAESTRO's per-layer row and the schema keys they fill.
_CSV_COLUMNS = {
    3: "runtime", 4: "energy_csv_nj", 5: "throughput", 7: "area", 8: "power",
    9: "noc_bw_req", 10: "avg_bw_req", 13: "offchip_bw_req", 14: "l2_size_req",
    15: "l1_size_req", 18: "num_input_elements", 19: "num_filter_elements", 21: "macs",
    22: "pe_power", 23: "l1_power", 24: "l2_power", 25: "noc_power",
    26: "input_l1_read", 27: "input_l1_write", 28: "input_l2_read", 29: "input_l2_write",
    31: "filter_l1_read", 32: "filter_l1_write", 33: "filter_l2_read", 34: "filter_l2_write",
    36: "output_l1_read", 37: "output_l1_write", 38: "output_l2_read", 39: "output_l2_write",
    41: "ingress_delay_min", 42: "ingress_delay_max", 43: "ingress_delay_avg",
    44: "egress_delay_min", 45: "egress_delay_max", 46: "egress_delay_avg",
    47: "compute_delay_min", 48: "compute_delay_max", 49: "compute_delay_avg",
    50: "avg_utilized_pes", 51: "arithmetic_intensity",
}
_FLOAT_KEYS = {"energy_csv_nj", "throughput", "area", "power", "avg_bw_req", "pe_power",
               "l1_power", "l2_power", "noc_power", "avg_utilized_pes", "arithmetic_intensity"}
_L2_COUNTS = ("input_l2_read", "input_l2_write", "filter_l2_read", "filter_l2_write",
              "output_l2_read", "output_l2_write")
_L1_COUNTS = tuple(k.replace("l2", "l1") for k in _L2_COUNTS)
_SIZE_LINE = re.compile(r"^(L[12]) size requirement: (\S+)$")
_SIGNALS = {signal.SIGFPE: "crash-sigfpe", signal.SIGABRT: "crash-sigabrt",
            signal.SIGSEGV: "crash-sigsegv"}


def _number(text: str, key: str):
    text = text.strip()
    if key in _FLOAT_KEYS:
        return float(text)
    try:
        return int(text)
    except ValueError:
        return float(text)      # printed in scientific notation: not exact, compare as float


def _screen_sizes(screen: str) -> dict:
    """Per-tensor L1/L2 size requirements from the ``[Buffer Access Analysis]`` section."""
    sizes, tensor = {}, None
    for line in screen.splitlines():
        line = line.strip()
        if line.startswith("Tensor "):
            tensor = line.split()[1]
        elif line.startswith("[Energy Analysis]"):
            break
        match = _SIZE_LINE.match(line)
        if match and tensor:
            sizes[f"{tensor}_{match.group(1).lower()}_size_req"] = int(match.group(2))
    return sizes


def _error_class(returncode: int, screen: str) -> dict:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return {"error": f"crash: {name}",
                "error_class": _SIGNALS.get(-returncode, "crash-other")}
    lines = [ln.strip() for ln in screen.splitlines() if "rror" in ln]
    if not lines:
        return {"error": f"exit status {returncode} without message", "error_class": "silent-exit"}
    message = lines[0]
    if "Invalid mapping" in message:
        kind = "rejected-invalid-mapping"
    elif "Parse error" in message:
        kind = "rejected-parse-error"
    else:
        kind = "rejected-other"
    return {"error": f"exit status {returncode}; {message}", "error_class": kind}


def run_case(maestro: str, mapping_m: str, hw_m: str, timeout: float = 120.0) -> dict:
    """MAESTRO's ``expected`` dict for one single-layer mapping on one hw file."""
    with tempfile.TemporaryDirectory(prefix="maestro-case-") as tmp:
        work = Path(tmp)
        (work / "case.m").write_text(mapping_m)
        (work / "hw.m").write_text(hw_m)
        try:
            proc = subprocess.run(
                [maestro, "--Mapping_file=case.m", "--HW_file=hw.m", "--print_res=true",
                 "--print_res_csv_file=true", "--print_log_file=false"],
                cwd=work, capture_output=True, text=True, errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timeout after {timeout} s", "error_class": "timeout"}
        screen = proc.stdout + proc.stderr
        if proc.returncode != 0:
            return _error_class(proc.returncode, screen)
        rows = []
        csv_path = work / "case.csv"
        if csv_path.exists():
            with open(csv_path, newline="") as handle:
                rows = list(csv.reader(handle))
        if len(rows) < 2:
            return {"error": "exit status 0 without CSV row", "error_class": "silent-exit"}
    return _expected(rows[1], screen)


def _expected(row: list, screen: str) -> dict:
    out = {key: _number(row[col], key) for col, key in _CSV_COLUMNS.items()}
    if out["runtime"] == 0:
        return {"error": f"runtime 0 (MACs {out['macs']}, throughput {row[5].strip()})",
                "error_class": "runtime-zero"}
    counts = [out[k] for k in _L2_COUNTS + _L1_COUNTS]
    if all(isinstance(c, int) for c in counts) and isinstance(out["macs"], int):
        l2 = sum(out[k] for k in _L2_COUNTS)
        l1 = sum(out[k] for k in _L1_COUNTS)
        out["energy_total_mac_units"] = round(18.61 * l2 + 1.68 * l1 + out["macs"], 6)
    out.update(_screen_sizes(screen))
    out["warnings"] = [ln.strip() for ln in screen.splitlines() if "[WARNING" in ln]
    return out
