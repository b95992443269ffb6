"""``main.py partition``: place a whole model's layers on the chiplets of a multi-chip module.

Each distinct layer is mapped once per distinct chiplet type by the per-layer
search (:func:`gamma.runner.run_model`, cached), which gives its latency and
energy there; then a search over partitions (:mod:`gamma.partition.search`)
chooses each layer's stage and each stage's chiplet.
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from gamma.errors import GammaInputError
from gamma.partition.graph import LayerGraph, load_graph
from gamma.partition.model import CostTables, Package, Problem, hop_matrix
from gamma.partition.search import METHODS, run_method

#: Default weight storage per chiplet: 32 Mi elements (32 MiB of 8-bit weights).
DEFAULT_CHIPLET_MEM = 32 * 2**20
#: Per-layer results by (layer shape, hardware, search settings, seed): searched once per process.
_LAYER_CACHE: dict = {}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="main.py partition",
        description="Partition a model over the chiplets of a multi-chip module: which layers "
                    "run on which chiplet, in which pipeline order.")
    p.add_argument("--model", required=True,
                   help="zoo name or model CSV (a chain of layers) or ONNX file (its graph, skip "
                        "connections included)")
    p.add_argument("--chiplets", type=int, default=4, help="number of chiplets N (default 4)")
    p.add_argument("--hwconfig", default="edge",
                   help="hardware of every chiplet (name in hwconfigs/ or a file; default edge)")
    p.add_argument("--chiplet_hw", default=None, metavar="A,B,...",
                   help="different chiplets: one hardware config per chiplet, comma-separated "
                        "(overrides --hwconfig and --chiplets)")
    p.add_argument("--link_bw", type=float, default=64.0,
                   help="package-link bandwidth, elements/cycle (default 64)")
    p.add_argument("--link_latency", type=int, default=20,
                   help="package-link latency, cycles per hop (default 20)")
    p.add_argument("--link_energy", type=float, default=0.01,
                   help="package-link energy, nJ per element per hop (default 0.01: about 1.25 "
                        "pJ/bit for 8-bit elements)")
    p.add_argument("--topology", choices=("ring", "mesh"), default="mesh",
                   help="how the chiplets are joined; hops between them count (default mesh)")
    p.add_argument("--chiplet_mem", default=str(DEFAULT_CHIPLET_MEM), metavar="ELEMENTS[,...]",
                   help="weight storage per chiplet in elements, one value or one per chiplet; "
                        f"0 = unlimited (default {DEFAULT_CHIPLET_MEM}, 32 MiB of 8-bit weights)")
    p.add_argument("--objective", choices=("throughput", "latency", "energy"),
                   default="throughput", help="what to optimize (default throughput)")
    p.add_argument("--method", choices=METHODS, default="ga",
                   help="ga: genetic search with CP-SAT repair (default); random; anneal: "
                        "simulated annealing; exact: proven optimum (chain DP or CP-SAT)")
    p.add_argument("--budget", type=int, default=2000,
                   help="partitions evaluated by ga, random and anneal (default 2000)")
    p.add_argument("--partition_pop", type=int, default=32,
                   help="population of the partition search (default 32)")
    p.add_argument("--time_limit", type=float, default=60.0,
                   help="--method exact: CP-SAT seconds before the best found and its proven "
                        "bound are reported (default 60)")
    p.add_argument("--num_pop", type=int, default=40, help="per-layer mapping search population")
    p.add_argument("--epochs", type=int, default=10, help="per-layer mapping search generations")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--jobs", type=int, default=1,
                   help="worker processes for the per-layer searches (default 1)")
    p.add_argument("--outdir", default=None,
                   help="results folder; default outputs/partition-<model>-<N>x<hw>-<time>")
    p.add_argument("--overwrite", action="store_true",
                   help="write into --outdir even if it is not empty")
    p.add_argument("--no_plots", action="store_true", help="skip the figures")
    return p


# ---------------------------------------------------------------------------
# Building the problem
# ---------------------------------------------------------------------------

def _check_args(args) -> None:
    for flag, value, low in (("--chiplets", args.chiplets, 1), ("--budget", args.budget, 1),
                             ("--partition_pop", args.partition_pop, 2),
                             ("--num_pop", args.num_pop, 1), ("--epochs", args.epochs, 1),
                             ("--jobs", args.jobs, 1), ("--link_latency", args.link_latency, 0)):
        if value < low:
            raise GammaInputError(f"{flag} must be at least {low}, got {value}")
    if not args.link_bw > 0:
        raise GammaInputError(f"--link_bw must be positive (elements/cycle), got {args.link_bw}")
    if not args.link_energy >= 0:
        raise GammaInputError(f"--link_energy must be 0 or positive (nJ/element), got {args.link_energy}")
    if args.time_limit <= 0:
        raise GammaInputError(f"--time_limit must be positive seconds, got {args.time_limit}")


def chiplet_hardware(args) -> list:
    """One :class:`~gamma.hardware.Hardware` per chiplet."""
    from gamma.hardware import load_hardware

    specs = ([s.strip() for s in args.chiplet_hw.split(",")] if args.chiplet_hw
             else [args.hwconfig] * args.chiplets)
    if any(not s for s in specs):
        raise GammaInputError(f"--chiplet_hw {args.chiplet_hw}: empty entry in the list")
    loaded = {}
    for spec in dict.fromkeys(specs):
        try:
            loaded[spec] = load_hardware(spec)
        except GammaInputError as err:
            if not args.chiplet_hw:
                raise
            raise GammaInputError(f"--chiplet_hw {spec}: {err}") from None
    return [loaded[s] for s in specs], specs


def _memory(text: str, count: int) -> np.ndarray:
    try:
        values = [int(float(v)) for v in str(text).split(",")]
    except ValueError:
        raise GammaInputError(f"--chiplet_mem {text}: give whole numbers of elements, "
                              "comma-separated") from None
    if len(values) == 1:
        values *= count
    if len(values) != count or any(v < 0 for v in values):
        raise GammaInputError(f"--chiplet_mem {text}: give one value >= 0 or one per chiplet "
                              f"({count})")
    return np.array(values, dtype=np.int64)


def layer_costs(graph: LayerGraph, hardware: list, cfg, seed: int, jobs: int = 1) -> CostTables:
    """Latency (cycles) and energy (nJ) of every layer on every distinct hardware, by the
    per-layer mapping search; each (shape, hardware) is searched once per process."""
    from gamma.runner import run_model

    latency = np.zeros((graph.num_layers, len(hardware)), dtype=np.int64)
    energy = np.zeros((graph.num_layers, len(hardware)))
    for k, hw in enumerate(hardware):
        tag = (repr(hw.to_dict()), repr(cfg), seed)
        todo = [(i + 1, layer) for i, layer in enumerate(graph.layers)
                if (layer.shape_key, tag) not in _LAYER_CACHE]
        if todo:
            for job, result in run_model(todo, hw, cfg, seed, jobs=jobs):
                if not result.feasible:
                    raise GammaInputError(f"--model: layer {job.indices[0]} ({job.layer.describe()}) "
                                          f"has no valid mapping on chiplet hardware {hw.name}")
                _LAYER_CACHE[(job.layer.shape_key, tag)] = (int(result.best_scores["runtime"]),
                                                            float(result.best_scores["energy"]))
        for i, layer in enumerate(graph.layers):
            latency[i, k], energy[i, k] = _LAYER_CACHE[(layer.shape_key, tag)]
    return CostTables(latency, energy)


def build_problem(args, graph: LayerGraph | None = None) -> Problem:
    """The graph, the package and the per-layer costs of the command's flags."""
    from gamma.search.config import GAConfig

    _check_args(args)
    graph = load_graph(args.model) if graph is None else graph
    hardware, specs = chiplet_hardware(args)
    kinds_of = list(dict.fromkeys(specs))
    count = len(specs)
    memory = _memory(args.chiplet_mem, count)
    cap = np.where(memory > 0, memory, np.iinfo(np.int64).max)
    too_big = np.flatnonzero(graph.weights > cap.max())
    if len(too_big):
        i = int(too_big[0])
        raise GammaInputError(f"--chiplet_mem: layer {i + 1} ({graph.layers[i].describe()}) has "
                              f"{int(graph.weights[i])} weight elements; no chiplet holds more "
                              f"than {int(cap.max())}")
    if memory.min() > 0 and graph.weights.sum() > memory.sum():
        raise GammaInputError(f"--chiplet_mem: the model's weights ({int(graph.weights.sum())} "
                              f"elements) exceed the {count} chiplets' memory ({int(memory.sum())})")
    package = Package(kinds=np.array([kinds_of.index(s) for s in specs], dtype=np.int64),
                      kind_names=tuple(hardware[specs.index(s)].name for s in kinds_of),
                      memory=memory, hops=hop_matrix(count, args.topology),
                      link_bw=float(args.link_bw), link_latency=int(args.link_latency),
                      link_energy=float(args.link_energy), topology=args.topology)
    cfg = GAConfig(num_pop=args.num_pop, epochs=args.epochs)
    costs = layer_costs(graph, [hardware[specs.index(s)] for s in kinds_of], cfg, args.seed,
                        args.jobs)
    return Problem(graph, package, costs)


