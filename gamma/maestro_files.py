"""MAESTRO mapping files (``.m``): read them into layers and directives, write them back.

Grammar (maestro-model.md §2.1)::

    Constant NAME VALUE;
    Network NAME {
      Layer NAME {
        Type: CONV | DSCONV | NGCONV | TRCONV | GEMM
        Stride { X: 2, Y: 2 }                  // optional, before Dimensions
        Dimensions { K: 64, C: 64, R: 3, S: 3, Y: 56, X: 56 }
        Dataflow {                             // optional: reuse the previous layer's
          SpatialMap(1,1) K;
          TemporalMap(Sz(R),1) Y;
          Cluster(64, P);
          ...
        }
      }
    }

Tokens are separated by any of `` ,->():`` tab and ``;``; ``//`` starts a
comment.  Numbers may be integers, ``Constant`` names or ``Sz(DIM)``.  MAESTRO's
own GEMM form (dimensions ``M, N, K``) is read into the project's CONV-like GEMM
layer: ``M -> Y``, ``N -> K``, ``K -> C`` (directives too).

:func:`read_mapping` reads every layer it can and reports each one it cannot
(with ``file:line`` and the cause) without losing the others;
:func:`parse_mapping` insists on every layer.  A dimension or stride declared
twice with the same value is read once with a warning (MAESTRO's own
``UNet_RS.m`` does this); with different values it is an error.  MAESTRO's
model-only files (layers without dataflows) are read with a dataflow-only file
(``Dataflow { ... }``, as its front end keeps them) applied to each layer.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np

from gamma.costmodel.directives import DIM_CODE, DIM_NAMES, EMPTY, Directives
from gamma.errors import GammaInputError
from gamma.workload import Layer

#: Layer types MAESTRO reads.  FC, POOL and LSTM are unsupported by MAESTRO.
MAESTRO_TYPES = ("CONV", "DSCONV", "NGCONV", "TRCONV", "GEMM")
_GEMM_DIMS = {"M": "Y", "N": "K", "K": "C"}
_SEPARATORS = re.compile(r"[ ,\->():\t;]+")
#: First words of MAESTRO and GAMMA hardware files.
_HW_KEYS = ("num_pes", "NumPEs", "l1_size_cstr", "l2_size_cstr", "noc_bw_cstr", "offchip_bw_cstr",
            "NoC_NumHops", "L1Size", "L2Size", "NoC_BW")


class _Tokens:
    """Token stream with line numbers; ``closing[i]`` is the index of the brace closing token ``i``."""

    def __init__(self, text: str, source: str):
        self.source = source
        self.items = []
        for line_no, line in enumerate(text.splitlines(), start=1):
            for token in _SEPARATORS.split(line):
                if token.startswith("//"):
                    break
                if token:
                    # Braces may touch a word ("Dimensions{"): split them off.
                    for part in re.split(r"([{}])", token):
                        if part:
                            self.items.append((part, line_no))
        self.index = 0
        # Where each '{' is closed, to skip a layer that cannot be read; an
        # unclosed brace has no entry (what is wrong is said where it shows).
        self.closing: dict[int, int] = {}
        opened = []
        for i, (token, _) in enumerate(self.items):
            if token == "{":
                opened.append(i)
            elif token == "}" and opened:
                self.closing[opened.pop()] = i

    def error(self, message: str, line: int | None = None):
        if line is None:
            line = self.items[min(self.index, len(self.items) - 1)][1] if self.items else 1
        raise GammaInputError(f"{self.source}:{line}: {message}")

    def peek(self):
        return self.items[self.index][0] if self.index < len(self.items) else None

    def next(self, what: str):
        if self.index >= len(self.items):
            self.error(f"unexpected end of file, expected {what}",
                       self.items[-1][1] if self.items else 1)
        token, line = self.items[self.index]
        self.index += 1
        return token, line

    def expect(self, value: str):
        token, line = self.next(repr(value))
        if token != value:
            self.error(f"expected {value!r}, got {token!r}", line)


@dataclass(frozen=True)
class MappingLayer:
    """One ``Layer`` of a mapping file, read or not.

    Attributes
    ----------
    name : str
        The layer's name as the file gives it.
    line : int
        Line of its ``Layer`` keyword.
    layer : Layer or None
        None when the layer could not be read.
    directives : Directives or None
        Its mapping (N = 1); None when the layer could not be read.
    error : str
        Empty when read; else one line ``file:line: cause``.
    warnings : tuple of str
        Things MAESTRO accepts but that are likely slips (``file:line: ...``).
    gemm_form : {"conv", "maestro"}
        ``"maestro"`` for a ``Type: GEMM`` layer (M, N, K; M is no sliding
        window), which :func:`gamma.costmodel.evaluate` must be told.
    """

    name: str
    line: int
    layer: Layer | None
    directives: Directives | None
    error: str = ""
    warnings: tuple[str, ...] = ()
    gemm_form: str = "conv"


def read_mapping(text: str, source: str = "<file>", *, dataflow_text: str | None = None,
                 dataflow_source: str = "<dataflow>") -> list[MappingLayer]:
    """Read every layer of a MAESTRO mapping file, keeping going past a bad layer.

    Parameters
    ----------
    text : str
        File contents.
    source : str
        Name used in messages (``source:line: ...``).
    dataflow_text : str, optional
        Text of a dataflow-only file (``Dataflow { ... }``, as MAESTRO's
        front end keeps them), applied to every layer that has no dataflow of
        its own and none to reuse from an earlier layer (a model-only file).
        Its ``Sz(DIM)`` are resolved against each layer's dimensions.
    dataflow_source : str
        Name of that file in messages.

    Returns
    -------
    list of MappingLayer
        One entry per ``Layer``, in file order.  A layer MAESTRO would not read
        has ``error`` set and the others are still read.

    Raises
    ------
    GammaInputError
        When the file as a whole cannot be read (unbalanced braces, no
        ``Network``, a hardware or dataflow-only file given as a mapping).
    """
    tokens = _Tokens(text, source)
    _refuse_other_kinds(tokens)
    default = None if dataflow_text is None else _read_dataflow(dataflow_text, dataflow_source)
    constants: dict[str, int] = {}
    entries: list[MappingLayer] = []
    previous_dataflow = None
    saw_network = False
    while tokens.peek() is not None:
        token, line = tokens.next("Constant or Network")
        if token == "Constant":
            name, _ = tokens.next("constant name")
            value, vline = tokens.next("constant value")
            constants[name] = _integer(tokens, value, vline, constants)
        elif token == "Network":
            saw_network = True
            while tokens.peek() not in ("{", None):
                tokens.next("network name")
            tokens.expect("{")
            while tokens.peek() != "}":
                word, wline = tokens.next("Layer or '}'")
                if word != "Layer":
                    tokens.error(f"expected 'Layer' or '}}', got {word!r}", wline)
                read = _read_layer(tokens, constants, previous_dataflow or default, wline)
                if read.own_dataflow is not None:
                    previous_dataflow = read.own_dataflow
                entries.append(read.result)
            tokens.expect("}")
        else:
            tokens.error(f"expected 'Constant' or 'Network', got {token!r}", line)
    if not saw_network or not entries:
        raise GammaInputError(f"{source}:1: no 'Network {{ Layer ... }}' found")
    return entries


def parse_mapping(text: str, source: str = "<file>") -> list[tuple[Layer, Directives]]:
    """Read a MAESTRO mapping file whose every layer must be readable.

    Parameters
    ----------
    text : str
        File contents.
    source : str
        Name used in error messages (``source:line: ...``).

    Returns
    -------
    list of (Layer, Directives)
        One entry per ``Layer``; each Directives holds one mapping (N = 1).

    Raises
    ------
    GammaInputError
        One line naming ``source:line`` for the first thing MAESTRO would not
        read.  Warnings (:attr:`MappingLayer.warnings`) are issued as
        :class:`UserWarning`.
    """
    entries = read_mapping(text, source)
    for entry in entries:
        if entry.error:
            raise GammaInputError(entry.error)
    for entry in entries:
        for message in entry.warnings:
            warnings.warn(message, stacklevel=2)
    return [(entry.layer, entry.directives) for entry in entries]


def _refuse_other_kinds(tokens: _Tokens) -> None:
    """A hardware or dataflow-only file given where a mapping file belongs: say so."""
    first = tokens.peek()
    if first == "Dataflow":
        tokens.error("this is a dataflow-only file (no Network/Layer); give a model or mapping "
                     "file and this file as --dataflow", 1)
    if first in _HW_KEYS:
        tokens.error(f"this looks like a hardware file ({first!r}); give it as --hw_file", 1)


def _read_dataflow(text: str, source: str) -> _RawDataflow:
    """The block of a dataflow-only file (``Dataflow { ... }``)."""
    tokens = _Tokens(text, source)
    token, line = tokens.next("'Dataflow'")
    if token != "Dataflow":
        tokens.error(f"a dataflow file holds one 'Dataflow {{ ... }}' block, got {token!r}", line)
    # Sz(DIM) is resolved per layer, so keep the raw tokens of the block.
    start = tokens.index
    tokens.expect("{")
    if start not in tokens.closing:
        tokens.error("the Dataflow block is never closed", tokens.items[start][1])
    end = tokens.closing[start]
    if end + 1 != len(tokens.items):
        tokens.error("unexpected text after the Dataflow block", tokens.items[end + 1][1])
    return _RawDataflow(tokens, start)


def _integer(tokens: _Tokens, token: str, line: int, constants: dict) -> int:
    if token in constants:
        return constants[token]
    try:
        return int(token)
    except ValueError:
        tokens.error(f"expected a whole number or a Constant, got {token!r}", line)


@dataclass
class _LayerRead:
    result: MappingLayer
    #: The layer's own Dataflow block, which later layers without one reuse.
    own_dataflow: list | None


def _read_layer(tokens: _Tokens, constants: dict, previous_dataflow, layer_line: int) -> _LayerRead:
    """Read one ``Layer name { ... }``; an error inside it skips to its closing brace."""
    name = ""
    # MAESTRO keeps the last word before '{' (names may contain separators).
    while tokens.peek() not in ("{", None):
        name, _ = tokens.next("layer name")
    opening = tokens.index
    if tokens.peek() is None:
        tokens.error("unexpected end of file, expected '{'", layer_line)
    notes: list[str] = []
    try:
        layer, dataflow, own = _parse_layer(tokens, constants, previous_dataflow, name,
                                            layer_line, notes)
        directives = _to_directives(dataflow)
    except GammaInputError as err:
        if opening not in tokens.closing:
            raise      # the layer never ends: nothing after it can be read either
        tokens.index = tokens.closing[opening] + 1
        return _LayerRead(MappingLayer(name, layer_line, None, None, str(err), tuple(notes)), None)
    form = "maestro" if layer.type == "GEMM" else "conv"
    return _LayerRead(MappingLayer(name, layer_line, layer, directives, "", tuple(notes), form),
                      dataflow if own else None)


def _parse_layer(tokens: _Tokens, constants: dict, previous_dataflow, name: str, layer_line: int,
                 notes: list):
    tokens.expect("{")
    kind = None
    stride: dict[str, int] = {}
    dims: dict[str, int] = {}
    dataflow = None
    while True:
        token, line = tokens.next("a layer entry or '}'")
        if token == "}":
            break
        if token == "Type":
            kind, kline = tokens.next("layer type")
            if kind not in MAESTRO_TYPES:
                tokens.error(f"layer type {kind!r} is not supported by MAESTRO; expected one of "
                             f"{', '.join(MAESTRO_TYPES)} (write FC layers as CONV or GEMM)", kline)
        elif token == "Stride":
            if dims:
                tokens.error("Stride must come before Dimensions (MAESTRO rejects it after)", line)
            stride = _parse_block(tokens, constants, "stride", notes)
        elif token == "Dimensions":
            dims = _parse_block(tokens, constants, "dimension", notes)
        elif token == "Dataflow":
            if kind is None or not dims:
                tokens.error("Dataflow must follow Type and Dimensions", line)
            dataflow = _parse_dataflow(tokens, constants, dims, kind)
        else:
            tokens.error(f"unknown layer entry {token!r}; expected Type, Stride, Dimensions, "
                         "Dataflow or '}'", line)
    if kind is None:
        tokens.error("layer without 'Type'", layer_line)
    if not dims:
        tokens.error("layer without 'Dimensions'", layer_line)
    layer = _make_layer(tokens, kind, name, dims, stride, layer_line)
    own = dataflow is not None
    if not own:
        if previous_dataflow is None:
            tokens.error("layer without 'Dataflow' and no previous layer to reuse it from "
                         "(for a model-only file, give a dataflow file with --dataflow)",
                         layer_line)
        dataflow = (previous_dataflow.resolve(constants, dims, kind)
                    if isinstance(previous_dataflow, _RawDataflow) else previous_dataflow)
    return layer, dataflow, own


class _RawDataflow:
    """A dataflow-only file's block, kept as tokens: ``Sz(DIM)`` is resolved per layer."""

    def __init__(self, tokens: _Tokens, start: int):
        self.source = tokens.source
        self.items = tokens.items[start:tokens.closing[start] + 1]

    def resolve(self, constants: dict, dims: dict, kind: str):
        block = _Tokens("", self.source)
        block.items = self.items
        return _parse_dataflow(block, constants, dims, kind)


