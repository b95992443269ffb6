"""Command line: GAMMA's flags, plus sub-commands.

``python main.py [flags]`` searches mappings for every layer of a model;
``python main.py evaluate --mapping_file F.m --hw_file HW`` scores MAESTRO
mapping files; ``python main.py partition`` splits a model over the chiplets
of a multi-chip module (:mod:`gamma.partition`).  Input errors become one line
on stderr and exit status 2.

Distinct layers are searched in parallel (``--jobs N``, default all cores) or
on a Dask cluster (``--scheduler tcp://HOST:PORT``), with the same results.
Finished layers and, every ``--checkpoint_every`` generations (default: 5,
at least a second apart), running layers' search states are saved in the
run's folder, ``checkpoints/``;
``python main.py --resume RUN_FOLDER`` continues an interrupted run (Ctrl-C,
SIGTERM or a crash) with the settings of its ``run.yaml``.
"""
from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from contextlib import suppress
from pathlib import Path
from typing import NoReturn

from gamma.errors import GammaInputError
from gamma.flags import (
    build_evaluate_parser,
    build_import_onnx_parser,
    build_report_parser,
    build_search_parser,
)
from gamma.partition.command import build_parser as build_partition_parser
from gamma.partition.command import run as run_partition
from gamma.run import infeasible_cause, load_layers  # noqa: F401  (the command line's helpers)

log = logging.getLogger("gamma")

#: Exit status when the output's reader goes away: 128 + SIGPIPE, as a shell
#: reports a tool killed by that signal.
SIGPIPE_STATUS = 141


SUBCOMMANDS = {
    "evaluate": (build_evaluate_parser, lambda args, argv: _run_evaluate(args)),
    "import-onnx": (build_import_onnx_parser, lambda args, argv: _run_import_onnx(args)),
    "report": (build_report_parser, lambda args, argv: _run_report(args)),
    "partition": (build_partition_parser, lambda args, argv: run_partition(args)),
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
    except BrokenPipeError:
        # The reader of the output went away (``| head``): stop quietly, as a tool
        # killed by SIGPIPE does, and send what is still buffered nowhere.
        with suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_STATUS
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)


def run(argv=None) -> NoReturn:
    """:func:`main` as a process's entry point (``main.py``, the ``gamma`` command).

    Exits with its status once the exit handlers have run and the output is
    flushed, without the interpreter's teardown of every module: after numba
    has compiled or loaded a kernel that teardown takes about 0.3 s, 6 % of a
    whole-model search at 200 x 50, and releases nothing a file depends on.
    An exception (``--help``, a bug) ends the process the usual way.
    """
    code = main(argv)
    atexit._run_exitfuncs()         # logging's flush, temporary folders, worker pools
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):     # a closed pipe or stream takes nothing more
            stream.flush()
    os._exit(code)


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

    from gamma.evaluation import evaluate_mapping_file, format_summary
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
    table: pd.DataFrame = evaluate_mapping_file(mapping, hw, args.dataflow,
                                                analysis=args.analysis)
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


def _run_search(args, argv=()) -> int:
    from gamma.flags import explicit_flags
    from gamma.resuming import resume_settings
    from gamma.run import execute

    logging.basicConfig(level=logging.WARNING, format="gamma: %(levelname)s: %(message)s")
    previous = None
    if args.resume is not None:
        args, previous = resume_settings(args.resume, explicit_flags(argv))
        if previous.get("status") == "done":
            print(f"gamma: {args.outdir} is already complete (status done in its run.yaml); "
                  "nothing to resume")
            return 0
    outcome = execute(args, previous)
    if outcome.message:
        label = "gamma: " if outcome.code == 130 else "gamma: error: "
        print(label + outcome.message, file=sys.stderr)
    return outcome.code