def run(args) -> int:
    """Run ``main.py partition``; returns the exit status."""
    from gamma.partition.outputs import write_outputs
    from gamma.report import prepare_outdir

    start = time.perf_counter()
    problem = build_problem(args)
    outdir = args.outdir or _default_outdir(args)
    outdir = prepare_outdir(outdir, args.overwrite)
    mappings = outdir / "mappings"
    if mappings.is_dir() and not any(mappings.iterdir()):
        mappings.rmdir()        # made for per-layer mapping files; a partition run has none
    result = run_method(problem, args.method, args.objective, args.budget, args.seed,
                        time_limit=args.time_limit, num_pop=args.partition_pop)
    if not result.scores["valid"]:
        raise GammaInputError(f"--method {args.method}: no valid partition among "
                              f"{result.evaluations} evaluated (the weights fit only few "
                              "partitions); raise --budget or --chiplet_mem, or use --method ga")
    summary = write_outputs(problem, result, outdir, args, plots=not args.no_plots)
    print(f"{args.method}: {summary['throughput_per_mcycle']:.4g} inferences per Mcycle, "
          f"latency {summary['latency_cycles']:.4g} cycles, energy {summary['energy_nj']:.4g} nJ "
          f"on {summary['stages']} stage(s) ({result.evaluations} partitions evaluated, "
          f"{time.perf_counter() - start:.1f} s); wrote {outdir}")
    return 0


def _default_outdir(args) -> Path:
    model = Path(str(args.model)).stem
    hw = "mixed" if args.chiplet_hw else Path(str(args.hwconfig)).stem
    count = len(args.chiplet_hw.split(",")) if args.chiplet_hw else args.chiplets
    return Path("outputs") / f"partition-{model}-{count}x{hw}-{datetime.now():%Y%m%d-%H%M%S}"
