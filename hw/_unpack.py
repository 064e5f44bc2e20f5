"""Unpack: a code of any supported format -> raw float record."""
from amaranth.hdl import Module, Cat, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from macforge.golden import HiF8, Int, Minifloat, Specials

from ._hif8 import HiF8Decode, hif8_raw_layout
from ._lzc import LeadingZeroCounter
from ._raw import RawFloatLayout

__all__ = ["Unpack", "code_shape", "raw_layout_of"]


def code_shape(fmt):
    """Amaranth shape of a code: the format's field layout, or plain bits (integers, hif8,
    whose fields move with the dot code)."""
    return fmt.layout() if isinstance(fmt, Minifloat) else fmt.bits


def _sig_width(fmt) -> int:
    # |int_min| = 2^(n-1) needs all n bits as a magnitude; a minifloat has p = M + 1
    return fmt.n if isinstance(fmt, Int) else fmt.precision


def raw_layout_of(fmt, normalise: bool = False) -> RawFloatLayout:
    """The :class:`RawFloatLayout` that :class:`Unpack` produces for ``fmt``."""
    if isinstance(fmt, HiF8):
        return hif8_raw_layout(fmt)                          # always normalised
    width = _sig_width(fmt)
    if isinstance(fmt, Int):
        # the n-bit magnitude's top bit has weight 2^(n-1); normalising moves it down by the
        # leading-zero count (0..n, n for zero)
        top = fmt.n - 1
        return RawFloatLayout(top - width if normalise else top, top, width)
    field_max = (1 << fmt.exp_bits) - 1 - fmt.bias          # includes inf/NaN encodings
    exp_min = fmt.emin
    if normalise and fmt.subnormals:
        exp_min -= width                                     # a zero counts p leading zeros
    return RawFloatLayout(exp_min, field_max, width)


class Unpack(wiring.Component):
    """Decode a code into a :class:`RawFloatLayout` record (exact; ``sticky`` is 0).

    Minifloat: ``exp`` is the unbiased exponent of the significand's top bit, ``sig`` has the
    implicit bit. Subnormals are *not* normalised unless ``normalise=True``: by default a
    subnormal has ``exp = emin`` and leading zeros in ``sig`` (the rounder normalises anyway;
    a fused adder asks for normalised products). Integers: ``sig`` is the magnitude, ``exp``
    the weight of its top bit (``n - 1``).

    Flags: ``is_nan`` overrides all other fields (the fnuz NaN 0x80 also looks like a zero);
    ``is_inf`` overrides the value; ``is_zero`` marks +-0.

    HiF8 (tapered): the dot-code decoder :class:`~hw._hif8.HiF8Decode`; every nonzero code
    is normalised already, so ``normalise`` changes nothing.

    Parameters
    ----------
    fmt : Minifloat, Int or HiF8
    normalise : bool
        Shift subnormal (or integer) significands up to a leading one, lowering ``exp``.

    Attributes
    ----------
    code : in, ``fmt.layout()`` (minifloat) or ``unsigned(fmt.bits)`` (integer)
    raw : out, :func:`raw_layout_of` ``(fmt, normalise)``
    """

    def __init__(self, fmt, *, normalise: bool = False):
        self._fmt = fmt
        self._normalise = normalise
        super().__init__({
            "code": In(code_shape(fmt)),
            "raw": Out(raw_layout_of(fmt, normalise)),
        })

    def elaborate(self, platform):
        m = Module()
        fmt, raw = self._fmt, self.raw
        if isinstance(fmt, HiF8):
            m.submodules.hif8 = decode = HiF8Decode(fmt)
            m.d.comb += [decode.code.eq(self.code), raw.eq(decode.raw)]
            return m
        if isinstance(fmt, Int):
            if fmt.signed:
                value = self.code.as_signed()
                sign = value < 0
                # |int_min| = 2^(n-1) still fits the n-bit magnitude
                magnitude = Mux(sign, -value, value)[:fmt.n]
                m.d.comb += raw.sign.eq(sign)
            else:
                magnitude = self.code
            m.d.comb += raw.is_zero.eq(self.code == 0)
            sig, exp, may_lead_zeros = magnitude, fmt.n - 1, True
        else:
            code = self.code
            e_field, m_field = code.exponent, code.mantissa
            magnitude = Cat(m_field, e_field)
            if fmt.subnormals:
                normal = e_field != 0
                # exponent field 0 is the emin binade without its implicit one
                exp = Mux(normal, e_field, 1) - fmt.bias
                sig = Cat(m_field, normal)
                m.d.comb += raw.is_zero.eq(magnitude == 0)
            else:
                exp = e_field - fmt.bias
                sig = Cat(m_field, 1)
            if fmt.signed:
                m.d.comb += raw.sign.eq(code.sign)
            if fmt.specials is Specials.IEEE:
                m.d.comb += raw.is_inf.eq(magnitude == fmt.inf_code)
                if fmt.has_nan:
                    m.d.comb += raw.is_nan.eq(magnitude > fmt.inf_code)
            elif fmt.specials is Specials.FN:
                m.d.comb += raw.is_nan.eq(magnitude == fmt.nan_code)
            elif fmt.specials is Specials.FNUZ:
                m.d.comb += raw.is_nan.eq(code.as_value() == fmt.nan_code)
            may_lead_zeros = fmt.subnormals
        if self._normalise and may_lead_zeros:
            m.submodules.lzc = lzc = LeadingZeroCounter(len(sig))
            m.d.comb += lzc.i.eq(sig)
            sig, exp = (sig << lzc.count)[:len(sig)], exp - lzc.count
        m.d.comb += [raw.sig.eq(sig), raw.exp.eq(exp)]
        return m
