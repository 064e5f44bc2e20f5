"""Normalise: first half of the shared rounder (leading-zero count, shift to the rounding grid)."""
from typing import NamedTuple

from amaranth.hdl import Module, Cat, Const, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._lzc import LeadingZeroCounter
from ._raw import RawFloatLayout
from ._shift import ShiftRightSticky

__all__ = ["Normalise", "normalised_layout", "Grid"]


class Grid(NamedTuple):
    """What :class:`Normalise` reads of an output format: the exponent below which values are
    denormalised onto a fixed grid, and the widest significand. A minifloat is its own grid;
    tapered packers (hif8, takum) give one (``packer.grid(fmt)``)."""
    emin: int
    precision: int


def normalised_layout(fmt, in_layout: RawFloatLayout, round_bits: int) -> RawFloatLayout:
    """Layout :class:`Normalise` produces: ``exp >= fmt.emin``, exactly ``round_bits`` bits
    under the format's last kept bit (what lies below them is only ever OR-ed: the sticky)."""
    return RawFloatLayout(fmt.emin, max(in_layout.exp_max, fmt.emin),
                          fmt.precision + round_bits)


class Normalise(wiring.Component):
    """Shift a raw value so its top bit sits at ``exp``, or at ``emin`` for subnormals.

    Output contract (what :class:`~hw._round.Round` relies on): ``sig`` has its top bit set
    and ``exp >= fmt.emin``, or ``exp == fmt.emin`` and the value is subnormal or zero;
    either way the code's ``p`` bits are the top ``p`` bits of ``sig``. ``sig`` is
    ``p + round_bits`` bits, so exactly ``round_bits`` exact bits sit under the last kept bit
    (1 guard bit for the deterministic modes, R bits for stochastic rounding); everything
    below them, shifted out or not, goes to ``sticky`` (a rounder only ever ORs it). A narrow
    input is padded with zeros below; from a wide one (a fused adder's window) only the top
    ``p + round_bits`` bits are shifted right, since a right shift by s >= 1 fills those
    output bits from the input's top ``p + round_bits - s`` bits alone.

    With ``e`` the input exponent and ``z`` the leading-zero count: if ``e >= emin`` shift
    left by ``min(z, e - emin)`` (a subnormal result stops at ``emin``); else shift right by
    ``emin - e`` with sticky. The input exponent range (``in_layout``) drops the branch that
    cannot happen, e.g. e4m3 x e4m3 products never reach fp32's subnormal range.

    Parameters
    ----------
    fmt : Minifloat
        Output format; only its ``emin`` and ``precision`` are read (hif8 passes its
        rounding grid, :func:`~hw._hif8.hif8_grid`).
    in_layout : RawFloatLayout
    round_bits : int
        Exact bits required below the last kept bit.
    """

    def __init__(self, fmt, in_layout: RawFloatLayout, round_bits: int):
        self._fmt = fmt
        self._in_layout = in_layout
        super().__init__({
            "raw": In(in_layout),
            "norm": Out(normalised_layout(fmt, in_layout, round_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        raw, norm, lay = self.raw, self.norm, self._in_layout
        emin = self._fmt.emin
        out_width = norm.shape().sig_width
        width = max(lay.sig_width, out_width)
        low = width - out_width                    # bits below the output: only their OR
        sig = Cat(Const(0, width - lay.sig_width), raw.sig)           # pad below: exact
        m.d.comb += [
            norm.sign.eq(raw.sign),
            norm.is_zero.eq(raw.is_zero),
            norm.is_inf.eq(raw.is_inf),
            norm.is_nan.eq(raw.is_nan),
        ]
        left_sig, left_exp, left_sticky = sig[low:], raw.exp, sig[:low].any()
        # one subtractor: d = e - emin is the left shift's room and, below emin, minus the gap
        d = Signal(range(lay.exp_min - emin, max(lay.exp_max - emin, 0) + 1), name="room")
        m.d.comb += d.eq(raw.exp - emin)
        if lay.exp_max >= emin:                      # some inputs are at or above emin
            m.submodules.lzc = lzc = LeadingZeroCounter(lay.sig_width)
            m.d.comb += lzc.i.eq(raw.sig)
            left = Signal.like(lzc.count, name="left")
            if lay.exp_min - emin >= lay.sig_width:
                m.d.comb += left.eq(lzc.count)       # never reaches emin: plain normalise
            else:
                m.d.comb += left.eq(Mux(lzc.count < d, lzc.count, d))
            # a zero has no leading one: park it at emin (its code is then 0, not 0.000 x 2^e)
            zero = lzc.count == lay.sig_width
            shifted = (sig << left)[:width]
            left_sig, left_exp = shifted[low:], Mux(zero, emin, raw.exp - left)
            left_sticky = shifted[:low].any()
        if lay.exp_min < emin:                       # some inputs lie below emin: denormalise
            # a right shift by s >= 1 fills the output from the top out_width - s input bits
            # only, so the shifter is out_width wide and the bits below it go to the sticky;
            # s = -d = ~d + 1: a fixed shift by one, then ~d (no negation)
            reach = min(emin - lay.exp_min, out_width)   # shifting by out_width drops all
            m.submodules.denorm = shr = ShiftRightSticky(out_width - 1, reach - 1)
            below = d < 0 if lay.exp_max >= emin else 1
            top = sig[low:]
            rest = ~d[:len(d) - 1]                   # -d - 1 >= 0 when below
            m.d.comb += [shr.i.eq(top[1:]),
                         shr.amount.eq(Mux(rest > reach - 1, reach - 1, rest))]
            m.d.comb += [
                norm.sig.eq(Mux(below, shr.o, left_sig)),
                norm.exp.eq(Mux(below, emin, left_exp)),
                norm.sticky.eq(raw.sticky | Mux(below, sig[:low + 1].any() | shr.sticky,
                                                left_sticky)),
            ]
        else:
            m.d.comb += [norm.sig.eq(left_sig), norm.exp.eq(left_exp),
                         norm.sticky.eq(raw.sticky | left_sticky)]
        return m
