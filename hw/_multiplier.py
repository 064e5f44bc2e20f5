"""Significand multipliers: interchangeable implementations of ``p = a * b``.

A unit takes the implementation as its ``multiplier`` parameter (a class taking the two
operand shapes), so the cost model can compare them on otherwise identical datapaths. Each
implementation has a short ``tag`` that non-default choices add to the module name.
"""
from amaranth.hdl import Module, Shape, Cat, Const
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Multiplier", "StarMultiplier", "ArrayMultiplier", "MULTIPLIERS"]


class Multiplier(wiring.Component):
    """Interface: ``p = a * b`` exactly, ``p`` as wide as the two operands together.

    Parameters
    ----------
    a_shape, b_shape : shape-castable
        Operand shapes; signed operands give a signed product.
    """
    tag = None

    def __init__(self, a_shape, b_shape):
        a_shape, b_shape = Shape.cast(a_shape), Shape.cast(b_shape)
        width = a_shape.width + b_shape.width
        p_shape = Shape(width, a_shape.signed or b_shape.signed)
        super().__init__({"a": In(a_shape), "b": In(b_shape), "p": Out(p_shape)})


class StarMultiplier(Multiplier):
    """``a * b`` left to the synthesis tool (Yosys ``$mul``: Booth/DSP mapping as it sees fit)."""
    tag = "star"

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.p.eq(self.a * self.b)
        return m


class ArrayMultiplier(Multiplier):
    """Explicit AND-array: one partial product per bit of ``b``, summed as a balanced tree.

    Unsigned operands only (significands are magnitudes). Written out so that the cost model
    can price a multiplier the synthesis tool cannot re-architect.
    """
    tag = "array"

    def __init__(self, a_shape, b_shape):
        if Shape.cast(a_shape).signed or Shape.cast(b_shape).signed:
            raise TypeError("ArrayMultiplier multiplies unsigned significands only")
        super().__init__(a_shape, b_shape)

    def elaborate(self, platform):
        m = Module()
        width = len(self.p)
        rows = [Cat(Const(0, k), self.a & self.b[k].replicate(len(self.a)))
                for k in range(len(self.b))]
        while len(rows) > 1:                      # pairwise sums: log2(len(b)) adder levels
            rows = [(rows[k] + rows[k + 1])[:width] if k + 1 < len(rows) else rows[k]
                    for k in range(0, len(rows), 2)]
        m.d.comb += self.p.eq(rows[0])
        return m


#: Implementations by tag (the CLI and cost model choose by name).
MULTIPLIERS = {cls.tag: cls for cls in (StarMultiplier, ArrayMultiplier)}
