"""Workloads: one DNN layer (:class:`Layer`) and the model files that list them.

Sizes follow MAESTRO and GAMMA: ``Y`` and ``X`` are the *input* activation rows
and columns, ``R`` and ``S`` the filter rows and columns.  The output size is
``Y' = (Y - R) // stride + 1`` (no padding: a padded layer is written with its
padded input size).

Model files (``data/model/<name>.csv``) use GAMMA's columns, read by the
header's names (in any order)::

    K,C,Y,X,R,S,T[,stride]

with ``T`` the layer type code (0 FC, 1 CONV, 2 DSCONV, 3 GEMM).  GEMM rows
hold ``M,N,K`` in the K, C, Y columns and FC rows ``O,I`` in K, C; the other
size columns are ignored (GAMMA writes 1 or 0 there).  GAMMA's GEMM and FC
files name their columns so (``M,N,K,0,0,0,T``, ``O,I,0,0,0,0,T``; ``0`` is a
placeholder).  An optional column ``stride`` gives the convolution stride
(default 1).  An unknown, repeated or missing column name is refused.
"""
from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from gamma.errors import GammaInputError, check_choice

#: Layer types.  CONV/DSCONV/GEMM/FC come from GAMMA's model files; TRCONV and
#: NGCONV only appear in MAESTRO mapping files.
LAYER_TYPES = ("CONV", "DSCONV", "GEMM", "FC", "TRCONV", "NGCONV")

#: The model-file columns, in order.
_COLUMNS = ("K", "C", "Y", "X", "R", "S", "T", "stride")
#: GAMMA's ``T`` column codes.
TYPE_CODES = {0: "FC", 1: "CONV", 2: "DSCONV", 3: "GEMM"}
_TYPE_CODES_TEXT = ", ".join(f"{code} {kind}" for code, kind in TYPE_CODES.items())

#: Largest size of one dimension.  The search keeps a table of the divisors of
#: every integer up to the largest dimension (``gamma.mapping.divisor_table``):
#: at 2**16 it holds 65,537 x 120 int64 entries (63 MB); at 2**20 it would need
#: about 2 GB, and a 10**11 dimension hundreds of GiB.
MAX_DIM = 2**16
#: Largest MAC count of one layer.  The cost model counts MACs and buffer
#: accesses in int64 (limit 2**63 - 1 ~ 9.2e18); the access counts are a small
#: multiple of the MACs, so 2**50 (~1.1e15) keeps a factor 8,192 of headroom.
MAX_MACS = 2**50

#: Where the shipped model zoo and the other data folders live.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = PROJECT_ROOT / "data" / "model"