def _parse_block(tokens: _Tokens, constants: dict, what: str, notes: list) -> dict:
    """``{ KEY: value, ... }`` -> dict; a key repeated with its value is noted, else an error."""
    tokens.expect("{")
    values: dict[str, int] = {}
    while True:
        key, line = tokens.next(f"a {what} name or '}}'")
        if key == "}":
            return values
        raw, vline = tokens.next(f"the {what} size of {key}")
        value = _integer(tokens, raw, vline, constants)
        if value < 1:
            tokens.error(f"{what} {key} must be a positive integer, got {value}", vline)
        if key in values:
            if values[key] != value:
                tokens.error(f"{what} {key} given twice with different values "
                             f"({values[key]} and {value})", line)
            notes.append(f"{tokens.source}:{line}: {what} {key} given twice with the same value "
                         f"{value}; read once")
        values[key] = value


def _parse_dataflow(tokens: _Tokens, constants: dict, dims: dict, kind: str):
    """Directive list: ("S"|"T", size, offset, dim) or ("C", cluster size)."""
    tokens.expect("{")
    items = []
    while True:
        token, line = tokens.next("a directive or '}'")
        if token == "}":
            return items
        if token in ("SpatialMap", "TemporalMap"):
            size = _map_value(tokens, constants, dims)
            offset = _map_value(tokens, constants, dims)
            dim, dline = tokens.next("the directive's dimension")
            items.append(("S" if token == "SpatialMap" else "T", size, offset,
                          _directive_dim(tokens, dim, dline, kind), line))
        elif token == "Cluster":
            size = _map_value(tokens, constants, dims)
            if tokens.peek() in ("P", "L"):
                tokens.next("P or L")
            items.append(("C", size, 0, None, line))
        else:
            tokens.error(f"unknown directive {token!r}; expected SpatialMap, TemporalMap, "
                         "Cluster or '}'", line)


