"""The scope-sharing copy of numba's IR inliner (gamma.costmodel.inlining)."""
import copy
import re

import numpy as np
from numba import njit
from numba.core import inline_closurecall, ir

from gamma.costmodel import inlining


def _helper_source():
    """A fresh pair of kernels (no cache) whose caller inlines a branching helper."""

    @njit(inline="always")
    def clipped_sum(a, lo, hi):
        total = 0
        for v in a:
            if v < lo:
                total += lo
            elif v > hi:
                total += hi
            else:
                total += v
        return total

    @njit
    def caller(a):
        return clipped_sum(a, 2, 7) * 3 + clipped_sum(a, 0, 4)

    return caller


def _compiled_asm(copier):
    saved = inline_closurecall.copy
    inline_closurecall.copy = copier
    try:
        caller = _helper_source()
        result = caller(np.arange(10, dtype=np.int64))
        (asm,) = caller.inspect_asm().values()
    finally:
        inline_closurecall.copy = saved
    # symbol names carry a per-definition counter (B2v4...): the only allowed difference
    return result, re.sub(r"B\d+v\d+", "Bv", asm)


def test_installed_by_the_cost_model_and_idempotent():
    assert isinstance(inline_closurecall.copy, inlining._ScopeSharingCopy)
    assert inlining.install()
    assert isinstance(inline_closurecall.copy, inlining._ScopeSharingCopy)


def test_blocks_of_one_ir_share_one_new_scope():
    shim = inlining._ScopeSharingCopy(ir.Block)
    loc = ir.Loc("f.py", 1)
    scope = ir.Scope(None, loc)
    blocks = []
    for name in ("a", "b", "c"):
        block = ir.Block(scope, loc)
        var = scope.define(name, loc)
        block.append(ir.Assign(ir.Const(1, loc), var, loc))
        blocks.append(block)
    copies = [shim.deepcopy(block) for block in blocks]
    assert copies[0].scope is copies[1].scope is copies[2].scope
    assert copies[0].scope is not scope
    assert sorted(copies[0].scope.localvars._con) == ["a", "b", "c"]
    assert [c.body[0].target.name for c in copies] == ["a", "b", "c"]
    assert copies[0].body[0] is not blocks[0].body[0]
    # a copy of the copies (numba keeps an unmutated one) gets its own scope
    again = shim.deepcopy(copies[0])
    assert again.scope is not copies[0].scope
    # once the inliner has defined new names in a copied scope, it is not reused
    fresh = shim.deepcopy(blocks[0])
    assert fresh.scope is not copies[0].scope
    fresh.scope.redefine("a_inlined", loc)
    assert shim.deepcopy(blocks[1]).scope is not fresh.scope
    # anything else is copied as by the copy module
    data = {"x": [1, 2]}
    assert shim.deepcopy(data) == data and shim.deepcopy(data)["x"] is not data["x"]


def test_inlined_code_is_the_same_machine_code():
    result, asm = _compiled_asm(inlining._ScopeSharingCopy(ir.Block))
    plain_result, plain_asm = _compiled_asm(copy)
    assert result == plain_result == (2 * 2 + sum(range(2, 8)) + 7 * 2) * 3 + sum(range(5)) + 5 * 4
    assert asm == plain_asm
