"""Command line: GAMMA's flags, plus sub-commands.

``python main.py [flags]`` searches mappings for every layer of a model;
``python main.py evaluate --mapping_file F.m --hw_file HW`` scores MAESTRO
mapping files.  Input errors become one line on stderr and exit status 2.

Distinct layers are searched in parallel (``--jobs N``, default all cores) or
on a Dask cluster (``--scheduler tcp://HOST:PORT``), with the same results.
Finished layers and, every ``--checkpoint_every`` generations, running
layers' search states are saved in ``<outdir>/checkpoints``;
``python main.py --resume OUTDIR`` continues an interrupted run (Ctrl-C,
SIGTERM or a crash) with the settings of ``OUTDIR/run.yaml``.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from gamma.errors import GammaInputError
from gamma.files import plain
from gamma.flags import (
    build_evaluate_parser,
    build_import_onnx_parser,
    build_report_parser,
    build_search_parser,
)

log = logging.getLogger("gamma")


SUBCOMMANDS = {
    "evaluate": (build_evaluate_parser, lambda args, argv: _run_evaluate(args)),
    "import-onnx": (build_import_onnx_parser, lambda args, argv: _run_import_onnx(args)),
    "report": (build_report_parser, lambda args, argv: _run_report(args)),
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    previous_handler = _sigterm_as_interrupt()
    try:
        if argv and argv[0] in SUBCOMMANDS:
            build, run = SUBCOMMANDS[argv[0]]
            return run(build().parse_args(argv[1:]), argv[1:])
        return _run_search(build_search_parser().parse_args(argv), argv)
    except GammaInputError as err:
        print(f"gamma: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gamma: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _sigterm_as_interrupt():
    """Treat SIGTERM (a batch system's stop) as Ctrl-C, so finished layers are kept.

    Returns the previous handler, or None if not in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _interrupt)


def _run_evaluate(args) -> int:
    import pandas as pd

    from gamma.evaluate import evaluate_mapping_file, format_summary
    from gamma.hardware import load_hardware

    if args.mapping and args.mapping_file and args.mapping != args.mapping_file:
        raise GammaInputError(f"evaluate: two mapping files given ({args.mapping} and --mapping_file "
                              f"{args.mapping_file}); give one")
    mapping = args.mapping or args.mapping_file
    if not mapping:
        raise GammaInputError("evaluate: give the MAESTRO mapping file (.m): "
                              "main.py evaluate FILE.m [--hw_file edge]")
    if not Path(mapping).is_file():
        raise GammaInputError(f"evaluate: mapping file {mapping} does not exist")
    hw = load_hardware(args.hw_file)
    table: pd.DataFrame = evaluate_mapping_file(mapping, hw, args.dataflow)
    print(format_summary(table))
    if args.out:
        table.to_csv(args.out, index=False)
    failed = int((~table["Valid"].astype(bool)).sum())
    if failed:
        print(f"gamma: {failed} of {len(table)} layers could not be evaluated (see WARNING lines"
              f"{' and the Reason column of ' + args.out if args.out else ''})", file=sys.stderr)
        return 1
    return 0


def _run_import_onnx(args) -> int:
    from gamma.onnx_import import import_onnx_to_csv, summarize_skipped

    layers, skipped = import_onnx_to_csv(args.onnx_file, args.output)
    print(f"wrote {len(layers)} layers to {args.output}")
    if skipped:
        print(summarize_skipped(skipped))
    return 0


def _run_report(args) -> int:
    from gamma.report_html import write_report_html

    outdir = Path(args.outdir)
    if not (outdir / "run.yaml").is_file() and not (outdir / "results.csv").is_file():
        raise GammaInputError(f"report: {outdir} is not a results folder (no run.yaml or results.csv)")
    print(f"wrote {write_report_html(outdir)}")
    return 0


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


# ---------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------

