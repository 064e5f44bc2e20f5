"""The fused-add core shared by FFma and FMac: round(p + c) once, p exact and wide."""
from amaranth.hdl import Module, Cat, Const, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from macforge.golden import Rounding

from ._pipeline import COMBINATIONAL
from ._raw import RawFloatLayout
from ._pack import round_pack
from ._round import round_bits_for
from ._shift import ShiftRightSticky
from ._families import code_shape, decoder, raw_layout_of

__all__ = ["AlignAdd", "fused_add", "window_bits"]


def window_bits(p_width: int, acc, round_bits: int, c_fmt=None) -> int:
    """Width M + 2 of the adder window; M = max(Wp, pc + R + 1) bits below the larger top.

    With X the operand whose top bit position T_x is higher (Y the other, shifted right by
    s = T_x - T_y), the window holds X whole and Y down to T_x - M; Y's lower bits become the
    sticky. Every bit the rounder reads exactly (R bits under the rounding point for SR, the
    guard bit otherwise, R = 1) lies in the window, because the rounding point is at least
    T_x - pc - 1 whenever Y lost bits:

    * X normalised and s >= 2: |sum| > 2^(T_x - 1), so the point is >= T_x - pc;
    * X a product with one leading zero and s >= 3: |sum| > 2^(T_x - 2), point >= T_x - pc - 1;
    * otherwise (s <= 1, or s = 2 below such a product) the sum can cancel deeply, but Y then
      reaches at most pc + 1 bits (c) or Wp bits (p, s <= 1) below T_x: nothing is shifted out;
    * X a subnormal addend: the point is the format's smallest ulp, T_x - pc + 1.

    Plus two bits above: X's top bit and the carry of an addition. e4m3 x e4m3 (Wp = 8) into
    fp32 (pc = 24): 28 bits (rne), 35 bits (sr, R = 8); into fp16 (pc = 11): 15 and 22 bits.
    """
    # pc: the accumulator's widest significand (hif8: 4 -- its grid is never finer than a
    # 4-bit significand's, so the argument below holds with pc = 4)
    pc = raw_layout_of(acc).sig_width
    if c_fmt is not None:          # an addend of another format (FAdd): it must fit too
        pc = max(pc, raw_layout_of(c_fmt).sig_width)
    return max(p_width, pc + round_bits + 1) + 2


