"""Alignment shifter: logical right shift that ORs the bits it drops into a sticky bit."""
from amaranth.hdl import Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["ShiftRightSticky"]


class ShiftRightSticky(wiring.Component):
    """``o = i >> amount`` and ``sticky = (i & ((1 << amount) - 1)) != 0``.

    A logarithmic shifter: stage ``k`` shifts by ``2^k`` when bit ``k`` of ``amount`` is set
    and ORs the ``2^k`` bits it drops into the sticky, so the sticky costs one OR-reduce per
    stage instead of a mask decoder. Amounts of ``width`` or more drop everything.

    Parameters
    ----------
    width : int
        Width of ``i`` and ``o``.
    max_amount : int
        Largest amount the producer can present (sizes ``amount``).

    Attributes
    ----------
    i : Signal(width), in
    amount : Signal(range(max_amount + 1)), in
    o : Signal(width), out
    sticky : Signal(1), out
    """

    def __init__(self, width: int, max_amount: int):
        if not isinstance(width, int) or width < 1:
            raise TypeError(f"width must be a positive integer, not {width!r}")
        if not isinstance(max_amount, int) or max_amount < 0:
            raise TypeError(f"max_amount must be a non-negative integer, not {max_amount!r}")
        self._width = width
        super().__init__({
            "i": In(width),
            "amount": In(range(max_amount + 1)),
            "o": Out(width),
            "sticky": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        x, sticky = self.i, 0
        for k in range(len(self.amount)):
            step = 1 << k
            take = self.amount[k]
            if step >= self._width:
                shifted, dropped = 0, x.any()
            else:
                shifted, dropped = x[step:], x[:step].any()
            sticky = sticky | (take & dropped)
            x = Mux(take, shifted, x)
        m.d.comb += [self.o.eq(x), self.sticky.eq(sticky)]
        return m
