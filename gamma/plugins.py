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

Both go through one validator (:func:`_validate`, then
:meth:`MappingConstraint.from_gamma_dict <gamma.constraints.MappingConstraint.from_gamma_dict>`)
and give a :class:`Plugin`.  Every problem is one :class:`~gamma.errors.GammaInputError`
line naming the file and the key, e.g.
``data/mapping_cstr/bad.yaml: L1.sp: unknown dimension 'Q'; expected K, C, Y, X, R, S``.

Names (``--mapping_cstr NAME``) are looked up in ``data/mapping_cstr/`` as
``NAME.py``, then ``NAME.yaml``/``NAME.yml``; dots separate sub-folders
(``flexibility_classes.dla.dla_map_0101``).  GAMMA's spellings
(``flexiblity_classes_example.dla_dir.dla_map_0101``,
``advanced_cstr.accel_cstr.dla_accel``) are translated.  Anything with a
``/`` or a ``.py``/``.yaml``/``.yml`` suffix is a path.

Layer- and hardware-dependent checks (a fixed tile larger than the layer, a
cluster size above the PE count, constraints no mapping can meet) are in
:func:`check_against`, run once per layer before its search.
:func:`lower_layer` is the TPU-like plugins' CONV → GEMM translation.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from gamma.constraints import LEVEL_KEYS, LevelConstraint, MappingConstraint
from gamma.errors import GammaInputError
from gamma.mapping import GENOME_DIMS, dim_sizes
from gamma.workload import PROJECT_ROOT, Layer

#: Where shipped plugins live.
CSTR_DIR = PROJECT_ROOT / "data" / "mapping_cstr"
#: Where ``--accel_cstr NAME`` is looked up first.
ACCEL_DIR = CSTR_DIR / "accel_cstr"

_SUFFIXES = (".py", ".yaml", ".yml")
_LEVEL_FIELDS = ("sp", "sp2", "sp_sz", "order", *GENOME_DIMS)
_TOP_KEYS = (*LEVEL_KEYS, "lower_to_gemm")
_DIMS_TEXT = ", ".join(GENOME_DIMS)
#: GAMMA folder names -> ours (dotted-name components).
_GAMMA_ALIASES = {"flexiblity_classes_example": "flexibility_classes",
                  "flexibility_classes_example": "flexibility_classes",
                  "flexiblity_classes": "flexibility_classes",
                  "dla_dir": "dla", "eye_dir": "eye", "tpu_dir": "tpu"}
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
    """

    constraint: MappingConstraint
    lower_to_gemm: bool = False
    source: str = ""
    data: dict = field(default_factory=dict, compare=False, hash=False, repr=False)


# ---------------------------------------------------------------------------
# Finding files
# ---------------------------------------------------------------------------

def _display(path: Path) -> str:
    """``path`` relative to the project when inside it (what error messages show)."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def available_plugins(folder: Path = CSTR_DIR) -> list[str]:
    """Dotted names of every plugin shipped under ``folder``."""
    names = []
    for path in sorted(folder.rglob("*")):
        if path.suffix in _SUFFIXES and path.is_file() and not path.name.startswith("_"):
            names.append(".".join(path.relative_to(folder).with_suffix("").parts))
    return names


def resolve_plugin(spec: str | Path, *, flag: str = "--mapping_cstr",
                   folders: tuple[Path, ...] = (CSTR_DIR,)) -> Path:
    """Turn a plugin name or path into the file to load.

    Raises
    ------
    GammaInputError
        If no such file exists (listing the top-level shipped names).
    """
    text = str(spec).strip()
    if not text:
        raise GammaInputError(f"{flag}: empty plugin name")
    path = Path(text).expanduser()
    if path.suffix in _SUFFIXES or "/" in text or "\\" in text or path.is_file():
        if not path.is_file():
            raise GammaInputError(f"{flag}: file {text} does not exist")
        return path
    parts = [_GAMMA_ALIASES.get(p, p) for p in text.split(".")]
    if parts[:2] == ["advanced_cstr", "accel_cstr"] or parts[:1] == ["advanced_cstr"]:
        parts = parts[1:]
    if any(not p or p in (".", "..") for p in parts):
        raise GammaInputError(f"{flag}: {text!r} is not a valid plugin name "
                              "(dot-separated folder and file names, e.g. dla_map)")
    for folder in folders:
        for suffix in _SUFFIXES:
            candidate = folder.joinpath(*parts[:-1], parts[-1] + suffix)
            if candidate.is_file():
                return candidate
    shipped = sorted({n.split(".")[0] if n.count(".") > 1 else n
                      for f in folders for n in available_plugins(f)})
    raise GammaInputError(f"{flag}: no plugin {text!r} in {_display(folders[0])} "
                          f"(looked for {'/'.join(parts)}.py, .yaml, .yml); available: "
                          f"{', '.join(shipped)}; or give a path to a .py or .yaml file")


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


