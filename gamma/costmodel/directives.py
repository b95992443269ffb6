"""A batch of mappings of one layer, as MAESTRO directives in arrays.

Axis meaning, fixed for the whole package:

* axis 0 (``N``): the candidate (population member);
* axis 1 (``L``): the cluster level, 0 = outermost (the whole PE array);
* axis 2 (``D``): the directive slot within a level, outermost loop first.

Dimension codes index :data:`DIM_NAMES`.  ``Y'`` and ``X'`` are MAESTRO's
output-centric rows/columns: a directive on them is rewritten to the input
rows/columns by the cost model exactly as MAESTRO does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Dimension alphabet.  Index = code stored in :attr:`Directives.dim`.
DIM_NAMES = ("N", "G", "K", "C", "Y", "X", "R", "S", "Y'", "X'")
DIM_CODE = {name: code for code, name in enumerate(DIM_NAMES)}
#: Code of an unused directive slot.
EMPTY = -1


@dataclass(frozen=True)
class Directives:
    """``N`` mappings of one layer with at most ``L`` levels of ``D`` directives.

    Attributes
    ----------
    dim : ndarray of shape (N, L, D), int8
        Dimension code (:data:`DIM_CODE`) or :data:`EMPTY`.
    size, offset : ndarray of shape (N, L, D), int64
        ``SpatialMap(size, offset)`` / ``TemporalMap(size, offset)`` arguments,
        in elements of the directive's dimension.
    spatial : ndarray of shape (N, L, D), bool
        True for ``SpatialMap``, False for ``TemporalMap``.
    cluster : ndarray of shape (N, L), int64
        ``cluster[:, l]`` for ``l >= 1`` is the argument of the ``Cluster(n)``
        directive that opens level ``l``; ``cluster[:, 0]`` is unused (0).
    num_levels : ndarray of shape (N,), int64
        Levels in use; slots of deeper levels are :data:`EMPTY`.
    """

    dim: np.ndarray
    size: np.ndarray
    offset: np.ndarray
    spatial: np.ndarray
    cluster: np.ndarray
    num_levels: np.ndarray

    def __len__(self) -> int:
        return self.dim.shape[0]

    def take(self, index) -> Directives:
        """The candidates at ``index`` (an int array, a slice or a mask)."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Directives(self.dim[index], self.size[index], self.offset[index],
                          self.spatial[index], self.cluster[index], self.num_levels[index])

    @staticmethod
    def concatenate(batches) -> Directives:
        """Stack batches with the same (L, D) along the population axis."""
        batches = list(batches)
        fields = ("dim", "size", "offset", "spatial", "cluster", "num_levels")
        return Directives(*(np.concatenate([getattr(b, f) for b in batches]) for f in fields))
