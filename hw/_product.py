"""Product path: unpack both operands and multiply their significands (exact)."""
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._multiplier import StarMultiplier
from ._raw import RawFloatLayout
from ._families import code_shape, decoder, raw_layout_of

__all__ = ["ProductPath", "product_layout", "raw_product_layout", "raw_product"]


def product_layout(fmt_a, fmt_b, normalise: bool) -> RawFloatLayout:
    """Raw layout of the exact product: ``pa + pb`` bits, top bit weight ``2^(ea + eb + 1)``."""
    return raw_product_layout(raw_layout_of(fmt_a, normalise), raw_layout_of(fmt_b, normalise))


def raw_product_layout(la: RawFloatLayout, lb: RawFloatLayout) -> RawFloatLayout:
    """:func:`product_layout` of two raw layouts."""
    # sig_a * sig_b has (wa - 1) + (wb - 1) fraction bits in wa + wb bits, so its top bit
    # (weight 2 * 2^ea * 2^eb when both tops are set) sits at ea + eb + 1
    return RawFloatLayout(la.exp_min + lb.exp_min + 1, la.exp_max + lb.exp_max + 1,
                          la.sig_width + lb.sig_width)


class ProductPath(wiring.Component):
    """``a * b`` exactly, as a raw record (``sticky`` 0).

    NaN when either operand is NaN or for inf x 0; inf when either is inf otherwise; the sign
    is always ``sign_a ^ sign_b``. With ``normalise=True`` both significands are normalised
    first, so the product has at most one leading zero (what the fused adder's window
    assumes); a plain multiplier leaves normalising to the rounder.

    Parameters
    ----------
    fmt_a, fmt_b : Minifloat or Int
    normalise : bool
    multiplier : class
        Significand multiplier implementation (:mod:`hw._multiplier`).

    Attributes
    ----------
    a, b : in, operand codes
    p : out, :func:`product_layout`
    """

    def __init__(self, fmt_a, fmt_b, *, normalise: bool = False, multiplier=StarMultiplier):
        self._fmts = (fmt_a, fmt_b)
        self._normalise = normalise
        self._multiplier = multiplier
        super().__init__({
            "a": In(code_shape(fmt_a)),
            "b": In(code_shape(fmt_b)),
            "p": Out(product_layout(fmt_a, fmt_b, normalise)),
        })

    def elaborate(self, platform):
        m = Module()
        fmt_a, fmt_b = self._fmts
        m.submodules.unpack_a = ua = decoder(fmt_a, normalise=self._normalise)
        m.submodules.unpack_b = ub = decoder(fmt_b, normalise=self._normalise)
        m.d.comb += [ua.code.eq(self.a), ub.code.eq(self.b)]
        m.submodules.mul = mul = self._multiplier(len(ua.raw.sig), len(ub.raw.sig))
        raw_product(m, ua.raw, ub.raw, self.p, mul)
        return m


def raw_product(m, x, y, p, mul):
    """Drive ``p`` (a record of :func:`product_layout`'s shape for ``x`` and ``y``'s
    layouts) with the exact product of the raw records ``x`` and ``y``, through the
    significand multiplier ``mul`` (a submodule the caller added): NaN when either is NaN or
    for inf x 0, inf when either is inf otherwise, the sign ``sign_x ^ sign_y``."""
    m.d.comb += [mul.a.eq(x.sig), mul.b.eq(y.sig)]
    nan = x.is_nan | y.is_nan | (x.is_inf & y.is_zero) | (y.is_inf & x.is_zero)
    m.d.comb += [
        p.sig.eq(mul.p),
        p.exp.eq(x.exp + y.exp + 1),
        p.sign.eq(x.sign ^ y.sign),
        p.is_zero.eq(x.is_zero | y.is_zero),
        p.is_inf.eq(x.is_inf | y.is_inf),
        p.is_nan.eq(nan),
    ]
