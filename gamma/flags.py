"""The command line's flags: GAMMA's names and meanings, each with its unit in ``--help``.

One parser per command (the search, ``evaluate``, ``import-onnx``, ``report``);
:mod:`gamma.cli` runs them.  A malformed value is a one-line error naming the flag.
"""
from __future__ import annotations

import argparse

from gamma.errors import GammaInputError
from gamma.objectives import OBJECTIVES

#: ``--method`` choices: the GA, the other optimizers of ``gamma.search.blackbox``, random
#: search and the exact search.
METHODS = ("gamma", "pso", "portfolio", "oneplusone", "cma", "de", "tbpsa", "pure_ga", "random",
           "ngopt", "exhaustive")


def _method(text: str) -> str:
    """``--method``, case-insensitive, with GAMMA's spellings (``DE``, ``pureGA``, ``GA``)."""
    name = text.strip().lower()
    return {"purega": "pure_ga", "ga": "gamma"}.get(name, name)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit status 2, and flags are never
    abbreviated (``--epoch`` is not ``--epochs``: a typo must not pass as another flag)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise GammaInputError(message)


def _whole_number(flag, minimum: int, expected: str):
    """An argparse type: an int of at least ``minimum``; ``expected`` words the rule."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} expects a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{flag} must be {expected}, got {value}")
        return value
    return parse


def _plot_formats(text: str) -> str:
    """``--plot_format``: comma-separated formats among png, svg, pdf (kept as text for run.yaml)."""
    from gamma.plots import PLOT_FORMATS

    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in PLOT_FORMATS]
    if bad or not formats:
        raise argparse.ArgumentTypeError(f"--plot_format takes {', '.join(PLOT_FORMATS)} "
                                         f"(comma-separated), got {text!r}")
    return ",".join(dict.fromkeys(formats))


def _positive_int(flag):
    return _whole_number(flag, 1, "at least 1")


def _size_or_unset(flag):
    """Sizes and bandwidths: positive, or -1/0 meaning "take it from the config"."""
    return _whole_number(flag, -1, "positive (or -1 to keep the hardware config's value)")


class _BothLevels(argparse.Action):
    """``--slevel N``: the fewest and the most levels of spatial parallelism both N."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.slevel_min = namespace.slevel_max = values


def build_search_parser() -> argparse.ArgumentParser:
    """The parser of the main job (mapping search), with GAMMA's flag names."""
    p = _Parser(
        prog="gamma",
        description="Search the mapping (tiling, loop order, parallelism, clustering) of every layer "
                    "of a DNN on an accelerator, scored by a MAESTRO-compatible cost model. "
                    "Sub-command: 'gamma evaluate --help' scores MAESTRO mapping files.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _workload_flags(p.add_argument_group("workload"))
    _hardware_flags(p.add_argument_group("hardware (flags override the --hwconfig file)"))
    _search_flags(p.add_argument_group("search"))
    _constraints_flags(p.add_argument_group("constraints and co-design"))
    _execution_flags(p.add_argument_group("parallel runs, checkpoints and resuming"))
    _output_flags(p.add_argument_group("output"))
    return p


def _workload_flags(w) -> None:
    w.add_argument("--model", default="resnet18",
                   help="model zoo name (data/model/<name>.csv) or path to a model CSV")
    w.add_argument("--singlelayer", type=int, default=0,
                   help="search only this layer (1-based row of the model file); 0 = not used")
    w.add_argument("--num_layer", type=int, default=0,
                   help="search only the first N layers; 0 = all layers")


def _hardware_flags(h) -> None:
    h.add_argument("--hwconfig", default="edge",
                   help="hardware config: a name looked up in ./, ./data/HWconfigs/, then hwconfigs/ "
                        "(edge, cloud, hw_config.m), or a path to a YAML, GAMMA hw_config.m or "
                        "MAESTRO hardware file")
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


def _search_flags(s) -> None:
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
    s.add_argument("--method", type=_method, choices=METHODS, default="gamma",
                   help="search method: gamma (the genetic algorithm); the other optimizers at the "
                        "same budget: pso, portfolio, oneplusone, cma, de, tbpsa, ngopt "
                        "(nevergrad's; pip install -e .[nevergrad]), pure_ga (a plain GA), random; "
                        "or exhaustive: branch and bound over the whole map space from the GA's "
                        "best, proving the optimum latency (or, at --time_limit, a proven lower "
                        "bound).  GAMMA's spellings (DE, CMA, pureGA, ...) are accepted")
    s.add_argument("--time_limit", type=float, default=0.0, metavar="SECONDS",
                   help="--method exhaustive: seconds per distinct layer before the best mapping "
                        "found is reported with its proven bound (default 0: no limit)")
    s.add_argument("--seed", type=int, default=None,
                   help="random seed (a run with the same seed and flags gives the same results); "
                        "drawn and recorded in run.yaml if omitted")
    s.add_argument("--slevel", type=_positive_int("--slevel"), action=_BothLevels,
                   default=argparse.SUPPRESS,
                   help="GAMMA's other scripts' spelling: sets --slevel_min and --slevel_max to N")
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
    s.add_argument("--allow_undercount", action="store_true",
                   help="accept mappings whose MAESTRO runtime is below their busiest PE's MACs "
                        "(MAESTRO's edge pricing; GAMMA's search reads them as they are)")


def _constraints_flags(c) -> None:
    c.add_argument("--mapping_cstr", default=None,
                   help="mapping-constraint plugin: a name (GAMMA's module path) looked up in "
                        "./data/mapping_cstr/, then the shipped plugins; or a path")
    c.add_argument("--costmodel_cstr", default="maestro_cstr",
                   help="cost-model constraint; maestro_cstr keeps R and S tiles full; '' = none")
    c.add_argument("--accel_cstr", default=None,
                   help="accelerator constraint (buffer and NoC kinds), e.g. dla_accel")
    c.add_argument("--area_budget", type=float, default=-1,
                   help="chip area budget in mm^2, always enforced (area model: the hardware "
                        "config's 'area:' block); required by co-design; -1 = none")
    c.add_argument("--pe_limit", type=int, default=-1,
                   help="largest PE count in co-design (--num_pe -1); -1 = the most PEs whose MAC "
                        "area alone fits --area_budget")
    c.add_argument("--codesign", choices=("layer", "model"), default="layer",
                   help="with --num_pe -1: 'layer' gives every layer its own PE count and buffers "
                        "(DiGamma); 'model' one accelerator for the whole model (objective: "
                        "--fitness1 latency, energy or EDP of the model; --num_pop/--epochs set "
                        "each layer's final search on the chosen hardware)")


def _execution_flags(r) -> None:
    r.add_argument("--jobs", type=_positive_int("--jobs"), default=None,
                   help="worker processes searching distinct layers in parallel (same results as "
                        "--jobs 1); default: all cores")
    r.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run the layer searches on this Dask distributed scheduler's workers "
                        "(needs pip install -e .[dask]; same results as a local run)")
    r.add_argument("--checkpoint_every", type=int, default=None, metavar="G",
                   help="save each running layer's search state every G generations to "
                        "<outdir>/checkpoints (finished layers are always saved); 0 = only "
                        "finished layers; default: every 5 generations once the layer has "
                        "run a second since its start or last save")
    r.add_argument("--resume", default=None, metavar="OUTDIR",
                   help="continue the interrupted run in OUTDIR with the settings of its run.yaml: "
                        "finished layers are kept, the others continue from their checkpoints")


