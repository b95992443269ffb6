"""C++ integer arithmetic on int64 arrays (MAESTRO's ``/`` truncates toward zero)."""
from __future__ import annotations

import numpy as np


def cdiv(a, b):
    """Truncating division ``a / b`` as in C++, for integer arrays with ``b > 0``."""
    a = np.asarray(a)
    return np.where(a >= 0, a // b, -((-a) // b))


def ceil_div(a, b):
    """``a / b`` rounded up for ``a >= 0``, ``b > 0`` (MAESTRO's integer ceil)."""
    return -((-np.asarray(a)) // b)
