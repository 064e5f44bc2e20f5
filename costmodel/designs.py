"""Reference datapaths that ``hw`` does not build: plain integer adders and multipliers, and
a floating-point adder made from the ``hw`` FMA.

These are what the calibration table (:mod:`costmodel.calibrate`) measures for Horowitz's
"int add", "int mult" and "fp add" rows; each says exactly what it is.
"""
from __future__ import annotations

from amaranth.hdl import Const, Module, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["IntAdd", "IntMul", "FAddViaFma"]


class IntAdd(wiring.Component):
    """``y = a + b``: n-bit two's complement operands, n + 1-bit exact sum (Amaranth ``+``,
    Yosys ``alumacc``/``techmap`` ripple adder, then ABC restructures it)."""

    def __init__(self, n: int, is_signed: bool = True):
        if not isinstance(n, int) or n < 1:
            raise TypeError(f"n must be a positive integer, not {n!r}")
        shape = signed if is_signed else unsigned
        self._n = n
        super().__init__({"a": In(shape(n)), "b": In(shape(n)), "y": Out(shape(n + 1))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.y.eq(self.a + self.b)
        return m


class IntMul(wiring.Component):
    """``y = a * b``: n-bit two's complement operands, exact 2n-bit product (Amaranth ``*``,
    as the docs/anchors.md "int8 x int8 signed multiply (plain *)" row)."""

    def __init__(self, n: int, is_signed: bool = True):
        if not isinstance(n, int) or n < 1:
            raise TypeError(f"n must be a positive integer, not {n!r}")
        shape = signed if is_signed else unsigned
        super().__init__({"a": In(shape(n)), "b": In(shape(n)), "y": Out(shape(2 * n))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.y.eq(self.a * self.b)
        return m


class FAddViaFma(wiring.Component):
    """``y = round(a + c)`` in one minifloat format: the ``hw`` FFma with ``b`` tied to 1.0.

    Yosys folds the constant multiplier operand away, but the FMA's alignment window (sized
    for a 2p-bit product) stays, so this is an upper bound on a dedicated adder's cost.
    """

    def __init__(self, fmt):
        from macforge import golden
        from macforge.hw import FFma
        self._fmt = golden.parse(fmt)
        self._fma = FFma(self._fmt, acc=self._fmt)
        self._one = int(self._fmt.encode(1.0))
        super().__init__({"a": In(self._fmt.bits), "c": In(self._fmt.bits),
                          "y": Out(self._fmt.bits)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.fma = fma = self._fma
        m.d.comb += [fma.a.eq(self.a), fma.b.eq(Const(self._one, self._fmt.bits)),
                     fma.c.eq(self.c), self.y.eq(fma.y)]
        return m
