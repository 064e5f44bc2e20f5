"""Linear takums in hardware: the decoder (unpack) and the rounder/packer on the encoding.

``golden.Takum`` defines the format (``golden/_takum.py``): ``S | D | R (3) | C (r) | M``, with
``r = R`` (D = 1) or ``7 - R`` (D = 0), characteristic ``c = 2^r - 1 + C`` or
``-2^(r+1) + 1 + C``, value ``(1 + M / 2^p) * 2^c`` for a positive code and the two's complement
for a negative one. Both halves here are built from those formulas:

* :class:`TakumDecode` is the unpacker :class:`~hw._unpack.Unpack` delegates to: negate a
  negative code, read ``r`` off D and R (no count is needed: the regime is a fixed 3-bit
  field), and shift the ``n - 5`` bits after R left by ``r`` so the characteristic lands in a
  7-bit field and the mantissa left-aligned below it. Every nonzero code has a leading one, so
  the record is always normalised and the product path and fused adder take takum operands
  unchanged.
* :class:`TakumRound` packs a normalised raw value with one rounding on the encoding: the
  exponent gives D, r (the shared leading-zero counter on an 8-bit magnitude) and C; the bit
  string ``D R C fraction`` is assembled with one left shift by ``7 - r``; the shared
  increment (:func:`~hw._round.increment`, every mode) is added to its top ``n - 1`` bits, so a
  carry ripples from the mantissa through C, R and D; a carry out of the body (above maxpos)
  clamps to maxpos, an empty body (below minpos) to minpos. It is what
  :func:`~hw._round.round_pack` builds for a takum output, behind the shared
  :class:`~hw._normalise.Normalise`.
"""
from amaranth.hdl import Module, Cat, Const, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for

from macforge.golden import Rounding
from macforge.golden._takum import CHAR_MAX, CHAR_MIN, REGIME_BITS, Takum

from ._family import HwFamily
from ._lzc import LeadingZeroCounter
from ._normalise import Grid
from ._raw import RawFloatLayout
from ._round import Round, increment

__all__ = ["TakumDecode", "TakumRound", "takum_raw_layout", "takum_grid", "HW"]

_R_MAX = (1 << REGIME_BITS) - 1          # 7: the widest characteristic field
_HEAD = 1 + REGIME_BITS                  # D and R
# c spans -255 .. 254, and 1 << (r + 1) reaches 256: 10 signed bits hold every intermediate
_C_SHAPE = signed(max(bits_for(CHAR_MIN - 1, True), bits_for(2 << _R_MAX, True)))


def takum_raw_layout(fmt: Takum, normalise: bool = False) -> RawFloatLayout:
    """Raw record of an unpacked takum code: ``1.M`` in ``n - 4`` bits, exponent minpos's to
    maxpos's (-239 .. 239 for takum8, -255 .. 254 from takum13 on). Every nonzero takum is
    normalised, so ``normalise`` changes nothing; zero is parked at the smallest exponent."""
    return RawFloatLayout(fmt.scale_min, fmt.scale_max, fmt.exact_sig_bits)


def takum_grid(fmt: Takum) -> Grid:
    """Normalising target of a takum: minpos's exponent and the ``n - 4``-bit significand.

    Every value at or above ``2^scale_min`` is normalised (top bit set), so the ``n - 4`` bits
    the widest mantissa keeps and the rounding bits below are exact; a value below
    ``2^scale_min`` is below minpos (or, from takum13 on, at most ``2^-255``, also below
    minpos) and rounds to minpos in every mode: Normalise leaves it at ``scale_min`` with a
    clear top bit, and its nonzero bits or sticky tell it from zero.
    """
    return Grid(fmt.scale_min, fmt.exact_sig_bits)