def _map_value(tokens: _Tokens, constants: dict, dims: dict) -> int:
    token, line = tokens.next("a size, an offset, a Constant or Sz(DIM)")
    if token == "Sz":
        dim, dline = tokens.next("a dimension name")
        if dim not in dims:
            tokens.error(f"Sz({dim}): no dimension {dim} in Dimensions", dline)
        return dims[dim]
    value = _integer(tokens, token, line, constants)
    if value < 1:
        tokens.error(f"sizes and offsets must be positive integers, got {value}", line)
    return value


def _directive_dim(tokens: _Tokens, dim: str, line: int, kind: str) -> str:
    if kind == "GEMM":
        if dim not in _GEMM_DIMS:
            tokens.error(f"unknown GEMM dimension {dim!r}; expected M, N or K", line)
        return _GEMM_DIMS[dim]
    if dim not in DIM_CODE:
        tokens.error(f"unknown dimension {dim!r}; expected one of {', '.join(DIM_NAMES)}", line)
    return dim


def _make_layer(tokens, kind, name, dims, stride, line) -> Layer:
    strides = set(stride.values()) or {1}
    unknown = set(stride) - {"X", "Y"}
    if unknown or len(strides) > 1:
        tokens.error("only equal X and Y strides are supported (Stride { X: s, Y: s })", line)
    try:
        if kind == "GEMM":
            extra = set(dims) - {"M", "N", "K"}
            if extra or len(dims) != 3:
                tokens.error("a GEMM layer needs exactly the dimensions M, N and K", line)
            return Layer("GEMM", K=dims["N"], C=dims["K"], Y=dims["M"], X=1, R=1, S=1, name=name)
        allowed = {"N", "G", "K", "C", "R", "S", "Y", "X", "Y'", "X'"}
        if set(dims) - allowed:
            tokens.error(f"unknown dimension(s) {', '.join(sorted(set(dims) - allowed))}", line)
        values = dict(dims)
        for out, inp, filt in (("Y'", "Y", "R"), ("X'", "X", "S")):
            if out in values:
                values[inp] = values.pop(out) + values.get(filt, 1) - 1
        missing = {"C", "R", "S", "Y", "X"} - set(values)
        if kind != "DSCONV":
            missing |= {"K"} - set(values)
        if kind == "NGCONV":
            missing |= {"G"} - set(values)
        if missing:
            tokens.error(f"missing dimension(s) {', '.join(sorted(missing))}", line)
        return Layer(kind, K=values.get("K", 1), C=values["C"], Y=values["Y"], X=values["X"],
                     R=values["R"], S=values["S"], stride=strides.pop(), N=values.get("N", 1),
                     G=values.get("G", 1), name=name)
    except GammaInputError as err:
        if str(err).startswith(tokens.source):
            raise
        tokens.error(str(err), line)


