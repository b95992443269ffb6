"""C++ integer arithmetic on int64 scalars (MAESTRO's ``/`` truncates toward zero)."""
from __future__ import annotations

from numba import njit


@njit(cache=True)
def tdiv(a, b):
    """Truncating division ``a / b`` as in C++, for ``b > 0``."""
    return a // b if a >= 0 else -((-a) // b)


@njit(cache=True)
def ceil_div(a, b):
    """``a / b`` rounded up (MAESTRO's integer ceil), for ``b > 0``."""
    return -((-a) // b)
