"""One search run: validated settings in, a results folder out.

The settings are a namespace whose names are the search command's flags
(:func:`gamma.flags.build_search_parser`); they are written to ``run.yaml``
and read back by ``--resume``.  The command line fills them from its flags,
the Python API (:mod:`gamma.api`) from keywords; both then call
:func:`execute`, so both write the same files.  Invalid settings raise
:class:`~gamma.errors.GammaInputError` with a one-line message naming the flag.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from gamma.console import Console
from gamma.errors import GammaInputError
from gamma.files import plain

log = logging.getLogger("gamma")


@dataclass
class Outcome:
    """How a run ended: ``code`` is the command's exit status (0 done, 1 some layer
    infeasible or the design over a limit, 130 interrupted); ``message`` the
    line for stderr, if any."""

    code: int
    outdir: Path
    message: str | None = None


def load_layers(model: str):
    """``--model``: a zoo name, a model CSV, or an ONNX network (skipped operators are listed)."""
    from gamma.workload import load_model

    if model.lower().endswith(".onnx"):
        from gamma.onnx_import import layers_from_onnx, summarize_skipped

        layers, skipped = layers_from_onnx(model)
        if skipped:
            log.warning("%s: %s", model, summarize_skipped(skipped))
        return layers
    return load_model(model)


def hardware_from_settings(args, hw=None):
    """The hardware of ``--hwconfig`` (or ``hw``) with the size flags applied."""
    from gamma.hardware import load_hardware

    hw = load_hardware(args.hwconfig) if hw is None else hw
    if args.num_pe == -1:
        # co-design: buffers are sized to the mappings; --l1_size/--l2_size only cap them
        hw = hw.replace(l1_size=None, l2_size=None)
    if args.num_pe < -1:
        raise GammaInputError(f"--num_pe must be a positive PE count, 0 (from the config) or -1, "
                              f"got {args.num_pe}")
    changes = {}
    if args.num_pe > 0:
        changes["num_pes"] = args.num_pe
    for flag, name in (("l1_size", "l1_size"), ("l2_size", "l2_size"), ("NocBW", "noc_bw"),
                       ("offchipBW", "offchip_bw")):
        value = getattr(args, flag)
        if value > 0:
            changes[name] = value
    return hw.replace(**changes) if changes else hw


def constraint_plugin(args):
    """The constraint the search runs under: ``--costmodel_cstr``, ``--accel_cstr``, ``--mapping_cstr``.

    Returns a :class:`gamma.plugins.Plugin` (its ``lower_to_gemm`` says whether
    layers are run as GEMMs, as on a TPU-like array).
    """
    from gamma.constraints import costmodel_constraint
    from gamma.plugins import combine, load_accel_cstr, load_mapping_cstr

    accel = load_accel_cstr(args.accel_cstr) if args.accel_cstr else None
    mapping = load_mapping_cstr(args.mapping_cstr) if args.mapping_cstr else None
    return combine(costmodel_constraint(args.costmodel_cstr), accel, mapping)


def search_config(args, num_pes: int, constraint=None):
    """The :class:`~gamma.search.ga.GAConfig` of the command-line flags (validated).

    ``constraint`` defaults to :func:`constraint_plugin`'s.
    """
    from gamma.search.ga import GAConfig
    from gamma.search.params import GAParams

    if constraint is None:
        constraint = constraint_plugin(args).constraint
    if args.area_budget != -1 and not args.area_budget > 0:
        raise GammaInputError(f"--area_budget must be a positive area in mm² (or -1: none), "
                              f"got {args.area_budget:g}")
    if args.num_pe == -1 and args.area_budget == -1:
        raise GammaInputError("--num_pe -1 (co-design) needs --area_budget, the chip area in mm²")
    if args.pe_limit != -1 and args.num_pe != -1:
        raise GammaInputError("--pe_limit applies only to co-design (--num_pe -1)")
    if args.pe_limit != -1 and args.pe_limit < 1:
        raise GammaInputError(f"--pe_limit must be a positive PE count, got {args.pe_limit}")
    if args.num_pe == -1:
        num_pes = args.pe_limit if args.pe_limit > 0 else 2**31 - 1
    if args.slevel_max > 3:
        raise GammaInputError(f"--slevel_max must be at most 3 (MAESTRO has no more cluster "
                              f"levels), got {args.slevel_max}")
    if args.slevel_min > args.slevel_max:
        raise GammaInputError(f"--slevel_min {args.slevel_min} is above --slevel_max "
                              f"{args.slevel_max}; did you swap them?")
    if args.fixedCluster < 0 or args.fixedCluster > num_pes:
        raise GammaInputError(f"--fixedCluster must be between 0 (free) and the PE count "
                              f"{num_pes}, got {args.fixedCluster}")
    if args.pareto and args.fitness1 == args.fitness2:
        raise GammaInputError(f"--pareto needs two different objectives; --fitness1 and "
                              f"--fitness2 are both {args.fitness1}")
    _check_exhaustive(args)
    if args.allow_inexact:
        log.warning("--allow_inexact: mappings whose analysis is not exact are accepted; their "
                    "latency may be below the compute bound (MACs / PEs)")
    elif args.allow_undercount:
        log.warning("--allow_undercount: mappings whose MAESTRO runtime is below their busiest "
                    "PE's work are accepted; such latencies cannot be reached in hardware")
    params = getattr(args, "ga_params", None)       # set from Python only
    params = GAParams(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}) \
        if params else GAParams()
    return GAConfig(num_pop=args.num_pop, epochs=args.epochs, fitness1=args.fitness1,
                    fitness2=args.fitness2, pareto=args.pareto, method=args.method,
                    slevel_min=args.slevel_min, slevel_max=args.slevel_max,
                    fixed_cluster=args.fixedCluster, par_rs=args.parRS,
                    use_factor=args.use_factor, constraint=constraint,
                    trust=trust_level(args),
                    area_budget=args.area_budget if args.area_budget > 0 else 0.0,
                    time_limit=args.time_limit, params=params)


def trust_level(args) -> str:
    """The search's :attr:`~gamma.search.config.GAConfig.trust` from GAMMA-style flags."""
    if args.allow_inexact:
        return "any"
    return "undercount" if args.allow_undercount else "exact"


