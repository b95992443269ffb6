"""Mapping-constraint plugins: GAMMA's ``data/mapping_cstr`` files, in Python or YAML.

A plugin says what the accelerator can run: which dimensions each level may
map in parallel, its cluster size, a fixed loop order, fixed tiles.  The
format is GAMMA's, so existing files work unchanged::

    import numpy as np
    mapping_cstr = {}
    mapping_cstr["L2"] = {"sp": np.array(["K"])}
    mapping_cstr["L1"] = {"sp": np.array(["C"]), "sp_sz": 16,
                          "order": ["C", "Y", "X", "R", "S", "K"],
                          "K": "K", "C": 1, "Y": "R", "X": "S"}
    lower_to_gemm = False      # optional: run every layer as a GEMM (TPU-like)

and the same in YAML (no code runs)::

    L2: {sp: [K]}
    L1: {sp: [C], sp_sz: 16, order: [C, Y, X, R, S, K], K: K, C: 1, Y: R, X: S}
    lower_to_gemm: false

Both go through one validator (:func:`gamma.plugin_checks.validate_levels`, then
:meth:`MappingConstraint.from_gamma_dict <gamma.constraints.MappingConstraint.from_gamma_dict>`)
and give a :class:`Plugin`, which records the file's absolute path and
SHA-256 (``files``).  Every problem is one :class:`~gamma.errors.GammaInputError`
line naming the file and the key, e.g.
``data/mapping_cstr/bad.yaml: L1.sp: unknown dimension 'Q'; expected K, C, Y, X, R, S``.

**The user's file wins.**  Anything with a ``/`` or a ``.py``/``.yaml``/``.yml``
suffix is a path, used as given.  A name (``--mapping_cstr NAME``, dots for
sub-folders, GAMMA's module path) is looked up first under
``data/mapping_cstr/`` *of the working directory* (where GAMMA keeps its
files), then among the shipped plugins, each as ``NAME.py``, ``NAME.yaml``,
``NAME.yml``.  The shipped plugins under GAMMA's names (``dla_map``,
``eye_map``, ``tpu_map``, ``example_map``,
``flexiblity_classes_example.{dla,eye,tpu}_dir.*``,
``advanced_cstr.accel_cstr.*``) hold GAMMA's constraints value for value.

Layer- and hardware-dependent checks are :func:`gamma.plugin_checks.check_against`
(re-exported here).  :func:`lower_layer` is the TPU-like plugins' CONV → GEMM
translation.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gamma.constraints import LEVEL_KEYS, LevelConstraint, MappingConstraint
from gamma.errors import GammaInputError
from gamma.files import plain
from gamma.mapping import GENOME_DIMS
from gamma.plugin_checks import check_against, validate_levels
from gamma.workload import PROJECT_ROOT, Layer

#: Where shipped plugins live.
CSTR_DIR = PROJECT_ROOT / "data" / "mapping_cstr"
#: GAMMA's plugin folder, relative to the working directory.
GAMMA_CSTR = Path("data") / "mapping_cstr"
#: Sub-folders of a plugin folder where ``--accel_cstr NAME`` is looked up
#: first (GAMMA keeps its accel_cstr files in ``advanced_cstr/accel_cstr``).
ACCEL_SUBDIRS = (Path("advanced_cstr") / "accel_cstr", Path("advanced_cstr"))

_SUFFIXES = (".py", ".yaml", ".yml")
_TOP_KEYS = (*LEVEL_KEYS, "lower_to_gemm")
#: Other spellings of GAMMA's folder names (dotted-name components).
_GAMMA_ALIASES = {"flexibility_classes_example": "flexiblity_classes_example"}
#: accel_cstr: buffer kinds and NoC kinds.
BUFFER_KINDS = ("ScratchPad", "FIFO")
NOC_KINDS = ("Bus", "Tree", "Systolic", "Temporal", "ReduceAndFoward", "AdderTree")
_ACCEL_KEYS = {"inbuffer": BUFFER_KINDS, "outbuffer": BUFFER_KINDS, "weightbuffer": BUFFER_KINDS,
               "distrNoc": NOC_KINDS, "reduceNoc": NOC_KINDS}
#: Parallel dimensions each NoC kind allows (GAMMA's ``translate_to_actual_cstr``);
#: ``None``: no restriction.
NOC_PARALLEL = {"Bus": ("K", "Y", "X", "R", "S"), "Tree": ("K", "Y", "X", "R", "S"),
                "Temporal": ("K", "Y", "X"), "AdderTree": ("C", "R", "S"),
                "ReduceAndFoward": ("C", "R", "S"), "Systolic": None}


@dataclass(frozen=True)
class Plugin:
    """A loaded constraint plugin.

    Attributes
    ----------
    constraint : MappingConstraint
        The validated constraint (its ``name`` is ``source``).
    lower_to_gemm : bool
        Run every layer as the GEMM of :func:`lower_layer` (TPU-like plugins).
    source : str
        The file it came from (relative to the project when inside it).
    data : dict
        The plugin's constraint dictionary as plain data (lists, str, int),
        e.g. for run.yaml or an independent checker.
    files : tuple of (str, str)
        ``(absolute path, SHA-256 hex digest)`` of every file the constraint
        was read from (one per plugin; :func:`combine` concatenates them).
    """

    constraint: MappingConstraint
    lower_to_gemm: bool = False
    source: str = ""
    data: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    files: tuple = field(default=(), compare=False)

    @property
    def path(self) -> str:
        """Absolute path of the (last) file read; ``""`` for none."""
        return self.files[-1][0] if self.files else ""

    @property
    def sha256(self) -> str:
        """SHA-256 hex digest of that file's bytes; ``""`` for none."""
        return self.files[-1][1] if self.files else ""


