"""Hardware configurations: PEs, buffers, bandwidths and the area model.

Three file formats are read:

* YAML (``hwconfigs/*.yaml``)::

      name: edge
      num_pes: 168
      l1_size: 512        # elements per PE
      l2_size: 108000     # elements
      noc_bw: 81920000    # elements/cycle, omit for unlimited
      offchip_bw: ~       # elements/cycle, omit or ~ for unlimited
      simd_lanes: 1
      noc_hops: 1
      area:               # optional (see AreaModel): µm² per MAC unit and per bit of SRAM
        model: digamma    # or maestro (MAESTRO's 28 nm area model)
        mac_um2: 282
        sram_um2_per_bit: 0.086
        bits_per_element: 8

* GAMMA's ``hw_config.m`` (``NumPEs: 168``, ``L1Size``, ``L2Size``, ``NoC_BW``).
* MAESTRO's hardware file (``num_pes: 256``, ``l1_size_cstr``, ``l2_size_cstr``,
  ``noc_bw_cstr``, ``offchip_bw_cstr``, ``NoC_NumHops``).  As in MAESTRO, a
  file without ``num_pes`` means one PE.

All sizes count elements (one element is one byte in MAESTRO's size columns);
bandwidths count elements per cycle.  ``None`` means unlimited.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from gamma.errors import GammaInputError, check_choice, check_keys
from gamma.workload import PROJECT_ROOT

HWCONFIG_DIR = PROJECT_ROOT / "hwconfigs"
#: GAMMA's hardware folder, relative to the working directory.
GAMMA_HW_DIR = Path("data") / "HWconfigs"
_HW_SUFFIXES = (".yaml", ".yml", ".m")
#: GAMMA's published hardware file names -> the shipped file with the same values.
_GAMMA_HW_NAMES = {"hw_config": "gamma_edge.m"}

#: Most PEs.  The search lists every cluster size up to the PE count (an
#: int64 array of that length, several temporaries deep): 2**20 PEs cost 8 MB
#: per array, where 10**11 would need 745 GiB.
MAX_PES = 2**20
#: Largest L1 (per PE) or L2 size, in elements.  The buffer totals
#: ``l1_size * num_pes`` must stay in int64: 2**40 * 2**20 = 2**60 < 2**63.
MAX_BUFFER = 2**40
#: MAESTRO's value for a missing size or bandwidth (INT_MAX).
MAESTRO_UNLIMITED = 2**31 - 1


@dataclass(frozen=True)
class AreaModel:
    """Chip area in µm², split into PE (MAC), L1, L2 and NoC parts.

    ``model: digamma`` (the default) — the per-MAC (int8) and per-bit SRAM
    figures GAMMA uses for PE-mapping co-exploration (DiGamma)::

        area = mac_um2 · PEs · lanes + sram_um2_per_bit · bits_per_element · (L1 · PEs + L2)

    (``282·PEs + 0.086·8·(L1·PEs + L2)`` with the defaults; no NoC term).

    ``model: maestro`` — MAESTRO's 28 nm area model
    (:func:`gamma.costmodel.hwcost.area_power`): 283 µm² per MAC lane,
    0.104 µm² per SRAM element (an empty buffer still counts one cell), plus a
    bus and arbiter NoC term that grows with the PE count and, linearly, with
    the NoC bandwidth.  The NoC term is counted only when the hardware has a
    finite ``noc_bw`` (with MAESTRO's "unlimited" INT_MAX it would dwarf
    everything); give a realistic ``noc_bw`` with this model.  ``mac_um2``,
    ``sram_um2_per_bit`` and ``bits_per_element`` are not used by it.

    L1 is per PE; all sizes in elements.
    """

    #: Area of one MAC (one SIMD lane), µm².
    mac_um2: float = 282.0
    #: Area of one SRAM bit, µm².
    sram_um2_per_bit: float = 0.086
    #: Bits of one element (the buffers hold elements).
    bits_per_element: int = 8
    #: Which formula: ``"digamma"`` or ``"maestro"`` (:data:`AREA_MODELS`).
    model: str = "digamma"

    def __post_init__(self):
        check_choice(self.model, AREA_MODELS, "area model")

    def parts_um2(self, num_pes, l1_elements, l2_elements, *, noc_bw=None, simd_lanes: int = 1):
        """The area's parts in µm² (element-wise on arrays): dict ``pe, l1, l2, noc``.

        Parameters
        ----------
        num_pes : int or ndarray
        l1_elements : int or ndarray
            L1 buffer size per PE, elements.
        l2_elements : int or ndarray
            Shared L2 buffer size, elements.
        noc_bw : int, ndarray or None
            NoC bandwidth (elements/cycle), only used by the MAESTRO model; None: no NoC term.
        simd_lanes : int
            MAC lanes per PE.
        """
        pes = np.asarray(num_pes, dtype=np.float64)
        l1 = np.asarray(l1_elements, dtype=np.float64)
        l2 = np.asarray(l2_elements, dtype=np.float64)
        if self.model == "maestro":
            from gamma.costmodel import hwcost
            parts = hwcost.area_parts(pes, simd_lanes, noc_bw, l1, l2)
        else:
            per_element = self.sram_um2_per_bit * self.bits_per_element
            parts = {"pe": self.mac_um2 * simd_lanes * pes, "l1": per_element * l1 * pes,
                     "l2": per_element * l2, "noc": 0.0}
        shape = np.broadcast(pes, l1, l2).shape
        return {k: np.broadcast_to(v, shape).astype(np.float64) for k, v in parts.items()}

    def area_um2(self, num_pes, l1_elements, l2_elements, *, noc_bw=None, simd_lanes: int = 1):
        """Area in µm², the sum of :meth:`parts_um2` (same parameters; element-wise on arrays)."""
        parts = self.parts_um2(num_pes, l1_elements, l2_elements, noc_bw=noc_bw,
                               simd_lanes=simd_lanes)
        total = sum(parts.values())
        return total.item() if total.ndim == 0 else total

    def pe_area_um2(self, simd_lanes: int = 1) -> float:
        """Area of one PE's MAC unit(s) alone, µm²."""
        if self.model == "maestro":
            from gamma.costmodel import hwcost
            return hwcost.MAC_AREA * simd_lanes
        return self.mac_um2 * simd_lanes


