"""Posit decode (regime decoder) and encode (regime encoder with rounding on the encoding).

Shared by the posit units (:mod:`hw.posit`) and, through the family contract
(:mod:`hw._family`), by the shared units: :class:`PositUnpack` puts a decoded posit into the
raw record (operands of add, fma, convert), :class:`PositRound` rounds a normalised raw record
into a posit behind the shared :class:`~hw._normalise.Normalise` (their results). Both are
thin: the regime decoder and the encoding rounder are :class:`PositDecode` and
:class:`PositEncode`, one each for every posit unit.

A decoded posit is ``(-1)^sign * 1.frac * 2^scale`` with ``scale = k * 2^es + exponent``;
``frac`` has ``frac_bits(fmt)`` bits, the most any code of the format carries (shorter
fractions are padded with zeros below, exactly as the standard pads cut-off exponent and
fraction bits).
"""
from amaranth.hdl import Module, Cat, Const, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for

from macforge.golden import Rounding

from ._family import HwFamily
from ._lzc import LeadingZeroCounter
from ._normalise import Grid
from ._raw import RawFloatLayout
from ._round import Round, increment

__all__ = ["PositDecode", "PositEncode", "PositUnpack", "PositRound", "posit_raw_layout",
           "posit_grid", "frac_bits", "scale_shape", "HW"]


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
    body; the next bit is the guard, everything below (and ``sticky``) the rest, and the
    shared increment (:func:`~hw._round.increment`) is added to the body, rippling into the
    regime: rne is the standard's round to nearest, ties to the even code (Posit Standard
    2022); the other modes are golden's, on the same bit string (sr: ``t`` is the top R bits
    below the body). ``scale >= max_scale`` gives maxpos and ``scale < -max_scale`` minpos in
    every mode, so a nonzero value never rounds to 0 or NaR (a kept body of all ones would need
    ``scale >= max_scale``, and at ``scale >= -max_scale`` the regime's terminating one is
    kept).

    Parameters
    ----------
    fmt : Posit
    scale_range : (int, int)
        Range of ``scale`` the producer presents.
    frac_width : int
        Width of ``frac`` (the bits below the hidden one, most significant first); for sr its
        top R bits below the kept ones must be exact (at least R bits below the longest
        fraction, ``frac_bits(fmt)``).
    rounding : Rounding
    rnd_bits : int, optional
        R (sr only).

    Attributes
    ----------
    sign, is_zero, is_nar, sticky : in, 1 bit (NaR wins over zero)
    scale : in, signed
    frac : in, ``frac_width`` bits
    rnd : in, R bits (sr only)
    code : out, n bits
    """

    def __init__(self, fmt, scale_range, frac_width: int, rounding: Rounding = Rounding.RNE,
                 rnd_bits: int | None = None):
        self._fmt = fmt
        self._scale_range = scale_range
        self._rounding = rounding
        self._rnd_bits = rnd_bits
        members = {
            "sign": In(1),
            "is_zero": In(1),
            "is_nar": In(1),
            "sticky": In(1),
            "scale": In(scale_shape(*scale_range)),
            "frac": In(frac_width),
            "code": Out(fmt.n),
        }
        if rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        super().__init__(members)

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
        kept, rem = shifted[L - (n - 1):], shifted[:L - (n - 1)]
        guard, rest = rem[-1], rem[:-1].any() | self.sticky
        up = increment(self._rounding, self.sign, kept[0], guard, rest, rem, self._rnd_bits,
                       self.rnd if self._rounding is Rounding.SR else None)
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


def posit_raw_layout(fmt, normalise: bool = False) -> RawFloatLayout:
    """Raw record of an unpacked posit: ``1.frac`` in ``frac_bits + 1`` bits (the widest
    significand, ``fmt.exact_sig_bits``), exponent minpos's to maxpos's (``-max_scale ..
    max_scale``; -24 .. 24 for posit8). Every nonzero posit is normalised, so ``normalise``
    changes nothing; zero and NaR are parked at the smallest exponent."""
    return RawFloatLayout(-fmt.max_scale, fmt.max_scale, frac_bits(fmt) + 1)


def posit_grid(fmt) -> Grid:
    """Normalising target of a posit: minpos's exponent and the widest significand.

    A value at or above minpos (``2^-max_scale``) is normalised, so the ``frac_bits + 1``
    bits the longest fraction keeps and the rounding bits below it are exact; a value below
    minpos rounds to minpos in every mode: Normalise leaves it at ``-max_scale`` with a clear
    top bit, and its nonzero bits or sticky tell it from zero.
    """
    return Grid(-fmt.max_scale, frac_bits(fmt) + 1)


class PositUnpack(wiring.Component):
    """Decode a posit code into the shared raw record (exact; ``sticky`` 0), by
    :class:`PositDecode`: ``sig = 1.frac``, ``exp = scale``; NaR is ``is_nan``, zero
    ``is_zero`` (both with ``sig`` 0 at the smallest exponent); ``is_inf`` is 0.

    Parameters
    ----------
    fmt : Posit
    normalise : bool
        Accepted for the decoder interface; posits are always normalised.

    Attributes
    ----------
    code : in, n bits
    raw : out, :func:`posit_raw_layout`
    """

    def __init__(self, fmt, *, normalise: bool = False):
        self._fmt = fmt
        super().__init__({"code": In(fmt.n), "raw": Out(posit_raw_layout(fmt, normalise))})

    def elaborate(self, platform):
        m = Module()
        fmt, raw = self._fmt, self.raw
        m.submodules.decode = dec = PositDecode(fmt)
        m.d.comb += dec.code.eq(self.code)
        special = dec.is_zero | dec.is_nar
        m.d.comb += [
            raw.sig.eq(Mux(special, 0, dec.sig)),
            # zero and NaR decode to a regime below minpos's: park them inside the range
            raw.exp.eq(Mux(special, -fmt.max_scale, dec.scale)),
            raw.sign.eq(dec.sign & ~dec.is_nar),
            raw.sticky.eq(0),
            raw.is_zero.eq(dec.is_zero),
            raw.is_inf.eq(0),
            raw.is_nan.eq(dec.is_nar),
        ]
        return m


class PositRound(Round):
    """Round a normalised raw value into a posit code, on the encoding (one rounding), by
    :class:`PositEncode` in any mode.

    Input contract (:class:`~hw._normalise.Normalise` with :func:`posit_grid`): ``sig`` has
    its top bit set at ``exp >= -max_scale``, or ``exp == -max_scale`` with a clear top bit for
    a value below minpos; at least ``round_bits`` exact bits follow the top ``frac_bits + 1``.
    The bits under the leading one are the encoder's fraction, ``exp`` its scale; a value
    below minpos is handed over at scale ``-max_scale - 1`` (the encoder's minpos clamp). In
    priority order: NaN or inf -> NaR; zero -> 0; else the encoder's code (never 0 or NaR:
    maxpos at or above maxpos, minpos below minpos). ``saturate`` changes nothing (posits
    always saturate), as in golden.

    Parameters
    ----------
    fmt : Posit
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

    grid = staticmethod(posit_grid)

    @staticmethod
    def code_shape(fmt):
        return fmt.n

    def elaborate(self, platform):
        m = Module()
        fmt, norm, lay = self._fmt, self.norm, self._in_layout
        width, emin = lay.sig_width, -fmt.max_scale
        sr = self._rounding is Rounding.SR
        m.submodules.encode = enc = PositEncode(fmt, (emin - 1, lay.exp_max), width - 1,
                                                self._rounding, self._rnd_bits if sr else None)
        below = ~norm.sig[-1]                                   # < minpos: minpos
        m.d.comb += [
            enc.sign.eq(norm.sign),
            enc.is_nar.eq(norm.is_nan | norm.is_inf),
            enc.is_zero.eq(~(norm.sig.any() | norm.sticky)),
            enc.sticky.eq(norm.sticky),
            enc.scale.eq(Mux(below, emin - 1, norm.exp)),
            enc.frac.eq(norm.sig[:width - 1]),
            self.code.eq(enc.code),
        ]
        if sr:
            m.d.comb += enc.rnd.eq(self.rnd)
        return m


#: Posits run on their own multiplier and MAC (:mod:`hw.posit`: the multiplier rounds on the
#: encoding, the MAC accumulates in a quire) and on the shared fma, add and convert, through
#: this decoder and packer (the same regime decoder and encoding rounder).
HW = HwFamily(code_shape=lambda fmt: fmt.n, raw_layout=posit_raw_layout, decoder=PositUnpack,
              packer=PositRound,
              units={"mul": "pmul", "mac": "pmac", "fma": "fma", "add": "add",
                     "convert": "convert"})
