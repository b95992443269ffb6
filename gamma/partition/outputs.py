"""Files of a partition run: ``partition.csv``, ``partition_summary.csv``, the
pipeline (Gantt) and chiplet-placement figures and ``report.html`` (the run's page: the
partition section, :func:`report_section`)."""
from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np
import pandas as pd

from gamma.files import write_atomic
from gamma.partition.model import Problem, schedule
from gamma.partition.search import SearchResult


def summary_row(problem: Problem, result: SearchResult, objective: str) -> dict:
    """The one row of ``partition_summary.csv``."""
    pkg, s = problem.package, result.scores
    period = float(s["period"])
    chip_of_stage = result.place
    busy = np.zeros(pkg.count)
    memory = np.zeros(pkg.count, dtype=np.int64)
    busy[chip_of_stage] = s["stage_time"]
    memory[chip_of_stage] = s["stage_weights"]
    row = {"method": result.method, "objective": objective, "chiplets": pkg.count,
           "stages": int(len(np.unique(result.stage))),
           "throughput_per_mcycle": 1e6 / period if period > 0 else float("inf"),
           "period_cycles": period, "latency_cycles": float(s["latency"]),
           "energy_nj": float(s["energy"]),
           "link_traffic_elements": float(s["link_elements"]),
           "link_energy_nj": float(s["link_elements"]) * pkg.link_energy,
           "evaluations": int(result.evaluations), "seconds": round(result.seconds, 3),
           "proven_optimal": bool(result.proven),
           "bound": float(result.bound) if result.proven or np.isfinite(result.bound) else "",
           "valid": bool(s["valid"])}
    for c in range(pkg.count):
        row[f"util_chiplet{c}"] = busy[c] / period if period > 0 else 0.0
    for c in range(pkg.count):
        row[f"mem_chiplet{c}"] = int(memory[c])
    return row


def write_outputs(problem: Problem, result: SearchResult, outdir: Path, args,
                  plots: bool = True) -> dict:
    """Write every output file of the run; return the summary row."""
    outdir = Path(outdir)
    rows = schedule(problem, result.stage, result.place)
    table = pd.DataFrame(rows)
    write_atomic(outdir / "partition.csv", table.to_csv(index=False))
    summary = summary_row(problem, result, args.objective)
    write_atomic(outdir / "partition_summary.csv", pd.DataFrame([summary]).to_csv(index=False))
    figures = []
    if plots:
        figures = [gantt_figure(problem, table, outdir), placement_figure(problem, table, outdir)]
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>gamma partition: "
            f"{html.escape(str(args.model))}</title></head><body>"
            f"{report_section(table, summary, figures, args)}</body></html>")
    write_atomic(outdir / "report.html", page)
    return summary


def gantt_figure(problem: Problem, table: pd.DataFrame, outdir: Path, steps: int = 3) -> Path:
    """Three pipelined steps of every chiplet's layers over time."""
    from gamma.plots import distinct_colours, pyplot, save

    plt = pyplot()
    period = float(table["period"].iloc[0])
    n = problem.package.count
    colours = distinct_colours(max(1, int(table["stage"].max()) + 1))
    fig, ax = plt.subplots(figsize=(8, 0.45 * n + 1.5))
    for step in range(steps):
        for row in table.itertuples():
            ax.barh(row.chiplet, row.finish - row.start, left=row.start + step * period,
                    color=colours[row.stage], edgecolor="black", linewidth=0.3,
                    alpha=1.0 if step == 0 else 0.55)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"chiplet {c} ({problem.package.kind_names[k]})"
                        for c, k in enumerate(problem.package.kinds)])
    ax.invert_yaxis()
    ax.set_xlabel("cycles (compute only; transfers fill the gaps)")
    ax.set_title(f"Pipeline: {steps} steps, period {period:.4g} cycles")
    fig.tight_layout()
    return save(fig, outdir, "partition_pipeline")[0]


def placement_figure(problem: Problem, table: pd.DataFrame, outdir: Path) -> Path:
    """The chiplets on their ring or mesh, labelled with their stage and layers; arrows = links used."""
    from gamma.plots import pyplot, save

    plt = pyplot()
    pkg = problem.package
    xy = _positions(pkg.count, pkg.topology)
    fig, ax = plt.subplots(figsize=(6, 5))
    near = np.argwhere(pkg.hops == 1)
    for a, b in near:
        ax.plot(*zip(xy[a], xy[b], strict=True), color="0.85", zorder=0)
    chip = table["chiplet"].to_numpy()
    g = problem.graph
    for u, v in {(int(chip[a]), int(chip[b])) for a, b in zip(g.src, g.dst, strict=True)
                 if chip[a] != chip[b]}:
        ax.annotate("", xy=xy[v], xytext=xy[u],
                    arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 1.2})
    for c in range(pkg.count):
        mine = table[table["chiplet"] == c]
        text = (f"C{c} {pkg.kind_names[pkg.kinds[c]]}\n" + (
            f"stage {int(mine['stage'].iloc[0])}\nL{mine['layer'].min()}-{mine['layer'].max()}"
            if len(mine) else "idle"))
        ax.text(*xy[c], text, ha="center", va="center", fontsize=7,
                bbox={"boxstyle": "round", "fc": "tab:blue" if len(mine) else "white", "alpha": 0.25})
    ax.set_title(f"Placement on a {pkg.topology} of {pkg.count} chiplets")
    ax.set_axis_off()
    ax.margins(0.2)
    fig.tight_layout()
    return save(fig, outdir, "partition_placement")[0]


def _positions(count: int, topology: str) -> np.ndarray:
    import math
    if topology == "ring":
        angle = 2 * np.pi * np.arange(count) / count
        return np.column_stack([np.sin(angle), np.cos(angle)])
    rows = max(r for r in range(1, math.isqrt(count) + 1) if count % r == 0)
    cols = count // rows
    ids = np.arange(count)
    row = ids // cols
    col = np.where(row % 2 == 0, ids % cols, cols - 1 - ids % cols)
    return np.column_stack([col, -row]).astype(float)


def report_section(table: pd.DataFrame, summary: dict, figures: list, args) -> str:
    """A self-contained HTML section describing the partition."""
    keys = ("method", "objective", "chiplets", "stages", "throughput_per_mcycle", "period_cycles",
            "latency_cycles", "energy_nj", "link_traffic_elements", "evaluations",
            "proven_optimal")
    facts = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(summary[k]))}</td></tr>"
                    for k in keys)
    images = "".join(f'<img src="{html.escape(Path(f).name)}" alt="{html.escape(Path(f).stem)}" '
                     'style="max-width:48%">' for f in figures)
    buffer = io.StringIO()
    table.drop(columns=["period"]).to_html(buffer, index=False, float_format=lambda v: f"{v:.6g}")
    return (f"<section id='partition'><h2>Partition of {html.escape(str(args.model))} over "
            f"{summary['chiplets']} chiplets</h2><table>{facts}</table>{images}"
            f"<h3>Layers</h3>{buffer.getvalue()}</section>\n")


def _fmt(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