#: Area models :class:`AreaModel` offers.
AREA_MODELS = ("digamma", "maestro")


@dataclass(frozen=True)
class Hardware:
    """An accelerator: a PE array with per-PE L1 buffers and a shared L2.

    Parameters
    ----------
    num_pes : int
        Processing elements (one MAC unit per SIMD lane each).
    l1_size, l2_size : int or None
        Buffer capacities in elements (L1 per PE).  ``None``: unlimited.
    noc_bw, offchip_bw : int or None
        Bandwidths in elements/cycle.  ``None``: unlimited.
    noc_hops : int
        NoC latency in cycles per transfer (MAESTRO's ``NoC_NumHops``).
    simd_lanes : int
        MAC lanes per PE.
    name : str
        Label used in output folder names.
    area : AreaModel
        Constants of the area model.
    """

    num_pes: int
    l1_size: int | None = None
    l2_size: int | None = None
    noc_bw: int | None = None
    offchip_bw: int | None = None
    noc_hops: int = 1
    simd_lanes: int = 1
    name: str = "custom"
    area: AreaModel = field(default_factory=AreaModel)

    def __post_init__(self):
        _check_positive("num_pes", self.num_pes, MAX_PES)
        for name in ("l1_size", "l2_size", "noc_bw", "offchip_bw"):
            if getattr(self, name) is not None:
                _check_positive(name, getattr(self, name),
                                MAX_BUFFER if name in ("l1_size", "l2_size") else None)
        _check_positive("noc_hops", self.noc_hops)
        _check_positive("simd_lanes", self.simd_lanes)

    # Values as MAESTRO sees them: unlimited is INT_MAX.
    @property
    def noc_bw_value(self) -> int:
        return MAESTRO_UNLIMITED if self.noc_bw is None else self.noc_bw

    @property
    def offchip_bw_value(self) -> int:
        return MAESTRO_UNLIMITED if self.offchip_bw is None else self.offchip_bw

    @property
    def l1_limit(self) -> float:
        """L1 capacity per PE in elements (``inf`` if unlimited)."""
        return math.inf if self.l1_size is None else self.l1_size

    @property
    def l2_limit(self) -> float:
        """L2 capacity in elements (``inf`` if unlimited)."""
        return math.inf if self.l2_size is None else self.l2_size

    def replace(self, **changes) -> Hardware:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain data, as written to YAML."""
        out = dataclasses.asdict(self)
        return out

    def to_maestro(self) -> str:
        """The hardware in MAESTRO's file format."""
        lines = [f"num_pes: {self.num_pes}"]
        if self.l1_size is not None:
            lines.append(f"l1_size_cstr: {self.l1_size}")
        if self.l2_size is not None:
            lines.append(f"l2_size_cstr: {self.l2_size}")
        if self.noc_bw is not None:
            lines.append(f"noc_bw_cstr: {self.noc_bw}")
        if self.offchip_bw is not None:
            lines.append(f"offchip_bw_cstr: {self.offchip_bw}")
        lines.append(f"NoC_NumHops: {self.noc_hops}")
        return "\n".join(lines) + "\n"


