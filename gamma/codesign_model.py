"""One accelerator for a whole model under an area budget (``--codesign model``).

One accelerator — PE count, L1 per PE, L2 — shared by every layer; each
layer's mapping must fit it; the objective is the model's total latency,
energy or EDP (each distinct layer shape weighted by its occurrences), under
the area budget.  :func:`codesign_model` searches it in three stages:

1. **Explore PE counts.**  Buffer sizes need not be searched: for a fixed PE
   count ``P``, a short mapping search per distinct layer (the GA, warm
   started from the best mappings found at the nearest ``P`` explored, repaired
   and refitted to ``P``; the layer's own area must fit the budget) keeps an
   *archive*: every feasible candidate's latency, energy and L1/L2 needs,
   reduced to its Pareto set.  Any buffer pair ``(L1, L2)`` can then be
   priced without the cost model — each layer takes its best archived
   mapping that fits — so a sweep over a grid of ``(L1, L2)`` values (the
   needs seen in the archives) gives, for this ``P``, model latency/energy vs.
   area and the best design within the budget.  (For EDP, which does not
   split over layers, each layer minimises ``E_total·T_i + T_total·E_i``,
   iterated three times.)
2. **Outer search over P** (1-D): a geometric grid up to the PE limit, then
   bisection around the best ``P`` found (PE counts snapped to multiples of 4
   or 8, so clusters divide them).
3. **Polish.**  On the chosen ``P`` and buffer caps (L1 of the best point;
   L2 raised by whatever area the point leaves unused), each distinct layer's
   mapping is searched again, longer, seeded with the mapping the sweep
   chose for it.  The final hardware has the largest L1 and L2 those
   mappings need (so it is never above the caps, hence within the budget),
   and every mapping is re-scored on it with the cost model.

All hardware points explored (per ``P``, the non-dominated ``(objective,
area)`` points of the sweep, within the budget or not) make the
``codesign_pareto.csv``/``.png`` of :func:`write_pareto`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from gamma.codesign import layer_codesign_config
from gamma.errors import GammaInputError
from gamma.hardware import Hardware
from gamma.mapping import Population
from gamma.runner import group_layers
from gamma.search.ga import GAConfig, LayerResult, LayerSearch, score
from gamma.workload import Layer

#: Objectives of whole-model co-design.
MODEL_OBJECTIVES = ("latency", "energy", "EDP")


# ---------------------------------------------------------------------------
# Whole-model co-design
# ---------------------------------------------------------------------------

@dataclass
class ModelCodesignConfig:
    """Settings of :func:`codesign_model`.

    Parameters
    ----------
    objective : str
        ``latency`` (cycles), ``energy`` (nJ) or ``EDP`` of the whole model.
    explore : (int, int)
        Population and generations of each per-layer search while exploring PE counts.
    polish : (int, int)
        Population and generations of each per-layer search on the chosen hardware.
    grid : int
        PE counts of the initial geometric grid.
    refine : int
        PE counts tried by bisection around the best one.
    time_limit : float or None
        Seconds after which exploration stops (the polish still runs).
    """

    objective: str = "latency"
    explore: tuple = (20, 8)
    polish: tuple = (40, 15)
    grid: int = 9
    refine: int = 6
    time_limit: float | None = None

    def __post_init__(self):
        if self.objective not in MODEL_OBJECTIVES:
            raise GammaInputError(f"whole-model co-design objective must be one of "
                                  f"{', '.join(MODEL_OBJECTIVES)}, got {self.objective!r}")


@dataclass
class Archive:
    """Feasible mappings of one layer at one PE count, Pareto-reduced on
    (runtime, energy, L1 need, L2 need)."""
    pop: Population
    runtime: np.ndarray
    energy: np.ndarray
    l1: np.ndarray
    l2: np.ndarray

    @classmethod
    def empty(cls, like: Population) -> Archive:
        z = np.zeros(0)
        return cls(like.take(slice(0, 0)), z, z, z.astype(np.int64), z.astype(np.int64))

    def add(self, pop: Population, table: dict) -> Archive:
        ok = np.flatnonzero(table["feasible"])
        if not len(ok):
            return self
        return Archive(Population.concatenate([self.pop, pop.take(ok)]),
                       np.concatenate([self.runtime, table["runtime"][ok].astype(float)]),
                       np.concatenate([self.energy, table["energy"][ok].astype(float)]),
                       np.concatenate([self.l1, table["l1_size_req"][ok].astype(np.int64)]),
                       np.concatenate([self.l2, table["l2_size_req"][ok].astype(np.int64)]))

    def reduced(self) -> Archive:
        """The non-dominated entries (duplicates once)."""
        if not len(self.runtime):
            return self
        pts = np.stack([self.runtime, self.energy, self.l1, self.l2], axis=1).astype(float)
        _, first = np.unique(pts, axis=0, return_index=True)
        pts_u = pts[first]
        le = np.all(pts_u[:, None, :] <= pts_u[None, :, :], axis=2)
        lt = np.any(pts_u[:, None, :] < pts_u[None, :, :], axis=2)
        dominated = np.any(le & lt, axis=0)
        keep = first[~dominated]
        return Archive(self.pop.take(keep), self.runtime[keep], self.energy[keep],
                       self.l1[keep], self.l2[keep])

    def __len__(self) -> int:
        return len(self.runtime)


class _ArchivingSearch(LayerSearch):
    """A :class:`LayerSearch` that archives every feasible candidate it scores."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.archive = None

    def _score(self, pop):
        table = super()._score(pop)
        self.archive = (Archive.empty(pop) if self.archive is None else self.archive).add(pop, table)
        return table