# ---------------------------------------------------------------------------
# Finding files
# ---------------------------------------------------------------------------

def _display(path: Path) -> str:
    """``path`` relative to the project, else to the working directory, when inside it
    (what error messages show)."""
    for base in (PROJECT_ROOT, Path.cwd().resolve()):
        try:
            return str(path.resolve().relative_to(base))
        except ValueError:
            continue
    return str(path)


def available_plugins(folder: Path = CSTR_DIR) -> list[str]:
    """Dotted names of every plugin shipped under ``folder``."""
    names = []
    for path in sorted(folder.rglob("*")):
        if path.suffix in _SUFFIXES and path.is_file() and not path.name.startswith("_"):
            names.append(".".join(path.relative_to(folder).with_suffix("").parts))
    return names


def search_folders(flag: str = "--mapping_cstr") -> tuple[Path, ...]:
    """Where a plugin name is looked up, first match wins.

    The working directory's ``data/mapping_cstr`` (GAMMA's layout) comes
    before the shipped plugins; for ``--accel_cstr`` each root's
    :data:`ACCEL_SUBDIRS` come before the root itself.
    """
    roots = [Path.cwd() / GAMMA_CSTR, CSTR_DIR]
    subdirs = (*ACCEL_SUBDIRS, Path()) if flag == "--accel_cstr" else (Path(),)
    folders: list[Path] = []
    for sub in subdirs:
        for root in roots:
            folder = (root / sub).resolve()
            if folder not in folders:
                folders.append(folder)
    return tuple(folders)


def _find_in(parts: list[str], folders, suffixes=_SUFFIXES) -> Path | None:
    """The first ``folder/part/.../last{suffix}`` that exists, or None."""
    for folder in folders:
        for suffix in suffixes:
            candidate = Path(folder).joinpath(*parts[:-1], parts[-1] + suffix)
            if candidate.is_file():
                return candidate.resolve()
    return None


