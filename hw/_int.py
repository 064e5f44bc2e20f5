"""Integers in hardware: the decoder (two's complement or unsigned code -> raw record with the
magnitude as significand) and the saturating cast packer (:class:`IntRound`). Integers are
operands of the shared units; integer results of products and sums come from the integer
accumulators (:class:`~hw.IntMac`, :class:`~hw.IDot`); the packer serves casts
(:class:`~hw.Convert`) only."""
from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from macforge.golden import Rounding

from ._family import HwFamily
from ._lzc import normalise_left
from ._normalise import Grid
from ._raw import RawFloatLayout
from ._round import Round, increment

__all__ = ["IntDecode", "IntRound", "int_raw_layout", "HW"]


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


class IntRound(Round):
    """Round a normalised raw value into an integer code, saturating (the packer of casts).

    The grid (:meth:`grid`) is ``emin = n - 1`` with ``n`` bits: after
    :class:`~hw._normalise.Normalise` every value below ``2^n`` sits at ``exp == n - 1`` with
    its integer part in the top ``n`` bits of ``sig`` (weights 2^(n-1)..2^0) and the fraction
    below, so the shared :func:`~hw._round.increment` rounds at the binary point. A value at a
    higher ``exp``, or a rounded magnitude above ``max_int`` (positive) or ``-min_int``
    (negative; 0 for unsigned), clamps to ``max_int`` / ``min_int``. NaN gives ``max_int`` and
    +-inf the extreme of its sign (RISC-V ``fcvt``; ``golden.convert``). Only saturating: a
    wrapping cast of values of 2^n and more would need their low bits, which normalising drops
    (``saturate_only``).
    """
    saturate_only = True

    @staticmethod
    def grid(fmt):
        return Grid(emin=fmt.n - 1, precision=fmt.n)

    code_shape = staticmethod(lambda fmt: fmt.bits)

    def elaborate(self, platform):
        m = Module()
        fmt, norm, lay = self._fmt, self.norm, self._in_layout
        n, width = fmt.n, lay.sig_width
        q, rem = norm.sig[width - n:], norm.sig[:width - n]
        guard, rest = rem[-1], rem[:-1].any() | norm.sticky
        up = increment(self._rounding, norm.sign, q[0], guard, rest, rem, self._rnd_bits,
                       self.rnd if self._rounding is Rounding.SR else None)
        q_up = Signal(n + 1, name="q_up")
        m.d.comb += q_up.eq(q + up)
        above = norm.exp > fmt.n - 1 if lay.exp_max > fmt.n - 1 else 0   # |x| >= 2^n
        high, low = fmt.max_int & fmt.mask, fmt.min_int & fmt.mask
        over_pos = Signal(name="over_pos")
        over_neg = Signal(name="over_neg")
        m.d.comb += [over_pos.eq(~norm.sign & (above | (q_up > fmt.max_int))),
                     over_neg.eq(norm.sign & (above | (q_up > -fmt.min_int)))]
        with m.If(norm.is_nan):
            m.d.comb += self.code.eq(high)
        with m.Elif(norm.is_inf):
            m.d.comb += self.code.eq(Mux(norm.sign, low, high))
        with m.Elif(over_pos):
            m.d.comb += self.code.eq(high)
        with m.Elif(over_neg):
            m.d.comb += self.code.eq(low)
        with m.Elif(norm.sign):
            m.d.comb += self.code.eq(-q_up)
        with m.Else():
            m.d.comb += self.code.eq(q_up)
        return m


HW = HwFamily(code_shape=lambda fmt: fmt.bits, raw_layout=int_raw_layout, decoder=IntDecode,
              cast_packer=IntRound)