class AlignAdd(wiring.Component):
    """Align p and c and add them exactly (up to a sticky): first half of the fused adder.

    ``p`` is an exact raw product whose significand has at most one leading zero (a product
    of normalised significands), or an unpacked code of ``acc`` (the rounded product of a
    non-fused MAC: a subnormal one sits at ``acc``'s smallest exponent, where it needs no
    normalising). ``c`` is a code of ``acc``; ``c_identity`` replaces it by the additive
    identity (a MAC's ``first``): the result is then p itself, zero sign included, as a
    multiply would give it.

    The larger operand (by top-bit exponent; a zero never counts as larger) goes to the top
    of the window, the other is shifted right with a sticky. Effective subtraction computes
    ``X - Y - sticky`` (Y's lost bits as a borrow), so the magnitude is again "truncated +
    sticky"; if that goes negative (only when X is a subnormal addend smaller than the
    product) the magnitude is ``~D`` with a sticky, ``-D`` without. Exact zeros take IEEE
    754's sign: that of equal-signed operands, else +0 (-0 under rdn).

    Parameters
    ----------
    p_layout : RawFloatLayout
    acc : Minifloat
    rounding : Rounding
        Only rdn matters here (the sign of an exact zero).
    round_bits : int
        Exact bits the rounder needs under its rounding point (see :func:`window_bits`).
    c_fmt : format, optional
        Format of ``c`` when it is not ``acc`` (an adder's second operand); default ``acc``.
    plan : PipelinePlan
        Its ``"swapped"`` cut (if active) registers the operands ordered by exponent, before
        the alignment shifter; its ``"aligned"`` cut the aligned operands, before the add; its
        ``"added"`` cut the raw sum, before the magnitude (an increment when it is negative).

    Attributes
    ----------
    p : in, ``p_layout``
    c : in, ``code_shape(acc)``
    c_identity : in, 1 bit
    sum : out, RawFloatLayout with ``window_bits`` bits, top bit weight 2^(T_x + 1)
    """

    def __init__(self, p_layout: RawFloatLayout, acc, rounding: Rounding, round_bits: int,
                 plan=COMBINATIONAL, c_fmt=None):
        self._plan = plan
        self._p_layout = p_layout
        self._acc = acc
        self._c_fmt = acc if c_fmt is None else c_fmt
        self._rounding = rounding
        c_layout = raw_layout_of(self._c_fmt)
        self._width = window_bits(p_layout.sig_width, acc, round_bits, c_fmt)
        exp_min = min(p_layout.exp_min, c_layout.exp_min) + 1
        exp_max = max(p_layout.exp_max, c_layout.exp_max) + 1
        super().__init__({
            "p": In(p_layout),
            "c": In(code_shape(self._c_fmt)),
            "c_identity": In(1),
            "sum": Out(RawFloatLayout(exp_min, exp_max, self._width)),
        })

    def elaborate(self, platform):
        m = Module()
        p, out = self.p, self.sum
        m.submodules.unpack_c = uc = decoder(self._c_fmt)
        m.d.comb += uc.code.eq(self.c)
        c = uc.raw
        slot = self._width - 1                      # X's bits: T_x down to T_x - M
        c_zero = c.is_zero | self.c_identity
        c_sig = Mux(self.c_identity, 0, c.sig)
        p_slot = Cat(Const(0, slot - len(p.sig)), p.sig)
        c_slot = Cat(Const(0, slot - len(c.sig)), c_sig)
        # one subtractor orders the operands and (negated) gives the other distance
        diff = Signal(signed(max(len(c.exp), len(p.exp)) + 1), name="exp_diff")
        m.d.comb += diff.eq(c.exp - p.exp)
        c_first = Signal(name="c_first")            # c goes to the top of the window
        m.d.comb += c_first.eq((~c_zero & ~diff[-1]) | p.is_zero)
        x_slot, y_slot = Signal(slot, name="x_slot"), Signal(slot, name="y_slot")
        x_exp = Signal(out.exp.shape(), name="x_exp")
        distance = Signal(range(slot + 1), name="distance")
        x_sign = Signal(name="x_sign")
        m.d.comb += [
            x_slot.eq(Mux(c_first, c_slot, p_slot)),
            y_slot.eq(Mux(c_first, p_slot, c_slot)),
            x_exp.eq(Mux(c_first, c.exp, p.exp)),
            x_sign.eq(Mux(c_first, c.sign, p.sign)),
        ]
        # shifting by `slot` drops all of Y; a negative distance only arises when Y is a zero
        # (then any amount will do), so the distance saturates at both ends
        gap = Mux(c_first, diff, -diff)
        m.d.comb += distance.eq(Mux(gap > slot, slot, Mux(gap < 0, 0, gap)))
        subtract = Signal(name="subtract")
        m.d.comb += subtract.eq(p.sign ^ c.sign)
        # what the add and the result flags need crosses the "swapped" and "aligned" cuts
        rdn = int(self._rounding is Rounding.RDN)
        c_nan, c_inf = c.is_nan & ~self.c_identity, c.is_inf & ~self.c_identity
        inf = p.is_inf | c_inf
        nan = p.is_nan | c_nan | (p.is_inf & c_inf & subtract)
        inf_sign = Mux(p.is_inf, p.sign, c.sign)
        zero_sign = Mux(subtract & ~self.c_identity, rdn, p.sign)
        flags = (subtract, x_exp, x_sign, inf, nan, inf_sign, zero_sign)
        x_slot, y_slot, distance, *flags = self._plan.cut(m, "swapped", x_slot, y_slot,
                                                          distance, *flags)
        m.submodules.align = shr = ShiftRightSticky(slot, slot)
        m.d.comb += [shr.i.eq(y_slot), shr.amount.eq(distance)]
        x_slot, y_aligned, sticky, *flags = self._plan.cut(m, "aligned", x_slot, shr.o,
                                                           shr.sticky, *flags)
        subtract, x_exp, x_sign, inf, nan, inf_sign, zero_sign = flags
        # X + Y, or X - Y - sticky = X + ~Y + 1 - sticky; bit `slot` of the result is the carry
        # (addition) or "no borrow" (subtraction)
        total = Signal(slot + 1, name="total")
        m.d.comb += total.eq(x_slot + Mux(subtract, ~y_aligned, y_aligned) + (subtract & ~sticky))
        negative = Signal(name="negative")
        m.d.comb += negative.eq(subtract & ~total[slot])
        # the "added" cut: the add's carry chain and the magnitude's (an increment when the
        # difference is negative) would otherwise sit in series in one cycle
        total, negative, sticky, *flags = self._plan.cut(m, "added", total, negative, sticky,
                                                         *flags)
        subtract, x_exp, x_sign, inf, nan, inf_sign, zero_sign = flags
        low = total[:slot]
        # |D| = -D = ~D + 1 when exact; with a sticky the magnitude is ~D (+ sticky): see above
        magnitude = Signal(slot + 1, name="magnitude")
        m.d.comb += magnitude.eq(Mux(subtract, Mux(negative, ~low + ~sticky, low)[:slot], total))

        exact_zero = Signal(name="exact_zero")
        m.d.comb += exact_zero.eq((magnitude == 0) & ~sticky)
        m.d.comb += [
            out.sig.eq(magnitude),
            out.exp.eq(x_exp + 1),
            out.sticky.eq(sticky),
            out.is_zero.eq(exact_zero),
            out.is_inf.eq(inf),
            out.is_nan.eq(nan),
            out.sign.eq(Mux(inf, inf_sign, Mux(exact_zero, zero_sign, x_sign ^ negative))),
        ]
        return m


def fused_add(m, plan, p, c, c_identity, rnd, acc, rounding: Rounding, saturate: bool,
              rnd_bits: int, *, prefix: str = "", c_fmt=None):
    """Build round(p + c) into ``acc`` in module ``m``: AlignAdd (``"swapped"``, ``"aligned"``
    and ``"added"`` cuts inside), a ``"sum"`` cut, the rounder (a ``"normalised"`` cut inside).

    The one fused-add datapath of the project: FFma pipelines it (``plan`` with cuts at
    ``"sum"`` and ``"normalised"``), FMac runs it as its accumulate loop: one cycle
    (:data:`~hw._pipeline.COMBINATIONAL`) or a C-slow ring with cuts among ``"swapped"``,
    ``"aligned"``, ``"added"``, ``"sum"``, ``"normalised"``; FAdd runs it on a decoded operand (``c`` of
    ``c_fmt``). Returns the code.
    """
    align = AlignAdd(p.shape(), acc, rounding, round_bits_for(rounding, rnd_bits), plan, c_fmt)
    m.submodules[prefix + "align_add"] = align
    m.d.comb += [align.p.eq(p), align.c.eq(c), align.c_identity.eq(c_identity)]
    rnd = plan.cut(m, "swapped", rnd)
    rnd = plan.cut(m, "aligned", rnd)
    rnd = plan.cut(m, "added", rnd)
    total, rnd = plan.cut(m, "sum", align.sum, rnd)
    code, _ = round_pack(m, plan, total, rnd, acc, rounding, saturate, rnd_bits, prefix=prefix)
    return code