class TakumDecode(wiring.Component):
    """Decode a takum code into the shared raw record (exact; ``sticky`` 0).

    ``magnitude = -code`` for a negative code (two's complement, as the format defines), then
    ``r = D ? R : ~R`` and ``(rest << 7) << r`` over the ``n - 5`` bits after R: its top 7 bits
    are C (the cut-off low bits of a short code come out as the zeros they are defined to be),
    the next ``n - 5`` bits the mantissa, left-aligned. ``exp = c`` is the weight of ``sig``'s
    top bit (``1.M``). Flags: ``is_nan`` for NaR (``10...0``, which is its own negation),
    ``is_zero`` for ``0...0``; ``is_inf`` and ``sticky`` are 0.

    Parameters
    ----------
    fmt : Takum
    normalise : bool
        Accepted for the Unpack interface; takums are always normalised.

    Attributes
    ----------
    code : in, n bits
    raw : out, :func:`takum_raw_layout`
    """

    def __init__(self, fmt: Takum, *, normalise: bool = False):
        self._fmt = fmt
        super().__init__({"code": In(fmt.bits), "raw": Out(takum_raw_layout(fmt, normalise))})

    def elaborate(self, platform):
        m = Module()
        fmt, raw = self._fmt, self.raw
        n = fmt.n
        width = n - 1 - _HEAD                                   # C and M bits: n - 5
        code = self.code
        magnitude = Signal(n, name="magnitude")
        m.d.comb += magnitude.eq(Mux(code[n - 1], -code, code))
        D = magnitude[n - 2]
        regime = magnitude[width:n - 2]
        r = Signal(REGIME_BITS, name="r")
        m.d.comb += r.eq(Mux(D, regime, ~regime))              # 7 - R is ~R in 3 bits
        # the n - 5 bits after R over 7 zeros, shifted up by r: C above bit width + 7
        fields = Signal(width + 2 * _R_MAX, name="fields")
        m.d.comb += fields.eq(Cat(Const(0, _R_MAX), magnitude[:width]) << r)
        C = fields[width + _R_MAX:]                             # 7 bits, C right-aligned
        mantissa = fields[_R_MAX:width + _R_MAX]                # M, then r zeros
        weight = Signal(_R_MAX + 2, name="weight")              # 2^r
        m.d.comb += weight.eq(Const(1, 1) << r)
        c_up, c_down = Signal(_C_SHAPE, name="c_up"), Signal(_C_SHAPE, name="c_down")
        m.d.comb += [c_up.eq(weight - 1 + C),                   # D = 1: 2^r - 1 + C
                     c_down.eq(C + 1 - (weight << 1))]          # D = 0: -2^(r+1) + 1 + C
        is_zero = code == 0
        is_nar = code == fmt.nar_code
        m.d.comb += [
            raw.sig.eq(Mux(is_zero | is_nar, 0, Cat(mantissa, Const(1, 1)))),
            # zero and NaR (whose fields read c = -255) are parked inside the record's range
            raw.exp.eq(Mux(is_zero | is_nar, fmt.scale_min, Mux(D, c_up, c_down))),
            raw.sign.eq(code[n - 1] & ~is_nar),
            raw.sticky.eq(0),
            raw.is_zero.eq(is_zero),
            raw.is_inf.eq(0),
            raw.is_nan.eq(is_nar),
        ]
        return m


