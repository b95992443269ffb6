"""``report.html``: one self-contained page that shows a run's result.

:func:`write_report_html` reads only the files in a run's output folder
(``run.yaml``, ``summary.csv``, ``results.csv``, ``mappings/layer_<N>.m``,
``pareto.csv``, ``plots/*.png`` or ``*.svg``; see :mod:`gamma.report`), so it works on a
finished run, an interrupted one, a resumed one or one written by an older
version: whatever is missing is left out of the page, with a note.

The page needs nothing but itself: the CSS is inline, the plots are embedded as
``data:image/png;base64`` URIs, and there is no JavaScript.  Every piece of text
taken from the files is HTML-escaped.
"""
from __future__ import annotations

import base64
import csv
import html
import math
import re
from datetime import datetime
from pathlib import Path

import yaml

from gamma.files import write_atomic
from gamma.loop_nest import loop_nest

__all__ = ["write_report_html", "loop_nest"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1400px; padding: 1em 2em 3em; color: #1d2330;
       background: #fff; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 2px solid #3b6fb6;
     padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
p.sub { color: #555; margin-top: 0; }
.note { color: #8a5a00; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.88em; }
th, td { border: 1px solid #c8cfdb; padding: 0.25em 0.55em; vertical-align: top; }
th { background: #e8eef8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f6f8fb; }
table.kv th { width: 13em; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
            font-size: 0.92em; }
td code { white-space: nowrap; }
pre { background: #f4f6fa; border: 1px solid #d6dce6; padding: 0.6em 0.9em;
      overflow-x: auto; }
.bad { color: #b00020; font-weight: 600; }
.layer-mapping { margin-bottom: 1.4em; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #d6dce6; }
figcaption { font-size: 0.85em; color: #555; text-align: center; }
details summary { cursor: pointer; color: #3b6fb6; }
footer { margin-top: 3em; font-size: 0.8em; color: #777; }
"""



# ----------------------------------------------------------------------------- helpers

def _e(value) -> str:
    """HTML-escaped text of ``value``."""
    return html.escape("" if value is None else str(value), quote=True)


def _read_csv(path: Path) -> list[dict] | None:
    if not path.is_file():
        return None
    try:
        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError):
        return None


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _number(text):
    """``text`` as int or float, or None if it is empty or not a number."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return text
    text = str(text).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _fmt(value, kind: str = "auto") -> str:
    """Readable number: thousands separators for integers, 4 significant digits else."""
    if isinstance(value, str):
        parsed = _number(value)
        if parsed is None:
            return value
        value = parsed
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if kind == "ratio":
        return f"{value:.3f}"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    if 100 <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _truthy(text) -> bool | None:
    if text is None or str(text).strip() == "":
        return None
    return str(text).strip().lower() in ("true", "1", "yes")


def _table(headers: list[tuple[str, str]], rows: list[list[tuple[str, bool]]],
           cls: str = "") -> str:
    """An HTML table; headers (label, title), cells (escaped html, numeric?)."""
    out = [f'<table class="{_e(cls)}">' if cls else "<table>", "<thead><tr>"]
    out += [f'<th title="{_e(title)}">{_e(label)}</th>' if title else f"<th>{_e(label)}</th>"
            for label, title in headers]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="num">{cell}</td>' if numeric else f"<td>{cell}</td>"
                                    for cell, numeric in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _kv_table(pairs: list[tuple[str, str]], cls: str) -> str:
    """Two-column table; values are already-escaped HTML."""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f'<table class="kv {_e(cls)}"><tbody>{body}</tbody></table>'




# ----------------------------------------------------------------------------- sections

def _settings_section(run: dict) -> str:
    settings = run.get("settings") if isinstance(run.get("settings"), dict) else {}
    hw = run.get("hardware") if isinstance(run.get("hardware"), dict) else {}
    if not run:
        return ('<section id="settings"><h2>Settings</h2>'
                '<p class="note">run.yaml is missing or unreadable.</p></section>')
    pairs = []

    def add(label, value):
        if value is not None and value != "":
            pairs.append((label, _e(value)))

    add("model", settings.get("model"))
    if settings.get("model_file") and settings.get("model_file") != settings.get("model"):
        add("model file", settings.get("model_file"))
    layers = settings.get("layers")
    if isinstance(layers, list) and layers:
        add("layers searched", f"{len(layers)} ({_span_text(layers)})")
    if hw:
        parts = [f"{hw.get('name', settings.get('hwconfig', ''))}".strip()]
        for key, label in (("num_pes", "PEs"), ("l1_size", "L1"), ("l2_size", "L2"),
                           ("noc_bw", "NoC BW"), ("offchip_bw", "off-chip BW")):
            if hw.get(key) is not None:
                parts.append(f"{label} {_fmt(hw[key])}")
        add("hardware", ", ".join(p for p in parts if p))
    elif settings.get("hwconfig"):
        add("hardware", settings.get("hwconfig"))
    objectives = [settings.get("fitness1"), settings.get("fitness2")]
    objectives = [o for o in objectives if o]
    if objectives:
        text = " then ".join(objectives)
        if settings.get("pareto"):
            text += " (Pareto front kept)"
        add("objectives", text)
    budget = []
    if settings.get("num_pop") is not None:
        budget.append(f"population {settings['num_pop']}")
    if settings.get("epochs") is not None:
        budget.append(f"{settings['epochs']} generations")
    if settings.get("sample_budget_per_layer") is not None:
        budget.append(f"{_fmt(settings['sample_budget_per_layer'])} samples per layer")
    add("budget", ", ".join(budget))
    add("method", settings.get("method"))
    add("seed", settings.get("seed"))
    add("gamma version", run.get("gamma_version"))
    cstr = settings.get("constraint")
    name = settings.get("costmodel_cstr")
    if isinstance(cstr, dict) and cstr.get("name"):
        name = cstr.get("name")
    extra = [x for x in (settings.get("mapping_cstr"), settings.get("accel_cstr")) if x]
    if name or extra:
        add("constraint", " + ".join(str(x) for x in [name, *extra] if x))
    if settings.get("constraint_source"):
        add("constraint file", settings.get("constraint_source"))
    add("status", run.get("status"))
    add("started", run.get("started"))
    add("finished", run.get("finished"))
    out = ['<section id="settings"><h2>Settings</h2>', _kv_table(pairs, "settings")]
    if isinstance(cstr, dict) and cstr:
        out.append("<details><summary>constraint in full</summary><pre>"
                   + _e(yaml.safe_dump(cstr, sort_keys=False)) + "</pre></details>")
    everything = {k: v for k, v in run.items() if k != "totals"}
    out.append("<details><summary>all settings (run.yaml)</summary><pre>"
               + _e(yaml.safe_dump(everything, sort_keys=False)) + "</pre></details>")
    out.append("</section>")
    return "".join(out)


def _span_text(values: list) -> str:
    """``[1,2,3,7]`` -> ``1-3, 7``."""
    try:
        nums = sorted(int(v) for v in values)
    except (TypeError, ValueError):
        return ", ".join(str(v) for v in values)
    runs, start, prev = [], nums[0], nums[0]
    for n in nums[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        runs.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(runs)


_TOTAL_LABELS = {
    "model": ("model", ""), "hw": ("hardware", ""), "num_pes": ("PEs", ""),
    "layers": ("layers", ""), "distinct_layers": ("distinct layers searched", ""),
    "total_macs": ("MACs", ""), "total_latency_cycles": ("latency (cycles)", ""),
    "total_energy_nj": ("energy (nJ)", ""), "max_power_mw": ("max power (mW)", "average power at 1 GHz"),
    "max_area_um2": ("max area (µm²)", ""), "max_l1_req_elements": ("max L1 need (elements)", ""),
    "max_l2_req_elements": ("max L2 need (elements)", ""),
    "latency_over_bound": ("latency / compute bound", "ratio"),
    "lower_bound_cycles": ("proven lower bound (cycles)", ""),
    "gap": ("gap: latency / proven lower bound", "ratio"),
    "proven_optimal_layers": ("layers proven optimal", ""),
    "below_bound_layers": ("layers below the proven bound (untrusted runtimes)", ""),
    "infeasible_layers": ("infeasible layers", ""), "samples": ("samples scored", ""),
    "search_seconds": ("search time (s)", ""),
}


def _totals_section(summary: list[dict] | None, run: dict) -> str:
    source = None
    if summary:
        source, origin = summary[0], "summary.csv"
    elif isinstance(run.get("totals"), dict):
        source, origin = run["totals"], "run.yaml"
    if not source:
        return ('<section id="totals"><h2>Model totals</h2><p class="note">No totals yet '
                '(summary.csv is missing: the run may still be going or was interrupted).'
                '</p></section>')
    pairs = []
    for key, value in source.items():
        label, kind = _TOTAL_LABELS.get(key, (key.replace("_", " "), ""))
        if key in ("infeasible_layers", "below_bound_layers") and _number(value):
            pairs.append((label, f'<span class="bad">{_e(_fmt(value))}</span>'))
        else:
            pairs.append((label, _e(_fmt(value, kind or "auto"))))
    return (f'<section id="totals"><h2>Model totals</h2><p class="sub">from {_e(origin)}</p>'
            + _kv_table(pairs, "totals") + "</section>")


def _utilization(row: dict) -> float | None:
    used, pes = _number(row.get("avg_utilized_pes")), _number(row.get("num_pes"))
    if used is None or not pes:
        return None
    return used / pes


#: The layer table's columns, one a line: results.csv column (or computed key) | label |
#: tooltip | kind (how the cell is drawn).
_LAYER_TABLE = """
layer              | layer            |                                                   | text
name               | name             |                                                   | text
shape              | shape            | type and dimensions                               | text
macs               | MACs             |                                                   | num
latency_cycles     | latency (cycles) |                                                   | num
latency_over_bound | × bound          | latency / (MACs / PEs): 1 is the compute bound    | ratio
lower_bound        | proven bound     | cycles no trusted mapping of the map space beats  | num
gap                | gap              | latency / proven bound: 1 is optimal; below 1 (red): untrusted | gap
energy_nj          | energy (nJ)      |                                                   | num
energy_mac_nj      | MACs (nJ)        | energy of the MACs                                | num
energy_l1_nj       | L1 (nJ)          | energy of the L1 accesses                         | num
energy_l2_nj       | L2 (nJ)          | energy of the L2 accesses                         | num
area_um2           | area (µm²)       | of the chip the layer runs on                     | num
l1_req_elements    | L1 need          | elements per PE                                   | num
l2_req_elements    | L2 need          | elements                                          | num
utilization        | utilization      | average utilized PEs / PEs                        | pct
feasible           | feasible         |                                                   | bool
mapping            | mapping          | outermost loop first; * = spatial; | separates levels | mapping
"""


def _table_rows(text: str) -> list[tuple[str, str, str, str]]:
    """(key, label, tooltip, kind) of each line of a ``key | label | tooltip | kind`` table
    (the tooltip may itself hold a ``|``)."""
    rows = []
    for line in text.strip().splitlines():
        parts = [part.strip() for part in line.split("|")]
        rows.append((parts[0], parts[1], " | ".join(parts[2:-1]).strip(), parts[-1]))
    return rows


_LAYER_COLUMNS = _table_rows(_LAYER_TABLE)


def _layers_section(rows: list[dict] | None, hw: dict) -> str:
    if not rows:
        return ('<section id="layers"><h2>Layers</h2><p class="note">results.csv is missing '
                'or empty.</p></section>')
    rows = sorted(rows, key=lambda r: (_number(r.get("layer")) or 0))
    cols = set(rows[0].keys())
    l1_cap, l2_cap = _number(hw.get("l1_size")), _number(hw.get("l2_size"))
    spec = _LAYER_COLUMNS
    have_util = {"avg_utilized_pes", "num_pes"} <= cols
    spec = [s for s in spec if (s[0] == "utilization" and have_util) or s[0] in cols]
    body = []
    for row in rows:
        cells = []
        for key, _, _, kind in spec:
            value = _utilization(row) if key == "utilization" else row.get(key)
            if kind == "text":
                text = _e(value)
                if key == "layer":
                    same = row.get("same_search_as_layer")
                    if same and str(same) != str(value):
                        text += (f' <span class="sub" title="same search as layer {_e(same)}">'
                                 f'(= {_e(same)})</span>')
                cells.append((text, False))
            elif kind == "mapping":
                parts = [f"<code>{_e(p.strip())}</code>" for p in str(value or "").split("|")]
                cells.append(("<br>".join(parts), False))
            elif kind == "gap":
                cells.append((_gap_cell(row), True))
            elif kind == "bool":
                flag = _truthy(value)
                cells.append(("yes" if flag else ('<span class="bad">no</span>' if flag is False
                                                  else ""), False))
            else:
                style = kind if kind in ("ratio", "pct") else "auto"
                text = _e(_fmt(value, style)) if value is not None else ""
                cap = {"l1_req_elements": l1_cap, "l2_req_elements": l2_cap}.get(key)
                number = _number(value)
                if cap and number is not None and number > cap:
                    text = f'<span class="bad" title="over the capacity {_e(_fmt(cap))}">{text}</span>'
                cells.append((text, True))
        body.append(cells)
    headers = [(label, title) for _, label, title, _ in spec]
    return ('<section id="layers"><h2>Layers</h2>'
            + _table(headers, body, "layers") + "</section>")


def _gap_cell(row: dict) -> str:
    """The gap, ``1 (optimal)`` when an exact search proved it, red below 1."""
    value = _number(row.get("gap"))
    if value is None:
        return ""
    if _truthy(row.get("proven_optimal")) and value >= 1:
        return '<span title="proven optimal by --method exhaustive">1 (optimal)</span>'
    text = f"{value:.4f}"
    if value < 1:
        return (f'<span class="bad" title="below the proven lower bound: a runtime no hardware '
                f'reaches (accepted by --allow_undercount / --allow_inexact)">{text}</span>')
    return text


def _mappings_section(outdir: Path, rows: list[dict] | None, num_pes) -> str:
    files = sorted((outdir / "mappings").glob("layer_*.m"),
                   key=lambda p: _layer_number(p.stem))
    if not files:
        return ('<section id="mappings"><h2>Mappings and loop nests</h2>'
                '<p class="note">No mapping files (mappings/layer_&lt;N&gt;.m).</p></section>')
    by_layer = {str(r.get("layer")): r for r in rows or []}
    out = ['<section id="mappings"><h2>Mappings and loop nests</h2>',
           '<p class="sub">From <code>mappings/layer_&lt;N&gt;.m</code>. '
           "<code>par_for</code> is a spatial map; each loop walks the tile of the same "
           "dimension one level up; Y&#x27; and X&#x27; are output rows and columns.</p>"]
    for path in files:
        number = _layer_number(path.stem)
        row = by_layer.get(str(number), {})
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        title = f"Layer {number}"
        if row.get("shape"):
            title += f": {row['shape']}"
        out.append(f'<div class="layer-mapping" id="mapping-{_e(number)}"><h3>{_e(title)}</h3>')
        if row.get("mapping"):
            out.append(f"<p>mapping: <code>{_e(row['mapping'])}</code></p>")
        nest = f'<pre class="loopnest">{_e(loop_nest(text, num_pes, str(path.name)))}</pre>'
        same = row.get("same_search_as_layer")
        if same and str(same) != str(number):
            # A repeat of an earlier layer: its nest is folded away to keep the page short.
            out.append(f"<details><summary>loop nest (same layer and search as layer "
                       f"{_e(same)})</summary>{nest}</details>")
        else:
            out.append(nest)
        out.append(f"<details><summary>{_e(path.name)}</summary><pre>{_e(text)}</pre></details>")
        out.append("</div>")
    out.append("</section>")
    return "".join(out)


def _layer_number(stem: str):
    match = re.search(r"(\d+)$", stem)
    return int(match.group(1)) if match else stem


def _pareto_section(rows: list[dict] | None) -> str:
    if not rows:
        return ""
    headers = list(rows[0].keys())
    body = []
    for row in rows:
        cells = []
        for key in headers:
            value = row.get(key)
            if key == "mapping":
                cells.append((f"<code>{_e(value)}</code>", False))
            elif key in ("layer", "point"):
                cells.append((_e(value), False))
            else:
                cells.append((_e(_fmt(value)), True))
        body.append(cells)
    layers = len({r.get("layer") for r in rows})
    return ('<section id="pareto"><h2>Pareto fronts</h2>'
            f'<p class="sub">{len(rows)} points over {layers} searched layer(s), from pareto.csv</p>'
            "<details><summary>table</summary>"
            + _table([(h.replace("_", " "), "") for h in headers], body, "pareto")
            + "</details></section>")


_PLOT_TITLES = {"convergence": "Convergence of the best score per layer",
                "layers": "Per-layer latency and energy",
                "energy": "Energy per layer by part (MACs, L1, L2, NoC, off-chip)"}


def _plot_key(path: Path):
    stem = path.stem
    if stem in ("convergence", "layers", "energy"):
        return (("convergence", "layers", "energy").index(stem), 0, stem)
    match = re.fullmatch(r"pareto_layer_(\d+)", stem)
    if match:
        return (3, int(match.group(1)), stem)
    return (3, 0, stem)


def _plots_section(outdir: Path) -> str:
    folder = outdir / "plots"
    # one image per figure: the PNG, or the SVG of a run that wrote no PNG (--plot_format)
    found = {p.stem: p for p in sorted(folder.glob("*.svg"))} if folder.is_dir() else {}
    found.update({p.stem: p for p in folder.glob("*.png")} if folder.is_dir() else {})
    plots = sorted(found.values(), key=_plot_key)
    if not plots:
        return ('<section id="plots"><h2>Plots</h2><p class="note">No plots in plots/ '
                '(the run may have used --no_plots or not finished).</p></section>')
    out = ['<section id="plots"><h2>Plots</h2>']
    for path in plots:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        match = re.fullmatch(r"pareto_layer_(\d+)", path.stem)
        caption = (_PLOT_TITLES.get(path.stem)
                   or (f"Pareto front of layer {match.group(1)}" if match else path.stem))
        mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
        uri = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
        out.append(f'<figure><img src="{uri}" alt="{_e(caption)}">'
                   f"<figcaption>{_e(caption)} ({_e(path.name)})</figcaption></figure>")
    out.append("</section>")
    return "".join(out)


# ---------------------------------------------------------------------------------- main

def write_report_html(outdir: Path) -> Path:
    """Write ``outdir/report.html`` from the files in ``outdir``; return its path.

    Parameters
    ----------
    outdir : Path
        A run's output folder.  Missing files (an interrupted run, an older
        version, ``--no_plots``) leave their part of the page out with a note.

    Returns
    -------
    Path
        ``outdir / "report.html"``, written atomically.
    """
    outdir = Path(outdir)
    if not outdir.is_dir():
        raise FileNotFoundError(f"{outdir} is not a folder")
    run = _read_yaml(outdir / "run.yaml")
    settings = run.get("settings") if isinstance(run.get("settings"), dict) else {}
    hw = run.get("hardware") if isinstance(run.get("hardware"), dict) else {}
    summary = _read_csv(outdir / "summary.csv")
    rows = _read_csv(outdir / "results.csv")
    pareto = _read_csv(outdir / "pareto.csv")
    num_pes = _number(hw.get("num_pes"))
    if num_pes is None and rows:
        num_pes = _number(rows[0].get("num_pes"))

    model = settings.get("model") or (summary[0].get("model") if summary else None) or "?"
    hw_name = hw.get("name") or settings.get("hwconfig") or (
        summary[0].get("hw") if summary else None) or "?"
    title = f"GAMMA report: {Path(str(model)).stem} on {hw_name}"
    status = run.get("status")
    sub = f"run folder {outdir.resolve()}"
    if status:
        sub += f" - status: {status}"

    page = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(title)}</h1><p class=\"sub\">{_e(sub)}</p></header>",
        "<main>",
        _settings_section(run),
        _totals_section(summary, run),
        _layers_section(rows, hw),
        _mappings_section(outdir, rows, num_pes),
        _pareto_section(pareto),
        _plots_section(outdir),
        "</main>",
        f"<footer>Written by gamma.report_html from the files in the run folder on "
        f"{_e(datetime.now().isoformat(timespec='seconds'))}.</footer>",
        "</body></html>",
    ]
    path = outdir / "report.html"
    write_atomic(path, "\n".join(page) + "\n")
    return path
