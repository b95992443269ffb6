"""What a search can minimise, and each objective's unit (as result columns name it)."""
import numpy as np

#: Objective names, as ``--fitness1``/``--fitness2`` take them.
OBJECTIVES = ("latency", "energy", "power", "EDP", "area")
#: Unit of each objective.
OBJECTIVE_UNITS = {"latency": "cycles", "energy": "nJ", "power": "mW",
                   "EDP": "nJ_cycles", "area": "um2"}

#: Clock frequency that turns cycles into time for ``power`` (GHz).  With it,
#: ``power`` is the average dynamic power of a layer, energy ÷ time.
CLOCK_GHZ = 1.0


def average_power_mw(energy_nj, runtime_cycles) -> np.ndarray:
    """Average power in mW of spending ``energy_nj`` over ``runtime_cycles`` at :data:`CLOCK_GHZ`
    (nJ per ns is W); infinite where the runtime is not positive (no valid mapping)."""
    energy = np.asarray(energy_nj, dtype=float)
    runtime = np.asarray(runtime_cycles, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(runtime > 0, 1000.0 * energy * CLOCK_GHZ / runtime, np.inf)