def _hardware(args):
    from gamma.hardware import load_hardware

    hw = load_hardware(args.hwconfig)
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
    return GAConfig(num_pop=args.num_pop, epochs=args.epochs, fitness1=args.fitness1,
                    fitness2=args.fitness2, pareto=args.pareto, method=args.method,
                    slevel_min=args.slevel_min, slevel_max=args.slevel_max,
                    fixed_cluster=args.fixedCluster, par_rs=args.parRS,
                    use_factor=args.use_factor, constraint=constraint,
                    trust=trust_level(args),
                    area_budget=args.area_budget if args.area_budget > 0 else 0.0,
                    time_limit=args.time_limit)


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
    if args.method != "exhaustive":
        return
    if args.fitness1 != "latency" or args.pareto:
        raise GammaInputError("--method exhaustive proves the optimum latency: it needs "
                              "--fitness1 latency and no --pareto")
    if args.num_pe == -1:
        raise GammaInputError("--method exhaustive searches mappings on fixed hardware; it does "
                              "not co-design the PE count (--num_pe -1)")


# ---------------------------------------------------------------------------
# Parallel runs and resuming
# ---------------------------------------------------------------------------

#: Seconds to wait for ``--scheduler`` (and for its first worker) before giving up.
SCHEDULER_TIMEOUT_S = 10

#: Settings that do not change the results: a resumed run may use other values.
EXECUTION_SETTINGS = frozenset({"jobs", "scheduler", "checkpoint_every", "log_level", "no_plots",
                                "overwrite", "resume", "outdir"})


def _explicit_flags(argv) -> dict:
    """The settings given on the command line ``argv`` (dest -> value), without defaults."""
    parser = build_search_parser()
    for action in parser._actions:
        if action.dest != "help":
            action.default = argparse.SUPPRESS
    return vars(parser.parse_args(argv))


def _flag(dest: str) -> str:
    return "--" + dest


def resume_settings(resume: str, argv) -> tuple[argparse.Namespace, dict]:
    """The settings of the run in folder ``resume``, with this command line's execution flags.

    Returns the namespace to run with and the folder's run.yaml.  Raises
    :class:`GammaInputError` if the folder holds no gamma run, or if a flag
    of ``argv`` would change a setting that decides the results.
    """
    import yaml

    outdir = Path(resume)
    run_file = outdir / "run.yaml"
    if not run_file.is_file():
        raise GammaInputError(f"--resume {resume}: {run_file} does not exist; pass the results "
                              "folder of an earlier run (the folder holding its run.yaml)")
    try:
        previous = yaml.safe_load(run_file.read_text())
    except yaml.YAMLError as err:
        raise GammaInputError(f"--resume: {run_file} is not valid YAML ({str(err).splitlines()[0]}); "
                              "it was not written by gamma, or was edited") from None
    saved = previous.get("settings") if isinstance(previous, dict) else None
    if not isinstance(saved, dict):
        raise GammaInputError(f"--resume: {run_file} has no 'settings' section; it was not "
                              "written by gamma")
    given = _explicit_flags(argv)
    merged = {}
    for action in build_search_parser()._actions:
        dest = action.dest
        if dest == "help":
            continue
        merged[dest] = saved.get(dest, action.default)
        if dest not in given or dest in EXECUTION_SETTINGS:
            continue
        if given[dest] != merged[dest]:
            raise GammaInputError(
                f"--resume: {_flag(dest)} {given[dest]} differs from the interrupted run's "
                f"{_flag(dest)} {merged[dest]} (in {run_file}); a resumed run keeps the settings it "
                f"started with: drop {_flag(dest)}, or start a new run in another --outdir")
    if "outdir" in given and Path(given["outdir"]).resolve() != outdir.resolve():
        raise GammaInputError(f"--resume {resume} writes into that folder; --outdir "
                              f"{given['outdir']} names another one: drop --outdir")
    for dest in EXECUTION_SETTINGS & given.keys():
        merged[dest] = given[dest]
    if "jobs" in given and "scheduler" not in given:
        merged["scheduler"] = None  # --jobs N: run locally this time
    merged.update(outdir=str(outdir), resume=str(outdir), overwrite=False)
    return argparse.Namespace(**merged), previous


