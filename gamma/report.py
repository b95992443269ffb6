"""Result files of a search run.

In the output folder:

``results.csv``   one row per layer (written again, atomically, as each layer finishes,
                  and when the run ends)
``summary.csv``   model totals
``history.csv``   per layer and generation: best and mean of each objective, fraction feasible
                  (written when the run ends: done, interrupted or failed)
``mappings/layer_<N>.m``  the best mapping of layer N in MAESTRO's format
``pareto.csv``    with ``--pareto``: the Pareto front of every layer (written when the run ends)

Files written while layers finish are not flushed to disk one by one (a few
ms each); :meth:`RunReport.finish` writes the tables again, flushed.  After a
crash of the machine, ``--resume`` rewrites them all from the checkpoints.
``run.yaml``      every setting, the seed, the version, and the outcome (status running,
                  done, interrupted or failed)
``checkpoints/``  finished layers' results and running layers' search states, for ``--resume``
                  (deleted when the run completes)
``plots/``        convergence, layers, pareto_layer_<N> (with ``--pareto``), in each
                  format of ``--plot_format`` (png, svg, pdf)
"""
from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from gamma.errors import GammaInputError
from gamma.files import plain, write_atomic
from gamma.mapping import describe, to_maestro_text
from gamma.objectives import OBJECTIVE_UNITS, OBJECTIVES
from gamma.search.ga import LayerResult

#: results.csv's energy parts (nJ), summing to ``energy_nj`` (see :func:`energy_parts`).
ENERGY_PARTS = ("energy_mac_nj", "energy_l1_nj", "energy_l2_nj", "energy_noc_nj", "energy_offchip_nj")

RESULT_COLUMNS = [
    "layer", "name", "type", "K", "C", "Y", "X", "R", "S", "stride", "shape", "macs",
    "latency_cycles", "energy_nj", *ENERGY_PARTS, "power_mw", "power_maestro", "edp_nj_cycles",
    "num_pes", "l1_size", "l2_size", "area_um2", "l1_req_elements", "l2_req_elements",
    "area_need_um2", "area_pe_um2", "area_l1_um2", "area_l2_um2", "avg_utilized_pes",
    "lower_bound", "gap", "below_bound", "proven_optimal", "energy_lower_bound_nj",
    "busiest_pe_macs", "feasible", "exact_analysis", "physical_analysis", "undercount",
    "mapping", "samples", "seconds",
    "same_search_as_layer"]
_RESULTS_HEADER = pd.DataFrame(columns=RESULT_COLUMNS).to_csv(index=False)