def _check_exhaustive(args) -> None:
    """``--method exhaustive`` and ``--time_limit``: what the exact search supports."""
    if not args.time_limit >= 0:
        raise GammaInputError(f"--time_limit must be a number of seconds >= 0 (0: no limit), "
                              f"got {args.time_limit:g}")
    if args.time_limit and args.method != "exhaustive":
        raise GammaInputError("--time_limit applies only to --method exhaustive; the other "
                              "methods stop after --num_pop x --epochs samples")
    if args.num_pe == -1 and args.codesign == "model" and args.method not in ("gamma", "exhaustive"):
        raise GammaInputError(f"--codesign model searches with GAMMA's GA; --method {args.method} "
                              "runs only with --codesign layer (the default)")
    if args.method != "exhaustive":
        return
    if args.fitness1 != "latency" or args.pareto:
        raise GammaInputError("--method exhaustive proves the optimum latency: it needs "
                              "--fitness1 latency and no --pareto")
    if args.num_pe == -1:
        raise GammaInputError("--method exhaustive searches mappings on fixed hardware; it does "
                              "not co-design the PE count (--num_pe -1)")


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def execute(args, previous: dict | None = None, console: Console | None = None, *,
            layers=None, hardware=None) -> Outcome:
    """Run the search the settings ``args`` describe and write its results folder.

    ``previous`` is the run.yaml of the run being resumed (then ``args`` are its
    settings, :func:`gamma.resuming.resume_settings`).  ``layers`` and
    ``hardware`` replace ``--model`` and ``--hwconfig`` (Python callers): they
    are then written to ``model.csv`` and ``hardware.yaml`` in the results
    folder, and the settings point there, so the run can be resumed.
    """
    import numpy as np

    from gamma import runner, sweeps
    from gamma.plugins import check_against, lower_layer

    console = console or Console(args.log_level)
    if args.checkpoint_every is not None and args.checkpoint_every < 0:
        raise GammaInputError(f"--checkpoint_every must be 0 (only finished layers) or a number "
                              f"of generations, got {args.checkpoint_every}")
    if args.scheduler and args.jobs is not None and args.resume is None:
        log.warning("--jobs %d is ignored with --scheduler: the Dask workers run the searches",
                    args.jobs)
    if args.jobs is None:
        args.jobs = os.cpu_count() or 1
    hw = hardware_from_settings(args, hardware)
    plugin = constraint_plugin(args)
    cfg = search_config(args, hw.num_pes, plugin.constraint)
    model_layers = load_layers(args.model) if layers is None else list(layers)
    model_layers = [lower_layer(layer) for layer in model_layers] if plugin.lower_to_gemm else model_layers
    selected = runner.select_layers(model_layers, singlelayer=args.singlelayer, num_layer=args.num_layer)
    for _, layer in selected:
        check_against(plugin, layer, hw)
    if args.num_pe == -1:
        cfg, hw = _codesign_setup(args, hw, cfg, selected, console)
    if args.seed is None:
        args.seed = int(np.random.SeedSequence().entropy % 2**32)
    client = runner.dask_client(args.scheduler) if args.scheduler else None
    try:
        if previous is None:          # a new run: its own folder in the sweep folder --outdir
            sweep = Path(args.outdir or "outputs")
            outdir = sweeps.new_run_folder(sweep, sweeps.run_name(vars(args), hw.name), args.overwrite)
            _keep_inputs(args, outdir, layers, hardware)
        else:
            outdir, sweep = Path(args.outdir), previous["settings"].get("sweep")
        settings = {**_settings(args, cfg, plugin, selected, outdir), "sweep": str(sweep or "")}
        if previous is not None:
            from gamma.resuming import check_resumable
            check_resumable(previous, settings, plain(hw.to_dict()), outdir / "run.yaml")
            (outdir / "mappings").mkdir(parents=True, exist_ok=True)
        if args.num_pe == -1 and args.codesign == "model":
            return _codesign_model(args, hw, cfg, selected, args.seed, outdir, settings, console)
        return _search_layers(args, hw, cfg, selected, args.seed, outdir, settings, previous, client,
                              console)
    finally:
        if client is not None:
            client.close()


