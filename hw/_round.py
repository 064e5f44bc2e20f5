"""Round/pack into a minifloat, and the rounding pieces every packer shares."""
from amaranth.hdl import Module, Cat, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from macforge.golden import Rounding

from ._raw import RawFloatLayout
from ._unit import quiet_on_error

__all__ = ["Round", "round_bits_for", "increment", "overflow_to_max"]


def increment(rounding: Rounding, sign, lsb, guard, rest, rem, rnd_bits, rnd):
    """The rounding increment: rne ``guard & (rest | lsb)``, rna ``guard``, rtz 0, rup
    ``inexact & ~sign``, rdn ``inexact & sign``, sr the carry out of ``t + rnd`` where ``t``
    is the top R bits of ``rem`` (``t + rnd >= 2^R``, docs/formats.md). Shared by every packer."""
    if rounding is Rounding.RNE:
        return guard & (rest | lsb)
    if rounding is Rounding.RNA:
        return guard
    if rounding is Rounding.RTZ:
        return 0
    if rounding is Rounding.RUP:
        return (guard | rest) & ~sign
    if rounding is Rounding.RDN:
        return (guard | rest) & sign
    t = rem[-rnd_bits:]                               # floor(frac * 2^R): the top R bits
    return (t + rnd)[rnd_bits]                        # carry out <=> t + rnd >= 2^R


def overflow_to_max(rounding: Rounding, saturate: bool, sign):
    """Whether an overflow clamps to +-max (else it goes to inf/NaN): always when
    ``saturate``, else when the mode rounds toward zero for this sign."""
    if saturate:
        return 1
    return {Rounding.RTZ: 1, Rounding.RUP: sign, Rounding.RDN: ~sign}.get(rounding, 0)


def round_bits_for(rounding: Rounding, rnd_bits: int) -> int:
    """Exact bits a rounding mode needs below the last kept bit.

    Stochastic rounding compares the R bits under the rounding point with ``rnd``; every
    other mode needs only the guard bit (the rest is summarised by the sticky).
    """
    return rnd_bits if rounding is Rounding.SR else 1


class Round(wiring.Component):
    """Round a normalised raw value (:class:`~hw._normalise.Normalise` output) into a code.

    With ``q`` the top ``p`` bits of ``sig`` and ``rem`` the bits below, the increment is
    :func:`increment`'s (guard = top bit of ``rem``, lsb = ``q``'s last bit). Packing adds
    the rounded significand into the exponent field (HardFloat's trick): biased exponent
    ``(exp - emin) + q_up[M:]``, so a subnormal that rounds up to ``2^emin`` and a carry out of
    the top bit both land in the right binade without a special case.

    Then, in priority order: NaN -> ``fmt.nan_code`` (+max in a format without NaN: only a
    cast reaches it, the arithmetic units refuse NaN-capable operands there); inf -> +-inf, or
    +-max when ``saturate`` (NaN where the format has no inf); overflow (magnitude code above
    ``fmt.max_code``) -> +-max when ``saturate`` or the mode rounds toward zero for this sign
    (rtz; rup for negatives; rdn for positives), else +-inf, NaN, or +-max where the format has
    neither; a zero magnitude drops its sign in formats without -0 (fnuz).

    Parameters
    ----------
    fmt : Minifloat
        Output format (signed, with subnormals).
    in_layout : RawFloatLayout
        From :func:`~hw._normalise.normalised_layout`.
    rounding : Rounding
    saturate : bool
    rnd_bits : int
        R, the width of ``rnd`` (stochastic rounding only).
    """

    @quiet_on_error              # a refused configuration is not an "unused elaboratable"
    def __init__(self, fmt, in_layout: RawFloatLayout, rounding: Rounding, saturate: bool,
                 rnd_bits: int):
        round_bits = round_bits_for(rounding, rnd_bits)
        grid = self.grid(fmt)
        if in_layout.sig_width < grid.precision + round_bits or in_layout.exp_min < grid.emin:
            raise ValueError(f"{in_layout!r} is not normalised for {fmt.name} "
                             f"with {round_bits} rounding bits")
        self._fmt = fmt
        self._in_layout = in_layout
        self._rounding = rounding
        self._saturate = saturate
        self._rnd_bits = rnd_bits
        members = {"norm": In(in_layout), "code": Out(self.code_shape(fmt))}
        if rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        super().__init__(members)

    @staticmethod
    def grid(fmt):
        """What :class:`~hw._normalise.Normalise` targets for this packer: ``emin`` and
        ``precision`` (a minifloat is its own grid)."""
        return fmt

    @staticmethod
    def code_shape(fmt):
        return fmt.layout()

    def elaborate(self, platform):
        m = Module()
        fmt, norm, y = self._fmt, self.norm, self.code
        lay = self._in_layout
        M, p = fmt.man_bits, fmt.precision
        width = lay.sig_width
        q, rem = norm.sig[width - p:], norm.sig[:width - p]
        guard, rest = rem[-1], rem[:-1].any() | norm.sticky
        up = increment(self._rounding, norm.sign, q[0], guard, rest, rem, self._rnd_bits,
                       self.rnd if self._rounding is Rounding.SR else None)
        q_up = Signal(p + 1, name="q_up")                      # a carry may reach bit p
        m.d.comb += q_up.eq(q + up)
        # the largest magnitude this input range can produce: top exponent plus a carry
        reachable = ((lay.exp_max - fmt.emin) << M) + (1 << p)
        magnitude = Signal(range(reachable + 1), name="magnitude")
        # the carry trick: q_up's bits from M up (0, 1 or 2) add into the biased exponent
        exp_field = Signal(range((reachable >> M) + 1), name="exp_field")
        m.d.comb += exp_field.eq((norm.exp - fmt.emin) + q_up[M:])   # >= 0: exp >= emin
        m.d.comb += magnitude.eq(Cat(q_up[:M], exp_field))
        overflow = magnitude > fmt.max_code if reachable > fmt.max_code else 0
        is_zero = magnitude == 0
        sign = norm.sign & ~is_zero if not fmt.has_negative_zero else norm.sign

        m.d.comb += [y.mantissa.eq(q_up[:M]), y.exponent.eq(exp_field), y.sign.eq(sign)]

        def signed_code(magnitude_code):
            fields = data.Const(fmt.layout(), magnitude_code)
            m.d.comb += [y.exponent.eq(fields.exponent), y.mantissa.eq(fields.mantissa),
                         y.sign.eq(norm.sign)]

        def finite_max():
            signed_code(fmt.max_code)

        def overflow_code():
            # rne/rna/sr overflow (and exact infinities): inf, else NaN, else clamp (MX)
            if fmt.has_inf:
                signed_code(fmt.inf_code)
            elif fmt.has_nan:
                m.d.comb += y.eq(fmt.nan_code)
            else:
                finite_max()

        with m.If(norm.is_nan):
            if fmt.has_nan:
                m.d.comb += y.eq(fmt.nan_code)
            else:                               # FP6/FP4: a cast's NaN is +max (golden.convert)
                m.d.comb += y.eq(fmt.max_code)
        with m.Elif(norm.is_inf):
            if self._saturate:
                finite_max()
            else:
                overflow_code()
        with m.Elif(overflow):
            with m.If(overflow_to_max(self._rounding, self._saturate, norm.sign)):
                finite_max()
            with m.Else():
                overflow_code()
        return m
