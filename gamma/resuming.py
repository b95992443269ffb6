"""Resuming an interrupted run: its settings from run.yaml, and the checks that it can continue.

A resumed run keeps every setting that decides the results; only execution
settings (:data:`EXECUTION_SETTINGS`: workers, checkpoints, output verbosity)
may change.  The model file, the constraint and the hardware must be as they
were: :func:`check_resumable` refuses otherwise, with the reason.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gamma.errors import GammaInputError
from gamma.flags import build_search_parser

#: Settings that do not change the results: a resumed run may use other values.
EXECUTION_SETTINGS = frozenset({"jobs", "scheduler", "checkpoint_every", "log_level", "no_plots",
                                "overwrite", "resume", "outdir"})


def _flag(dest: str) -> str:
    return "--" + dest


def resume_settings(resume: str, given: dict) -> tuple[argparse.Namespace, dict]:
    """The settings of the run in folder ``resume``, with the execution settings of ``given``.

    ``given`` holds the settings given for this run (flag dest -> value, e.g.
    :func:`gamma.flags.explicit_flags` of a command line).  Returns the
    namespace to run with and the folder's run.yaml.  Raises
    :class:`GammaInputError` if the folder holds no gamma run, or if
    ``given`` would change a setting that decides the results.
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
    merged = {}
    for action in build_search_parser()._actions:
        dest = action.dest
        if dest == "help" or action.default is argparse.SUPPRESS:    # --help, --slevel
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
    if saved.get("ga_params"):
        merged["ga_params"] = saved["ga_params"]     # GAParams given from Python
    for dest in EXECUTION_SETTINGS & given.keys():
        merged[dest] = given[dest]
    if "jobs" in given and "scheduler" not in given:
        merged["scheduler"] = None  # --jobs N: run locally this time
    merged.update(outdir=str(outdir), resume=str(outdir), overwrite=False)
    return argparse.Namespace(**merged), previous


def check_resumable(previous: dict, settings: dict, hw_dict: dict, run_file: Path) -> None:
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