def _check_resumable(previous: dict, settings: dict, hw_dict: dict, run_file: Path) -> None:
    """Refuse to resume if the model file, layers, constraint or hardware changed since."""
    saved = previous["settings"]
    for key, what in (("model_sha256", f"the model file {settings['model_file']}"),
                      ("layers", "the selected layers"),
                      ("constraint", "the mapping constraint (plugin files)")):
        if key in saved and saved[key] != settings[key]:
            raise GammaInputError(f"--resume: {what} changed since the run started ({key} in "
                                  f"{run_file} differs); restore it, or start a new run in "
                                  "another --outdir")
    old = previous.get("hardware") or {}
    for key in sorted(set(old) | set(hw_dict)):
        if old.get(key) != hw_dict.get(key):
            raise GammaInputError(
                f"--resume: the hardware {key} is {hw_dict.get(key)!r} now but "
                f"{old.get(key)!r} in {run_file}; the --hwconfig file {settings['hwconfig']} "
                "changed since the run started: restore it, or start a new run in another --outdir")


def dask_client(address: str, timeout: float | None = None):
    """A ``distributed.Client`` on the scheduler at ``address`` with at least one worker."""
    timeout = SCHEDULER_TIMEOUT_S if timeout is None else timeout
    try:
        from distributed import Client
    except ImportError:
        raise GammaInputError(f"--scheduler {address}: Dask is not installed; install it with "
                              "pip install -e .[dask]  (or pip install 'dask[distributed]')") from None
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise GammaInputError(f"--scheduler {address}: cannot reach a Dask scheduler within "
                              f"{timeout:g} s ({reason}); start one with 'dask scheduler' and pass "
                              "its address, tcp://HOST:PORT") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError):
        client.close()
        raise GammaInputError(f"--scheduler {address}: the scheduler has no workers after "
                              f"{timeout:g} s; start some with 'dask worker {address}'") from None
    return client


def _file_sha256(path) -> str:
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _run_search(args, argv=()) -> int:
    import os

    import numpy as np

    from gamma import report, runner
    from gamma.constraints import describe_constraint
    from gamma.workload import resolve_model

    logging.basicConfig(level=logging.WARNING, format="gamma: %(levelname)s: %(message)s")
    from gamma.plugins import check_against, lower_layer

    previous = None
    if args.resume is not None:
        args, previous = resume_settings(args.resume, argv)
        if previous.get("status") == "done":
            print(f"gamma: {args.outdir} is already complete (status done in its run.yaml); "
                  "nothing to resume")
            return 0
    if args.checkpoint_every < 0:
        raise GammaInputError(f"--checkpoint_every must be 0 (only finished layers) or a number "
                              f"of generations, got {args.checkpoint_every}")
    if args.scheduler and args.jobs is not None and args.resume is None:
        log.warning("--jobs %d is ignored with --scheduler: the Dask workers run the searches",
                    args.jobs)
    if args.jobs is None:
        args.jobs = os.cpu_count() or 1
    hw = _hardware(args)
    plugin = constraint_plugin(args)
    cfg = search_config(args, hw.num_pes, plugin.constraint)
    layers = load_layers(args.model)
    if plugin.lower_to_gemm:
        layers = [lower_layer(layer) for layer in layers]
    selected = runner.select_layers(layers, singlelayer=args.singlelayer, num_layer=args.num_layer)
    for _, layer in selected:
        check_against(plugin, layer, hw)
    if args.num_pe == -1:
        cfg, hw = _codesign_setup(args, hw, cfg, selected)
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**32)
    model_file = resolve_model(args.model)
    settings_extra = {"model_file": str(model_file), "model_sha256": _file_sha256(model_file),
                      "seed": seed, "layers": [i for i, _ in selected],
                      "constraint": describe_constraint(cfg.constraint),
                      "constraint_source": plugin.source, "lower_to_gemm": plugin.lower_to_gemm,
                      "sample_budget_per_layer": cfg.num_pop * cfg.epochs}
    if previous is not None:
        outdir = Path(args.outdir)
        settings = {**vars(args), **settings_extra, "outdir": str(outdir)}
        _check_resumable(previous, settings, plain(hw.to_dict()), outdir / "run.yaml")
        (outdir / "mappings").mkdir(parents=True, exist_ok=True)
    else:
        outdir = Path(args.outdir or report.default_outdir(args.model, hw.name))
        settings = {**vars(args), **settings_extra, "outdir": str(outdir)}
    client = dask_client(args.scheduler) if args.scheduler else None
    try:
        if previous is None:
            outdir = report.prepare_outdir(outdir, args.overwrite)
        if args.num_pe == -1 and args.codesign == "model":
            return _codesign_model(args, hw, cfg, selected, seed, outdir, settings)
        return _search(args, hw, cfg, selected, seed, outdir, settings, previous, client)
    finally:
        if client is not None:
            client.close()