@dataclass(frozen=True)
class Layer:
    """One layer of a DNN, in MAESTRO's dimension names.

    Parameters
    ----------
    type : str
        One of :data:`LAYER_TYPES`.
    K, C : int
        Output and input channels.  Depthwise (DSCONV) layers have ``K == 1``
        and ``C`` channels.  A GEMM ``M x K`` times ``K x N`` is stored as
        ``K = N``, ``C = K``, ``Y = M`` (and ``X = R = S = 1``), an FC layer
        with ``O`` outputs and ``I`` inputs as ``K = O``, ``C = I``.
    Y, X : int
        Input rows and columns (elements).
    R, S : int
        Filter rows and columns.
    stride : int
        Convolution stride, the same along Y and X.
    N : int
        Batch size (MAESTRO's optional ``N`` dimension).
    G : int
        Groups, for MAESTRO's NGCONV layers only.
    name : str
        Free-form label (e.g. the MAESTRO layer name).
    """

    type: str
    K: int
    C: int
    Y: int
    X: int
    R: int
    S: int
    stride: int = 1
    N: int = 1
    G: int = 1
    name: str = ""

    def __post_init__(self):
        check_choice(self.type, LAYER_TYPES, "layer type")
        for field in ("K", "C", "Y", "X", "R", "S", "stride", "N", "G"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GammaInputError(
                    f"layer {field} must be a positive integer, got {value!r}")
        if self.R > self.Y or self.S > self.X:
            raise GammaInputError(
                f"filter {self.R}x{self.S} is larger than the input {self.Y}x{self.X}; "
                "write the padded input size in Y and X")
        self._check_limits()

    def _check_limits(self):
        """Refuse sizes the search's tables or the cost model's int64 counts cannot hold."""
        for field in ("K", "C", "Y", "X", "R", "S", "stride", "N", "G"):
            value = getattr(self, field)
            if value > MAX_DIM:
                raise GammaInputError(
                    f"layer {field}={value} exceeds the limit {MAX_DIM} per dimension "
                    "(the search's divisor tables would not fit in memory)")
        if self.macs > MAX_MACS:
            raise GammaInputError(
                f"layer has {self.macs:.3e} MACs, above the limit {MAX_MACS:.3e} "
                "(2**50: the cost model's int64 access counts would overflow)")

    # ------------------------------------------------------------------ sizes
    @property
    def Yo(self) -> int:
        """Output rows, ``(Y - R) // stride + 1``."""
        return (self.Y - self.R) // self.stride + 1

    @property
    def Xo(self) -> int:
        """Output columns, ``(X - S) // stride + 1``."""
        return (self.X - self.S) // self.stride + 1

    @property
    def Yi(self) -> int:
        """Input rows that feed an output, ``(Yo - 1) * stride + R`` (at most ``Y``)."""
        return (self.Yo - 1) * self.stride + self.R

    @property
    def Xi(self) -> int:
        """Input columns that feed an output, ``(Xo - 1) * stride + S`` (at most ``X``)."""
        return (self.Xo - 1) * self.stride + self.S

    @property
    def macs(self) -> int:
        """Multiply-accumulates the layer truly computes (with its stride)."""
        per_output = self.R * self.S
        if self.type == "DSCONV":
            return self.N * self.C * self.Yo * self.Xo * per_output
        return self.N * self.G * self.K * self.C * self.Yo * self.Xo * per_output

    @property
    def dims(self) -> dict[str, int]:
        """Dimension sizes by MAESTRO name (``N`` and ``G`` only when used)."""
        sizes = {"K": self.K, "C": self.C, "Y": self.Y, "X": self.X, "R": self.R, "S": self.S}
        if self.type == "NGCONV":
            sizes = {"G": self.G, **sizes}
        if self.N > 1:
            sizes = {"N": self.N, **sizes}
        return sizes

    @property
    def shape_key(self) -> tuple:
        """Everything that decides how a mapping of this layer scores.

        Two layers with the same key are searched once (names do not count).
        """
        return (self.type, self.K, self.C, self.Y, self.X, self.R, self.S,
                self.stride, self.N, self.G)

    def describe(self) -> str:
        """Short readable form, e.g. ``CONV K64 C64 Y56 X56 R3 S3 /1``."""
        if self.type == "GEMM":
            return f"GEMM M{self.Y} N{self.K} K{self.C}"
        if self.type == "FC":
            return f"FC O{self.K} I{self.C}"
        text = (f"{self.type} K{self.K} C{self.C} Y{self.Y} X{self.X} "
                f"R{self.R} S{self.S} /{self.stride}")
        if self.type == "NGCONV":
            text = f"{self.type} G{self.G} " + text[len(self.type) + 1:]
        return text

    def replace(self, **changes) -> Layer:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_gamma_row(cls, values, stride: int = 1, name: str = "") -> Layer:
        """Build a layer from a GAMMA model-file row ``K,C,Y,X,R,S,T``.

        GEMM rows are ``M,N,K,…,3`` and FC rows ``O,I,…,0``.
        """
        k, c, y, x, r, s, t = values
        kind = TYPE_CODES.get(t)
        if kind is None:
            raise GammaInputError(
                f"layer type code T={t} is unknown; expected one of {_TYPE_CODES_TEXT}")
        if kind in ("GEMM", "FC"):
            named = dict(zip("MNK", (k, c, y), strict=True)) if kind == "GEMM" else {"O": k, "I": c}
            for key, value in named.items():
                if value < 1:
                    raise GammaInputError(f"{kind} {key} must be a positive integer, got {value}")
            if stride != 1:
                raise GammaInputError(f"a {kind} row cannot have a stride (got {stride})")
            if kind == "GEMM":
                return cls("GEMM", K=c, C=y, Y=k, X=1, R=1, S=1, name=name)
            return cls("FC", K=k, C=c, Y=1, X=1, R=1, S=1, name=name)
        if kind == "DSCONV" and k != 1:
            raise GammaInputError(
                f"a depthwise (T=2) row must have K=1 and the channels in C, got K={k}")
        return cls(kind, K=k, C=c, Y=y, X=x, R=r, S=s, stride=stride, name=name)

    def to_gamma_row(self) -> list[int]:
        """The model-file row ``K,C,Y,X,R,S,T,stride`` for this layer."""
        code = {v: k for k, v in TYPE_CODES.items()}
        if self.type == "GEMM":
            return [self.Y, self.K, self.C, 1, 1, 1, 3, 1]
        if self.type == "FC":
            return [self.K, self.C, 1, 1, 1, 1, 0, 1]
        if self.type not in code:
            raise GammaInputError(f"{self.type} layers cannot be written to a GAMMA model file")
        return [self.K, self.C, self.Y, self.X, self.R, self.S, code[self.type], self.stride]


# ---------------------------------------------------------------------------
# Model files
# ---------------------------------------------------------------------------

_INTEGER = re.compile(r"^-?[0-9]+$")


#: Header spellings, each naming the row slots ``K,C,Y,X,R,S,T`` of
#: :meth:`Layer.from_gamma_row` its columns fill: GAMMA's CONV header, and the
#: headers of its GEMM (``M,N,K,0,0,0,T``) and FC (``O,I,0,0,0,0,T``) files.
_HEADER_STYLES = {
    "CONV": {"K": 0, "C": 1, "Y": 2, "X": 3, "R": 4, "S": 5, "T": 6},
    "GEMM": {"M": 0, "N": 1, "K": 2, "T": 6},
    "FC": {"O": 0, "I": 1, "T": 6},
}
#: A column GAMMA writes as a placeholder (its value is ignored).
_PLACEHOLDER = "0"


def _column_plan(header: list[str], path) -> tuple[list[int | None], int | None]:
    """Where each row slot ``K,C,Y,X,R,S,T`` is in a model file, read by column name.

    Returns the column index of each of the seven slots (``None``: not in the
    file, value 1) and that of the optional ``stride`` column.  The header's
    names pick the style: ``M``/``N`` a GEMM file, ``O``/``I`` an FC file,
    otherwise ``K,C,Y,X,R,S,T`` in any order.

    Raises
    ------
    GammaInputError
        Naming the file and the unknown, repeated or missing column.
    """
    style = "GEMM" if {"M", "N"} & set(header) else "FC" if {"O", "I"} & set(header) else "CONV"
    names = _HEADER_STYLES[style]
    expected = ",".join(names) + "[,stride]"
    slots: list[int | None] = [None] * 7
    stride_at = None
    seen: set[str] = set()
    for index, name in enumerate(header):
        if name == _PLACEHOLDER and style != "CONV":
            continue
        key = "stride" if name.lower() == "stride" else name
        if key in seen:
            raise GammaInputError(f"{path}:1: column {name!r} appears twice in the header "
                                  f"{','.join(header)}")
        seen.add(key)
        if key == "stride":
            stride_at = index
        elif key in names:
            slots[names[key]] = index
        else:
            raise GammaInputError(f"{path}:1: unknown column {name!r} in the header {','.join(header)}; "
                                  f"expected the names {expected} in any order")
    missing = [name for name in names if name not in seen]
    if missing:
        raise GammaInputError(f"{path}:1: missing column {missing[0]!r} in the header "
                              f"{','.join(header)}; expected the names {expected} in any order")
    return slots, stride_at


def available_models() -> list[str]:
    """Names of the models shipped in ``data/model/``."""
    return sorted(p.stem for p in MODEL_DIR.glob("*.csv"))


def resolve_model(model: str) -> Path:
    """Turn ``--model`` (a zoo name or a path to a CSV) into a file path."""
    candidate = Path(model)
    if candidate.suffix.lower() == ".csv" or candidate.exists() or "/" in model:
        if not candidate.is_file():
            raise GammaInputError(f"--model: file {model} does not exist")
        return candidate
    path = MODEL_DIR / f"{model}.csv"
    if not path.is_file():
        names = ", ".join(available_models())
        raise GammaInputError(f"--model: unknown model {model!r}; shipped models: {names}")
    return path


def load_model(model: str | Path) -> list[Layer]:
    """Read a model file (zoo name or path) into a list of layers.

    Raises
    ------
    GammaInputError
        Naming the file and line of the first malformed row.
    """
    path = resolve_model(str(model))
    layers: list[Layer] = []
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise GammaInputError(f"{path}: the file is empty; expected a header K,C,Y,X,R,S,T")
    header = [cell.strip() for cell in rows[0]]
    if header and all(_INTEGER.match(cell) for cell in header):
        raise GammaInputError(
            f"{path}:1: the first line must be the header K,C,Y,X,R,S,T[,stride], got numbers")
    slots, stride_at = _column_plan(header, path)
    for line_no, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) != len(header):
            raise GammaInputError(
                f"{path}:{line_no}: expected {len(header)} comma-separated integers, got {len(cells)} "
                f"({','.join(cells)}; header {','.join(header)})")
        bad = next((i for i, cell in enumerate(cells) if not _INTEGER.match(cell)), None)
        if bad is not None:
            column = header[bad]
            hint = f" (the layer type code: {_TYPE_CODES_TEXT})" if column == "T" else ""
            raise GammaInputError(
                f"{path}:{line_no}: column {column} must be a whole number{hint}, got "
                f"{cells[bad]!r} in {','.join(cells)}")
        values = [int(cell) for cell in cells]
        row_values = [values[i] if i is not None else 1 for i in slots]
        stride = values[stride_at] if stride_at is not None else 1
        try:
            layers.append(Layer.from_gamma_row(row_values, stride=stride, name=f"L{len(layers) + 1}"))
        except GammaInputError as err:
            raise GammaInputError(f"{path}:{line_no}: {err}") from None
    if not layers:
        raise GammaInputError(f"{path}: no layers (only a header)")
    return layers


def write_model(path: str | Path, layers: list[Layer]) -> None:
    """Write layers as a model file with a stride column."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(_COLUMNS)
        for layer in layers:
            writer.writerow(layer.to_gamma_row())
