"""Compiled stages that the cost model's main kernel calls through their addresses.

numba links the code of every compiled function a kernel calls into the
kernel's own module, where LLVM optimises and generates it all over again; and
its cache does not notice when a function so linked in changes, so a cached
caller keeps running the old code.  The main kernel
(:func:`gamma.costmodel.engine.evaluate_batch`) therefore calls its big stages
through their addresses, handed to it at run time as a *stage table*
(:func:`table`):

- it compiles without them (about 5 s instead of 6) and without waiting for
  them: a cold start compiles them in a second process meanwhile
  (:mod:`gamma.warmup`);
- it always runs the stages' current compilations.

A :class:`Stage` is a kernel with one declared signature; :func:`declare`
makes one and returns its *caller*: inside a kernel, ``CALLER(entry, *args)``
calls the stage, ``entry`` being the stage's entry of the table.  That is an
indirect call with numba's own calling convention: the stage raises as it
would when called directly, and the call costs what a direct one costs (the
main kernel measured the same speed).  An entry holds the stage's address and
a check number of its declared signature; a caller whose compiled-in check
number differs (a kernel cached before the signature changed) raises instead
of calling the stage with the wrong arguments.
"""
from __future__ import annotations

import zlib

import numba
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

#: Argument and return types for declaring signatures: ``INT``, ``BOOL``, and
#: C-contiguous arrays of any dimension.
INT, BOOL, NONE = types.int64, types.boolean, types.none


def ints(ndim: int) -> types.Array:
    return types.Array(types.int64, ndim, "C")


def bools(ndim: int) -> types.Array:
    return types.Array(types.boolean, ndim, "C")


def floats(ndim: int) -> types.Array:
    return types.Array(types.float64, ndim, "C")


#: The numba type of a stage table's entry: (address, check number).
ENTRY = types.UniTuple(types.int64, 2)


class Stage:
    """``kernel`` (a numba dispatcher) compiled for one declared ``signature``
    (a numba signature: ``INT(INT, ints(2), ...)``), callable from other kernels
    through its address (module docstring)."""

    def __init__(self, kernel, signature):
        self.kernel, self.signature = kernel, signature
        self.name = getattr(kernel, "py_func", kernel).__qualname__
        # a crc32 of the signature's text: stable across processes, unlike hash()
        self.check = zlib.crc32(str(signature).encode())
        self._entry = None

    def compile(self):
        """Compile the kernel for the declared signature (or load it from the cache);
        returns numba's compile result."""
        if self.signature.args not in self.kernel.overloads:
            self.kernel.compile(self.signature)
        compiled = self.kernel.overloads[self.signature.args]
        if compiled.signature != self.signature:
            raise TypeError(f"{self.name} compiles as {compiled.signature}, "
                            f"declared as {self.signature}")
        return compiled

    def entry(self) -> tuple[int, int]:
        """The stage's table entry: (address of its compiled code, check number)."""
        if numba.config.DISABLE_JIT:
            return (0, self.check)          # the callers run as Python (:func:`declare`)
        if self._entry is None:
            compiled = self.compile()
            address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)
            self._entry = (address, self.check)
        return self._entry


def declare(kernel, signature):
    """The caller of a new :class:`Stage` of ``kernel`` and ``signature`` (module
    docstring); the stage is its ``stage`` attribute.  With ``NUMBA_DISABLE_JIT``
    the caller is a Python function calling ``kernel``."""
    stage = Stage(kernel, signature)
    if numba.config.DISABLE_JIT:
        def call(entry, *args):
            return kernel(*args)

        call.stage = stage
        return call
    return _caller(stage)


def table(callers) -> tuple:
    """The stage table of the stages of ``callers`` (:func:`declare`): their entries,
    in that order.  The first call compiles them or loads them from the cache."""
    return tuple(caller.stage.entry() for caller in callers)


def _caller(stage: Stage):
    """An intrinsic ``call(entry, *args)`` calling ``stage`` through its table entry."""
    declared = stage.signature

    @intrinsic
    def call(typingctx, entry, *args):
        given = tuple(types.unliteral(arg) for arg in args)
        if entry != ENTRY or given != tuple(declared.args):
            raise TypingError(f"{stage.name} is declared as {declared}; called with entry "
                              f"{entry} and arguments {given}")

        def codegen(context, builder, signature, values):
            entry_value, packed = values
            check = builder.extract_value(entry_value, 1)
            expected = context.get_constant(types.int64, stage.check)
            with cgutils.if_unlikely(builder, builder.icmp_signed("!=", check, expected)):
                context.call_conv.return_user_exc(
                    builder, RuntimeError,
                    (f"a cached kernel calls {stage.name} with an older signature: "
                     "delete numba's cache (the *.nbi and *.nbc files) and run again",))
            function_type = context.call_conv.get_function_type(declared.return_type,
                                                                declared.args)
            function = builder.inttoptr(builder.extract_value(entry_value, 0),
                                        function_type.as_pointer())
            status, result = context.call_conv.call_function(
                builder, function, declared.return_type, declared.args,
                cgutils.unpack_tuple(builder, packed))
            with cgutils.if_unlikely(builder, status.is_error):
                context.call_conv.return_status_propagate(builder, status)
            return result

        return declared.return_type(ENTRY, types.StarArgTuple(given)), codegen

    call.stage = stage
    return call
