"""Integer result: two's-complement wrap or saturation into an integer format."""
from amaranth.hdl import Module, Mux, Shape
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["IntResize", "int_accumulate"]


class IntResize(wiring.Component):
    """``o`` = ``i`` reduced to ``fmt``: its low ``n`` bits (wrap) or clamped to its range.

    Parameters
    ----------
    in_shape : shape-castable
        Shape of the exact value ``i`` (signed or unsigned, any width).
    fmt : Int
    saturate : bool
    """

    def __init__(self, in_shape, fmt, saturate: bool):
        self._fmt = fmt
        self._saturate = saturate
        super().__init__({"i": In(Shape.cast(in_shape)), "o": Out(fmt.bits)})

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        m.d.comb += self.o.eq(self.i[:fmt.bits])             # wrap: keep the low n bits
        if self._saturate:
            with m.If(self.i > fmt.max_int):
                m.d.comb += self.o.eq(fmt.max_int)
            with m.Elif(self.i < fmt.min_int):
                m.d.comb += self.o.eq(fmt.min_int)             # .eq() truncates: the code
        return m


def int_accumulate(m, acc, fmt, saturate: bool, addend, en, first, clear):
    """The integer accumulator register of IntMac and IDot: ``clear`` -> 0, else if ``en``
    ``acc <- resize(addend + (0 if first else acc))`` (exact sum, then wrap or saturate)."""
    value = acc.as_signed() if fmt.signed else acc
    total = Mux(first, 0, value) + addend            # exact: Amaranth widens the sum
    m.submodules.resize = resize = IntResize(total.shape(), fmt, saturate)
    m.d.comb += resize.i.eq(total)
    with m.If(clear):
        m.d.sync += acc.eq(0)
    with m.Elif(en):
        m.d.sync += acc.eq(resize.o)
