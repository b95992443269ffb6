"""The Python API: load a model and hardware, search mappings, evaluate MAESTRO files.

Plain data in and out: layers are :class:`~gamma.workload.Layer` objects,
hardware a :class:`~gamma.hardware.Hardware`, results pandas DataFrames.
Every option of the command line's search is a keyword of :func:`search`
(Python names; the table is :data:`SEARCH_OPTIONS`), validated with the same
one-line messages, raised as :class:`GammaError`.  A search writes exactly
the files ``python main.py`` writes, into ``outdir`` or a temporary folder
that :meth:`SearchResult.save` copies.

Example::

    import gamma
    layers = gamma.load_model("resnet18")
    hw = gamma.load_hardware("edge", num_pes=256)
    result = gamma.search(layers[:2], hw, num_pop=40, epochs=10, seed=1)
    result.layers[["layer", "latency_cycles", "energy_nj"]]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from gamma.console import Console
from gamma.errors import GammaInputError as GammaError
from gamma.hardware import Hardware
from gamma.search.params import GAParams
from gamma.workload import Layer

#: :func:`search` keywords whose command-line flag is spelled differently (keyword -> flag dest).
SEARCH_OPTIONS = {"fixed_cluster": "fixedCluster", "par_rs": "parRS", "noc_bw": "NocBW",
                  "offchip_bw": "offchipBW"}

#: Hardware fields :func:`load_hardware` may override.
HARDWARE_FIELDS = ("num_pes", "l1_size", "l2_size", "noc_bw", "offchip_bw", "noc_hops", "simd_lanes")


def load_model(model: str | Path) -> list[Layer]:
    """The layers of a model: a zoo name (``"resnet18"``), a model CSV or an ONNX file.

    >>> len(load_model("resnet18"))
    21
    """
    from gamma.run import load_layers
    return load_layers(str(model))


def load_hardware(spec: str | Path | Hardware = "edge", **overrides) -> Hardware:
    """A hardware configuration by name (``"edge"``, ``"cloud"``) or path, with overrides.

    Sizes are in elements (``l1_size`` per PE, ``l2_size`` shared),
    bandwidths in elements per cycle.

    >>> load_hardware("edge", num_pes=256).num_pes
    256
    """
    from gamma.hardware import load_hardware as read

    unknown = sorted(set(overrides) - set(HARDWARE_FIELDS))
    if unknown:
        raise GammaError(f"load_hardware: unknown setting(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(HARDWARE_FIELDS)}")
    hw = spec if isinstance(spec, Hardware) else read(str(spec))
    return hw.replace(**overrides) if overrides else hw


@dataclass
class SearchResult:
    """What a search wrote, as data.

    Attributes
    ----------
    layers : DataFrame
        One row per layer, the columns of ``results.csv`` (latency in cycles, energy in nJ,
        area in µm², buffer needs in elements).
    summary : DataFrame
        The model totals (``summary.csv``, one row).
    mappings : dict of int to str
        Each searched layer's best mapping as MAESTRO ``.m`` text, by layer number.
    history : DataFrame
        Per layer and generation: best and mean of each objective (``history.csv``).
    pareto : DataFrame or None
        The Pareto front of every layer (``pareto.csv``), with ``pareto=True``.
    outdir : Path
        The folder the files are in (a temporary one unless ``outdir=`` was given).
    status : int
        The command line's exit status: 0 done, 1 some layer without a feasible mapping
        (its row shows the closest candidate), 130 interrupted.
    message : str or None
        Why the status is not 0.
    """

    layers: pd.DataFrame
    summary: pd.DataFrame
    mappings: dict
    history: pd.DataFrame
    pareto: pd.DataFrame | None
    outdir: Path
    status: int = 0
    message: str | None = None
    _tmp: object = field(default=None, repr=False)

    @classmethod
    def read(cls, outdir: str | Path, status: int = 0, message: str | None = None,
             tmp=None) -> SearchResult:
        """The result stored in a results folder."""
        outdir = Path(outdir)

        def table(name):
            path = outdir / name
            return pd.read_csv(path) if path.is_file() else None

        mappings = {int(p.stem.split("_")[-1]): p.read_text()
                    for p in sorted((outdir / "mappings").glob("layer_*.m"))}
        return cls(layers=table("results.csv"), summary=table("summary.csv"), mappings=mappings,
                   history=table("history.csv"), pareto=table("pareto.csv"), outdir=outdir,
                   status=status, message=message, _tmp=tmp)

    def save(self, outdir: str | Path, overwrite: bool = False) -> Path:
        """Copy the run's files (CSVs, ``.m`` mappings, plots, report.html, run.yaml) to ``outdir``."""
        from gamma.report import prepare_outdir

        target = prepare_outdir(Path(outdir), overwrite)
        for item in self.outdir.iterdir():
            if item.name == "checkpoints":
                continue
            copy = shutil.copytree if item.is_dir() else shutil.copy2
            copy(item, target / item.name, **({"dirs_exist_ok": True} if item.is_dir() else {}))
        return target


