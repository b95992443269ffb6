"""Vectorized MAESTRO cost model: score a whole batch of mappings of one layer at once.

>>> costs = evaluate(layer, hw, directives)      # directives: N mappings
>>> costs.runtime[costs.valid]

Every figure reproduces MAESTRO (maestro-project/maestro, MICRO 2019) with its
integer semantics, including its quirks (maestro-model.md), with one exception
chosen by ``analysis``: where MAESTRO miscounts a mapping's MACs for want of
physics, the physical analysis may replace its figures.  On a strided layer
MAESTRO counts ``t - R + 1`` output rows in a tile of ``t`` input rows, so a
tile of several output rows per step gets too many MACs; at a spatial edge it
drops a partial last window, and its MACs go missing.  By default
(``analysis="physical"``) such a mapping, if every step holds whole output
rows, is analysed again with the output rows counted at the stride and the
partial window counted, and where that count is exact its figures replace
MAESTRO's (``physical_analysis`` True).
Invalid mappings are values, never exceptions: ``valid`` is False and
``reason`` holds a code of :data:`REASONS`.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np

from gamma.costmodel import engine, hwcost, inlining
from gamma.costmodel import reasons as R
from gamma.costmodel.busiest import variables as busiest_variables
from gamma.costmodel.busiest_kernel import busiest_batch, busiest_positional
from gamma.costmodel.coldstart import announce_compilation
from gamma.costmodel.directives import DIM_CODE, DIM_NAMES, EMPTY, Directives
from gamma.costmodel.layertable import TENSORS, layer_spec
from gamma.costmodel.levels import MAX_LEVELS, code_tables
from gamma.costmodel.reasons import REASONS, reason_class, reason_text
from gamma.hardware import Hardware
from gamma.workload import Layer

# The kernels compile on their first call, after this.
inlining.install()

__all__ = ["Costs", "Directives", "evaluate", "ANALYSES", "REASONS", "reason_text",
           "reason_class",
           "DIM_CODE", "DIM_NAMES", "EMPTY", "COUNT_FIELDS", "MAESTRO_EXACT_FIELDS",
           "MAESTRO_FLOAT_FIELDS"]

#: The twelve buffer access counts, in MAESTRO's CSV order.
COUNT_FIELDS = tuple(f"{t}_{buf}_{op}" for t in TENSORS for buf in ("l1", "l2")
                     for op in ("read", "write"))
_SIZE_FIELDS = tuple(f"{t}_{buf}_size_req" for t in TENSORS for buf in ("l1", "l2"))
_DELAY_FIELDS = tuple(f"{k}_delay_{s}" for k in ("ingress", "egress", "compute")
                      for s in ("min", "max", "avg"))
#: Costs fields that equal MAESTRO's figures exactly (integers) ...
MAESTRO_EXACT_FIELDS = ("runtime", "macs", "l1_size_req", "l2_size_req", *COUNT_FIELDS,
                        *_SIZE_FIELDS, "noc_bw_req", "offchip_bw_req", *_DELAY_FIELDS)
#: ... and those that equal them to the 6 significant digits MAESTRO prints.
MAESTRO_FLOAT_FIELDS = ("throughput", "area", "power", "avg_utilized_pes", "arithmetic_intensity",
                        "pe_power", "l1_power", "l2_power", "noc_power")


@dataclass(frozen=True)
class Costs:
    """Costs of N mappings; every field is an ndarray of shape (N,).

    Integer fields are int64 (0 where invalid); float fields are float64 (NaN
    where invalid).  Sizes and counts are in elements, times in cycles.

    Attributes
    ----------
    runtime : cycles (MAESTRO's top-level runtime).
    macs : MAESTRO's MAC count (may differ from ``true_macs``, see exact_analysis).
    true_macs : the layer's real MACs, ``layer.macs``.
    throughput : ``macs / runtime`` (MACs/cycle).
    energy : MAC units, ``macs + 1.68 * ΣL1 accesses + 18.61 * ΣL2 accesses``.
    energy_nj : ``energy * 0.00023``.
    area, power : MAESTRO's area/power model with the required buffer sizes.
    pe_power, l1_power, l2_power, noc_power : terms of ``power``.
    l1_size_req, l2_size_req : required L1 (per PE) / L2 sizes, double-buffered.
    {input,filter,output}_{l1,l2}_size_req : the same per tensor.
    {input,filter,output}_{l1,l2}_{read,write} : buffer access counts.
    noc_bw_req, offchip_bw_req : peak NoC / off-chip bandwidth requirement (elements/cycle).
    avg_utilized_pes : step-weighted average of active PEs.
    {ingress,egress,compute}_delay_{min,max,avg} : per-step delays of the top level.
    arithmetic_intensity : MACs / ingress of MAESTRO's last analysed top-level step.
    valid : MAESTRO would produce numbers.
    reason : :data:`REASONS` code (0 when valid).
    exact_analysis : valid, ``macs == true_macs``, ``throughput <= PEs * lanes``
        and no access count or buffer size below zero, no total size beyond
        32 bits (``l1_size_req``/``l2_size_req`` wrap as in MAESTRO).
    busiest_pe_macs : MACs of the mapping's busiest PE
        (:func:`~gamma.costmodel.busiest.busiest_pe_macs`): no execution of
        the mapping takes fewer than ``busiest_pe_macs / lanes`` cycles.
    undercount : valid and ``runtime * lanes < busiest_pe_macs``: MAESTRO's
        runtime is below what the busiest PE alone needs (its case weighting
        counts partly idle steps as fractions of a step).
    physical_analysis : the figures come from the physical analysis (module
        docstring), not from MAESTRO's, which miscounts this mapping.
    """

    runtime: np.ndarray
    macs: np.ndarray
    true_macs: np.ndarray
    throughput: np.ndarray
    energy: np.ndarray
    energy_nj: np.ndarray
    area: np.ndarray
    power: np.ndarray
    pe_power: np.ndarray
    l1_power: np.ndarray
    l2_power: np.ndarray
    noc_power: np.ndarray
    l1_size_req: np.ndarray
    l2_size_req: np.ndarray
    input_l1_size_req: np.ndarray
    input_l2_size_req: np.ndarray
    filter_l1_size_req: np.ndarray
    filter_l2_size_req: np.ndarray
    output_l1_size_req: np.ndarray
    output_l2_size_req: np.ndarray
    input_l1_read: np.ndarray
    input_l1_write: np.ndarray
    input_l2_read: np.ndarray
    input_l2_write: np.ndarray
    filter_l1_read: np.ndarray
    filter_l1_write: np.ndarray
    filter_l2_read: np.ndarray
    filter_l2_write: np.ndarray
    output_l1_read: np.ndarray
    output_l1_write: np.ndarray
    output_l2_read: np.ndarray
    output_l2_write: np.ndarray
    noc_bw_req: np.ndarray
    offchip_bw_req: np.ndarray
    avg_utilized_pes: np.ndarray
    ingress_delay_min: np.ndarray
    ingress_delay_max: np.ndarray
    ingress_delay_avg: np.ndarray
    egress_delay_min: np.ndarray
    egress_delay_max: np.ndarray
    egress_delay_avg: np.ndarray
    compute_delay_min: np.ndarray
    compute_delay_max: np.ndarray
    compute_delay_avg: np.ndarray
    arithmetic_intensity: np.ndarray
    valid: np.ndarray
    reason: np.ndarray
    exact_analysis: np.ndarray
    busiest_pe_macs: np.ndarray
    undercount: np.ndarray
    physical_analysis: np.ndarray

    def __len__(self) -> int:
        return len(self.runtime)

    def row(self, i: int) -> dict:
        """Field -> value of candidate ``i`` (Python scalars)."""
        return {f.name: getattr(self, f.name)[i].item() for f in fields(self)}


#: Costs field -> row of the compiled kernel's integer output.
_INT_OUTPUTS = {"runtime": engine.O_RUNTIME, "macs": engine.O_MACS,
                **{name: engine.O_COUNTS + q for q, name in enumerate(COUNT_FIELDS)},
                **{f"{t}_l1_size_req": engine.O_L1_SIZE + q for q, t in enumerate(TENSORS)},
                **{f"{t}_l2_size_req": engine.O_L2_SIZE + q for q, t in enumerate(TENSORS)},
                "noc_bw_req": engine.O_NOC_BW, "offchip_bw_req": engine.O_OFFCHIP_BW,
                **{name: engine.O_DELAYS + q for q, name in enumerate(_DELAY_FIELDS)}}
#: Initial working-array sizes per batch (grown when a candidate needs more).
_ROWS, _CALLS = 1024, 64


def _per_candidate(name: str, values, default: int, n: int) -> np.ndarray:
    """``values`` (None: ``default``) as an int64 array of shape (n,), checked positive."""
    if values is None:
        return np.full(n, default, dtype=np.int64)
    array = np.asarray(values)
    if array.shape != (n,) or array.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an integer array of shape ({n},), got "
                         f"{array.dtype} {array.shape}")
    if len(array) and array.min() < 1:
        raise ValueError(f"{name} must be positive, got {array.min()}")
    return array.astype(np.int64)


#: Rows of the twelve counts (from ``O_COUNTS``) that are L1 / L2 accesses.
_L1_COUNT_ROWS = [q for q, name in enumerate(COUNT_FIELDS) if "_l1_" in name]
_L2_COUNT_ROWS = [q for q, name in enumerate(COUNT_FIELDS) if "_l2_" in name]
#: Float fields computed from the chip's sizes, which are NaN for invalid mappings.
_PRICED_FIELDS = ("energy", "energy_nj", "area", "power", "pe_power", "l1_power", "l2_power",
                  "noc_power")


@dataclass(frozen=True)
class _LayerTables:
    """What the kernels need of a layer, built once per (layer, gemm_form)."""

    num_vars: int
    kernel_args: tuple      # code_to_var ... stride, as engine.evaluate_batch takes them
    present: np.ndarray     # busiest_kernel's per-variable presence and extent
    extent: np.ndarray
    out_rows: np.ndarray    # Y' and X' (output rows and columns)


@lru_cache(maxsize=512)
def _layer_tables(layer: Layer, gemm_form: str) -> _LayerTables:
    """The layer's tables for the kernels, cached: a search scores one layer many times."""
    spec = layer_spec(layer, gemm_form)
    code_to_var, is_output_code, ignorable = code_tables(spec)
    coupled = np.ascontiguousarray(np.stack([spec.coupled[t] for t in TENSORS], axis=1))
    width = max(len(spec.coupled_order[t]) for t in TENSORS)
    coupled_order = np.full((3, width), -1, dtype=np.int64)
    for q, t in enumerate(TENSORS):
        coupled_order[q, :len(spec.coupled_order[t])] = spec.coupled_order[t]
    index = spec.index
    kernel_args = (code_to_var, is_output_code, ignorable, spec.sizes, coupled, coupled_order,
                   spec.sliding, index["Y"], index["X"], index["R"], index["S"],
                   int(spec.stride))
    present, extent = busiest_variables(layer)
    return _LayerTables(spec.num_vars, kernel_args, present, extent,
                        np.array([layer.Yo, layer.Xo], dtype=np.int64))


def _directive_arrays(directives: Directives) -> tuple:
    """dim, size, offset, spatial, cluster, num_levels as the kernels take them."""
    return (np.ascontiguousarray(directives.dim, dtype=np.int64),
            np.ascontiguousarray(directives.size, dtype=np.int64),
            np.ascontiguousarray(directives.offset, dtype=np.int64),
            np.ascontiguousarray(directives.spatial, dtype=np.bool_),
            np.ascontiguousarray(directives.cluster, dtype=np.int64),
            np.ascontiguousarray(directives.num_levels, dtype=np.int64))


def _busiest(layer: Layer, tables: _LayerTables, arrays: tuple, pes, out_stride: int,
             index: np.ndarray) -> np.ndarray:
    """:func:`~gamma.costmodel.busiest.busiest_pe_macs` of the candidates ``index`` of
    ``arrays``, shape (len(index),)."""
    args = (*arrays, pes, tables.present, tables.extent, np.int64(layer.stride),
            np.int64(out_stride))
    busiest, positional = busiest_batch(*args, index)
    if positional.any():
        busiest[positional] = busiest_positional(*args, tables.out_rows, index[positional])
    return busiest


#: ``evaluate(analysis=...)``: "physical" replaces MAESTRO's figures by the
#: physical analysis where MAESTRO miscounts a mapping of whole output rows and
#: the physical count is exact; "maestro" keeps MAESTRO's figures everywhere.
ANALYSES = ("physical", "maestro")


def evaluate(layer: Layer, hw: Hardware, directives: Directives, *,
             num_pes=None, noc_bw=None, gemm_form: str = "conv",
             analysis: str = "physical") -> Costs:
    """Score N mappings of ``layer`` on ``hw`` as MAESTRO would.

    Parameters
    ----------
    layer : Layer
    hw : Hardware
        ``num_pes``, ``noc_bw``/``offchip_bw`` (None = MAESTRO's INT_MAX),
        ``noc_hops`` (latency per transfer, as MAESTRO's ``NoC_NumHops``),
        ``simd_lanes``.
    directives : Directives
        N mappings (arrays of shape (N, L, D)).
    num_pes, noc_bw : ndarray of shape (N,), int, optional
        Per-candidate PE count and NoC bandwidth (elements/cycle) replacing
        ``hw.num_pes`` / ``hw.noc_bw`` (hardware/mapping co-design).  Candidate
        ``i`` then scores exactly as with ``hw.replace(num_pes=num_pes[i],
        noc_bw=noc_bw[i])``, area and power included.
    gemm_form : {"conv", "maestro"}
        How a GEMM layer was written for MAESTRO: ``"conv"`` as GAMMA writes
        it (``Type: CONV``, Y = M a sliding dimension with R = 1), or
        ``"maestro"`` for MAESTRO's own ``Type: GEMM`` (M, N, K; no sliding
        window).  They differ when a spatial M tile leaves a partial edge.
        Ignored for other layer types.
    analysis : {"physical", "maestro"}
        ``"maestro"``: MAESTRO's figures for every mapping.  ``"physical"``:
        the same, except for the mappings of whole output rows whose MACs
        MAESTRO miscounts (a strided tile of several output rows per step, a
        partial window at a spatial edge) and whose physical analysis is
        exact: those get its figures (module docstring) and
        ``physical_analysis`` True.

    Returns
    -------
    Costs
        Arrays of shape (N,).
    """
    if analysis not in ANALYSES:
        raise ValueError(f"analysis must be one of {ANALYSES}, got {analysis!r}")
    n = len(directives)
    pes = _per_candidate("num_pes", num_pes, hw.num_pes, n)
    bw = _per_candidate("noc_bw", noc_bw, hw.noc_bw_value, n)
    tables = _layer_tables(layer, gemm_form)
    arrays = _directive_arrays(directives)
    num_levels = arrays[5]
    if ((num_levels >= 1) & (num_levels <= MAX_LEVELS) & (num_levels > arrays[0].shape[1])).any():
        raise ValueError(f"num_levels exceeds the {arrays[0].shape[1]} levels of the directive "
                         "arrays")
    raw = _analyse(hw, tables, arrays, pes, bw, physical=False)
    verdict = _verdict(raw, pes, hw.simd_lanes, layer.macs)
    physical = np.zeros(n, dtype=bool)
    if analysis == "physical":
        _reanalyse(layer, hw, directives, arrays, pes, bw, gemm_form, raw, verdict, physical)
    values = _derived(raw, verdict, pes, bw, hw.simd_lanes, layer.macs)
    # The floor only matters where MAESTRO gives numbers: skip the rest (often half a batch).
    busiest = np.zeros(n, dtype=np.int64)
    scored = np.flatnonzero(values["valid"] & ~physical)
    busiest[scored] = _busiest(layer, tables, arrays, pes, 1, scored)
    if physical.any():
        moved = np.flatnonzero(physical)
        used = _rows_read(layer)
        busiest[moved] = _busiest(used, _layer_tables(used, gemm_form), arrays, pes,
                                  used.stride, moved)
    values["busiest_pe_macs"] = busiest
    values["undercount"] = values["valid"] & (values["runtime"] * hw.simd_lanes < busiest)
    values["physical_analysis"] = physical
    return Costs(**values)


def _reanalyse(layer: Layer, hw: Hardware, directives: Directives, arrays: tuple, pes, bw,
               gemm_form: str, raw: _Raw, verdict: np.ndarray, physical: np.ndarray) -> None:
    """The physical analysis of the mappings MAESTRO miscounts where physics
    differs (a strided layer, a dropped edge window), only those of whole output
    rows: where it is exact, its figures replace MAESTRO's in ``raw`` and
    ``verdict``, and ``physical`` is set (all three in place)."""
    dropped = raw.out_int[engine.O_EDGE_DROPPED] != 0
    redo = np.flatnonzero((verdict == _INEXACT) & ((layer.stride != 1) | dropped))
    if len(redo):
        redo = redo[_whole_output_rows(layer, directives.take(redo))]
    if not len(redo):
        return
    used = _rows_read(layer)
    again = _analyse(hw, _layer_tables(used, gemm_form), tuple(a[redo] for a in arrays),
                     pes[redo], bw[redo], physical=True)
    take = _verdict(again, pes[redo], hw.simd_lanes, layer.macs) == _EXACT
    raw.put(redo[take], again.take(take))
    verdict[redo[take]] = _EXACT
    physical[redo[take]] = True


def _rows_read(layer: Layer) -> Layer:
    """``layer`` without the last ``(Y - R) % stride`` input rows (columns alike),
    which feed no output: the physical analysis steps its windows by the
    stride and would otherwise end on a partial window of unused rows, which
    MAESTRO's edge-case weighting prices as a missing output row."""
    return layer.replace(Y=layer.Yi, X=layer.Xi)


_R, _S, _Y, _X = (DIM_CODE[name] for name in ("R", "S", "Y", "X"))
_YO, _XO = DIM_CODE["Y'"], DIM_CODE["X'"]


def _whole_output_rows(layer: Layer, directives: Directives) -> np.ndarray:
    """Mappings, shape (N,), whose every step holds whole output rows and columns
    and neither skips nor repeats work: R and S directives cover the whole
    filter, input-centric Y/X directives at least one filter window (``Y'``/``X'``
    always do then), every other directive steps by its size, and each level
    has one SpatialMap (or two in a one-unit cluster), except for a
    row-stationary innermost level (:func:`_row_stationary`).

    On these the physical analysis counts each MAC once (the brute-force
    simulator in the tests checks it); any other filter cut over PEs, a window
    smaller than the filter, an offset that skips or overlaps elements, or two
    SpatialMaps sharing a level's units is left to MAESTRO's analysis (and its
    ``exact_analysis`` verdict).
    """
    dim, size, offset = directives.dim, directives.size, directives.offset
    used = dim != EMPTY
    filt = np.where((dim == _R) | (dim == _Y), layer.R, layer.S)
    window = (dim == _R) | (dim == _S) | (dim == _Y) | (dim == _X)
    diagonal = _row_stationary(layer, directives)          # (N, L, D)
    whole_filter = ~window | (size >= filt) | diagonal
    sliding = window | (dim == _YO) | (dim == _XO)
    no_gap = sliding | (offset == size)
    # Two SpatialMaps share a level's units (unit u takes window u of each): only
    # a one-unit cluster keeps that free of idle and repeated work.
    inner = np.arange(dim.shape[1]) >= 1
    one_unit = inner & (directives.cluster == 1)
    one_spatial = ((directives.spatial & used).sum(axis=2) <= 1) | one_unit | diagonal.any(axis=2)
    return (~used | (whole_filter & no_gap)).all(axis=(1, 2)) & one_spatial.all(axis=1)


def _row_stationary(layer: Layer, directives: Directives) -> np.ndarray:
    """Directives, mask of shape (N, L, D), of Eyeriss's row-stationary pair: the
    innermost level of a mapping of two or more levels has exactly two
    SpatialMaps, ``SpatialMap(1,1)`` on R and on Y (or Y'), or on S and on X
    (X'), in a cluster of at least ``R`` (``S``) units, and the level above it
    has a Y (X) tile of one output row (``Y'`` of 1, or ``Y`` of ``R`` input
    rows) and the whole filter.

    The parent's tile is then ``R`` input rows and ``R`` filter rows, and unit
    ``u < R`` takes input row ``u`` with filter row ``u``: each unit computes
    one filter row's share of the one output row, every MAC once, at any
    stride.  (With fewer units than filter rows a unit would hold two rows of
    each and pair them crosswise.)
    """
    dim, size, offset, spatial = (directives.dim, directives.size, directives.offset,
                                  directives.spatial)
    n, levels, _ = dim.shape
    one = (size == 1) & (offset == 1)
    innermost = np.arange(levels)[None, :] == (directives.num_levels[:, None] - 1)
    found = np.zeros(dim.shape, dtype=bool)
    spatial_used = spatial & (dim != EMPTY)
    only = spatial_used.sum(axis=2) == 2
    for ref, ref_out, slide, full in ((_Y, _YO, _R, layer.R), (_X, _XO, _S, layer.S)):
        pair = spatial_used & one & ((dim == ref) | (dim == ref_out) | (dim == slide))
        on_slide = (pair & (dim == slide)).sum(axis=2) == 1
        on_ref = (pair & (dim != slide)).sum(axis=2) == 1
        # The parent level (l - 1) holds one output row and the whole filter.
        parent_row = (((dim == ref_out) & (size == 1))
                      | ((dim == ref) & (size == full))).any(axis=2)
        parent_filter = ~((dim == slide) & (size < full)).any(axis=2)
        parent = np.zeros((n, levels), dtype=bool)
        parent[:, 1:] = (parent_row & parent_filter)[:, :-1]
        enough = directives.cluster >= full
        found |= pair & (on_slide & on_ref & only & parent & innermost & enough)[:, :, None]
    return found


@dataclass
class _Raw:
    """The main kernel's outputs for N candidates (:func:`engine.evaluate_batch`)."""

    out_int: np.ndarray       # (NUM_INT_OUTPUTS, N) int64, 0 where invalid
    out_float: np.ndarray     # (NUM_FLOAT_OUTPUTS, N) float64, NaN where invalid
    reason: np.ndarray        # (N,) int64 reason code

    def take(self, index) -> _Raw:
        return _Raw(self.out_int[:, index], self.out_float[:, index], self.reason[index])

    def put(self, index, other: _Raw) -> None:
        self.out_int[:, index] = other.out_int
        self.out_float[:, index] = other.out_float
        self.reason[index] = other.reason


def _analyse(hw: Hardware, tables: _LayerTables, arrays: tuple, pes, bw, physical: bool) -> _Raw:
    """The main kernel's outputs for the candidates in ``arrays``, by MAESTRO's
    analysis or the physical one (:func:`evaluate`)."""
    n = len(pes)
    raw = _Raw(np.zeros((engine.NUM_INT_OUTPUTS, n), dtype=np.int64),
               np.full((engine.NUM_FLOAT_OUTPUTS, n), np.nan), np.zeros(n, dtype=np.int64))
    rows, calls, done = _ROWS, _CALLS, 0
    announce_compilation()          # a notice if the kernels are about to be compiled
    while done < n:
        done = engine.run_batch(
            done, *arrays, pes, bw, int(hw.noc_hops), int(hw.offchip_bw_value),
            int(hw.simd_lanes), *tables.kernel_args, int(physical), raw.out_int, raw.out_float,
            raw.reason, *engine.workspace(tables.num_vars, rows, calls))
        rows, calls = 4 * rows, 4 * calls      # only used if a candidate did not fit
    return raw


#: :func:`_verdict`'s values.
_INVALID, _INEXACT, _EXACT = 0, 1, 2


def _verdict(raw: _Raw, pes, lanes: int, true_macs: int) -> np.ndarray:
    """(N,) per candidate: ``_INVALID`` (MAESTRO gives no numbers), ``_EXACT`` (its
    analysis is trusted: ``Costs.exact_analysis``) or ``_INEXACT``."""
    out_int = raw.out_int
    valid = raw.reason == R.OK
    macs, runtime = out_int[engine.O_MACS], out_int[engine.O_RUNTIME]
    with np.errstate(divide="ignore", invalid="ignore"):
        throughput = macs / runtime             # 0 / 0: NaN if invalid
    l1_true, l2_true = _buffer_totals(out_int)
    # MAESTRO counts output L1 accesses even on the steps it skips (a tile
    # smaller than the filter window has negative partial sums), which can
    # leave a count, or an output buffer size, below zero: such an analysis is
    # not trustworthy either; nor is a total size that wrapped around (MAESTRO
    # reports the totals as 32-bit ints), nor a level mapping a dimension
    # twice, whose figures describe no execution (maestro-model.md §6.3).
    exact = (valid & (macs == true_macs) & (throughput <= pes * lanes)
             & (out_int[engine.O_COUNTS:engine.O_L2_SIZE + 3].min(axis=0) >= 0)
             & (_wrap_int32(l1_true) == l1_true) & (_wrap_int32(l2_true) == l2_true)
             & (out_int[engine.O_TWICE] == 0))
    return np.where(exact, _EXACT, np.where(valid, _INEXACT, _INVALID))


def _buffer_totals(out_int: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L1 and L2 size requirements, shape (N,) each: the sums over the three tensors
    (before MAESTRO's 32-bit wrap-around)."""
    return (out_int[engine.O_L1_SIZE:engine.O_L1_SIZE + 3].sum(axis=0),
            out_int[engine.O_L2_SIZE:engine.O_L2_SIZE + 3].sum(axis=0))


def _derived(raw: _Raw, verdict: np.ndarray, pes, bw, lanes: int, true_macs: int) -> dict:
    """Costs fields (all but the busiest-PE ones and ``physical_analysis``) from the
    kernel's outputs and their :func:`_verdict`."""
    out_int, out_float = raw.out_int, raw.out_float
    n = len(raw.reason)
    valid = verdict != _INVALID
    values = {name: out_int[row] for name, row in _INT_OUTPUTS.items()}
    values["avg_utilized_pes"] = out_float[engine.F_ACTIVE]
    values["arithmetic_intensity"] = out_float[engine.F_INTENSITY]
    with np.errstate(divide="ignore", invalid="ignore"):
        values["throughput"] = values["macs"] / values["runtime"]   # 0 / 0: NaN if invalid
    # MAESTRO reports (and sizes the SRAMs from) the totals as 32-bit ints.
    l1, l2 = (_wrap_int32(total) for total in _buffer_totals(out_int))
    values["l1_size_req"], values["l2_size_req"] = l1, l2
    counts = out_int[engine.O_COUNTS:engine.O_COUNTS + 12]
    l1_accesses = counts[_L1_COUNT_ROWS].sum(axis=0)
    l2_accesses = counts[_L2_COUNT_ROWS].sum(axis=0)
    values["energy"] = hwcost.energy(values["macs"], l1_accesses, l2_accesses)
    values["energy_nj"] = values["energy"] * hwcost.MAC_ENERGY_NJ
    values["area"], values["power"], parts = hwcost.area_power(pes, lanes, bw, l1, l2)
    values.update(parts)
    invalid = ~valid
    for name in _PRICED_FIELDS:
        values[name][invalid] = np.nan
    values["true_macs"] = np.full(n, true_macs, dtype=np.int64)
    values["valid"] = valid
    values["reason"] = raw.reason
    values["exact_analysis"] = verdict == _EXACT
    return values


def _wrap_int32(values: np.ndarray) -> np.ndarray:
    """``values`` (int64) as C's conversion to a 32-bit int gives them (two's complement)."""
    return (values + 2**31) % 2**32 - 2**31
