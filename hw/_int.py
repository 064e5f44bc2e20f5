"""Integers in hardware: the decoder (two's complement or unsigned code -> raw record with the
magnitude as significand). Integers are operands of the shared units; integer results come from
the integer accumulators (:class:`~hw.IntMac`, :class:`~hw.IDot`), not from a packer."""
from amaranth.hdl import Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._family import HwFamily
from ._lzc import normalise_left
from ._raw import RawFloatLayout

__all__ = ["IntDecode", "int_raw_layout", "HW"]


def int_raw_layout(fmt, normalise: bool = False) -> RawFloatLayout:
    """Raw record of an unpacked integer: the n-bit magnitude (|int_min| = 2^(n-1) needs all n
    bits), top bit of weight 2^(n-1); normalising moves it down by the leading-zero count (0..n,
    n for zero)."""
    top = fmt.n - 1
    return RawFloatLayout(top - fmt.n if normalise else top, top, fmt.n)


class IntDecode(wiring.Component):
    """Decode an integer code: ``sig`` is the magnitude, ``exp`` the weight of its top bit
    (``n - 1``), ``sign`` for negative signed values, ``is_zero`` for 0; ``normalise=True``
    shifts the magnitude up to a leading one.

    Attributes
    ----------
    code : in, ``unsigned(fmt.bits)``
    raw : out, :func:`int_raw_layout` ``(fmt, normalise)``
    """

    def __init__(self, fmt, *, normalise: bool = False):
        self._fmt = fmt
        self._normalise = normalise
        super().__init__({"code": In(fmt.bits), "raw": Out(int_raw_layout(fmt, normalise))})

    def elaborate(self, platform):
        m = Module()
        fmt, raw = self._fmt, self.raw
        if fmt.signed:
            value = self.code.as_signed()
            sign = value < 0
            # |int_min| = 2^(n-1) still fits the n-bit magnitude
            magnitude = Mux(sign, -value, value)[:fmt.n]
            m.d.comb += raw.sign.eq(sign)
        else:
            magnitude = self.code
        m.d.comb += raw.is_zero.eq(self.code == 0)
        sig, exp = magnitude, fmt.n - 1
        if self._normalise:
            sig, exp = normalise_left(m, sig, exp)
        m.d.comb += [raw.sig.eq(sig), raw.exp.eq(exp)]
        return m


HW = HwFamily(code_shape=lambda fmt: fmt.bits, raw_layout=int_raw_layout, decoder=IntDecode)