def resolve_plugin(spec: str | Path, *, flag: str = "--mapping_cstr",
                   folders: tuple[Path, ...] | None = None) -> Path:
    """Turn a plugin name or path into the file to load.

    Parameters
    ----------
    spec : str or Path
        A path (contains ``/`` or ends in ``.py``/``.yaml``/``.yml``) or a
        dotted name such as ``flexiblity_classes_example.dla_dir.dla_map_0000``.
    folders : tuple of Path, optional
        Where names are looked up, in order (default :func:`search_folders`).

    Raises
    ------
    GammaInputError
        If no such file exists (listing the places looked in and the names).
    """
    text = str(spec).strip()
    if not text:
        raise GammaInputError(f"{flag}: empty plugin name")
    path = Path(text).expanduser()
    if path.is_file():
        return path.resolve()
    folders = search_folders(flag) if folders is None else folders
    if path.suffix in _SUFFIXES or "/" in text or "\\" in text:
        # a relative path also names a plugin folder's file: flexibility_classes/eye/eye_map_0000
        given = path.suffix in _SUFFIXES
        found = None if path.is_absolute() else _find_in(
            list(path.with_suffix("").parts if given else path.parts), folders,
            (path.suffix,) if given else _SUFFIXES)
        if found is None:
            raise GammaInputError(f"{flag}: file {text} does not exist")
        return found
    parts = [_GAMMA_ALIASES.get(p, p) for p in text.split(".")]
    if any(not p or p in (".", "..") for p in parts):
        raise GammaInputError(f"{flag}: {text!r} is not a valid plugin name "
                              "(dot-separated folder and file names, e.g. dla_map)")
    found = _find_in(parts, folders)
    if found is not None:
        return found
    shipped = sorted({n.split(".")[0] if n.count(".") > 1 else n
                      for f in folders if f.is_dir() for n in available_plugins(f)})
    places = ", ".join(dict.fromkeys(_place(f) for f in folders))
    raise GammaInputError(f"{flag}: no plugin {text!r} (looked for {'/'.join(parts)}.py, .yaml, .yml "
                          f"in {places}); available: {', '.join(shipped)}; or give a path to a "
                          ".py or .yaml file")


def _place(folder: Path) -> str:
    """A searched folder as error messages name it: ``./...`` in the working directory,
    ``... (shipped)`` in the project, else absolute."""
    folder = folder.resolve()
    if folder.is_relative_to(Path.cwd().resolve()):
        return "./" + str(folder.relative_to(Path.cwd().resolve()))
    if folder.is_relative_to(PROJECT_ROOT):
        return f"{folder.relative_to(PROJECT_ROOT)} (shipped)"
    return str(folder)


def _fingerprint(path: Path) -> tuple[tuple[str, str]]:
    """``((absolute path, sha256 of its bytes),)`` for :attr:`Plugin.files`."""
    return ((str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest()),)


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------

