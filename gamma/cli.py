"""Command line: GAMMA's flags, plus sub-commands.

``python main.py [flags]`` searches mappings for every layer of a model;
``python main.py evaluate --mapping_file F.m --hw_file HW`` scores MAESTRO
mapping files.  Input errors become one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import logging
import sys

from gamma.errors import GammaInputError

OBJECTIVES = ("latency", "energy", "power", "EDP", "area")

log = logging.getLogger("gamma")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit status 2."""

    def error(self, message):
        raise GammaInputError(message)


def _positive_int(flag):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} expects a whole number, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag} must be at least 1, got {value}")
        return value
    return parse


def _size_or_unset(flag):
    """Sizes and bandwidths: positive, or -1/0 meaning "take it from the config"."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} expects a whole number, got {text!r}") from None
        if value < -1:
            raise argparse.ArgumentTypeError(
                f"{flag} must be positive (or -1 to keep the hardware config's value), got {value}")
        return value
    return parse


def build_search_parser() -> argparse.ArgumentParser:
    """The parser of the main job (mapping search), with GAMMA's flag names."""
    p = _Parser(
        prog="gamma",
        description="Search the mapping (tiling, loop order, parallelism, clustering) of every layer "
                    "of a DNN on an accelerator, scored by a MAESTRO-compatible cost model. "
                    "Sub-command: 'gamma evaluate --help' scores MAESTRO mapping files.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    w = p.add_argument_group("workload")
    w.add_argument("--model", default="resnet18",
                   help="model zoo name (data/model/<name>.csv) or path to a model CSV")
    w.add_argument("--singlelayer", type=int, default=0,
                   help="search only this layer (1-based row of the model file); 0 = not used")
    w.add_argument("--num_layer", type=int, default=0,
                   help="search only the first N layers; 0 = all layers")
    h = p.add_argument_group("hardware (flags override the --hwconfig file)")
    h.add_argument("--hwconfig", default="edge",
                   help="hardware config: a name in hwconfigs/ (edge, cloud) or a path to a YAML, "
                        "GAMMA hw_config.m or MAESTRO hardware file")
    h.add_argument("--num_pe", type=int, default=0,
                   help="number of PEs; 0 = from the config; -1 = co-design the PE count")
    h.add_argument("--l1_size", type=_size_or_unset("--l1_size"), default=-1,
                   help="L1 buffer per PE, elements; -1 = from the config")
    h.add_argument("--l2_size", type=_size_or_unset("--l2_size"), default=-1,
                   help="shared L2 buffer, elements; -1 = from the config")
    h.add_argument("--NocBW", type=_size_or_unset("--NocBW"), default=-1,
                   help="NoC bandwidth, elements/cycle; -1 = from the config")
    h.add_argument("--offchipBW", type=_size_or_unset("--offchipBW"), default=-1,
                   help="off-chip bandwidth, elements/cycle; -1 = from the config")
    s = p.add_argument_group("search")
    s.add_argument("--fitness1", choices=OBJECTIVES, default="latency",
                   help="first objective (latency: cycles; energy: nJ; power: MAESTRO units; "
                        "EDP: nJ*cycles; area: um^2)")
    s.add_argument("--fitness2", choices=OBJECTIVES, default="energy",
                   help="second objective: breaks ties of the first, or the second axis with --pareto")
    s.add_argument("--pareto", action="store_true",
                   help="true two-objective search (NSGA-II); reports the Pareto front")
    s.add_argument("--num_pop", type=_positive_int("--num_pop"), default=20,
                   help="population size (candidates per generation)")
    s.add_argument("--epochs", type=_positive_int("--epochs"), default=10,
                   help="generations")
    s.add_argument("--method", choices=("gamma", "random"), default="gamma",
                   help="search method: the genetic algorithm, or random sampling with the same budget")
    s.add_argument("--seed", type=int, default=None,
                   help="random seed (a run with the same seed and flags gives the same results); "
                        "drawn and recorded in run.yaml if omitted")
    s.add_argument("--slevel_min", type=_positive_int("--slevel_min"), default=2,
                   help="fewest levels of spatial parallelism (cluster levels) per mapping")
    s.add_argument("--slevel_max", type=_positive_int("--slevel_max"), default=2,
                   help="most levels of spatial parallelism per mapping (at most 3)")
    s.add_argument("--fixedCluster", type=int, default=0,
                   help="fix every inner level's cluster size (PEs per cluster) to this; 0 = free")
    s.add_argument("--parRS", action="store_true",
                   help="also allow R and S as parallel dimensions")
    s.add_argument("--use_factor", action="store_true",
                   help="draw tile sizes only from divisors of the dimension")
    s.add_argument("--allow_inexact", action="store_true",
                   help="accept mappings whose analysis is not exact (model MACs differ from the "
                        "layer's, or throughput above the PE count)")
    c = p.add_argument_group("constraints and co-design")
    c.add_argument("--mapping_cstr", default=None,
                   help="mapping-constraint plugin: a name in data/mapping_cstr/ or a path")
    c.add_argument("--costmodel_cstr", default="maestro_cstr",
                   help="cost-model constraint; maestro_cstr keeps R and S tiles full; '' = none")
    c.add_argument("--accel_cstr", default=None,
                   help="accelerator constraint (buffer and NoC kinds), e.g. dla_accel")
    c.add_argument("--area_budget", type=float, default=-1,
                   help="area budget in mm^2 (co-design); -1 = none")
    c.add_argument("--pe_limit", type=int, default=-1,
                   help="largest PE count in co-design (--num_pe -1)")
    o = p.add_argument_group("output")
    o.add_argument("--outdir", default=None,
                   help="results folder; default outputs/<model>-<hw>-<timestamp>")
    o.add_argument("--log_level", type=int, choices=(0, 1, 2), default=1,
                   help="0 quiet, 1 one line per layer, 2 one line per generation")
    return p


def build_evaluate_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gamma evaluate",
                description="Score MAESTRO mapping files (.m) with the cost model.")
    p.add_argument("--mapping_file", required=True, help="MAESTRO mapping file (.m)")
    p.add_argument("--hw_file", default="edge",
                   help="hardware: a name in hwconfigs/ or a YAML, GAMMA or MAESTRO hardware file")
    p.add_argument("--out", default=None, help="write one CSV row per layer here")
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "evaluate":
            return _run_evaluate(build_evaluate_parser().parse_args(argv[1:]))
        return _run_search(build_search_parser().parse_args(argv))
    except GammaInputError as err:
        print(f"gamma: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gamma: interrupted", file=sys.stderr)
        return 130


def _run_evaluate(args) -> int:
    raise GammaInputError("evaluate: not yet available")


def _run_search(args) -> int:
    raise GammaInputError("the mapping search is not yet available")