def _plain(value):
    """numpy arrays and scalars as plain lists, ints and strs."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------------------
# The one validator
# ---------------------------------------------------------------------------

def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dim(value, where: str) -> str:
    if not isinstance(value, str):
        raise GammaInputError(f"{where}: expected a dimension name ({_DIMS_TEXT}), got {value!r}")
    if value not in GENOME_DIMS:
        hint = " (write Y and X, not Y'/X')" if value in ("Y'", "X'") else ""
        raise GammaInputError(f"{where}: unknown dimension {value!r}; expected {_DIMS_TEXT}{hint}")
    return value


def _dim_list(value, where: str, *, max_len: int = 6) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise GammaInputError(f"{where}: expected a non-empty list of dimensions ({_DIMS_TEXT}), "
                              f"got {value!r}")
    dims = [_dim(v, where) for v in values]
    repeated = sorted({d for d in dims if dims.count(d) > 1})
    if repeated:
        raise GammaInputError(f"{where}: dimension {repeated[0]!r} is listed twice in {dims}")
    if len(dims) > max_len:
        raise GammaInputError(f"{where}: at most {max_len} dimensions, got {len(dims)}")
    return dims


def _size(value, where: str, what: str):
    """A positive int, a dimension name, or GAMMA's FIFO form ``[1, "R"]``."""
    if isinstance(value, list) and len(value) == 2 and _is_int(value[0]) and isinstance(value[1], str):
        return [value[0], _dim(value[1], where)]
    if isinstance(value, str):
        return _dim(value, where)
    if _is_int(value) and value >= 1:
        return value
    raise GammaInputError(f"{where}: {what} must be a positive int or a dimension name "
                          f"({_DIMS_TEXT}), got {value!r}")


