"""HiFloat8 in hardware: the dot-code decoder (unpack) and the tapered rounder/packer.

``golden.HiF8`` defines the format (``dot_classes``: the prefix code ``11, 10, 01, 001, 0001``
selecting a D-bit sign-magnitude exponent field, ``0000`` the denormals). Both halves here are
generated from that table, so they hold no format constants of their own:

* :class:`HiF8Decode` is the unpacker :class:`~hw._unpack.Unpack` delegates to: one ``casez``
  arm per dot class (the prefix code decoded as Verilog decodes prefix codes) produces the
  shared raw record. Every nonzero code has a leading one (denormals are the powers of two
  2^-22 .. 2^-16), so the record is always normalised and the product path and fused adder
  take hif8 operands unchanged.
* :class:`HiF8Round` packs a normalised raw value: the rounding position depends on the
  result's binade (3, 2, 1 or 0 mantissa bits), so a second, small right shift by
  ``3 - man_bits(E)`` (0..3, with sticky) brings the binade's grid to a fixed place; then the
  shared increment (:func:`~hw._round.increment`, every mode), a carry into the next binade
  (always a representable power of two), and the dot-class encoder. It is what
  :func:`~hw._round.round_pack` builds for an hif8 output, behind the shared
  :class:`~hw._normalise.Normalise`.
"""
from amaranth.hdl import Module, Cat, Const, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for

from macforge.golden import HiF8, Rounding

from ._family import HwFamily
from ._normalise import Grid
from ._raw import RawFloatLayout
from ._round import Round, increment, overflow_to_max
from ._shift import ShiftRightSticky

__all__ = ["HiF8Decode", "HiF8Round", "hif8_raw_layout", "hif8_grid", "HW"]


def hif8_raw_layout(fmt: HiF8) -> RawFloatLayout:
    """Raw record of an unpacked hif8 code: 1.MMM (4 bits), exponent 2^-22 .. 2^15."""
    return RawFloatLayout(fmt.min_subnormal_exp, fmt.emax, fmt.exact_sig_bits)


def hif8_grid(fmt: HiF8) -> Grid:
    """Normalising target of hif8: below 2^-22 the grid is the multiples of 2^-22 (0 or the
    smallest denormal), so values there are shifted right to exponent -22 with a sticky."""
    return Grid(fmt.min_subnormal_exp, fmt.exact_sig_bits)


def _normal_classes(fmt: HiF8):
    """Normal dot classes by ascending exponent range (D = 0, 1, 2, 3, 4)."""
    return sorted((d for d in fmt.dot_classes if d.exp_bits is not None),
                  key=lambda d: d.exp_range)


def _denormal_class(fmt: HiF8):
    return next(d for d in fmt.dot_classes if d.exp_bits is None)


def _frac_width(fmt: HiF8) -> int:
    return fmt.exact_sig_bits - 1                 # 3: the widest mantissa