def _keep_inputs(args, outdir: Path, layers, hardware) -> None:
    """Write layers and hardware given from Python into the results folder; point the settings there."""
    from gamma.workload import write_model

    if layers is not None:
        args.model = str(outdir / "model.csv")
        write_model(args.model, list(layers))
    if hardware is not None:
        import yaml

        from gamma.files import write_atomic
        args.hwconfig = str(outdir / "hardware.yaml")
        write_atomic(Path(args.hwconfig), yaml.safe_dump(plain(hardware.to_dict()), sort_keys=False))


def _settings(args, cfg, plugin, selected, outdir: Path) -> dict:
    """Everything run.yaml records about the run's settings."""
    from gamma.constraints import describe_constraint
    from gamma.workload import resolve_model

    model_file = resolve_model(args.model)
    return {**vars(args), "model_file": str(model_file), "model_sha256": file_sha256(model_file),
            "seed": args.seed, "layers": [i for i, _ in selected],
            "constraint": describe_constraint(cfg.constraint),
            "constraint_source": plugin.source, "lower_to_gemm": plugin.lower_to_gemm,
            "constraint_files": [{"path": str(path), "sha256": digest} for path, digest in plugin.files],
            "sample_budget_per_layer": cfg.num_pop * cfg.epochs, "outdir": str(outdir)}


def _codesign_setup(args, hw, cfg, selected, console):
    """Co-design (``--num_pe -1``): check the budget, resolve ``--pe_limit``.

    Per layer, the returned hardware's ``num_pes`` is the PE limit (each
    layer's own PE count is in its results row).
    """
    from gamma import codesign
    from gamma.codesign_model import MODEL_OBJECTIVES

    if args.codesign == "model":
        if args.fitness1 not in MODEL_OBJECTIVES:
            raise GammaInputError(f"--codesign model optimises the model's latency, energy or EDP "
                                  f"(--fitness1), got {args.fitness1}")
        if args.pareto:
            raise GammaInputError("--codesign model has no --pareto mode; its "
                                  "codesign_pareto.csv/png show model cost vs. area")
        if args.resume is not None:
            raise GammaInputError("--resume is not available for --codesign model")
        return cfg, hw       # codesign_model checks the budget itself
    cfg = codesign.layer_codesign_config([layer for _, layer in selected], hw, cfg,
                                         pe_limit=max(args.pe_limit, 0), info=console.info_or_none)
    return cfg, hw.replace(num_pes=cfg.pe_limit)