def prepare_outdir(path: str | Path, overwrite: bool = False) -> Path:
    """Create the output folder; refuse a non-empty one unless ``overwrite``.

    With ``overwrite``, the earlier run's checkpoints and mapping files are
    removed (its other files are replaced as the new run writes them).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise GammaInputError(f"--outdir: {path} exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise GammaInputError(f"--outdir: {path} is not empty; choose another folder, pass "
                              "--overwrite to replace its results, or --resume it if its run "
                              "was interrupted")
    # A new run in an old folder: the old run's checkpoints and mappings must not mix in.
    shutil.rmtree(path / "checkpoints", ignore_errors=True)
    for stale in (path / "mappings").glob("layer_*.m"):
        stale.unlink()
    (path / "mappings").mkdir(parents=True, exist_ok=True)
    return path


def layer_row(index: int, result: LayerResult, hw, first_index: int, codesign: bool = False) -> dict:
    """The results.csv row of the layer at 1-based ``index``.

    ``num_pes``, ``l1_size``, ``l2_size`` and ``area_um2`` describe the chip the layer
    runs on: the hardware's (a fixed chip), or the design found for it (co-design:
    the layer's own, or the whole model's shared one).  ``l1_req_elements``,
    ``l2_req_elements`` and ``area_need_um2`` are what the mapping needs (the area
    with the buffers cut to those needs; ``area_pe/l1/l2_um2`` are its parts).
    """
    layer, s = result.layer, result.best_scores
    reused = index != first_index
    pes = s.get("num_pes", hw.num_pes)
    l1_chip, l2_chip = _chip_buffers(s, hw, codesign)
    chip_area = float(hw.area.area_um2(pes, l1_chip, l2_chip, noc_bw=hw.noc_bw,
                                       simd_lanes=hw.simd_lanes)) if "l1_size" not in s else s["area"]
    return {
        "layer": index, "name": layer.name, "type": layer.type, "K": layer.K, "C": layer.C,
        "Y": layer.Y, "X": layer.X, "R": layer.R, "S": layer.S, "stride": layer.stride,
        "shape": layer.describe(), "macs": layer.macs,
        "latency_cycles": s["runtime"], "energy_nj": s["energy_nj"], **energy_parts(s),
        "power_mw": s["power"], "power_maestro": s["power_maestro"], "edp_nj_cycles": s["EDP"],
        "num_pes": pes, "l1_size": l1_chip, "l2_size": l2_chip, "area_um2": chip_area,
        "l1_req_elements": s["l1_size_req"], "l2_req_elements": s["l2_size_req"],
        "area_need_um2": float(hw.area.area_um2(pes, s["l1_size_req"], s["l2_size_req"],
                                                noc_bw=hw.noc_bw, simd_lanes=hw.simd_lanes)),
        "area_pe_um2": s.get("area_pe"), "area_l1_um2": s.get("area_l1"),
        "area_l2_um2": s.get("area_l2"), "avg_utilized_pes": s["avg_utilized_pes"],
        **bound_columns(result),
        "busiest_pe_macs": s["busiest_pe_macs"],
        "feasible": result.feasible, "exact_analysis": bool(s["exact_analysis"]),
        "physical_analysis": bool(s.get("physical_analysis", False)),
        "undercount": bool(s["undercount"]),
        "mapping": describe(result.best, 0, layer),
        "samples": 0 if reused else result.samples,
        "seconds": 0.0 if reused else round(result.seconds, 3),
        "same_search_as_layer": first_index}


def _chip_buffers(scores: dict, hw, codesign: bool) -> tuple:
    """L1 (per PE) and L2 sizes of the chip the layer runs on, elements: the whole-model
    design's, the hardware's, or, where the chip is sized to the mapping (per-layer
    co-design, or a hardware without that limit), the mapping's needs."""
    if "l1_size" in scores:                      # whole-model co-design: the shared buffers
        return scores["l1_size"], scores["l2_size"]
    l1 = scores["l1_size_req"] if codesign or hw.l1_size is None else hw.l1_size
    l2 = scores["l2_size_req"] if codesign or hw.l2_size is None else hw.l2_size
    return l1, l2


def energy_parts(scores: dict) -> dict:
    """A mapping's energy by part, nJ: the MACs, the L1 and the L2 accesses, as MAESTRO's
    energy model counts them (``energy_nj`` is their sum).  That model gives NoC
    transfers and off-chip (DRAM) accesses no energy of their own, so those parts are 0:
    the columns are there so that a reader sees it, not a hidden omission."""
    from gamma.costmodel.hwcost import L1_ENERGY, L2_ENERGY, MAC_ENERGY_NJ
    from gamma.costmodel.layertable import TENSORS

    def accesses(level):
        return sum(scores[f"{t}_{level}_{op}"] for t in TENSORS for op in ("read", "write"))

    return {"energy_mac_nj": scores["macs"] * MAC_ENERGY_NJ,
            "energy_l1_nj": L1_ENERGY * accesses("l1") * MAC_ENERGY_NJ,
            "energy_l2_nj": L2_ENERGY * accesses("l2") * MAC_ENERGY_NJ,
            "energy_noc_nj": 0.0, "energy_offchip_nj": 0.0}


def bound_columns(result: LayerResult) -> dict:
    """``lower_bound`` (cycles, proven for every trusted mapping of the map space), ``gap``
    (latency / lower_bound; NaN without a bound), ``below_bound`` (gap < 1: a runtime no
    hardware reaches, accepted only under --allow_undercount / --allow_inexact),
    ``proven_optimal`` and the energy bound (nJ)."""
    from gamma.bounds import energy_lower_bound, gap
    from gamma.costmodel.hwcost import MAC_ENERGY_NJ
    bound = int(getattr(result, "lower_bound", 0) or 0)
    ratio = gap(result.best_scores["runtime"], bound)
    return {"lower_bound": bound, "gap": ratio, "below_bound": bool(ratio < 1),
            "proven_optimal": bool(getattr(result, "proven_optimal", False)),
            "energy_lower_bound_nj": energy_lower_bound(result.layer) * MAC_ENERGY_NJ}


def gap_text(result: LayerResult) -> str:
    """The console's words for a result's gap, e.g. ``gap 1.004 to 700416``."""
    cols = bound_columns(result)
    if not cols["lower_bound"]:
        return "no bound"
    text = f"gap {cols['gap']:.4f} to {cols['lower_bound']}"
    if cols["below_bound"]:
        return text + " (BELOW the proven bound: untrusted runtime)"
    return "proven optimal" if cols["proven_optimal"] else text