class HiF8Decode(wiring.Component):
    """Decode an hif8 code into the shared raw record (exact; ``sticky`` 0).

    The 7 magnitude bits go through one ``casez`` with an arm per dot class: a normal class
    ``prefix | s e.. | m..`` gives ``E = +-(1 e..)`` (the implicit leading magnitude one) and
    ``sig = 1.m..`` padded below to 4 bits; the denormal class ``0000 M`` gives ``sig = 1.000``
    at ``E = M - 23``. Flags: ``is_nan`` for 0x80 (it also looks like a zero), ``is_inf`` for
    the +-inf magnitude 0x6F, ``is_zero`` for a zero magnitude.

    Attributes
    ----------
    code : in, 8 bits
    raw : out, :func:`hif8_raw_layout`
    """

    def __init__(self, fmt: HiF8, *, normalise: bool = False):
        # every nonzero code has a leading one: the record is normalised either way
        self._fmt = fmt
        super().__init__({"code": In(fmt.bits), "raw": Out(hif8_raw_layout(fmt))})

    def elaborate(self, platform):
        m = Module()
        fmt, raw = self._fmt, self.raw
        F = _frac_width(fmt)
        width = fmt.bits - 1
        mag = self.code[:width]
        # the case arms drive plain signals (not the record), so the record stays a set of
        # continuous assignments in the Verilog, as Unpack's other families give it
        sig = Signal(len(raw.sig), name="sig")
        exp = Signal(raw.exp.shape(), name="exp")
        with m.Switch(mag):
            for d in fmt.dot_classes:
                rest = mag[:width - len(d.prefix)]
                with m.Case(d.prefix + "-" * len(rest)):
                    if d.exp_bits is None:
                        # 2^(M - 23), no fraction bits: a lone leading one; M = 0 is zero
                        # (kept at the smallest exponent, inside the record's range)
                        zero = rest == 0
                        m.d.comb += [sig.eq(Mux(zero, 0, 1 << F)),
                                     exp.eq(Mux(zero, fmt.min_subnormal_exp,
                                                rest - fmt.denormal_bias))]
                        continue
                    M, D = d.man_bits, d.exp_bits
                    m.d.comb += sig.eq(Cat(Const(0, F - M), rest[:M], Const(1, 1)))
                    if D:
                        field = rest[M:]
                        magnitude = Cat(field[:D - 1], Const(1, 1))
                        m.d.comb += exp.eq(Mux(field[D - 1], -magnitude, magnitude))
                    else:
                        m.d.comb += exp.eq(0)
        m.d.comb += [
            raw.sig.eq(sig),
            raw.exp.eq(exp),
            raw.sign.eq(self.code[width]),
            raw.sticky.eq(0),
            raw.is_zero.eq(mag == 0),
            raw.is_inf.eq(mag == fmt.inf_code),
            raw.is_nan.eq(self.code == fmt.nan_code),
        ]
        return m