def _codesign_model(args, hw, cfg, selected, seed, outdir, settings, console) -> Outcome:
    """``--num_pe -1 --codesign model``: one accelerator for all layers (gamma.codesign_model)."""
    from gamma import codesign_model as codesign
    from gamma import report

    mcfg = codesign.ModelCodesignConfig(objective=args.fitness1,
                                        polish=(args.num_pop, args.epochs))
    result = codesign.codesign_model(selected, hw, cfg, mcfg, seed=seed,
                                     pe_limit=max(args.pe_limit, 0), info=console.info_or_none)
    rep = report.RunReport(outdir, result.hardware, {**settings, "codesign_totals": result.totals},
                           fitness=(cfg.fitness1, cfg.fitness2))
    for group, res in zip(result.groups, result.results, strict=True):
        rep.add(group.indices, res)
    codesign.write_pareto(result, outdir, outdir / "plots",
                          formats=() if args.no_plots else report.plot_formats(args.plot_format))
    totals = rep.finish(plots=not args.no_plots)
    t = result.totals
    console.info(f"chosen hardware: {t['num_pes']} PEs, L1 {t['l1_size']} elements/PE, L2 "
              f"{t['l2_size']} elements, area {t['area_um2']:.0f} µm² (PEs {t['area_pe_um2']:.0f}, "
              f"L1 {t['area_l1_um2']:.0f}, L2 {t['area_l2_um2']:.0f}; budget "
                 f"{cfg.area_budget_um2:.0f}); model latency {totals['total_latency_cycles']} cycles, "
                 f"energy {totals['total_energy_nj']:.6g} nJ; {result.seconds:.1f}s; results in {outdir}")
    if not t["feasible"]:
        return Outcome(1, outdir, "the whole-model design does not meet every limit; see "
                                  f"{outdir}/results.csv (feasible=False)")
    return Outcome(0, outdir)


def _search_layers(args, hw, cfg, selected, seed, outdir, settings, previous, client,
                   console: Console) -> Outcome:
    """Search every selected layer (in parallel), writing each result as it arrives."""
    from gamma import report, runner

    rep = report.RunReport(outdir, hw, settings, pareto=cfg.pareto,
                           fitness=(cfg.fitness1, cfg.fitness2), previous=previous)
    jobs = runner.group_layers(selected)
    workers = client if client is not None else args.jobs
    in_process = client is None and (args.jobs == 1 or len(jobs) == 1)
    console.start(len(jobs) * cfg.num_pop * cfg.epochs)
    checkpoints = runner.Checkpoints(outdir / "checkpoints", every=args.checkpoint_every)
    failed = []

    def on_generation(job, record):
        console.generation(job, record, cfg, cfg.num_pop)

    def on_result(job, result, restored=False):
        rep.add(job.indices, result)
        if not result.feasible:
            cause = infeasible_cause(result.best_scores, hw, cfg, result.closest_trusted)
            failed.append(f"{job.key} ({cause})")
        advance = cfg.num_pop * cfg.epochs if restored or not in_process else 0
        console.layer(job, result, layer_line(job, result, hw, cfg, restored), advance=advance)

    try:
        runner.run_model(selected, hw, cfg, seed, workers=workers, on_result=on_result,
                         on_generation=on_generation if in_process else None,
                         checkpoints=checkpoints,
                         on_restored=lambda job, result: on_result(job, result, restored=True))
    except KeyboardInterrupt:
        console.close()
        hint = f"continue with: python main.py --resume {outdir}"
        rep.finish(status="interrupted", plots=False, note=hint)
        return Outcome(130, outdir, f"interrupted; {len(rep.rows)} of {len(selected)} layers are "
                                    f"finished and kept in {outdir}; {hint}")
    except BaseException as err:
        console.close()
        rep.finish(status="failed", plots=False, note=f"{type(err).__name__}: {err}")
        if client is not None and isinstance(err, ModuleNotFoundError):
            raise GammaInputError(f"--scheduler: a Dask worker cannot import {err.name!r}; install "
                                  "gamma (pip install -e .) in every worker's environment") from None
        raise
    console.close()
    totals = rep.finish(plots=not args.no_plots)
    checkpoints.clear()     # every layer is in results.csv; the run cannot be resumed further
    designs = ", each layer on its own co-designed chip" if cfg.codesign else ""
    console.info(f"total latency {totals['total_latency_cycles']} cycles, energy "
                 f"{totals['total_energy_nj']:.6g} nJ over {totals['layers']} layers{designs}; "
                 f"results in {outdir}")
    if failed:
        return Outcome(1, outdir, f"no feasible mapping after {cfg.num_pop * cfg.epochs} samples "
                                  f"each for layer(s) {'; '.join(failed)}; their rows in "
                                  f"{outdir}/results.csv show the closest candidate (feasible=False). "
                                  "Try a larger --num_pop/--epochs, or what the cause suggests.")
    return Outcome(0, outdir)