def _codesign_setup(args, hw, cfg, selected):
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
    info = print if args.log_level >= 1 else None
    cfg = codesign.layer_codesign_config([layer for _, layer in selected], hw, cfg,
                                         pe_limit=max(args.pe_limit, 0), info=info)
    return cfg, hw.replace(num_pes=cfg.pe_limit)


def _codesign_model(args, hw, cfg, selected, seed, outdir, settings) -> int:
    """``--num_pe -1 --codesign model``: one accelerator for all layers (gamma.codesign_model)."""
    from gamma import codesign_model as codesign
    from gamma import report

    info = print if args.log_level >= 1 else None
    mcfg = codesign.ModelCodesignConfig(objective=args.fitness1,
                                        polish=(args.num_pop, args.epochs))
    result = codesign.codesign_model(selected, hw, cfg, mcfg, seed=seed,
                                     pe_limit=max(args.pe_limit, 0), info=info)
    rep = report.RunReport(outdir, result.hardware, {**settings, "codesign_totals": result.totals},
                           fitness=(cfg.fitness1, cfg.fitness2))
    for group, res in zip(result.groups, result.results, strict=True):
        rep.add(group.indices, res)
    codesign.write_pareto(result, outdir, png_dir=outdir / "plots")
    totals = rep.finish(plots=not args.no_plots)
    t = result.totals
    if args.log_level >= 1:
        print(f"chosen hardware: {t['num_pes']} PEs, L1 {t['l1_size']} elements/PE, L2 "
              f"{t['l2_size']} elements, area {t['area_um2']:.0f} µm² (PEs {t['area_pe_um2']:.0f}, "
              f"L1 {t['area_l1_um2']:.0f}, L2 {t['area_l2_um2']:.0f}; budget "
              f"{cfg.area_budget_um2:.0f}); model latency {totals['total_latency_cycles']} cycles, "
              f"energy {totals['total_energy_nj']:.6g} nJ; {result.seconds:.1f}s; results in {outdir}")
    if not t["feasible"]:
        print("gamma: error: the whole-model design does not meet every limit; see "
              f"{outdir}/results.csv (feasible=False)", file=sys.stderr)
        return 1
    return 0