def search(layers, hw: Hardware | str = "edge", *, fitness=("latency", "energy"),
           trust: str = "exact", num_pes: int = 0, plots: bool = True, outdir=None,
           overwrite: bool = False, log_level: int = 0, params: GAParams | None = None,
           **options) -> SearchResult:
    """Search the mapping of every layer; every command-line search option is a keyword.

    Parameters
    ----------
    layers : list of Layer, or str
        The layers, or a model name/path as :func:`load_model` takes.
    hw : Hardware or str
        The hardware (or its name/path).
    fitness : str or (str, str)
        Objectives, first and tie-break/second (``latency`` cycles, ``energy`` nJ,
        ``power``, ``EDP`` nJ·cycles, ``area`` µm²).
    trust : {"exact", "undercount", "any"}
        Which cost-model results count (:mod:`gamma.search.trust`).
    num_pes : int
        > 0 overrides the hardware's PE count; -1 co-designs it (needs ``area_budget``, mm²).
    plots, outdir, overwrite, log_level
        Output: plots and report; the folder of runs (as ``--outdir``: the run writes into
        its own subfolder, ``result.outdir``; default: a temporary folder); replace an
        earlier run of the same name; 0 quiet, 1 a line per layer, 2 per generation.
    params : GAParams, optional
        The GA's rates and pool sizes (:mod:`gamma.search.params`).
    **options
        The other search flags by name: ``num_pop``, ``epochs``, ``seed``, ``pareto``,
        ``method``, ``slevel_min``, ``slevel_max``, ``fixed_cluster``, ``par_rs``,
        ``use_factor``, ``mapping_cstr``, ``costmodel_cstr``, ``accel_cstr``,
        ``area_budget``, ``pe_limit``, ``codesign``, ``time_limit``, ``singlelayer``,
        ``num_layer``, ``jobs`` (default 1), ``scheduler``, ``checkpoint_every``,
        ``l1_size``, ``l2_size``, ``noc_bw``, ``offchip_bw``.

    Returns
    -------
    SearchResult

    Examples
    --------
    >>> result = search(load_model("resnet18")[1:2], "edge", num_pop=8, epochs=2, seed=1,
    ...                 plots=False)                                    # doctest: +SKIP
    >>> result.layers.loc[0, "latency_cycles"]                          # doctest: +SKIP
    """
    from gamma.run import execute

    fitness = (fitness, "energy" if fitness != "energy" else "latency") if isinstance(fitness, str) \
        else tuple(fitness)
    args = _settings(options, fitness=fitness, trust=trust, num_pes=num_pes, plots=plots,
                     overwrite=overwrite, log_level=log_level, params=params)
    tmp = None
    if outdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="gamma-")
        outdir = Path(tmp.name)
    args.outdir = str(outdir)
    given_layers = None if isinstance(layers, (str, Path)) else list(layers)
    if given_layers is None:
        args.model = str(layers)
    given_hw = hw if isinstance(hw, Hardware) else None
    if given_hw is None:
        args.hwconfig = str(hw)
    outcome = execute(args, console=Console(log_level), layers=given_layers, hardware=given_hw)
    return SearchResult.read(outcome.outdir, outcome.code, outcome.message, tmp)