def _validate(raw, where: str) -> dict:
    """Check a constraint dictionary key by key; return it as plain, normalised data.

    ``sp`` and ``order`` become lists, ``sp2`` one name, numpy values plain.
    """
    data = _plain(raw)
    if not isinstance(data, dict):
        raise GammaInputError(f"{where}: mapping_cstr must be a dict with keys "
                              f"{', '.join(LEVEL_KEYS)}, got {type(raw).__name__}")
    out = {}
    for level in data:
        if level not in LEVEL_KEYS:
            raise GammaInputError(f"{where}: {level}: unknown level; GAMMA names the levels "
                                  f"{', '.join(LEVEL_KEYS)} (L2 outermost, then L1, then L3)")
    for level in (k for k in LEVEL_KEYS if k in data):
        body = data[level]
        at = f"{where}: {level}"
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise GammaInputError(f"{at}: expected a dict of keys such as sp, order, K; got {body!r}")
        clean = {}
        for key, value in body.items():
            here = f"{at}.{key}"
            if key not in _LEVEL_FIELDS:
                raise GammaInputError(f"{here}: unknown key; allowed: {', '.join(_LEVEL_FIELDS)}")
            if key == "sp":
                clean[key] = _dim_list(value, here)
            elif key == "sp2":
                dims = _dim_list(value, here, max_len=1)
                clean[key] = dims[0]
            elif key == "order":
                clean[key] = _dim_list(value, here)
            elif key == "sp_sz":
                clean[key] = _size(value, here, "the cluster size")
                if isinstance(clean[key], list):
                    raise GammaInputError(f"{here}: expected an int or a dimension name, got {value!r}")
            else:
                clean[key] = _size(value, here, "a tile")
        if "sp2" in clean and clean.get("sp") == [clean["sp2"]]:
            raise GammaInputError(f"{at}.sp2: {clean['sp2']!r} is also the only allowed 'sp'; a level's "
                                  "two parallel dimensions must differ")
        out[level] = clean
    # Fixed int tiles must shrink inwards (an inner tile never exceeds its parent's).
    for outer, inner in itertools.pairwise(LEVEL_KEYS):
        if outer not in out or inner not in out:
            continue
        for d in GENOME_DIMS:
            a, b = out[outer].get(d), out[inner].get(d)
            if _is_int(a) and _is_int(b) and b > a:
                raise GammaInputError(f"{where}: {inner}.{d}: fixed tile {b} is larger than {outer}.{d} = "
                                      f"{a}; an inner tile cannot exceed its parent's")
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
    value = _plain(value)
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
        A name under ``data/mapping_cstr/`` (dots for sub-folders; GAMMA's
        folder names accepted) or a path to a ``.py`` / ``.yaml`` file.

    Returns
    -------
    Plugin
        The validated constraint, the ``lower_to_gemm`` flag and the source.
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
    data = _validate(raw, where)
    return Plugin(constraint=_to_constraint(data, where), lower_to_gemm=_lower_flag(lower, where, path),
                  source=where, data=data)


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
      C, R, S; Systolic any.  **A level's ``sp`` is the intersection of what its
      distribution and its reduction NoC allow** (a parallel dimension needs
      both networks).  GAMMA instead lets the reduction NoC's rule overwrite
      the distribution NoC's; the two agree whenever either NoC is Systolic.

    Raises
    ------
    GammaInputError
        Unknown level, key or kind, or NoCs that allow no common dimension.
    """
    accel = _plain(accel)
    if not isinstance(accel, dict):
        raise GammaInputError(f"{where}: accel_cstr must be a dict with keys {', '.join(LEVEL_KEYS)}")
    out = {}
    for level, body in accel.items():
        if level not in LEVEL_KEYS:
            raise GammaInputError(f"{where}: {level}: unknown level; expected {', '.join(LEVEL_KEYS)}")
        if not isinstance(body, dict):
            raise GammaInputError(f"{where}: {level}: expected a dict of buffer and NoC kinds")
        cstr: dict = {}
        allowed = set(GENOME_DIMS)
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
                allowed &= set(NOC_PARALLEL[kind])
        if not allowed:
            raise GammaInputError(f"{where}: {level}: distrNoc {body.get('distrNoc')!r} and reduceNoc "
                                  f"{body.get('reduceNoc')!r} allow no common parallel dimension")
        if allowed != set(GENOME_DIMS):
            cstr["sp"] = [d for d in GENOME_DIMS if d in allowed]
        out[level] = cstr
    return out


def load_accel_cstr(spec: str | Path) -> Plugin:
    """Load a GAMMA accel_cstr plugin (``--accel_cstr``) as a mapping constraint.

    ``spec`` is a name looked up in ``data/mapping_cstr/accel_cstr/`` then
    ``data/mapping_cstr/`` (``dla_accel``, ``eye_accel``, ``tpu_accel``;
    GAMMA's ``advanced_cstr.accel_cstr.dla_accel`` works too) or a path.  A
    ``.py`` file defines ``accel_cstr = {"L2": {...}, "L1": {...}}``, a YAML
    file has the same levels.  See :func:`translate_accel` for the meaning.
    """
    path = resolve_plugin(spec, flag="--accel_cstr", folders=(ACCEL_DIR, CSTR_DIR))
    where = _display(path)
    raw, lower = _read_plugin(path, where, "accel_cstr")
    data = _validate(translate_accel(raw, where), where)
    return Plugin(constraint=_to_constraint(data, where), lower_to_gemm=_lower_flag(lower, where, path),
                  source=where, data=data)


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
                  source="+".join(p.source for p in used))


# ---------------------------------------------------------------------------
# Per-layer checks
# ---------------------------------------------------------------------------

def check_against(constraint: MappingConstraint | Plugin, layer: Layer, hw, source: str = "") -> None:
    """Reject constraints this layer and hardware cannot meet, before the search starts.

    Parameters
    ----------
    constraint : MappingConstraint or Plugin
        The constraint the search will run under (lower the layer first if
        the plugin says ``lower_to_gemm``).
    layer : Layer
    hw : Hardware or int
        The hardware, or its PE count.
    source : str
        The file to name in messages (default: the constraint's name).

    Raises
    ------
    GammaInputError
        One line naming the file and key, for: a fixed int tile larger than
        the layer's dimension (Y/X: output rows/columns; K ignored for
        depthwise layers); an int ``sp_sz`` above the PE count, or fixed
        cluster sizes whose product is; ``sp2`` equal to the only allowed
        ``sp``; an inner fixed tile that resolves larger than its parent's.
    """
    if isinstance(constraint, Plugin):
        source = source or constraint.source
        constraint = constraint.constraint
    where = source or constraint.name or "mapping constraint"
    num_pes = hw if isinstance(hw, (int, np.integer)) else hw.num_pes
    sizes = dim_sizes(layer)
    size_of = dict(zip(GENOME_DIMS, (int(s) for s in sizes), strict=True))
    label = {"Y": "Y' (output rows)", "X": "X' (output columns)"}
    depth = max(len(constraint.levels), 1)
    parent: dict[str, int | None] = dict(size_of)
    cluster_product = 1
    fixed_clusters = []
    for i in range(depth):
        c = constraint.level(i)
        key = LEVEL_KEYS[i]
        resolved: dict[str, int | None] = {}
        for dim, value in c.tiles:
            if layer.type == "DSCONV" and dim == "K":
                resolved[dim] = 1
                continue
            if isinstance(value, int):
                if value > size_of[dim]:
                    raise GammaInputError(
                        f"{where}: {key}.{dim}: fixed tile {value} is larger than the layer's "
                        f"{label.get(dim, dim)} = {size_of[dim]} ({layer.describe()}); use a smaller "
                        f"tile or a dimension name such as {dim!r}")
                resolved[dim] = value
            else:
                ref = parent.get(value)
                resolved[dim] = None if ref is None else max(1, min(ref, size_of[dim]))
            up = parent.get(dim)
            if i and up is not None and resolved[dim] is not None and resolved[dim] > up:
                what = (f"fixed tile {value}" if isinstance(value, int) else
                        f"the tile {value!r} resolves to {resolved[dim]} for {layer.describe()} and")
                raise GammaInputError(
                    f"{where}: {key}.{dim}: {what} is larger than {LEVEL_KEYS[i - 1]}'s {dim} tile {up}; "
                    "no mapping can satisfy both")
        if c.sp2 is not None and c.sp is not None and set(c.sp) <= {c.sp2}:
            raise GammaInputError(f"{where}: {key}.sp2: {c.sp2!r} is also the only allowed 'sp'; a "
                                  "level's two parallel dimensions must differ")
        if i and isinstance(c.sp_sz, int):
            if c.sp_sz > num_pes:
                raise GammaInputError(f"{where}: {key}.sp_sz: cluster size {c.sp_sz} is larger than the "
                                      f"{num_pes} PEs of the hardware")
            cluster_product *= c.sp_sz
            fixed_clusters.append(f"{key}.sp_sz={c.sp_sz}")
            if cluster_product > num_pes:
                raise GammaInputError(f"{where}: {key}.sp_sz: fixed cluster sizes "
                                      f"{' x '.join(fixed_clusters)} need {cluster_product} PEs, more "
                                      f"than the {num_pes} of the hardware")
        # The next level's parent tiles: fixed here, unknown (free) otherwise.
        parent = {d: resolved.get(d) for d in GENOME_DIMS}


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
           "check_against", "lower_layer", "resolve_plugin", "available_plugins", "CSTR_DIR",
           "NOC_PARALLEL"]