def _search(args, hw, cfg, selected, seed, outdir, settings, previous, client) -> int:
    from gamma import report, runner
    from gamma.objectives import OBJECTIVE_UNITS

    rep = report.RunReport(outdir, hw, settings, pareto=cfg.pareto,
                           fitness=(cfg.fitness1, cfg.fitness2), previous=previous)
    jobs = runner.group_layers(selected)
    workers = client if client is not None else args.jobs
    in_process = client is None and (args.jobs == 1 or len(jobs) == 1)
    bar = runner.ProgressBar(len(jobs) * cfg.num_pop * cfg.epochs,
                             enabled=None if args.log_level else False)
    unit1 = OBJECTIVE_UNITS[cfg.fitness1]
    checkpoints = runner.Checkpoints(outdir / "checkpoints", every=args.checkpoint_every)

    def on_generation(job, record):
        bar.advance(cfg.num_pop, f"layer {job.key}")
        if args.log_level >= 2:
            best = record[f"best_{cfg.fitness1}"]
            print(f"layer {job.key} gen {record['generation']}: best {cfg.fitness1} {best:.6g} "
                  f"{unit1}, feasible {100 * record['feasible_fraction']:.0f}%, "
                  f"samples {record['samples']}", flush=True)

    failed = []

    def on_result(job, result, restored=False):
        rep.add(job.indices, result)
        if restored or not in_process:
            bar.advance(cfg.num_pop * cfg.epochs, f"layer {job.key}")
        if not result.feasible:
            failed.append(f"{job.key} ({infeasible_cause(result.best_scores, hw, cfg)})")
        if args.log_level >= 1:
            s = result.best_scores
            same = f" (also layers {', '.join(map(str, job.indices[1:]))})" if len(job.indices) > 1 else ""
            flag = "" if result.feasible else "  NO FEASIBLE MAPPING"
            source = ", from the checkpoint" if restored else ""
            if bar.enabled:
                bar.stream.write("\n")
            pes = s.get("num_pes", hw.num_pes)
            design = (f"{pes} PEs, area {s['area']:.0f} µm², " if cfg.codesign else "")
            print(f"layer {job.key}{same}: {result.layer.describe()}: {design}latency "
                  f"{s['runtime']:.0f} cycles ({report.gap_text(result)}), energy "
                  f"{s['energy_nj']:.4g} nJ, L1 {s['l1_size_req']}, L2 {s['l2_size_req']}, "
                  f"{result.samples} samples, {result.seconds:.2f}s{source}{flag}", flush=True)

    try:
        runner.run_model(selected, hw, cfg, seed, workers=workers, on_result=on_result,
                         on_generation=on_generation if in_process else None,
                         checkpoints=checkpoints,
                         on_restored=lambda job, result: on_result(job, result, restored=True))
    except KeyboardInterrupt:
        bar.close()
        hint = f"continue with: python main.py --resume {outdir}"
        rep.finish(status="interrupted", plots=False, note=hint)
        print(f"gamma: interrupted; {len(rep.rows)} of {len(selected)} layers are finished and "
              f"kept in {outdir}; {hint}", file=sys.stderr)
        return 130
    except BaseException as err:
        bar.close()
        rep.finish(status="failed", plots=False, note=f"{type(err).__name__}: {err}")
        if client is not None and isinstance(err, ModuleNotFoundError):
            raise GammaInputError(f"--scheduler: a Dask worker cannot import {err.name!r}; install "
                                  "gamma (pip install -e .) in every worker's environment") from None
        raise
    bar.close()
    totals = rep.finish(plots=not args.no_plots)
    checkpoints.clear()     # every layer is in results.csv; the run cannot be resumed further
    if args.log_level >= 1:
        print(f"total latency {totals['total_latency_cycles']} cycles, energy "
              f"{totals['total_energy_nj']:.6g} nJ over {totals['layers']} layers; results in {outdir}")
    if failed:
        print(f"gamma: error: no feasible mapping after {cfg.num_pop * cfg.epochs} samples each "
              f"for layer(s) {'; '.join(failed)}; their rows in {outdir}/results.csv show the "
              "closest candidate (feasible=False). Try a larger --num_pop/--epochs, or what the "
              "cause suggests.", file=sys.stderr)
        return 1
    return 0


def infeasible_cause(best: dict, hw, cfg) -> str:
    """Why the closest candidate of a search is infeasible, with the amounts (one phrase)."""
    from gamma.costmodel import reason_text

    if not best["valid"]:
        return f"the cost model rejects every candidate: {reason_text(int(best['reason']))}"
    if cfg.trust != "any" and not best["exact_analysis"]:
        return (f"no candidate MAESTRO analyses exactly: the closest counts {int(best['macs']):,} "
                f"MACs for the layer's {int(best['true_macs']):,}")
    if cfg.trust == "exact" and best["undercount"]:
        return (f"the closest candidate's runtime {int(best['runtime']):,} is below its busiest "
                f"PE's {int(best['busiest_pe_macs']):,} MACs (--allow_undercount accepts it)")
    over = [f"{name} needs {int(need):,} > {int(limit):,} (+{int(need - limit):,})"
            for name, need, limit in (("L1", best["l1_size_req"], hw.l1_limit),
                                      ("L2", best["l2_size_req"], hw.l2_limit)) if need > limit]
    if cfg.area_budget and best["area"] > cfg.area_budget_um2:
        over.append(f"area {best['area'] / 1e6:.4g} mm² > budget {cfg.area_budget:g} mm²")
    return ", ".join(over) or "over the hardware limits"