def plot_formats(text: str | None) -> tuple[str, ...]:
    """The formats of ``--plot_format`` ("png", "svg,pdf", ...)."""
    return tuple(dict.fromkeys(f.strip().lower() for f in (text or "png").split(",") if f.strip()))


#: Ends a results.csv record while it is formatted (ASCII's record separator).
_RECORD_END = "\x1e"


class RunReport:
    """Writes a run's files as layers finish, then the totals and plots."""

    def __init__(self, outdir: Path, hw, settings: dict, *, pareto: bool = False,
                 fitness: tuple[str, str] = ("latency", "energy"), previous: dict | None = None):
        """``previous``: the run.yaml of the interrupted run this one resumes."""
        self.outdir, self.hw, self.settings = Path(outdir), hw, settings
        self.pareto, self.fitness = pareto, fitness
        self.plot_formats = plot_formats(settings.get("plot_format"))
        self.rows: list[dict] = []
        self.history: list[pd.DataFrame] = []
        self.fronts: list[pd.DataFrame] = []
        self.results: list[tuple[tuple[int, ...], LayerResult]] = []
        self.started = datetime.now()
        # results.csv lines as (layer, arrival, text): each row is formatted once, so
        # rewriting the file as every layer finishes costs a join, not a reformat
        self._result_lines: list[tuple[int, int, str]] = []
        self.resumed: list[str] = []
        if previous:
            self.started = datetime.fromisoformat(str(previous.get("started", self.started.isoformat())))
            self.resumed = [*previous.get("resumed", []), _now()]
        self.write_run_yaml(status="running")

    # -------------------------------------------------------------- per layer
    def add(self, indices: tuple[int, ...], result: LayerResult) -> None:
        """Record a finished search for the layers at ``indices``; rewrite results.csv."""
        self.results.append((indices, result))
        first = indices[0]
        mapping_text = to_maestro_text(result.best, 0, result.layer)
        for index in indices:
            self.rows.append(layer_row(index, result, self.hw, first,
                                       codesign=self.settings.get("num_pe") == -1))
            write_atomic(self.outdir / "mappings" / f"layer_{index}.m", mapping_text,
                         durable=False)
        history = result.history.copy()
        history.insert(0, "layer", first)
        self.history.append(history)
        if self.pareto:
            self.fronts.append(self._front_frame(first, result))
        self._add_result_lines(self.rows[-len(indices):])
        write_atomic(self.outdir / "results.csv",
                     _RESULTS_HEADER + "".join(line for *_, line in sorted(self._result_lines)),
                     durable=False)

    def _add_result_lines(self, rows: list[dict]) -> None:
        # One frame for the job's rows (formatting costs per frame, not per row),
        # its records ended by a separator no field holds, so that a quoted
        # field's line break cannot split a record.
        records = pd.DataFrame(rows, columns=RESULT_COLUMNS).to_csv(
            index=False, header=False, lineterminator=_RECORD_END).split(_RECORD_END)[:-1]
        for row, text in zip(rows, records, strict=True):
            self._result_lines.append((row["layer"], len(self._result_lines), text + os.linesep))

    def _front_frame(self, index: int, result: LayerResult) -> pd.DataFrame:
        s, layer = result.front_scores, result.layer
        frame = pd.DataFrame({"layer": index, "point": np.arange(len(result.front))})
        for o in OBJECTIVES:
            frame[f"{o}_{OBJECTIVE_UNITS[o]}"] = s[o]
        frame["l1_req_elements"] = s["l1_size_req"]
        frame["l2_req_elements"] = s["l2_size_req"]
        frame["mapping"] = [describe(result.front, i, layer) for i in range(len(result.front))]
        return frame

    def _write_tables(self) -> None:
        """results.csv, history.csv and (``--pareto``) pareto.csv, flushed to disk."""
        # Layers may finish in any order (parallel workers, resumed runs): sort by layer.
        rows = pd.DataFrame(self.rows, columns=RESULT_COLUMNS).sort_values("layer", kind="stable")
        write_atomic(self.outdir / "results.csv", rows.to_csv(index=False))
        history = pd.concat(self.history, ignore_index=True).sort_values(
            ["layer", "generation"], kind="stable")
        write_atomic(self.outdir / "history.csv", history.to_csv(index=False))
        if self.pareto:
            fronts = pd.concat(self.fronts, ignore_index=True).sort_values(
                ["layer", "point"], kind="stable")
            write_atomic(self.outdir / "pareto.csv", fronts.to_csv(index=False))

    # ----------------------------------------------------------------- finish
    def summary(self) -> dict:
        rows = pd.DataFrame(self.rows, columns=RESULT_COLUMNS)
        return {
            "layers": len(rows), "distinct_layers": len(self.results),
            "total_macs": int(rows["macs"].sum()),
            "total_latency_cycles": int(rows["latency_cycles"].sum()),
            "total_energy_nj": float(rows["energy_nj"].sum()),
            "max_power_mw": float(rows["power_mw"].max()),
            "max_area_um2": float(rows["area_um2"].max()),
            "max_l1_req_elements": int(rows["l1_req_elements"].max()),
            "max_l2_req_elements": int(rows["l2_req_elements"].max()),
            "lower_bound_cycles": int(rows["lower_bound"].sum()),
            "gap": (float(rows["latency_cycles"].sum() / rows["lower_bound"].sum())
                    if (rows["lower_bound"] > 0).all() and len(rows) else float("nan")),
            "proven_optimal_layers": int(rows["proven_optimal"].astype(bool).sum()),
            "below_bound_layers": int(rows["below_bound"].astype(bool).sum()),
            "infeasible_layers": int((~rows["feasible"].astype(bool)).sum()),
            # the whole-model co-design also scores every PE count it explores: count that work
            "samples": int(self.settings.get("codesign_totals", {}).get("samples",
                                                                       rows["samples"].sum())),
            "search_seconds": float(self.settings.get("codesign_totals", {}).get(
                "search_seconds", rows["seconds"].sum())),
        }

    def finish(self, status: str = "done", plots: bool = True, note: str | None = None) -> dict:
        """Write summary.csv, the plots, run.yaml with ``status`` and report.html; return the totals.

        With no finished layer (an early interruption) only run.yaml is written.
        """
        if not self.rows:
            self.write_run_yaml(status=status, note=note)
            self._record_in_sweep(status, {})
            return {}
        self._write_tables()
        if hasattr(os, "sync"):
            os.sync()       # the mapping files, written unflushed as layers finished
        totals = self.summary()
        frame = pd.DataFrame([{"model": self.settings.get("model"), "hw": self.hw.name,
                               **self._design(), **totals}])
        write_atomic(self.outdir / "summary.csv", frame.to_csv(index=False))
        if plots:
            self.plot()
        if self.settings.get("gamma_outputs"):
            self.write_gamma_results()
        self.write_run_yaml(status=status, totals=totals, note=note)
        self._record_in_sweep(status, totals)
        from gamma.report_html import write_report_html
        write_report_html(self.outdir)
        return totals

    def _record_in_sweep(self, status: str, totals: dict) -> None:
        """Add this run's line to runs.csv of the folder of runs it belongs to."""
        from gamma.sweeps import record_run

        s = self.settings
        if not s.get("sweep"):
            return
        record_run(Path(s["sweep"]), {
            "run": self.outdir.name, "status": status, "ended": _now(),
            "started": self.started.isoformat(timespec="seconds"), "model": s.get("model"),
            "layers": len(self.rows), "hwconfig": s.get("hwconfig"), "fitness1": s.get("fitness1"),
            "fitness2": s.get("fitness2"), "num_pop": s.get("num_pop"), "epochs": s.get("epochs"),
            "seed": s.get("seed"), **{k: totals.get(k, "") for k in (
                "total_latency_cycles", "total_energy_nj", "infeasible_layers")}})

    def write_gamma_results(self) -> None:
        """GAMMA's own result file, ``result_c.csv`` with its columns (``--gamma_outputs``),
        one row per layer (GAMMA keeps the last layer's only), so its plotting scripts run."""
        rows = pd.DataFrame(self.rows, columns=RESULT_COLUMNS).sort_values("layer")
        pe_area = rows["area_pe_um2"].astype(float)
        frame = pd.DataFrame({
            "runtime": rows["latency_cycles"], "area": rows["area_need_um2"],
            "pe_area_ratio": pe_area / rows["area_need_um2"], "PE": rows["num_pes"],
            "L1_size": rows["l1_req_elements"], "L2_size": rows["l2_req_elements"],
            "PE_area": pe_area, "L1_area": rows["area_l1_um2"], "L2_area": rows["area_l2_um2"],
            "best_sol": rows["mapping"]})
        write_atomic(self.outdir / "result_c.csv", frame.to_csv(index=True))

    def _design(self) -> dict:
        """Which chip the totals are for: one fixed chip, one co-designed for the whole model,
        or one per layer (then the totals add up layers that run on different chips)."""
        if self.settings.get("num_pe") != -1:
            return {"designs": "fixed", "num_pes": self.hw.num_pes}
        if self.settings.get("codesign") == "model":
            return {"designs": "one for the model", "num_pes": self.hw.num_pes}
        return {"designs": "one per layer (see results.csv)", "num_pes": None,
                "pe_limit": self.hw.num_pes}

    def write_run_yaml(self, status: str, totals: dict | None = None, note: str | None = None
                       ) -> None:
        """Write run.yaml; ``status`` is running, done, interrupted or failed."""
        import gamma
        data = {"gamma_version": gamma.__version__, "status": status,
                "started": self.started.isoformat(timespec="seconds"),
                "settings": self.settings, "hardware": plain(self.hw.to_dict())}
        if self.resumed:
            data["resumed"] = self.resumed
        if note:
            data["note"] = note
        if totals is not None:
            data["finished" if status == "done" else "stopped"] = _now()
            data["totals"] = plain(totals)
        write_atomic(self.outdir / "run.yaml", yaml.safe_dump(data, sort_keys=False))

    # ------------------------------------------------------------------ plots
    def plot(self) -> None:
        from gamma import plots as figures

        folder, formats = self.outdir / "plots", self.plot_formats
        f1, _ = self.fitness
        self.results.sort(key=lambda item: item[0][0])
        histories = [(indices[0], result.history) for indices, result in self.results]
        figures.save(figures.convergence(histories, f1, OBJECTIVE_UNITS[f1]), folder, "convergence",
                     formats)

        plt = figures.pyplot()
        rows = pd.DataFrame(self.rows, columns=RESULT_COLUMNS).sort_values("layer")
        fig, axes = plt.subplots(2, 1, figsize=(max(6, 0.3 * len(rows) + 2), 6), sharex=True)
        axes[0].bar(rows["layer"].astype(str), rows["latency_cycles"], color="tab:blue")
        axes[0].set_ylabel("latency (cycles)")
        axes[1].bar(rows["layer"].astype(str), rows["energy_nj"], color="tab:orange")
        axes[1].set_ylabel("energy (nJ)")
        axes[1].set_xlabel("layer")
        axes[0].set_title(f"Per-layer latency and energy ({self.settings.get('model')})")
        for ax in axes:
            ax.tick_params(axis="x", labelsize=7, rotation=90)
        fig.tight_layout()
        figures.save(fig, folder, "layers", formats)

        fig, ax = plt.subplots(figsize=(max(6, 0.3 * len(rows) + 2), 4))
        bottom = np.zeros(len(rows))
        for part, colour in zip(ENERGY_PARTS, figures.distinct_colours(len(ENERGY_PARTS)), strict=True):
            values = rows[part].to_numpy(dtype=float)
            if values.any():
                ax.bar(rows["layer"].astype(str), values, bottom=bottom, color=colour,
                       label=part.removeprefix("energy_").removesuffix("_nj").replace("offchip", "off-chip"))
                bottom += values
        ax.set_xlabel("layer")
        ax.set_ylabel("energy (nJ)")
        ax.set_title("Energy per layer by part (MACs, L1, L2, NoC, off-chip)")
        ax.tick_params(axis="x", labelsize=7, rotation=90)
        ax.legend(fontsize=8)
        fig.tight_layout()
        figures.save(fig, folder, "energy", formats)

        if self.pareto:
            for indices, result in self.results:
                figures.save(self._front_figure(plt, indices[0], result), folder,
                             f"pareto_layer_{indices[0]}", formats)

    def _front_figure(self, plt, index: int, result: LayerResult):
        from gamma.plots import plain_log_ticks

        f1, f2 = self.fitness
        scored = result.scored
        c1, c2 = scored.columns[1], scored.columns[2]
        ok = scored["feasible"].astype(bool)
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.scatter(scored.loc[ok, c1], scored.loc[ok, c2], s=6, c="lightgray",
                   label="feasible candidates")
        front = result.front_scores
        if len(result.front):
            ax.plot(front[f1], front[f2], "o-", color="tab:red", label="Pareto front")
        if ok.any() or len(result.front):
            ax.set_xscale("log")
            ax.set_yscale("log")
            plain_log_ticks(ax.xaxis)
            plain_log_ticks(ax.yaxis)
        else:  # nothing feasible to draw (a log axis would have no positive data)
            ax.text(0.5, 0.5, "no feasible candidate", ha="center", va="center",
                    transform=ax.transAxes)
        ax.set_xlabel(f"{f1} ({OBJECTIVE_UNITS[f1]})")
        ax.set_ylabel(f"{f2} ({OBJECTIVE_UNITS[f2]})")
        ax.set_title(f"Layer {index}: {result.layer.describe()}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")