class TakumRound(Round):
    """Round a normalised raw value into a takum code, on the encoding (one rounding).

    Input contract (:class:`~hw._normalise.Normalise` with :func:`takum_grid`): ``sig`` has its
    top bit set at ``exp >= scale_min``, or ``exp == scale_min`` with a clear top bit for a
    value below ``2^scale_min``; at least ``round_bits`` exact bits follow the top ``n - 4``.

    With ``c = min(exp, 254)``: ``D = c >= 0`` and ``v = c + 1`` (D = 1) or ``-c`` (D = 0) lies
    in ``[2^r, 2^(r+1))``, so ``r = 7 - lzc8(v)`` and ``C`` is the low ``r`` bits of ``v``
    (D = 1) or of ``~v`` (D = 0: ``2^(r+1) - 1 - v``); ``R = D ? r : ~r``. The word
    ``(C as 7 bits, fraction) << (7 - r)`` puts C's r bits directly above the fraction, and
    ``D R word`` is the exact value's takum bit string. Its top ``n - 1`` bits are the body,
    the next bit the guard, the rest (and ``sticky``) below it: the shared increment, ties to
    the even code, added to the body. In priority order: NaN or inf -> NaR; zero -> 0; a value
    of ``2^255`` or more, or a carry out of the body -> +-maxpos; a value below ``2^scale_min``
    or an empty body -> +-minpos; else the body, negated (two's complement) for a negative sign.
    ``saturate`` changes nothing (takums always saturate).

    Parameters
    ----------
    fmt : Takum
    in_layout : RawFloatLayout
        Normalised as above.
    rounding : Rounding
    saturate : bool
    rnd_bits : int

    Attributes
    ----------
    norm : in, ``in_layout``
    rnd : in, R bits (stochastic rounding only)
    code : out, n bits
    """

    grid = staticmethod(takum_grid)

    @staticmethod
    def code_shape(fmt):
        return fmt.bits

    def elaborate(self, platform):
        m = Module()
        fmt, norm, lay = self._fmt, self.norm, self._in_layout
        n = fmt.n
        width = lay.sig_width
        sig, exp, sign = norm.sig, norm.exp, norm.sign
        nonzero = sig.any() | norm.sticky
        below = ~sig[-1]                                        # < 2^scale_min: minpos
        big = exp > CHAR_MAX if lay.exp_max > CHAR_MAX else Const(0, 1)
        c = Signal(_C_SHAPE, name="c")
        m.d.comb += c.eq(Mux(big, CHAR_MAX, exp))              # exp >= scale_min >= -255
        D = ~c[-1]
        v = Signal(_R_MAX + 1, name="v")                        # 1 .. 255
        m.d.comb += v.eq(Mux(D, c + 1, -c))
        m.submodules.lzc = lzc = LeadingZeroCounter(_R_MAX + 1)
        m.d.comb += lzc.i.eq(v)
        r = Signal(REGIME_BITS, name="r")
        m.d.comb += r.eq(_R_MAX - lzc.count)                   # floor(log2 v): v != 0
        weight = Signal(_R_MAX + 1, name="weight")              # 2^r
        m.d.comb += weight.eq(Const(1, 1) << r)
        C = Signal(_R_MAX, name="C")
        m.d.comb += C.eq(Mux(D, v, ~v) & (weight - 1))
        regime = Mux(D, r, ~r)[:REGIME_BITS]
        # C's r bits directly above the fraction (the bits below sig's leading one)
        word = Cat(sig[:width - 1], C)
        tail = Signal(len(word), name="tail")
        m.d.comb += tail.eq(word << ~r)                       # 7 - r is ~r in 3 bits
        string = Cat(tail, regime, D)                           # D R C fraction: the encoding
        L = len(string)                                         # width + 10 >= n + 6 + R
        kept, guard = string[L - (n - 1):], string[L - n]
        rem = string[:L - (n - 1)]
        rest = rem[:-1].any() | norm.sticky
        up = increment(self._rounding, sign, kept[0], guard, rest, rem, self._rnd_bits,
                       self.rnd if self._rounding is Rounding.SR else None)
        body = Signal(n, name="body")                           # a carry may reach bit n - 1
        m.d.comb += body.eq(kept + up)
        magnitude = Signal(n - 1, name="magnitude")
        with m.If(big | body[n - 1]):
            m.d.comb += magnitude.eq(fmt.maxpos_code)
        with m.Elif(below | (body == 0)):
            m.d.comb += magnitude.eq(fmt.minpos_code)
        with m.Else():
            m.d.comb += magnitude.eq(body[:n - 1])
        with m.If(norm.is_nan | norm.is_inf):
            m.d.comb += self.code.eq(fmt.nar_code)
        with m.Elif(~nonzero):
            m.d.comb += self.code.eq(0)
        with m.Else():
            m.d.comb += self.code.eq(Mux(sign, -magnitude, magnitude))
        return m


#: Takums run on the shared units: this decoder feeds mul/fma/mac/dot, this packer rounds
#: their results and accumulators.
HW = HwFamily(code_shape=lambda fmt: fmt.bits, raw_layout=takum_raw_layout, decoder=TakumDecode,
              packer=TakumRound)