@dataclass
class ModelCodesignResult:
    """Outcome of :func:`codesign_model`.

    Attributes
    ----------
    hardware : Hardware
        The chosen accelerator (``num_pes``, ``l1_size``, ``l2_size`` sized to the mappings).
    groups : list of gamma.runner.Job
    results : list of LayerResult
        Per group, its mapping on ``hardware`` (``best``, ``best_scores``: re-scored on it).
    totals : dict
        Model latency (cycles), energy (nJ), EDP, area (µm²) and its split, PEs, L1, L2.
    points : pandas.DataFrame
        Every hardware point explored (see module doc), ``on_front`` marking the
        Pareto front of (objective, area).
    seconds : float
    """
    hardware: Hardware
    groups: list
    results: list
    totals: dict
    points: pd.DataFrame
    seconds: float
    objective: str = "latency"
    budget_um2: float = math.inf
    history: list = field(default_factory=list)


def _objective_of(objective: str, runtime, energy):
    return {"latency": runtime, "energy": energy, "EDP": runtime * energy}[objective]


def _layer_metric(objective: str) -> str:
    return {"latency": "latency", "energy": "energy", "EDP": "EDP"}[objective]


def _snap(p: float, limit: int) -> int:
    p = int(round(p))
    step = 8 if p >= 64 else 4 if p >= 16 else 1
    p = max(step, (p // step) * step) if p >= step else max(p, 1)
    return int(min(max(p, 1), limit))


def _grid_values(values: np.ndarray, lower: int, most: int = 40) -> np.ndarray:
    """Up to ``most`` distinct candidate buffer sizes >= ``lower`` (quantiles of ``values``)."""
    values = np.unique(values[values >= lower])
    if len(values) > most:
        pick = np.unique(np.round(np.linspace(0, len(values) - 1, most)).astype(int))
        values = values[pick]
    return values


def _sweep(P: int, archives: list[Archive], counts: np.ndarray, hw: Hardware, objective: str):
    """Price every (L1, L2) pair of a grid from the archives at PE count ``P``.

    Returns a DataFrame of (L1, L2) points (actual hardware: the largest
    needs of the chosen mappings), with model runtime, energy, area and the
    chosen archive index per layer (``choice``, an object column).
    """
    if any(len(a) == 0 for a in archives):
        return pd.DataFrame()
    low1 = max(int(a.l1.min()) for a in archives)
    low2 = max(int(a.l2.min()) for a in archives)
    v1 = _grid_values(np.concatenate([a.l1 for a in archives]), low1)
    v2 = _grid_values(np.concatenate([a.l2 for a in archives]), low2)
    g1, g2 = np.meshgrid(v1, v2, indexing="ij")
    shape = g1.shape
    fits = [(a.l1[None, None, :] <= g1[..., None]) & (a.l2[None, None, :] <= g2[..., None])
            for a in archives]
    ok = np.all([f.any(axis=2) for f in fits], axis=0)
    w_t, w_e = {"latency": (1.0, 0.0), "energy": (0.0, 1.0), "EDP": (1.0, 0.0)}[objective]
    w_t, w_e = np.full(shape, w_t), np.full(shape, w_e)
    for _ in range(3 if objective == "EDP" else 1):
        choice, total_t, total_e, need1, need2 = [], np.zeros(shape), np.zeros(shape), \
            np.zeros(shape, np.int64), np.zeros(shape, np.int64)
        for a, f, c in zip(archives, fits, counts, strict=True):
            cost = w_t[..., None] * a.runtime + w_e[..., None] * a.energy
            # ties: smaller buffers first
            cost = cost + 1e-9 * np.abs(cost) * (a.l1 + a.l2) / max(float((a.l1 + a.l2).max()), 1)
            pick = np.argmin(np.where(f, cost, np.inf), axis=2)
            choice.append(pick)
            total_t += c * a.runtime[pick]
            total_e += c * a.energy[pick]
            need1 = np.maximum(need1, a.l1[pick])
            need2 = np.maximum(need2, a.l2[pick])
        if objective == "EDP":
            w_t, w_e = total_e, total_t
    flat = ok.ravel()
    parts = hw.area.parts_um2(P, need1.ravel(), need2.ravel(), noc_bw=hw.noc_bw,
                              simd_lanes=hw.simd_lanes)
    frame = pd.DataFrame({
        "num_pes": P, "l1_size": need1.ravel(), "l2_size": need2.ravel(),
        "area_um2": parts["pe"] + parts["l1"] + parts["l2"] + parts["noc"],
        "area_pe_um2": parts["pe"], "area_l1_um2": parts["l1"], "area_l2_um2": parts["l2"],
        "area_noc_um2": parts["noc"],
        "latency_cycles": total_t.ravel(), "energy_nj": total_e.ravel()})
    frame["edp_nj_cycles"] = frame["latency_cycles"] * frame["energy_nj"]
    frame["choice"] = list(np.stack(choice, axis=-1).reshape(-1, len(archives)))
    frame = frame[flat]
    return frame.drop_duplicates(subset=["l1_size", "l2_size"]).reset_index(drop=True)


def _front_mask(obj: np.ndarray, area: np.ndarray) -> np.ndarray:
    from gamma.search.ga import pareto_front
    mask = np.zeros(len(obj), dtype=bool)
    if len(obj):
        mask[pareto_front(np.asarray(area, float), np.asarray(obj, float))] = True
    return mask


_OBJ_COLUMN = {"latency": "latency_cycles", "energy": "energy_nj", "EDP": "edp_nj_cycles"}


def codesign_model(layers, hw: Hardware, cfg: GAConfig, mcfg: ModelCodesignConfig | None = None,
                   *, seed: int = 0, pe_limit: int = 0, info=None,
                   on_progress=None) -> ModelCodesignResult:
    """One accelerator for the whole model under ``cfg.area_budget`` (see module doc).

    Parameters
    ----------
    layers : list of Layer, or of (1-based index, Layer)
    hw : Hardware
        Everything but the PE count and buffers (bandwidths, lanes, area model);
        ``l1_size``/``l2_size``, when set, cap the buffers.
    cfg : GAConfig
        Map-space settings (levels, constraint, ...) and ``area_budget`` (mm²);
        the population, generations and objectives come from ``mcfg``.
    mcfg : ModelCodesignConfig
    seed : int
    pe_limit : int
        Largest PE count (<= 0: :func:`default_pe_limit`).
    info : callable, optional
        Receives one-line progress and info messages.
    on_progress : callable, optional
        Called with ``(stage, P)`` after each PE count explored.
    """
    start = time.perf_counter()
    mcfg = mcfg or ModelCodesignConfig()
    say = info or (lambda message: None)
    groups = group_layers(layers)
    cfg = layer_codesign_config([g.layer for g in groups], hw, cfg, pe_limit=pe_limit,
                                shared=True, info=say)
    sweep = _Sweep(groups, hw, cfg, mcfg, np.random.default_rng(np.random.SeedSequence(seed)),
                   say, on_progress)

    def out_of_time() -> bool:
        return mcfg.time_limit is not None and time.perf_counter() - start > mcfg.time_limit

    # 1. geometric grid of PE counts, largest first; 2. bisection around the best one
    limit = cfg.pe_limit
    grid = sorted({_snap(p, limit) for p in np.geomspace(limit, max(limit / 64, 1), mcfg.grid)}
                  | {limit}, reverse=True)
    for P in grid:
        if out_of_time():
            break
        sweep.explore(P, "grid")
    for _ in range(mcfg.refine):
        if out_of_time() or not sweep.best_at or not sweep.refine(limit):
            break
    if not sweep.best_at:
        raise GammaInputError(f"--area_budget {cfg.area_budget:g} mm²: no whole-model design "
                              f"within the budget was found (try a larger budget)")
    # 3. polish on the chosen hardware, then size the buffers to the chosen mappings
    P = min(sweep.best_at, key=lambda q: sweep.best_at[q][sweep.objcol])
    chosen, searches = sweep.polish(P)
    final, results, totals = sweep.finish(P, chosen, searches)
    points = sweep.points(totals)
    totals["search_seconds"] = round(time.perf_counter() - start, 3)
    say(f"co-design: chosen {final.num_pes} PEs, L1 {totals['l1_size']}, L2 {totals['l2_size']}, "
        f"area {totals['area_um2']:.0f} µm² (budget {sweep.budget:.0f}), model {sweep.objcol} "
        f"{totals[sweep.objcol]:.6g}")
    return ModelCodesignResult(hardware=final, groups=groups, results=results, totals=totals,
                               points=points, seconds=time.perf_counter() - start,
                               objective=mcfg.objective, budget_um2=sweep.budget)


class _Sweep:
    """The state of one whole-model co-design: per PE count explored, each layer
    group's archive of mappings and the best design within the budget."""

    def __init__(self, groups, hw: Hardware, cfg: GAConfig, mcfg: ModelCodesignConfig, rng, say,
                 on_progress):
        self.groups, self.hw, self.cfg, self.mcfg, self.rng = groups, hw, cfg, mcfg, rng
        self.say, self.on_progress = say, on_progress
        self.counts = np.array([g.count for g in groups], dtype=float)
        self.budget = cfg.area_budget_um2
        metric = _layer_metric(mcfg.objective)
        self.base = replace(cfg, pe_limit=0, fitness1=metric, pareto=False,
                            fitness2="energy" if metric != "energy" else "latency")
        self.objcol = _OBJ_COLUMN[mcfg.objective]
        self.archives: dict[int, list[Archive]] = {}
        self.best_at: dict[int, dict] = {}          # P -> best point within budget (a row dict)
        self.frames = []
        self.samples = 0                            # cost-model evaluations, every stage

    def seeds_for(self, P: int, g: int) -> Population | None:
        """Warm-start mappings for group ``g`` at ``P`` PEs, from the nearest PE count explored."""
        if not self.archives:
            return None
        near = min(self.archives, key=lambda q: (abs(math.log(q / P)), q))
        a = self.archives[near][g]
        if not len(a):
            return None
        cost = _objective_of(self.mcfg.objective, a.runtime, a.energy)
        picks = list(np.argsort(cost)[:6]) + list(np.argsort(a.l1 * P + a.l2)[:3])
        if near in self.best_at:
            picks.insert(0, int(self.best_at[near]["choice"][g]))
        picks = list(dict.fromkeys(int(i) for i in picks))
        return a.pop.take(np.array(picks[:10]))

    def explore(self, P: int, stage: str) -> None:
        """Search every layer group at ``P`` PEs and record the designs it allows."""
        if P in self.archives:
            return
        hw_p = self.hw.replace(num_pes=int(P))
        pop_n, epochs = self.mcfg.explore
        run = replace(self.base, num_pop=pop_n, epochs=epochs)
        found = []
        for g, group in enumerate(self.groups):
            search = _ArchivingSearch(group.layer, hw_p, run, self.rng, seeds=self.seeds_for(P, g))
            search.run()
            self.samples += search.tracker.samples
            found.append(search.archive.reduced() if search.archive is not None
                         else Archive.empty(search.pop))
        self.archives[P] = found
        frame = _sweep(P, found, self.counts, self.hw, self.mcfg.objective)
        objcol = self.objcol
        if len(frame):
            frame["stage"] = stage
            within = frame[frame["area_um2"] <= self.budget]
            if len(within):
                self.best_at[P] = within.loc[within[objcol].idxmin()].to_dict()
            keep = _front_mask(frame[objcol].to_numpy(), frame["area_um2"].to_numpy())
            self.frames.append(frame[keep | (frame.index == (within[objcol].idxmin()
                                                             if len(within) else -1))])
        b = self.best_at.get(P)
        self.say(f"co-design: P={P}: " + (f"best within budget {b[objcol]:.6g} ({objcol}), "
                                           f"L1 {int(b['l1_size'])}, L2 {int(b['l2_size'])}, "
                                           f"area {b['area_um2']:.0f} µm²" if b else
                                           "no design within the budget"))
        if self.on_progress is not None:
            self.on_progress(stage, P)

    def refine(self, limit: int) -> bool:
        """Explore halfway between the best PE count and a neighbour; False if nothing is left."""
        best = min(self.best_at, key=lambda q: self.best_at[q][self.objcol])
        tried = sorted(self.archives)
        i = tried.index(best)
        options = [_snap((best + tried[j]) / 2, limit) for j in (i + 1, i - 1) if 0 <= j < len(tried)]
        options = [p for p in options if p not in self.archives]
        if options:
            self.explore(options[0], "refine")
        return bool(options)

    def polish(self, P: int):
        """Each group's final search on ``P`` PEs, buffers capped at the chosen design's
        (L2 may use the budget's spare area); returns the chosen mappings and searches."""
        hw, point = self.hw, self.best_at[P]
        spare = self.budget - point["area_um2"]
        per_element = (hw.area.area_um2(0, 0, 1000.0) - hw.area.area_um2(0, 0, 0)) / 1000.0
        l2_cap = int(point["l2_size"] + max(spare, 0) // max(per_element, 1e-12))
        if hw.l2_size is not None:
            l2_cap = min(l2_cap, hw.l2_size)
        caps = hw.replace(num_pes=int(P), l1_size=max(int(point["l1_size"]), 1), l2_size=max(l2_cap, 1))
        pop_n, epochs = self.mcfg.polish
        run = replace(self.base, num_pop=pop_n, epochs=epochs)
        chosen, searches = [], []
        for g, group in enumerate(self.groups):
            a = self.archives[P][g]
            fit = np.flatnonzero((a.l1 <= caps.l1_limit) & (a.l2 <= caps.l2_limit))
            cost = _objective_of(self.mcfg.objective, a.runtime[fit], a.energy[fit])
            seed_idx = [int(point["choice"][g])] + [int(i) for i in fit[np.argsort(cost)[:5]]]
            seeds = a.pop.take(np.array(list(dict.fromkeys(seed_idx))))
            polished = LayerSearch(group.layer, caps, run, self.rng, seeds=seeds).run()
            self.samples += polished.samples
            chosen.append(polished.best if polished.feasible else seeds.take(0))
            searches.append(polished)
        self.caps = caps
        return chosen, searches

    def finish(self, P: int, chosen, searches):
        """The final hardware (the chosen mappings' largest needs), each layer re-scored on it,
        and the model totals."""
        hw, groups = self.hw, self.groups
        rescore_cfg = replace(self.base, area_budget=0.0)
        tables = [score(m, g.layer, self.caps, rescore_cfg) for m, g in zip(chosen, groups, strict=True)]
        l1 = int(max(t["l1_size_req"][0] for t in tables))
        l2 = int(max(t["l2_size_req"][0] for t in tables))
        final = hw.replace(num_pes=int(P), l1_size=max(l1, 1), l2_size=max(l2, 1))
        final_cfg = replace(self.base, area_budget=self.cfg.area_budget)
        parts = final.area.parts_um2(final.num_pes, l1, l2, noc_bw=final.noc_bw,
                                     simd_lanes=final.simd_lanes)
        area = float(sum(parts.values()))
        results = []
        for m, g, polished in zip(chosen, groups, searches, strict=True):
            t = score(m, g.layer, final, final_cfg)
            # the row's design is the shared accelerator: its buffers and area
            t.update({"l1_size": np.array([l1]), "l2_size": np.array([l2]),
                      "area": np.array([area]), **{f"area_{k}": np.array([float(v)])
                                                   for k, v in parts.items()}})
            results.append(_layer_result(g.layer, m, t, final_cfg, polished, final))
        counts = self.counts
        runtime = float(sum(c * r.best_scores["runtime"] for c, r in zip(counts, results, strict=True)))
        energy = float(sum(c * r.best_scores["energy"] for c, r in zip(counts, results, strict=True)))
        totals = {"num_pes": final.num_pes, "l1_size": l1, "l2_size": l2, "area_um2": area,
                  "area_pe_um2": float(parts["pe"]), "area_l1_um2": float(parts["l1"]),
                  "area_l2_um2": float(parts["l2"]), "area_noc_um2": float(parts["noc"]),
                  "latency_cycles": runtime, "energy_nj": energy, "edp_nj_cycles": runtime * energy,
                  "feasible": bool(all(r.feasible for r in results)) and area <= self.budget,
                  "pe_counts_explored": len(self.archives), "samples": self.samples}
        return final, results, totals

    def points(self, totals: dict) -> pd.DataFrame:
        """Every design point recorded (fronts per PE count and the chosen one), with flags."""
        row = {k: totals[k] for k in ("num_pes", "l1_size", "l2_size", "area_um2", "area_pe_um2",
                                      "area_l1_um2", "area_l2_um2", "area_noc_um2",
                                      "latency_cycles", "energy_nj", "edp_nj_cycles")}
        row["stage"] = "chosen"
        points = pd.concat([*self.frames, pd.DataFrame([row])], ignore_index=True)
        points = points.drop(columns=["choice"], errors="ignore")
        points["within_budget"] = points["area_um2"] <= self.budget
        points["on_front"] = _front_mask(points[self.objcol].to_numpy(), points["area_um2"].to_numpy())
        points["chosen"] = points["stage"] == "chosen"
        return points


def _layer_result(layer: Layer, best: Population, table: dict, cfg: GAConfig,
                  search: LayerResult, final: Hardware) -> LayerResult:
    """``search`` (the polish) with its best replaced by ``best`` re-scored on the final
    hardware, and the proven latency bound of ``layer`` on that hardware."""
    from gamma.bounds import layer_bounds
    scores = {k: np.asarray(v)[0].item() for k, v in table.items()}
    feas = bool(table["feasible"][0])
    bound = layer_bounds(layer, final, replace(cfg, pe_limit=0)).latency_cycles
    return replace(search, layer=layer, best=best, best_scores=scores, feasible=feas,
                   front=best if feas else best.take(slice(0, 0)),
                   front_scores={k: np.asarray(v)[:1 if feas else 0] for k, v in table.items()},
                   lower_bound=bound, proven_optimal=False)


def write_pareto(result: ModelCodesignResult, outdir, plot_dir=None, formats=("png",)) -> list:
    """``codesign_pareto.csv`` (in ``outdir``) and the figure ``codesign_pareto.<format>`` (in
    ``plot_dir``, default ``outdir``; none when ``formats`` is empty): model objective vs.
    area over every hardware point explored, the front highlighted, the budget and the
    chosen design marked.  Returns the paths written."""
    from pathlib import Path

    from gamma import plots as figures

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    csv = outdir / "codesign_pareto.csv"
    result.points.to_csv(csv, index=False)
    if not formats:
        return [csv]
    plt = figures.pyplot()
    col = _OBJ_COLUMN[result.objective]
    pts = result.points
    fig, ax = plt.subplots(figsize=(7, 4.5))
    explored = pts[~pts["chosen"]]
    ax.scatter(explored["area_um2"] / 1e6, explored[col], s=10, c="0.7", label="explored")
    front = pts[pts["on_front"]].sort_values("area_um2")
    ax.plot(front["area_um2"] / 1e6, front[col], "o-", c="tab:blue", ms=4, label="Pareto front")
    chosen = pts[pts["chosen"]]
    ax.scatter(chosen["area_um2"] / 1e6, chosen[col], marker="*", s=160, c="tab:red",
               zorder=5, label="chosen")
    if math.isfinite(result.budget_um2):
        ax.axvline(result.budget_um2 / 1e6, ls="--", c="tab:red", lw=1, label="area budget")
    ax.set_xlabel("area (mm²)")
    ax.set_ylabel({"latency": "model latency (cycles)", "energy": "model energy (nJ)",
                   "EDP": "model EDP (nJ·cycles)"}[result.objective])
    ax.set_yscale("log")
    figures.plain_log_ticks(ax.yaxis)
    ax.set_title("Whole-model co-design: hardware points explored")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return [csv, *figures.save(fig, Path(plot_dir) if plot_dir is not None else outdir,
                               "codesign_pareto", formats)]
