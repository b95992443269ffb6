"""What a search can minimise, and each objective's unit (as result columns name it)."""

#: Objective names, as ``--fitness1``/``--fitness2`` take them.
OBJECTIVES = ("latency", "energy", "power", "EDP", "area")
#: Unit of each objective.
OBJECTIVE_UNITS = {"latency": "cycles", "energy": "nJ", "power": "maestro_units",
                   "EDP": "nJ_cycles", "area": "um2"}
