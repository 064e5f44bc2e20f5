"""Minifloats in hardware: the decoder (code -> raw record) and, as packer, the shared
:class:`~hw._round.Round` (a minifloat is its own rounding grid)."""
from amaranth.hdl import Cat, Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from macforge.golden import Specials

from ._family import HwFamily
from ._lzc import normalise_left
from ._raw import RawFloatLayout
from ._round import Round

__all__ = ["MinifloatDecode", "minifloat_raw_layout", "HW"]


def minifloat_raw_layout(fmt, normalise: bool = False) -> RawFloatLayout:
    """Raw record of an unpacked minifloat: p = M + 1 significand bits with the implicit one;
    ``exp`` from emin (minus p with ``normalise``: a zero counts p leading zeros) up to the top
    exponent field (inf/NaN encodings included)."""
    width = fmt.precision
    field_max = (1 << fmt.exp_bits) - 1 - fmt.bias
    exp_min = fmt.emin
    if normalise and fmt.subnormals:
        exp_min -= width
    return RawFloatLayout(exp_min, field_max, width)


class MinifloatDecode(wiring.Component):
    """Decode a minifloat code into a :class:`~hw._raw.RawFloatLayout` record (exact).

    ``exp`` is the unbiased exponent of the significand's top bit, ``sig`` has the implicit
    bit. Subnormals are *not* normalised unless ``normalise=True``: by default a subnormal has
    ``exp = emin`` and leading zeros in ``sig`` (the rounder normalises anyway; a fused adder
    asks for normalised products). Flags: ``is_nan`` overrides all other fields (the fnuz NaN
    0x80 also looks like a zero); ``is_inf`` overrides the value; ``is_zero`` marks +-0.

    Attributes
    ----------
    code : in, ``fmt.layout()``
    raw : out, :func:`minifloat_raw_layout` ``(fmt, normalise)``
    """

    def __init__(self, fmt, *, normalise: bool = False):
        self._fmt = fmt
        self._normalise = normalise
        super().__init__({"code": In(fmt.layout()),
                          "raw": Out(minifloat_raw_layout(fmt, normalise))})

    def elaborate(self, platform):
        m = Module()
        fmt, raw, code = self._fmt, self.raw, self.code
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
        if self._normalise and fmt.subnormals:
            sig, exp = normalise_left(m, sig, exp)
        m.d.comb += [raw.sig.eq(sig), raw.exp.eq(exp)]
        return m


def _result_check(fmt):
    if not fmt.signed or not fmt.subnormals:
        return "a minifloat needs a sign and subnormals to be a result"
    return None


HW = HwFamily(code_shape=lambda fmt: fmt.layout(), raw_layout=minifloat_raw_layout,
              decoder=MinifloatDecode, packer=Round, result_check=_result_check)
