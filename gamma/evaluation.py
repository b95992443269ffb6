"""Score a MAESTRO mapping file: one row per layer with MAESTRO's CSV columns.

``evaluate_mapping_file`` is what ``python main.py evaluate F.m --hw_file HW``
runs; ``format_summary`` is its screen report.  A layer that cannot be read or
analysed gets its own row with the reason, and the others are still scored.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gamma.costmodel import evaluate, reason_text
from gamma.errors import GammaInputError
from gamma.hardware import Hardware
from gamma.maestro_files import read_mapping

#: MAESTRO CSV column (leading spaces stripped) -> Costs field.
CSV_COLUMNS = {
    "Runtime (Cycles)": "runtime",
    "Num MACs": "macs",
    "Throughput (MACs/Cycle)": "throughput",
    "L1 SRAM Size Req (Bytes)": "l1_size_req",
    "L2 SRAM Size Req (Bytes)": "l2_size_req",
    "NoC BW Req (Elements/cycle)": "noc_bw_req",
    "Offchip BW Req (Elements/cycle)": "offchip_bw_req",
    "Area": "area",
    "Power": "power",
    "input l1 read": "input_l1_read",
    "input l1 write": "input_l1_write",
    "input l2 read": "input_l2_read",
    "input l2 write": "input_l2_write",
    "filter l1 read": "filter_l1_read",
    "filter l1 write": "filter_l1_write",
    "filter l2 read": "filter_l2_read",
    "filter l2 write": "filter_l2_write",
    "output l1 read": "output_l1_read",
    "output l1 write": "output_l1_write",
    "output l2 read": "output_l2_read",
    "output l2 write": "output_l2_write",
    "Avg number of utilized PEs": "avg_utilized_pes",
    "Energy (MAC units)": "energy",
    "Energy (nJ)": "energy_nj",
    "True MACs": "true_macs",
    "Exact analysis": "exact_analysis",
    "Busiest PE MACs": "busiest_pe_macs",
    "Undercount": "undercount",
    "Physical analysis": "physical_analysis",
    "Valid": "valid",
}


def evaluate_mapping_file(mapping_path, hw: Hardware, dataflow_path=None, *,
                          analysis: str = "maestro") -> pd.DataFrame:
    """Evaluate every layer of a MAESTRO mapping file on ``hw``.

    Parameters
    ----------
    mapping_path : str or Path
    hw : Hardware
    dataflow_path : str or Path, optional
        A dataflow-only file (``Dataflow { ... }``) for the layers that have no
        dataflow, e.g. those of MAESTRO's model-only files.
    analysis : {"maestro", "physical"}
        ``"maestro"`` reproduces MAESTRO's figures; ``"physical"`` replaces them
        by the physical analysis where MAESTRO miscounts the MACs of a
        mapping of whole output rows (a strided tile of several output rows, a
        partial window at a spatial edge; :func:`gamma.costmodel.evaluate`;
        column ``Physical analysis``).

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``Layer Number`` (the layer's name, as MAESTRO
        writes it), MAESTRO's CSV columns (see :data:`CSV_COLUMNS`), ``Reason``
        (empty when valid: else why the layer could not be read, with the
        file and line, or why MAESTRO would not analyse it) and ``Warning``
        (what was read but looks like a slip).  A layer that cannot be read
        has ``Valid`` False and empty figures; the others are still scored.

    Raises
    ------
    GammaInputError
        If a file does not exist, or the file as a whole cannot be read as a
        mapping (message names file:line).
    """
    text = _read_text(mapping_path, "mapping")
    dataflow = None if dataflow_path is None else _read_text(dataflow_path, "dataflow")
    entries = read_mapping(text, source=str(mapping_path), dataflow_text=dataflow,
                           dataflow_source=str(dataflow_path))
    rows = []
    for index, entry in enumerate(entries):
        row = {"Layer Number": entry.name or f"layer{index}"}
        if entry.error:
            row.update({column: None for column in CSV_COLUMNS})
            row["Valid"], row["Reason"] = False, entry.error
        else:
            costs = evaluate(entry.layer, hw, entry.directives, gemm_form=entry.gemm_form,
                             analysis=analysis)
            for column, field in CSV_COLUMNS.items():
                value = getattr(costs, field)[0]
                row[column] = value.item() if isinstance(value, np.generic) else value
            row["Reason"] = "" if costs.valid[0] else reason_text(costs.reason[0])
        row["Warning"] = "; ".join(entry.warnings)
        rows.append(row)
    return pd.DataFrame(rows, columns=["Layer Number", *CSV_COLUMNS, "Reason", "Warning"])


def _read_text(path, what: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as err:
        raise GammaInputError(f"cannot read {what} file {path}: {err.strerror or err}") from err


def format_summary(df: pd.DataFrame) -> str:
    """Readable screen report of :func:`evaluate_mapping_file`'s table.

    Lists runtime, MACs, energy and buffer requirements per layer, the totals
    over valid layers, and a warning for every layer whose numbers are not an
    exact analysis (MAESTRO's MAC count differs from the layer's, or its
    throughput exceeds the PEs) or that MAESTRO cannot evaluate.
    """
    lines = [f"{'layer':<24} {'runtime (cycles)':>16} {'MACs':>14} {'MACs/cycle':>11} "
             f"{'energy (nJ)':>13} {'L1 req':>8} {'L2 req':>10}"]
    warnings = []
    for _, row in df.iterrows():
        name = str(row["Layer Number"])
        if row.get("Warning"):
            warnings.append(f"WARNING: layer {name}: {row['Warning']}")
        if not row["Valid"]:
            lines.append(f"{name:<24} {'invalid':>16}")
            warnings.append(f"WARNING: layer {name} is invalid: {row['Reason']}")
            continue
        lines.append(f"{name:<24} {row['Runtime (Cycles)']:>16,} {row['Num MACs']:>14,} "
                     f"{row['Throughput (MACs/Cycle)']:>11.2f} {row['Energy (nJ)']:>13.1f} "
                     f"{row['L1 SRAM Size Req (Bytes)']:>8,} {row['L2 SRAM Size Req (Bytes)']:>10,}")
        if row.get("Physical analysis"):
            warnings.append(
                f"NOTE: layer {name}: physical figures: MAESTRO miscounts the MACs of this "
                "mapping (--analysis maestro shows its)")
        if not row["Exact analysis"]:
            warnings.append(
                f"WARNING: layer {name}: MAESTRO's analysis is not exact (counts "
                f"{row['Num MACs']:,} MACs, the layer has {row['True MACs']:,}, or the "
                "throughput exceeds the PEs); its numbers reproduce MAESTRO, not the layer"
                " (--analysis physical recounts strided tiles of several output rows)")
        if row["Undercount"]:
            warnings.append(
                f"WARNING: layer {name}: MAESTRO's runtime is below the busiest PE's "
                f"{row['Busiest PE MACs']:,} MACs: its edge pricing undercounts this mapping")
    valid = df[df["Valid"]]
    lines.append(f"{'total (valid layers)':<24} {int(valid['Runtime (Cycles)'].sum()):>16,} "
                 f"{int(valid['Num MACs'].sum()):>14,} {'':>11} "
                 f"{valid['Energy (nJ)'].sum():>13.1f}")
    return "\n".join(lines + warnings)