def _to_directives(dataflow) -> Directives:
    """Directive list -> Directives arrays (N = 1)."""
    levels = [[]]
    clusters = [0]
    for kind, size, offset, dim, _ in dataflow:
        if kind == "C":
            levels.append([])
            clusters.append(size)
        else:
            levels[-1].append((DIM_CODE[dim], size, offset, kind == "S"))
    width = max(1, max(len(level) for level in levels))
    n_levels = len(levels)
    dim = np.full((1, n_levels, width), EMPTY, dtype=np.int8)
    size = np.zeros((1, n_levels, width), dtype=np.int64)
    offset = np.zeros((1, n_levels, width), dtype=np.int64)
    spatial = np.zeros((1, n_levels, width), dtype=bool)
    for lvl, level in enumerate(levels):
        for slot, (code, s, o, sp) in enumerate(level):
            dim[0, lvl, slot], size[0, lvl, slot] = code, s
            offset[0, lvl, slot], spatial[0, lvl, slot] = o, sp
    return Directives(dim=dim, size=size, offset=offset, spatial=spatial,
                      cluster=np.array([clusters], dtype=np.int64),
                      num_levels=np.array([n_levels], dtype=np.int64))


# --------------------------------------------------------------------------- writing

def _layer_dims(layer: Layer) -> list[tuple[str, int]]:
    dims = []
    if layer.N > 1:
        dims.append(("N", layer.N))
    if layer.type == "NGCONV":
        dims.append(("G", layer.G))
    dims += [("K", layer.K), ("C", layer.C), ("Y", layer.Y), ("X", layer.X),
             ("R", layer.R), ("S", layer.S)]
    return dims