def layer_line(job, result, hw, cfg, restored: bool = False) -> str:
    """One line describing a layer's result."""
    from gamma.report import gap_text

    s = result.best_scores
    same = f" (also layers {', '.join(map(str, job.indices[1:]))})" if len(job.indices) > 1 else ""
    flag = "" if result.feasible else "  NO FEASIBLE MAPPING"
    source = ", from the checkpoint" if restored else ""
    pes = s.get("num_pes", hw.num_pes)
    design = f"{pes} PEs, area {s['area']:.0f} µm², " if cfg.codesign else ""
    return (f"layer {job.key}{same}: {result.layer.describe()}: {design}latency "
            f"{s['runtime']:.0f} cycles ({gap_text(result)}), energy "
            f"{s['energy_nj']:.4g} nJ, L1 {s['l1_size_req']}, L2 {s['l2_size_req']}, "
            f"{result.samples} samples, {result.seconds:.2f}s{source}{flag}")


def infeasible_cause(best: dict, hw, cfg, closest_trusted: dict | None = None) -> str:
    """Why the closest candidate of a search is infeasible, with the amounts (one phrase).

    ``closest_trusted`` (:attr:`~gamma.search.results.LayerResult.closest_trusted`):
    when the closest candidate's analysis is not trusted but a trusted one was
    scored, the limits that one exceeds are the cause."""
    from gamma.costmodel import reason_text

    if not best["valid"]:
        return f"the cost model rejects every candidate: {reason_text(int(best['reason']))}"
    if closest_trusted is not None:
        return (f"{_over_limits(closest_trusted, hw, cfg)} for the closest candidate whose "
                "analysis is trusted (the closer ones are not analysed exactly)")
    if cfg.trust != "any" and not best["exact_analysis"]:
        return (f"no candidate MAESTRO analyses exactly: the closest counts {int(best['macs']):,} "
                f"MACs for the layer's {int(best['true_macs']):,} (--allow_inexact accepts it)")
    if cfg.trust == "exact" and best["undercount"]:
        return (f"the closest candidate's runtime {int(best['runtime']):,} is below its busiest "
                f"PE's {int(best['busiest_pe_macs']):,} MACs (--allow_undercount accepts it)")
    return _over_limits(best, hw, cfg)


def _over_limits(scores: dict, hw, cfg) -> str:
    """The limits a candidate exceeds, with the amounts."""
    over = [f"{name} needs {int(need):,} > {int(limit):,} (+{int(need - limit):,})"
            for name, need, limit in (("L1", scores["l1_size_req"], hw.l1_limit),
                                      ("L2", scores["l2_size_req"], hw.l2_limit)) if need > limit]
    if cfg.area_budget and scores["area"] > cfg.area_budget_um2:
        over.append(f"area {scores['area'] / 1e6:.4g} mm² > budget {cfg.area_budget:g} mm²")
    return ", ".join(over) or "over the hardware limits"