class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, rejecting duplicate keys."""


def _mapping_no_duplicates(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
        seen[key] = True
    return loader.construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key, line):
        super().__init__(key, line)
        self.key, self.line = key, line


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_no_duplicates)


def _read_yaml(path: Path, where: str) -> dict:
    try:
        data = yaml.load(path.read_text(), Loader=_StrictLoader)  # noqa: S506 (safe loader subclass)
    except _DuplicateKey as dup:
        raise GammaInputError(f"{where}:{dup.line}: duplicate key {dup.key!r}; each key may appear "
                              "once per level") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f"{where}:{mark.line + 1}" if mark else where
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise GammaInputError(f"{at}: not valid YAML ({problem})") from None
    except OSError as err:
        raise GammaInputError(f"{where}: cannot read the file ({err.strerror})") from None
    if not isinstance(data, dict):
        raise GammaInputError(f"{where}: expected a mapping with keys {', '.join(_TOP_KEYS)}, "
                              f"got {type(data).__name__}")
    return data


def _read_python(path: Path, where: str, variable: str) -> dict:
    """Run a GAMMA-style plugin module and return its top-level names of interest."""
    module_name = "_gamma_plugin_" + "".join(c if c.isalnum() else "_" for c in _display(path))
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise GammaInputError(f"{where}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise GammaInputError(f"{where}:{err.lineno}: Python syntax error ({err.msg}); "
                              "fix the file or write it as YAML") from None
    except (Exception, SystemExit) as err:  # noqa: BLE001 - the user's code may raise anything
        message = " ".join(str(err).split()) or type(err).__name__
        raise GammaInputError(f"{where}: the plugin raised {type(err).__name__} when imported "
                              f"({message})") from None
    if not hasattr(module, variable):
        raise GammaInputError(f"{where}: the module defines no '{variable}' dictionary; expected "
                              f"{variable} = {{\"L2\": {{...}}, \"L1\": {{...}}}}")
    out = {variable: getattr(module, variable)}
    if hasattr(module, "lower_to_gemm"):
        out["lower_to_gemm"] = module.lower_to_gemm
    return out


def _to_constraint(data: dict, source: str) -> MappingConstraint:
    try:
        return MappingConstraint.from_gamma_dict(data, name=source)
    except GammaInputError as err:  # already validated; keep the one-line contract anyway
        raise GammaInputError(f"{source}: {err}") from None


def _lower_flag(value, where: str, path: Path) -> bool:
    if value is None:
        # GAMMA lowers to GEMM whenever the plugin is a TPU one (by name).
        return path.stem.startswith("tpu")
    value = plain(value)
    if not isinstance(value, bool):
        raise GammaInputError(f"{where}: lower_to_gemm: expected true or false, got {value!r}")
    return value


# ---------------------------------------------------------------------------
# Loaders
# ---------------------------------------------------------------------------

def load_mapping_cstr(spec: str | Path) -> Plugin:
    """Load a mapping-constraint plugin (``--mapping_cstr``).

    Parameters
    ----------
    spec : str or Path
        A path to a ``.py`` / ``.yaml`` file, or a name (dots for
        sub-folders, as GAMMA's module paths) looked up in the working
        directory's ``data/mapping_cstr/`` first, then among the shipped
        plugins (:func:`search_folders`).

    Returns
    -------
    Plugin
        The validated constraint, the ``lower_to_gemm`` flag, the source and
        the file's absolute path and SHA-256 (``path``, ``sha256``).
        A ``.py`` file without ``lower_to_gemm`` lowers to GEMM when its name
        starts with ``tpu`` (GAMMA's rule).

    Raises
    ------
    GammaInputError
        One line naming the file and the key.

    Examples
    --------
    >>> p = load_mapping_cstr("dla_map")
    >>> p.constraint.level(1).sp
    ('C',)
    """
    path = resolve_plugin(spec)
    where = _display(path)
    raw, lower = _read_plugin(path, where, "mapping_cstr")
    data = validate_levels(raw, where)
    return Plugin(constraint=_to_constraint(data, where), lower_to_gemm=_lower_flag(lower, where, path),
                  source=where, data=data, files=_fingerprint(path))


def _read_plugin(path: Path, where: str, variable: str) -> tuple:
    """A plugin file's levels dict and its ``lower_to_gemm`` value (None if absent).

    A ``.py`` plugin defines ``variable``; a YAML one holds the levels at the top.
    """
    if path.suffix == ".py":
        found = _read_python(path, where, variable)
        return found[variable], found.get("lower_to_gemm")
    top = _read_yaml(path, where)
    unknown = [k for k in top if k not in _TOP_KEYS]
    if unknown:
        raise GammaInputError(f"{where}: {unknown[0]}: unknown level or key; expected the levels "
                              f"{', '.join(LEVEL_KEYS)} (L2 outermost) and optionally lower_to_gemm")
    return ({k: v for k, v in top.items() if k != "lower_to_gemm"}, top.get("lower_to_gemm"))


def translate_accel(accel: dict, where: str = "accel_cstr") -> dict:
    """GAMMA's accel_cstr (buffer and NoC kinds per level) as a mapping-constraint dict.

    * a ``FIFO`` buffer (any of in/out/weight) fixes the Y' tile to the
      parent's R tile and the X' tile to the parent's S tile (GAMMA's
      ``Y: [1, "R"]``, ``X: [1, "S"]``; its random draw in ``[1, R]`` is
      disabled in GAMMA too);
    * each NoC kind allows parallel dimensions (:data:`NOC_PARALLEL`): Bus and
      Tree K, Y, X, R, S; Temporal K, Y, X; AdderTree and ReduceAndFoward
      C, R, S; Systolic any.  As in GAMMA, the level's last NoC entry with a
      rule sets ``sp`` (in the file's order, usually the reduction NoC's
      overwriting the distribution NoC's; Systolic sets none), so GAMMA's
      accel files give GAMMA's constraints.

    Raises
    ------
    GammaInputError
        Unknown level, key or kind, or NoCs that allow no common dimension.
    """
    accel = plain(accel)
    if not isinstance(accel, dict):
        raise GammaInputError(f"{where}: accel_cstr must be a dict with keys {', '.join(LEVEL_KEYS)}")
    out = {}
    for level, body in accel.items():
        if level not in LEVEL_KEYS:
            raise GammaInputError(f"{where}: {level}: unknown level; expected {', '.join(LEVEL_KEYS)}")
        if not isinstance(body, dict):
            raise GammaInputError(f"{where}: {level}: expected a dict of buffer and NoC kinds")
        cstr: dict = {}
        allowed = set(GENOME_DIMS)      # the last NoC rule wins, as in GAMMA
        for key, kind in body.items():
            here = f"{where}: {level}.{key}"
            if key not in _ACCEL_KEYS:
                raise GammaInputError(f"{here}: unknown key; allowed: {', '.join(_ACCEL_KEYS)}")
            if kind not in _ACCEL_KEYS[key]:
                raise GammaInputError(f"{here}: unknown kind {kind!r}; expected one of "
                                      f"{', '.join(_ACCEL_KEYS[key])}")
            if kind == "FIFO":
                cstr["Y"], cstr["X"] = "R", "S"
            elif key in ("distrNoc", "reduceNoc") and NOC_PARALLEL[kind] is not None:
                allowed = set(NOC_PARALLEL[kind])
        if allowed != set(GENOME_DIMS):
            cstr["sp"] = [d for d in GENOME_DIMS if d in allowed]
        out[level] = cstr
    return out


def load_accel_cstr(spec: str | Path) -> Plugin:
    """Load a GAMMA accel_cstr plugin (``--accel_cstr``) as a mapping constraint.

    ``spec`` is a path or a name looked up in ``advanced_cstr/accel_cstr/``,
    ``advanced_cstr/`` then the plugin folder itself, the working directory's
    ``data/mapping_cstr`` before the shipped one (:func:`search_folders`):
    ``dla_accel``, ``eye_accel``, ``tpu_accel`` or GAMMA's
    ``advanced_cstr.accel_cstr.dla_accel`` are GAMMA's files.  A
    ``.py`` file defines ``accel_cstr = {"L2": {...}, "L1": {...}}``, a YAML
    file has the same levels.  See :func:`translate_accel` for the meaning.
    """
    path = resolve_plugin(spec, flag="--accel_cstr")
    where = _display(path)
    raw, lower = _read_plugin(path, where, "accel_cstr")
    data = validate_levels(translate_accel(raw, where), where)
    return Plugin(constraint=_to_constraint(data, where), lower_to_gemm=_lower_flag(lower, where, path),
                  source=where, data=data, files=_fingerprint(path))


def combine(costmodel: MappingConstraint, *plugins: Plugin | None) -> Plugin:
    """The constraint a search runs under: the cost model's, the accel's and the mapping plugin's.

    Pass plugins in increasing precedence (``--accel_cstr`` then
    ``--mapping_cstr``).  Allowed parallel dimensions are **intersected**;
    for every other field a later plugin overrides an earlier one, and the
    cost-model constraint (MAESTRO: R and S tiles full) overrides them all.
    ``lower_to_gemm`` is set if any plugin sets it.

    Raises
    ------
    GammaInputError
        If the plugins' allowed parallel dimensions of a level do not intersect.
    """
    used = [p for p in plugins if p is not None]
    result = MappingConstraint()
    for plugin in used:
        mine, theirs = result, plugin.constraint
        depth = max(len(mine.levels), len(theirs.levels))
        levels = []
        for i in range(depth):
            a = mine.levels[i] if i < len(mine.levels) else LevelConstraint()
            b = theirs.levels[i] if i < len(theirs.levels) else LevelConstraint()
            merged = a.merged(b)
            if a.sp is not None and b.sp is not None:
                common = tuple(d for d in b.sp if d in a.sp)
                if not common:
                    raise GammaInputError(
                        f"{plugin.source}: {LEVEL_KEYS[i]}.sp: allows {list(b.sp)} but "
                        f"{mine.name or 'an earlier constraint'} allows only {list(a.sp)}; "
                        "no parallel dimension satisfies both")
                merged = dataclasses.replace(merged, sp=common)
            levels.append(merged)
        result = MappingConstraint(levels=tuple(levels), every_level=mine.every_level.merged(
            theirs.every_level), name="+".join(n for n in (mine.name, theirs.name) if n))
    final = result.combined(costmodel)
    # Level entries override every_level ones in MappingConstraint.level(); push the cost-model
    # rule into each level so that it wins there too.
    final = dataclasses.replace(final, levels=tuple(lv.merged(costmodel.every_level)
                                                    for lv in final.levels))
    final = dataclasses.replace(final, name="+".join(n for n in (result.name, costmodel.name) if n))
    return Plugin(constraint=final, lower_to_gemm=any(p.lower_to_gemm for p in used),
                  source="+".join(p.source for p in used),
                  files=tuple(f for p in used for f in p.files))



# ---------------------------------------------------------------------------
# GEMM lowering (TPU-like plugins)
# ---------------------------------------------------------------------------

def lower_layer(layer: Layer) -> Layer:
    """The layer as the GEMM a TPU-like array runs (im2col), as GAMMA's ``translate_to_gemm``.

    ``Y := N·Y'·X'`` (output pixels), ``C := R·S·C``, ``K := K``,
    ``X = R = S = 1``, stride 1, type GEMM.  **Unlike GAMMA**, which multiplies
    the *input* sizes ``Y·X``, the output sizes are used, so the GEMM has
    exactly the layer's MACs (strided and padded layers included).  A
    depthwise layer becomes the ``K = 1`` GEMM with the same MACs; GEMM and FC
    layers are returned unchanged.

    Raises
    ------
    GammaInputError
        For TRCONV and NGCONV layers, which are not one dense GEMM.

    Examples
    --------
    >>> conv = Layer("CONV", K=64, C=3, Y=230, X=230, R=7, S=7, stride=2)
    >>> g = lower_layer(conv)
    >>> (g.K, g.C, g.Y, g.X, g.R, g.S), g.macs == conv.macs
    ((64, 147, 12544, 1, 1, 1), True)
    """
    if layer.type in ("GEMM", "FC"):
        return layer
    if layer.type not in ("CONV", "DSCONV"):
        raise GammaInputError(f"lower_to_gemm: a {layer.type} layer ({layer.describe()}) cannot be "
                              "lowered to one GEMM; use a plugin without lower_to_gemm")
    k = 1 if layer.type == "DSCONV" else layer.K
    return Layer("GEMM", K=k, C=layer.R * layer.S * layer.C, Y=layer.N * layer.Yo * layer.Xo,
                 X=1, R=1, S=1, stride=1, name=layer.name)


__all__ = ["Plugin", "load_mapping_cstr", "load_accel_cstr", "translate_accel", "combine",
           "check_against", "lower_layer", "resolve_plugin", "search_folders", "available_plugins",
           "CSTR_DIR", "NOC_PARALLEL"]