class HiF8Round(Round):
    """Round a normalised raw value into an hif8 code, at the precision of its binade.

    Input contract (:class:`~hw._normalise.Normalise` with :func:`hif8_grid`): ``sig`` has its
    top bit at ``exp >= -22`` or ``exp == -22`` and the value lies below 2^-22; at least
    ``round_bits`` exact bits follow the top four. With ``man(E)`` the mantissa bits of the
    binade (0 for the denormal binades), ``sig`` is shifted right by ``3 - man(E)`` with a
    sticky, so the binade's grid point is the last of the top four bits ``q`` in every binade.
    The increment is the shared one; its tie-breaking ``lsb`` is the *code's* last bit
    (golden's "ties to the even code"): ``q``'s last bit in a normal binade, the parity of the
    ``M`` field (``E + 23``) in a denormal one.

    ``q + up`` shifted back by the same amount is ``1.fff`` in the binade, or ``10.000`` (a
    carry: the power of two 2^(E+1), representable in every class). Then, in priority order:
    NaN -> 0x80; inf -> +-inf (+-max when ``saturate``); a magnitude above 2^15 (E > 15, or the
    1.5 * 2^15 slot that holds inf) -> +-inf, or +-max when ``saturate`` or the mode rounds
    toward zero for the sign; zero -> 0x00 (no -0); else the dot class of E packs
    ``sign | prefix | exponent sign | |E| without its leading one | mantissa``.

    Parameters
    ----------
    fmt : HiF8
    in_layout : RawFloatLayout
        Normalised as above.
    rounding : Rounding
    saturate : bool
    rnd_bits : int

    Attributes
    ----------
    norm : in, ``in_layout``
    rnd : in, R bits (stochastic rounding only)
    code : out, 8 bits
    """

    grid = staticmethod(hif8_grid)

    @staticmethod
    def code_shape(fmt):
        return fmt.bits

    def elaborate(self, platform):
        m = Module()
        fmt, norm, lay = self._fmt, self.norm, self._in_layout
        F = _frac_width(fmt)
        P = F + 1
        width = lay.sig_width
        normals, denormal = _normal_classes(fmt), _denormal_class(fmt)
        lo_E, hi_E = lay.exp_min, lay.exp_max + 1                 # + 1: a rounding carry

        def abs_of(e, name):
            a = Signal(range(max(-lo_E, hi_E) + 1), name=name)
            m.d.comb += a.eq(Mux(e < 0, -e, e))
            return a

        # -- the binade's grid: shift right by 3 - man(E) --------------------------------
        E = norm.exp
        abs_E = abs_of(E, "abs_exp")
        shift = Signal(range(F + 1), name="grid_shift")
        with m.If(E <= fmt.max_subnormal_exp):
            m.d.comb += shift.eq(F - denormal.man_bits)
        for d in normals:
            with m.Elif(abs_E <= d.exp_range[1]):
                m.d.comb += shift.eq(F - d.man_bits)
        with m.Else():                                     # above 2^15: overflows anyway
            m.d.comb += shift.eq(F - normals[-1].man_bits)
        m.submodules.grid = shr = ShiftRightSticky(width, F)
        m.d.comb += [shr.i.eq(norm.sig), shr.amount.eq(shift)]
        q, rem = shr.o[width - P:], shr.o[:width - P]
        guard, rest = rem[-1], rem[:-1].any() | norm.sticky | shr.sticky
        # the truncated value's code parity: a denormal's code is its M field, E + 23
        denormal_lsb = (E + fmt.denormal_bias)[0]
        lsb = Mux(E <= fmt.max_subnormal_exp, q[0] & denormal_lsb, q[0])
        up = increment(self._rounding, norm.sign, lsb, guard, rest, rem, self._rnd_bits,
                       self.rnd if self._rounding is Rounding.SR else None)
        q_up = Signal(P + 1, name="q_up")
        m.d.comb += q_up.eq(q + up)
        aligned = Signal(P + 1, name="aligned")                  # 1.fff, or 10.000 on a carry
        m.d.comb += aligned.eq(q_up << shift)
        carry = aligned[P]
        E_out = Signal(signed(max(bits_for(lo_E, True), bits_for(hi_E, True))), name="exp_out")
        frac = Signal(F, name="frac")
        m.d.comb += [E_out.eq(E + carry), frac.eq(Mux(carry, 0, aligned[:F]))]
        is_zero = aligned == 0

        # -- overflow: above max (2^15 x 1.000), i.e. E > 15 or the inf slot 1.1 x 2^15 ----
        _, max_E, max_sig, _ = (int(v[()]) for v in fmt.fields(fmt.max_code))
        max_man = normals[-1].man_bits
        max_frac = (max_sig - (1 << max_man)) << (F - max_man)
        overflow = (E_out > max_E) | ((E_out == max_E) & (frac > max_frac))

        # -- pack: the dot class of E_out ----------------------------------------------
        abs_out = abs_of(E_out, "abs_exp_out")
        body = Signal(fmt.bits - 1, name="body")
        prefix_at = lambda d: Const(int(d.prefix, 2), len(d.prefix))
        with m.If(E_out <= fmt.max_subnormal_exp):
            field = E_out + fmt.denormal_bias
            m.d.comb += body.eq(Cat(field[:fmt.bits - 1 - len(denormal.prefix)],
                                    prefix_at(denormal)))
        for d in normals:
            with m.Elif(abs_out <= d.exp_range[1]):
                M, D = d.man_bits, d.exp_bits
                exponent = Cat(abs_out[:D - 1], E_out < 0) if D else Const(0, 0)
                m.d.comb += body.eq(Cat(frac[F - M:], exponent, prefix_at(d)))

        sign = norm.sign
        with m.If(norm.is_nan):
            m.d.comb += self.code.eq(fmt.nan_code)
        with m.Elif(norm.is_inf):
            m.d.comb += self.code.eq(Cat(Const(fmt.max_code if self._saturate else fmt.inf_code,
                                               fmt.bits - 1), sign))
        with m.Elif(overflow):
            to_max = overflow_to_max(self._rounding, self._saturate, sign)
            m.d.comb += self.code.eq(Cat(Mux(to_max, fmt.max_code, fmt.inf_code)[:fmt.bits - 1],
                                         sign))
        with m.Elif(is_zero):
            m.d.comb += self.code.eq(0)
        with m.Else():
            m.d.comb += self.code.eq(Cat(body, sign))
        return m


HW = HwFamily(code_shape=lambda fmt: fmt.bits, raw_layout=lambda fmt, normalise=False:
              hif8_raw_layout(fmt), decoder=HiF8Decode, packer=HiF8Round)
