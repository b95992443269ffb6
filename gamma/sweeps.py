"""Many runs in one output folder: a subfolder per run and an append-only index.

GAMMA's scripts sweep configurations into one ``--outdir``, and GAMMA gives each
experiment its own subfolder, named from its settings.  So does this: a run's
files go to ``<outdir>/<run name>/`` (:func:`run_name`, GAMMA's experiment name
plus the hardware and the seed), and each run that ends adds one line to
``<outdir>/runs.csv`` (:func:`record_run`).  Nothing of another run is ever
deleted: a run whose name is taken gets a numbered folder of its own, and
``--overwrite`` replaces only the folder of the run with this very name.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

from gamma.errors import GammaInputError

#: Columns of ``runs.csv``, one row per run that ended (done, interrupted or failed).
INDEX_COLUMNS = ("run", "status", "started", "ended", "model", "layers", "hwconfig", "fitness1",
                 "fitness2", "num_pop", "epochs", "seed", "total_latency_cycles",
                 "total_energy_nj", "infeasible_layers")


def run_name(settings: dict, hw_name: str) -> str:
    """The run's folder name, GAMMA's experiment name with the hardware and the seed, e.g.
    ``GAMMA_vgg16-Lay1_SL-2-2_F1-latency_GEN-10_POP-20_Area--1.0_MaxPEs--1_HW-edge_Seed-7``."""
    s = settings
    model = Path(str(s["model"])).stem
    layers = (f"-Lay{s['singlelayer']}" if s.get("singlelayer", 0) > 0
              else f"-nLay{s['num_layer']}" if s.get("num_layer", 0) > 0 else "")
    parts = [f"GAMMA_{model}{layers}", f"SL-{s['slevel_min']}-{s['slevel_max']}"]
    if s.get("fixedCluster", 0) > 0:
        parts.append(f"FixCl-{s['fixedCluster']}")
    parts += [f"F1-{s['fitness1']}", f"GEN-{s['epochs']}", f"POP-{s['num_pop']}",
              f"Area-{float(s.get('area_budget', -1))}", f"MaxPEs-{s.get('pe_limit', -1)}"]
    for key, label in (("num_pe", "FixedPE"), ("l2_size", "L2Size"), ("l1_size", "L1Size")):
        if s.get(key, -1) > 0:
            parts.append(f"{label}-{s[key]}")
    if s.get("use_factor"):
        parts.append("factorOnly")
    if s.get("costmodel_cstr"):
        parts.append(f"CostModelCstr-{s['costmodel_cstr']}")
    if s.get("mapping_cstr"):    # a file's stem, or the last part of a dotted name
        name = str(s["mapping_cstr"])
        stem = Path(name).stem if name.endswith((".py", ".yaml", ".yml")) else name.split(".")[-1]
        parts.append(f"MapCstr-{stem}")
    if s.get("method", "gamma") != "gamma":
        parts.append(f"Method-{s['method']}")
    parts += [f"HW-{hw_name}", f"Seed-{s['seed']}"]
    return "_".join(parts)


def new_run_folder(sweep: Path, name: str, overwrite: bool = False) -> Path:
    """Create and return the folder of a new run named ``name`` in ``sweep``.

    If a run of that name is already there: with ``overwrite`` its folder is
    replaced; otherwise the new run gets ``<name>_run2`` (``_run3``, ...).
    """
    sweep = Path(sweep)
    if sweep.exists() and not sweep.is_dir():
        raise GammaInputError(f"--outdir: {sweep} exists and is not a folder")
    folder = sweep / name
    if folder.exists() and overwrite:
        shutil.rmtree(folder)
    number = 1
    while folder.exists():
        number += 1
        folder = sweep / f"{name}_run{number}"
    (folder / "mappings").mkdir(parents=True)
    return folder


def record_run(sweep: Path, row: dict) -> None:
    """Append one line to ``sweep/runs.csv`` (written with its header if new).

    One ``write`` of one line in append mode: runs that end at the same time
    into the same folder do not interleave their lines.
    """
    path = Path(sweep) / "runs.csv"
    line = io.StringIO()
    csv.writer(line).writerow([row.get(column, "") for column in INDEX_COLUMNS])
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.write(fd, (",".join(INDEX_COLUMNS) + "\n").encode())
        os.close(fd)
    except FileExistsError:
        pass
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(line.getvalue())
