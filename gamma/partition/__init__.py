"""Partition a whole model over the chiplets of a multi-chip module (``main.py partition``).

:mod:`~gamma.partition.graph` holds the layer graph, :mod:`~gamma.partition.model`
the stage/pipeline cost model, :mod:`~gamma.partition.repair` the CP-SAT repair
and exact models, :mod:`~gamma.partition.search` the genetic search and its
baselines, :mod:`~gamma.partition.outputs` the result files and figures, and
:mod:`~gamma.partition.command` the sub-command.
"""
