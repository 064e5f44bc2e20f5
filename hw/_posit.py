"""Posit decode (regime decoder) and encode (regime encoder with rounding on the encoding).

Shared by the posit units (:mod:`hw.posit`). A decoded posit is ``(-1)^sign * 1.frac *
2^scale`` with ``scale = k * 2^es + exponent``; ``frac`` has ``frac_bits(fmt)`` bits, the most
any code of the format carries (shorter fractions are padded with zeros below, exactly as the
standard pads cut-off exponent and fraction bits).
"""
from amaranth.hdl import Module, Cat, Const, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for

from ._family import HwFamily
from ._lzc import LeadingZeroCounter

__all__ = ["PositDecode", "PositEncode", "frac_bits", "scale_shape", "HW"]


def _tail_bits(fmt) -> int:
    # after the sign and the shortest regime (one bit plus its terminator): n - 3 bits hold
    # the exponent and fraction; where fewer than es remain, the missing exponent bits are 0
    return max(fmt.n - 3, fmt.es)


def frac_bits(fmt) -> int:
    """Fraction bits of the longest fraction: n - 3 - es (0 when the exponent fills the tail)."""
    return _tail_bits(fmt) - fmt.es


def scale_shape(lo: int, hi: int):
    return signed(max(bits_for(lo, True), bits_for(hi, True)))


class PositDecode(wiring.Component):
    """Decode a posit code: sign, ``scale`` and ``sig = 1.frac``; ``is_zero``, ``is_nar``.

    The magnitude is the two's complement of a negative code; its regime is the run of bits
    equal to the first body bit, counted by the shared leading-zero counter on the body
    (inverted for a run of ones): ``k = run - 1`` for ones, ``-run`` for zeros. Shifting the
    body left by ``run + 1`` drops regime and terminator and leaves exponent and fraction
    left-aligned. For zero and NaR only the flags count.

    Attributes
    ----------
    code : in, n bits
    sign, is_zero, is_nar : out, 1 bit
    scale : out, signed, ``-max_scale .. max_scale``
    sig : out, ``frac_bits + 1`` bits, top bit 1 (weight 2^scale)
    """

    def __init__(self, fmt):
        self._fmt = fmt
        top = fmt.max_scale
        super().__init__({
            "code": In(fmt.n),
            "sign": Out(1),
            "is_zero": Out(1),
            "is_nar": Out(1),
            "scale": Out(scale_shape(-top, top)),
            "sig": Out(frac_bits(fmt) + 1),
        })

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        n, es = fmt.n, fmt.es
        code = self.code
        neg = code[n - 1]
        magnitude = Signal(n, name="magnitude")
        m.d.comb += magnitude.eq(Mux(neg, -code, code))
        body = magnitude[:n - 1]
        ones = body[n - 2]                                   # a run of ones: k >= 0
        m.submodules.run = lzc = LeadingZeroCounter(n - 1)
        m.d.comb += lzc.i.eq(Mux(ones, ~body, body))
        run = lzc.count                                      # 1 .. n - 1
        k = Signal(signed(bits_for(n - 1, True)), name="k")
        m.d.comb += k.eq(Mux(ones, run - 1, -run))
        rest = Signal(n - 1, name="rest")                    # exponent, fraction, zeros
        m.d.comb += rest.eq(body << (run + 1))
        tail = rest[2:]                                      # n - 3 bits: at most this much
        pad = _tail_bits(fmt) - (n - 3)
        if pad:
            tail = Cat(Const(0, pad), tail)
        F = frac_bits(fmt)
        exponent, frac = tail[F:], tail[:F]
        m.d.comb += [
            self.sign.eq(neg),
            self.is_zero.eq(code == 0),
            self.is_nar.eq(code == fmt.nar_code),
            self.scale.eq(k * (1 << es) + exponent),
            self.sig.eq(Cat(frac, Const(1, 1))),
        ]
        return m


class PositEncode(wiring.Component):
    """Round ``(-1)^sign * 1.frac * 2^scale`` (+ sticky) to a posit code, on the encoding.

    The regime is built by an arithmetic right shift: the word ``r, ~r, exponent, frac``
    (``r = k >= 0``) shifted right by ``k`` (``r``) or ``-k - 1`` (``~k``) fills with ``r``
    and so starts with the regime run and its terminator. Its top ``n - 1`` bits are the code
    body; the next bit is the guard, everything below (and ``sticky``) the rest: round to
    nearest, ties to the even code (Posit Standard 2022), the increment rippling into the
    regime. ``scale >= max_scale`` gives maxpos and ``scale < -max_scale`` minpos, so a nonzero
    value never rounds to 0 or NaR (a kept body of all ones would need ``scale >= max_scale``,
    and at ``scale >= -max_scale`` the regime's terminating one is kept).

    Parameters
    ----------
    fmt : Posit
    scale_range : (int, int)
        Range of ``scale`` the producer presents.
    frac_width : int
        Width of ``frac`` (the bits below the hidden one, most significant first).

    Attributes
    ----------
    sign, is_zero, is_nar, sticky : in, 1 bit (NaR wins over zero)
    scale : in, signed
    frac : in, ``frac_width`` bits
    code : out, n bits
    """

    def __init__(self, fmt, scale_range, frac_width: int):
        self._fmt = fmt
        self._scale_range = scale_range
        super().__init__({
            "sign": In(1),
            "is_zero": In(1),
            "is_nar": In(1),
            "sticky": In(1),
            "scale": In(scale_shape(*scale_range)),
            "frac": In(frac_width),
            "code": Out(fmt.n),
        })

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        n, es, top = fmt.n, fmt.es, fmt.max_scale
        lo, hi = self._scale_range
        big = self.scale >= top if hi >= top else 0
        small = self.scale < -top if lo < -top else 0
        clamped = Signal(scale_shape(-top, top - 1), name="clamped")
        m.d.comb += clamped.eq(Mux(big, top - 1, Mux(small, -top, self.scale)))
        k = Signal(signed(len(clamped) - es), name="k")
        m.d.comb += k.eq(clamped >> es)                       # floor(scale / 2^es)
        exponent = clamped[:es]
        r = ~k[-1]
        shift = Signal(range(n - 1), name="regime_shift")     # k <= n - 3, ~k <= n - 2
        m.d.comb += shift.eq(Mux(r, k, ~k))
        # n zero bits below the fraction: the shift (<= n - 2) never drops a bit, and the
        # guard exists even for a fraction of zero width
        word = Cat(Const(0, n), self.frac, exponent, ~r, r)
        shifted = Signal(len(word), name="shifted")
        m.d.comb += shifted.eq(word.as_signed() >> shift)
        L = len(word)
        kept, guard, rest = shifted[L - (n - 1):], shifted[L - n], shifted[:L - n].any()
        up = guard & (rest | self.sticky | kept[0])
        body = Signal(n - 1, name="body")
        m.d.comb += body.eq(kept + up)
        body = Mux(big, fmt.maxpos_code, Mux(small, fmt.minpos_code, body))
        with m.If(self.is_nar):
            m.d.comb += self.code.eq(fmt.nar_code)
        with m.Elif(self.is_zero):
            m.d.comb += self.code.eq(0)
        with m.Else():
            m.d.comb += self.code.eq(Mux(self.sign, -body, body))
        return m


#: Posits run on their own units (:mod:`hw.posit`): the multiplier rounds on the encoding, the
#: MAC accumulates in a quire.
HW = HwFamily(units={"mul": "pmul", "mac": "pmac"})
