"""Faster numba IR inlining: copy a callee's variable scope once per copy, not once per block.

The cost model's kernels inline many helpers at the IR level (``inline="always"``).
To inline a call, numba copies the callee's IR block by block with
``copy.deepcopy`` and a fresh memo per block; every variable of a block refers
to the function's scope, which holds every variable of the function, so each
block copy also copies the whole scope: (blocks x variables) objects per
inlined call (numba issue 8989).  On a cold cache that copying was 8.5 s of the
28 s it took to compile the cost model's main kernel in one process.

:func:`install` makes those copies share one copy of the scope per copied IR,
the result a single deep copy of the IR would give; the rest of numba is
untouched.  The inliner only renames the copied variables (by name) into the
caller's scope and points the copied blocks at the caller's scope, so the
compiled code is the same (the cost model's outputs are bit-identical).
Nothing is changed if numba's inliner no longer copies through
``copy.deepcopy`` as expected.
"""
from __future__ import annotations

import copy


class _ScopeSharingCopy:
    """Stands in for the ``copy`` module inside :mod:`numba.core.inline_closurecall`.

    ``deepcopy(block)`` seeds the memo with one copy of the block's scope,
    reused for the consecutive blocks of one IR (they share their scope: numba
    copies an IR's blocks one after the other, under its compiler lock).  A
    copy whose variables changed since (the inliner defines the renamed ones in
    it) is never handed out again: the next block gets a fresh one.
    Everything else is the ``copy`` module's.
    """

    def __init__(self, block_type):
        self._block_type = block_type
        self._source = self._copied = None
        self._size = 0

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, obj, memo=None):
        if memo is None and isinstance(obj, self._block_type):
            if obj.scope is not self._source or len(self._copied.localvars) != self._size:
                self._source, self._copied = obj.scope, copy.deepcopy(obj.scope)
                self._size = len(self._copied.localvars)
            memo = {id(obj.scope): self._copied}
        return copy.deepcopy(obj, memo)


def install() -> bool:
    """Make numba's inliner copy scopes once per IR; returns whether it is installed."""
    try:
        from numba.core import inline_closurecall, ir
    except ImportError:             # numba reorganised: leave it alone
        return False
    current = getattr(inline_closurecall, "copy", None)
    if isinstance(current, _ScopeSharingCopy):
        return True
    if current is not copy or not hasattr(ir, "Scope"):
        return False
    inline_closurecall.copy = _ScopeSharingCopy(ir.Block)
    return True