def _output_flags(o) -> None:
    o.add_argument("--outdir", default="outputs",
                   help="folder of runs: this run writes into its own subfolder, named from its "
                        "settings as GAMMA names experiments, and adds a line to runs.csv there")
    o.add_argument("--overwrite", action="store_true",
                   help="replace the earlier run of the same name (same settings and seed) instead "
                        "of writing beside it as <name>_run2; other runs are never touched")
    o.add_argument("--gamma_outputs", action="store_true",
                   help="also write GAMMA's own result_c.csv (its columns) into the run's folder")
    o.add_argument("--plot_format", type=_plot_formats, default="png", metavar="FORMATS",
                   help="format(s) of the figures, comma-separated: png, svg, pdf (e.g. png,pdf)")
    o.add_argument("--no_plots", action="store_true",
                   help="skip the plots (results, history and mappings are still written)")
    o.add_argument("--log_level", type=int, choices=(0, 1, 2), default=1,
                   help="0 quiet, 1 one line per layer, 2 one line per generation")


def explicit_flags(argv) -> dict:
    """The search settings given on the command line ``argv`` (dest -> value), without defaults."""
    parser = build_search_parser()
    for action in parser._actions:
        if action.dest != "help":
            action.default = argparse.SUPPRESS
    return vars(parser.parse_args(argv))


def build_evaluate_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gamma evaluate",
                description="Score MAESTRO mapping files (.m) with the cost model.")
    p.add_argument("mapping", nargs="?", default=None, metavar="MAPPING_FILE",
                   help="MAESTRO mapping file (.m); or give it with --mapping_file")
    p.add_argument("--mapping_file", default=None, help="MAESTRO mapping file (.m)")
    p.add_argument("--hw_file", "--hwconfig", dest="hw_file", default="edge",
                   help="hardware: a name in hwconfigs/ or a YAML, GAMMA or MAESTRO hardware file")
    p.add_argument("--dataflow", default=None, metavar="DATAFLOW_FILE",
                   help="a dataflow-only file (Dataflow { ... }) for layers without a dataflow, "
                        "e.g. those of MAESTRO's model-only files")
    p.add_argument("--analysis", choices=("maestro", "physical"), default="maestro",
                   help="maestro: MAESTRO's figures (default); physical: where MAESTRO "
                        "miscounts the MACs of a mapping of whole output rows (a strided "
                        "tile of several output rows, a partial window at a spatial edge), "
                        "the physical analysis's figures instead (column Physical analysis)")
    p.add_argument("--out", default=None, help="write one CSV row per layer here")
    return p


def build_import_onnx_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gamma import-onnx",
                description="Write the layers of an ONNX network as a model CSV (data/model format).")
    p.add_argument("onnx_file", help="the ONNX network")
    p.add_argument("-o", "--output", required=True, help="the model CSV to write")
    return p


def build_report_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gamma report",
                description="(Re)build report.html of a results folder from its files.")
    p.add_argument("outdir", help="a results folder written by a search")
    return p