def from_maestro_values(values: dict) -> Hardware:
    """Hardware from MAESTRO's own values, where ``2**31 - 1`` (its INT_MAX default) means unlimited.

    ``values``: ``num_pes``, ``l1_size``, ``l2_size`` (elements), ``noc_bw``,
    ``offchip_bw`` (elements/cycle), ``noc_hops``, ``simd_lanes``.
    """
    def limit(value):
        return None if value == MAESTRO_UNLIMITED else value

    return Hardware(num_pes=values["num_pes"], l1_size=limit(values["l1_size"]),
                    l2_size=limit(values["l2_size"]), noc_bw=limit(values["noc_bw"]),
                    offchip_bw=limit(values["offchip_bw"]), noc_hops=values["noc_hops"],
                    simd_lanes=values["simd_lanes"])


def _check_positive(name: str, value, limit: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GammaInputError(f"hardware {name} must be a positive integer, got {value!r}")
    if limit is not None and value > limit:
        raise GammaInputError(f"hardware {name}={value} exceeds the limit {limit}")


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

_YAML_KEYS = {"name", "num_pes", "l1_size", "l2_size", "noc_bw", "offchip_bw", "noc_hops",
              "simd_lanes", "area"}
_AREA_KEYS = {f.name for f in dataclasses.fields(AreaModel)}
_GAMMA_KEYS = {"NumPEs": "num_pes", "L1Size": "l1_size", "L2Size": "l2_size", "NoC_BW": "noc_bw"}
_MAESTRO_KEYS = {"num_pes": "num_pes", "l1_size_cstr": "l1_size", "l2_size_cstr": "l2_size",
                 "noc_bw_cstr": "noc_bw", "offchip_bw_cstr": "offchip_bw", "NoC_NumHops": "noc_hops"}


def available_hwconfigs() -> list[str]:
    """Names of the configurations shipped in ``hwconfigs/``."""
    return sorted(p.stem for p in HWCONFIG_DIR.glob("*.yaml"))


def hwconfig_folders() -> tuple[Path, ...]:
    """Where a bare ``--hwconfig`` name is looked up, first match wins.

    The working directory, GAMMA's ``data/HWconfigs/`` under it, then the
    shipped ``hwconfigs/``.
    """
    cwd = Path.cwd()
    return (cwd, cwd / GAMMA_HW_DIR, HWCONFIG_DIR)


def accepted_hwconfig_names() -> list[str]:
    """Every name ``--hwconfig`` accepts without a path, in lookup order."""
    names: list[str] = []
    for folder in hwconfig_folders()[1:]:
        if folder.is_dir():
            names += sorted(p.name for p in folder.iterdir()
                            if p.is_file() and p.suffix.lower() in _HW_SUFFIXES)
    names += available_hwconfigs() + [n + s for n in sorted(_GAMMA_HW_NAMES) for s in (".m", "")]
    return list(dict.fromkeys(names))


def resolve_hwconfig(spec: str) -> Path:
    """Turn ``--hwconfig`` into a file path.

    A path that exists is used as given.  Otherwise a relative name (``/``
    allowed, as GAMMA joins it to its folder) is looked up as is, then with
    ``.yaml``, ``.yml``, ``.m``, in each of :func:`hwconfig_folders`: GAMMA's ``--hwconfig hw_config.m`` finds
    ``data/HWconfigs/hw_config.m`` of the working directory, as in GAMMA.
    Without that file, ``hw_config`` is the shipped ``gamma_edge.m``, which
    holds the values of GAMMA's published file.

    Raises
    ------
    GammaInputError
        Listing every accepted name.
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    text = str(spec)
    if not path.is_absolute() and text not in ("", ".", ".."):
        # GAMMA joins the name to data/HWconfigs, so sub-folders work there too
        for folder in hwconfig_folders():
            for suffix in ("", ".yaml", ".yml", ".m"):
                candidate = folder / f"{text}{suffix}"
                if candidate.is_file():
                    return candidate
        alias = _GAMMA_HW_NAMES.get(Path(text).stem if Path(text).suffix == ".m" else text)
        if alias is not None:
            return HWCONFIG_DIR / alias
    where = "no such file" if ("/" in text or Path(text).suffix) else "no file or shipped config of that name"
    raise GammaInputError(f"--hwconfig: {text!r}: {where} (looked in the working directory, "
                          f"{GAMMA_HW_DIR}/ and the shipped hwconfigs/); accepted names: "
                          f"{', '.join(accepted_hwconfig_names())}; or give a path")


def load_hardware(spec: str | Path) -> Hardware:
    """Read a hardware configuration in any of the three formats."""
    path = resolve_hwconfig(str(spec))
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        return _from_yaml(path, text)
    return _from_key_value(path, text)


def _from_yaml(path: Path, text: str) -> Hardware:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise GammaInputError(f"{where}: not valid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(data, dict):
        raise GammaInputError(f"{path}: expected a mapping of keys such as num_pes, l1_size")
    check_keys(data, _YAML_KEYS, str(path))
    if "num_pes" not in data:
        raise GammaInputError(f"{path}: missing key num_pes")
    values = dict(data)
    values.setdefault("name", path.stem)
    area = values.pop("area", None) or {}
    if not isinstance(area, dict) or set(area) - _AREA_KEYS:
        raise GammaInputError(f"{path}: 'area' must be a mapping with keys "
                              f"{', '.join(sorted(_AREA_KEYS))}")
    try:
        return Hardware(**values, area=AreaModel(**area))
    except GammaInputError as err:
        raise GammaInputError(f"{path}: {err}") from None
    except TypeError as err:
        raise GammaInputError(f"{path}: {err}") from None


def _from_key_value(path: Path, text: str) -> Hardware:
    pairs: dict[str, tuple[int, str]] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("//")[0].split("#")[0].strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise GammaInputError(f"{path}:{line_no}: expected 'key: value', got {raw.strip()!r}")
        pairs[key.strip()] = (line_no, value.strip().rstrip(";"))
    if set(pairs) & set(_GAMMA_KEYS):
        table, flavour = _GAMMA_KEYS, "GAMMA"
    else:
        table, flavour = _MAESTRO_KEYS, "MAESTRO"
    values: dict[str, int] = {}
    for key, (line_no, value) in pairs.items():
        if key not in table:
            raise GammaInputError(f"{path}:{line_no}: unknown {flavour} hardware key {key!r}; "
                                  f"expected one of {', '.join(table)}")
        try:
            number = int(value)
        except ValueError:
            raise GammaInputError(f"{path}:{line_no}: {key} must be a whole number, got {value!r}") from None
        if number < 1:
            raise GammaInputError(f"{path}:{line_no}: {key} must be positive, got {number}")
        values[table[key]] = number
    if flavour == "GAMMA" and "num_pes" not in values:
        raise GammaInputError(f"{path}: missing NumPEs")
    values.setdefault("num_pes", 1)  # MAESTRO's default
    return Hardware(**values, name=path.stem)