def write_mapping(layer: Layer, directives_row: Directives, network: str = "gamma") -> str:
    """MAESTRO text of one layer and one mapping.

    Parameters
    ----------
    layer : Layer
        GEMM and FC layers are written as CONV (``K, C, Y=M, X=R=S=1``), as GAMMA does.
    directives_row : Directives
        A single mapping (N = 1; use ``Directives.take(i)``).
    network : str
        Network name.
    """
    if len(directives_row) != 1:
        raise GammaInputError(f"write_mapping takes one mapping, got {len(directives_row)}")
    kind = "CONV" if layer.type in ("GEMM", "FC") else layer.type
    name = re.sub(r"[^A-Za-z0-9_.]", "_", layer.name) or "layer"
    lines = [f"Network {network} {{", f"Layer {name} {{", f"Type: {kind}"]
    if layer.stride != 1:
        lines.append(f"Stride {{ X: {layer.stride}, Y: {layer.stride} }}")
    dims = ", ".join(f"{k}: {v}" for k, v in _layer_dims(layer))
    lines += [f"Dimensions {{ {dims} }}", "Dataflow {"]
    d = directives_row
    for lvl in range(int(d.num_levels[0])):
        if lvl > 0:
            lines.append(f"Cluster({int(d.cluster[0, lvl])},P);")
        for slot in range(d.dim.shape[2]):
            code = int(d.dim[0, lvl, slot])
            if code == EMPTY:
                continue
            word = "SpatialMap" if d.spatial[0, lvl, slot] else "TemporalMap"
            lines.append(f"{word}({int(d.size[0, lvl, slot])},{int(d.offset[0, lvl, slot])}) "
                         f"{DIM_NAMES[code]};")
    lines += ["}", "}", "}"]
    return "\n".join(lines) + "\n"
