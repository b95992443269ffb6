"""MAESTRO's energy, area and power formulas (maestro-model.md §4.11, §4.12).

Energy counts accesses in units of one MAC's energy; area and power follow
MAESTRO's 28 nm building blocks, fed with the *required* L1/L2 sizes of the
mapping and the hardware's NoC bandwidth.  They are MAESTRO's formulas, not
physics (the bus term grows with the NoC bandwidth).
"""
from __future__ import annotations

import numpy as np

#: Energy of one L1 / L2 access, in MAC energies.
L1_ENERGY = 1.68
L2_ENERGY = 18.61
#: One MAC in nJ (MAESTRO's CSV scale).
MAC_ENERGY_NJ = 0.00023

MAC_AREA, MAC_POWER = 283.0, 1.2223
SRAM_AREA_PER_ELEMENT, SRAM_POWER_PER_ELEMENT = 0.104, 0.00345
BUS_AREA, BUS_POWER = 101.7938, 0.8
BUS_C1, BUS_C0 = 14.662, 28.895
ARBITER_AREA, ARBITER_POWER = 395.473, 0.34
ARBITER_C2, ARBITER_C1, ARBITER_C0 = 1.2886, 5.5814, -23.711


def energy(macs, l1_accesses, l2_accesses):
    """Energy in MAC units: ``MACs + 1.68 * L1 accesses + 18.61 * L2 accesses``."""
    return macs + L1_ENERGY * l1_accesses + L2_ENERGY * l2_accesses


def _sram_cells(size):
    """SRAM cells of one element each; an empty buffer still has one cell (a
    negative size, from MAESTRO's 32-bit totals, is used as it is)."""
    size = np.asarray(size, dtype=np.float64)
    return np.where(size == 0, 1.0, size)


def _arbiter_scale(pes):
    return ARBITER_C2 * pes ** 2 + ARBITER_C1 * pes + ARBITER_C0


def area_parts(num_pes, simd_lanes: int, noc_bw, l1_size, l2_size) -> dict:
    """MAESTRO's area terms (about µm²): ``pe``, ``l1``, ``l2`` and ``noc``.

    ``noc_bw`` None leaves out the NoC (bus and arbiter) term.  Arguments as
    in :func:`area_power`.
    """
    pes = np.asarray(num_pes, dtype=np.float64)
    bw = None if noc_bw is None else np.asarray(noc_bw, dtype=np.float64)
    return _area_terms(pes, simd_lanes, bw, _sram_cells(l1_size), _sram_cells(l2_size),
                       BUS_C1 * pes + BUS_C0, _arbiter_scale(pes))


def _area_terms(pes, simd_lanes, bw, l1_cells, l2_cells, bus_scale, arbiter_scale) -> dict:
    """:func:`area_parts` from float PEs, cells and the bus/arbiter scales."""
    parts = {"pe": MAC_AREA * simd_lanes * pes,
             "l1": SRAM_AREA_PER_ELEMENT * l1_cells * pes,
             "l2": SRAM_AREA_PER_ELEMENT * l2_cells,
             "noc": 0.0}
    if bw is not None:
        parts["noc"] = (BUS_AREA * bus_scale * bw
                        + np.maximum(ARBITER_AREA * arbiter_scale, ARBITER_AREA))
    return parts


def area_power(num_pes, simd_lanes: int, noc_bw, l1_size, l2_size):
    """MAESTRO's area and power of an accelerator sized for a mapping.

    Parameters
    ----------
    num_pes, noc_bw : int or ndarray (N,)
        PEs and NoC bandwidth, for all candidates or per candidate.
    simd_lanes : int
    l1_size, l2_size : ndarray (N,)
        Required L1 (per PE) and L2 sizes in elements.

    Returns
    -------
    area, power : ndarray (N,), float64
        MAESTRO's units (about µm² and mW).
    parts : dict
        ``pe_power``, ``l1_power``, ``l2_power``, ``noc_power``.
    """
    pes = np.asarray(num_pes, dtype=np.float64)
    bw = np.asarray(noc_bw, dtype=np.float64)
    l1_cells, l2_cells = _sram_cells(l1_size), _sram_cells(l2_size)
    bus_scale = BUS_C1 * pes + BUS_C0
    arbiter_scale = _arbiter_scale(pes)
    noc_power = (BUS_POWER * bus_scale / 1000 * bw
                 + np.maximum(ARBITER_POWER * arbiter_scale / 1000, ARBITER_POWER))
    pe_power = pes * MAC_POWER * simd_lanes
    l1_power = pes * SRAM_POWER_PER_ELEMENT * l1_cells
    l2_power = SRAM_POWER_PER_ELEMENT * l2_cells
    area = sum(_area_terms(pes, simd_lanes, bw, l1_cells, l2_cells, bus_scale,
                           arbiter_scale).values())
    power = pe_power + l1_power + l2_power + noc_power
    shape = np.shape(l1_cells)
    parts = {"pe_power": np.broadcast_to(pe_power, shape).copy(), "l1_power": l1_power,
             "l2_power": l2_power, "noc_power": np.broadcast_to(noc_power, shape).copy()}
    return area, power, parts