def resume(outdir: str | Path, *, jobs: int | None = None, scheduler: str | None = None,
           log_level: int = 0) -> SearchResult:
    """Continue the interrupted run in the run folder ``outdir`` with its settings
    (``main.py --resume``): finished layers are kept, the others continue from their
    checkpoints; the result equals an uninterrupted run's.  ``jobs``/``scheduler``:
    where to run this time (the results do not depend on it).

    >>> result = resume(interrupted.outdir, jobs=2)                   # doctest: +SKIP
    """
    from gamma.resuming import resume_settings
    from gamma.run import execute

    given = {"log_level": log_level, **({"jobs": jobs} if jobs else {}),
             **({"scheduler": scheduler} if scheduler else {})}
    args, previous = resume_settings(str(outdir), given)
    if previous.get("status") == "done":
        return SearchResult.read(outdir)
    outcome = execute(args, previous, Console(log_level))
    return SearchResult.read(outcome.outdir, outcome.code, outcome.message)


def evaluate(mapping: str | Path, hw: Hardware | str = "edge", dataflow: str | Path | None = None,
             *, analysis: str = "maestro") -> pd.DataFrame:
    """Score a MAESTRO mapping file (a path, or its text): one row per layer, the columns
    of ``main.py evaluate`` (MAESTRO's CSV columns: runtime in cycles, energy, buffer
    sizes in elements, the access counts; ``Valid`` and ``Reason``).  ``dataflow``: a
    dataflow-only file for layers the mapping file gives none.  ``analysis``:
    ``"maestro"`` (MAESTRO's figures) or ``"physical"`` (the physical analysis's
    figures where MAESTRO miscounts a mapping; ``main.py evaluate --analysis``).

    >>> evaluate("data/mappings/nvdla_like_kc_ws.m", "edge").loc[0, "Valid"]   # doctest: +SKIP
    True
    """
    from gamma.evaluation import evaluate_mapping_file

    if analysis not in ("maestro", "physical"):
        raise GammaError(f"evaluate: analysis must be 'maestro' or 'physical', got {analysis!r}")
    hw = load_hardware(hw)
    text = str(mapping)
    if "\n" in text or "{" in text:
        with tempfile.TemporaryDirectory(prefix="gamma-") as folder:
            path = Path(folder) / "mapping.m"
            path.write_text(text)
            return evaluate_mapping_file(path, hw, dataflow, analysis=analysis)
    if not Path(text).is_file():
        raise GammaError(f"evaluate: mapping file {text} does not exist")
    return evaluate_mapping_file(text, hw, dataflow, analysis=analysis)


def _settings(options: dict, *, fitness, trust, num_pes, plots, overwrite, log_level,
              params) -> argparse.Namespace:
    """The search command's settings for keyword ``options``.

    The keywords become the command line they stand for, parsed by the
    command's own parser: the same checks, the same messages.
    """
    from gamma.flags import build_search_parser
    from gamma.search.trust import TRUST_LEVELS

    parser = build_search_parser()
    actions = {a.dest: a for a in parser._actions if a.option_strings}
    reserved = {"fitness1", "fitness2", "allow_inexact", "allow_undercount", "num_pe", "no_plots",
                "resume", "outdir", "overwrite", "log_level", "hwconfig", "model"}
    if trust not in TRUST_LEVELS:
        raise GammaError(f"search: trust must be one of {', '.join(TRUST_LEVELS)}, got {trust!r}")
    if len(fitness) != 2:
        raise GammaError(f"search: fitness is one objective or a pair, got {fitness!r}")
    argv = ["--fitness1", str(fitness[0]), "--fitness2", str(fitness[1]), "--num_pe", str(num_pes),
            "--log_level", str(log_level), "--jobs", str(options.pop("jobs", 1) or 1)]
    argv += {"any": ["--allow_inexact"], "undercount": ["--allow_undercount"]}.get(trust, [])
    argv += ([] if plots else ["--no_plots"]) + (["--overwrite"] if overwrite else [])
    for key, value in options.items():
        dest = SEARCH_OPTIONS.get(key, key)
        if dest not in actions or dest in reserved or key in SEARCH_OPTIONS.values():
            allowed = sorted(set(SEARCH_OPTIONS) | set(actions) - reserved - set(SEARCH_OPTIONS.values()))
            raise GammaError(f"search: unknown option {key!r}; allowed: {', '.join(allowed)}")
        flag = actions[dest].option_strings[0]
        if actions[dest].nargs == 0:           # an on/off flag
            argv += [flag] if value else []
        elif value is not None:
            argv += [flag, str(value)]
    args = parser.parse_args(argv)
    if params is not None:
        args.ga_params = asdict(params)
    return args
