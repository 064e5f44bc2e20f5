"""Posit units: a multiplier (one rounding on the encoding) and a MAC with an exact quire.

Both take any ``posit(n, es)`` (``golden.Posit``) and share the regime decoder and encoder of
:mod:`hw._posit`. Rounding is the standard's (to nearest, ties to even on the encoding, never
to 0 or NaR).
"""
from amaranth.hdl import Module, Cat, Const, Mux, Signal
from amaranth.lib.wiring import In, Out

from macforge.golden import FormatError, Posit, Rounding, parse

from ._lzc import LeadingZeroCounter
from ._multiplier import StarMultiplier
from ._pipeline import PipelinePlan
from ._posit import PositDecode, PositEncode, frac_bits
from ._unit import Unit, check_multiplier, check_stages, quiet_on_error

__all__ = ["PMul", "PMac"]


def _as_posit(value, what: str) -> Posit:
    fmt = parse(value)
    if not isinstance(fmt, Posit):
        raise FormatError(f"{what} must be a posit format (posit<N>, posit<N>es<K>), not {fmt.name}")
    return fmt


def _check_rounding(rounding) -> Rounding:
    rounding = Rounding.parse(rounding)
    if rounding is not Rounding.RNE:
        raise FormatError(f"posit units round as the standard does (rne), not {rounding.value}")
    return rounding


class _Product:
    """Decode two posits and multiply their significands: (sign, zero, nar, scale, sig)."""

    def __init__(self, m, fmt, a, b, multiplier):
        m.submodules.decode_a = da = PositDecode(fmt)
        m.submodules.decode_b = db = PositDecode(fmt)
        m.d.comb += [da.code.eq(a), db.code.eq(b)]
        m.submodules.mul = mul = multiplier(len(da.sig), len(db.sig))
        m.d.comb += [mul.a.eq(da.sig), mul.b.eq(db.sig)]
        self.sign = da.sign ^ db.sign
        self.is_nar = da.is_nar | db.is_nar
        self.is_zero = da.is_zero | db.is_zero
        self.scale_sum = da.scale + db.scale            # weight of the product's bit 2F
        self.sig = mul.p                                # 2F + 2 bits, value in [1, 4)
        self.F = frac_bits(fmt)


class PMul(Unit):
    """Posit multiplier: ``y = round(a * b)`` (``golden.mul`` on posits), one rounding.

    The exact significand product (``2F + 2`` bits, F = n - 3 - es) is normalised by its top
    bit and handed to the shared encoder with the scale ``sa + sb (+ 1)``.

    Parameters
    ----------
    fmt : format or name
        A posit format.
    stages : int
        Pipeline registers: after decode+multiply, then at the output.
    multiplier : Multiplier subclass

    Examples
    --------
    >>> PMul(fmt="posit8").module_name
    'pmul_posit8_posit8_rne_s0'
    """
    _kind = "pmul"
    _model = "mul"
    _prefix = "pmul"

    @quiet_on_error
    def __init__(self, fmt="posit8", *, rounding=Rounding.RNE, stages=0,
                 multiplier=StarMultiplier):
        f = _as_posit(fmt, "fmt")
        self._configure(formats={"a": f, "b": f, "out": f}, rounding=_check_rounding(rounding),
                        saturate=False, stages=check_stages(stages), rnd_bits=None, fused=None,
                        latency=stages, clocked=stages > 0,
                        multiplier=check_multiplier(multiplier))
        super().__init__({"a": In(f.n), "b": In(f.n), "y": Out(f.n)})

    def elaborate(self, platform):
        m = Module()
        f = self._formats["a"]
        plan = PipelinePlan(self._stages, ("product",))
        p = _Product(m, f, self.a, self.b, self._multiplier)
        F, top = p.F, f.max_scale
        sign, nar, zero, scale_sum, sig = plan.cut(
            m, "product", p.sign, p.is_nar, p.is_zero, p.scale_sum, p.sig)
        hi = sig[2 * F + 1]
        m.submodules.encode = enc = PositEncode(f, (-2 * top, 2 * top + 1), 2 * F + 1)
        m.d.comb += [
            enc.sign.eq(sign), enc.is_nar.eq(nar), enc.is_zero.eq(zero), enc.sticky.eq(0),
            enc.scale.eq(scale_sum + hi),
            enc.frac.eq(Mux(hi, sig[:2 * F + 1], Cat(Const(0, 1), sig[:2 * F]))),
        ]
        m.d.comb += self.y.eq(plan.output(m, enc.code))
        return m


class PMac(Unit):
    """Posit MAC with a quire: ``quire <- quire + a * b`` exactly, ``acc = round(quire)``.

    The quire is ``Q = n * 2^(es+2)`` bits of two's complement in units of minpos^2
    (``golden.quire_step``): every product is placed exactly (a left shift by
    ``sa + sb - 2F + 2 * max_scale``) and added modulo 2^Q. The pattern 10...0 is NaR: a NaR
    operand sets it, and it stays until ``clear`` (or a ``first`` step, which adds to a
    cleared quire). ``acc`` is the quire rounded once into the posit format
    (``golden.quire_read``), read combinationally from the quire register: a command at
    cycle t shows at t + ``latency`` = ``stages + 1``.

    Parameters
    ----------
    fmt : format or name
        A posit format (operands and read-out).
    stages : int
        Product-path registers (after decode+multiply, then at its end).
    multiplier : Multiplier subclass

    Attributes
    ----------
    a, b : in, n bits
    en, first, clear : in, 1 bit each
    acc : out, n bits: the rounded quire

    Examples
    --------
    >>> PMac(fmt="posit8").module_name
    'pmac_posit8_posit8_rne_s0'
    """
    _kind = "pmac"
    _model = "quire_mac"
    _state = "replayed"
    _prefix = "pmac"

    @quiet_on_error
    def __init__(self, fmt="posit8", *, rounding=Rounding.RNE, stages=0,
                 multiplier=StarMultiplier):
        f = _as_posit(fmt, "fmt")
        self._configure(formats={"a": f, "b": f, "acc": f}, rounding=_check_rounding(rounding),
                        saturate=False, stages=check_stages(stages), rnd_bits=None, fused=True,
                        latency=stages + 1, clocked=True, multiplier=check_multiplier(multiplier))
        super().__init__({"a": In(f.n), "b": In(f.n), "en": In(1), "first": In(1),
                          "clear": In(1), "acc": Out(f.n)})

    def _manifest_extra(self):
        return {"quire_bits": self._formats["a"].quire_bits}

    def elaborate(self, platform):
        m = Module()
        f = self._formats["a"]
        Q, qfb, top = f.quire_bits, f.quire_frac_bits, f.max_scale
        plan = PipelinePlan(self._stages, ("product",))
        p = _Product(m, f, self.a, self.b, self._multiplier)
        F = p.F
        values = plan.cut(m, "product", p.sign, p.is_nar, p.is_zero, p.scale_sum, p.sig)
        control = plan.cut(m, "product", self.en, self.first, self.clear, reset_less=False)
        sign, nar, zero, scale_sum, sig = plan.output(m, *values)
        en, first, clear = plan.output(m, *control, reset_less=False)

        # -- place the product: its LSB weighs 2^(scale_sum - 2F), the quire's LSB 2^-qfb.
        # At the smallest scales the product's low bits are zeros (short fractions), so the
        # shift is taken 2F higher and those 2F bits dropped: amount 0 .. 4 * max_scale.
        amount = Signal(range(4 * top + 1), name="place")
        m.d.comb += amount.eq(scale_sum + qfb)
        placed = Signal(Q + 2 * F, name="placed")
        m.d.comb += placed.eq(Mux(zero, 0, sig << amount))
        term = Signal(Q, name="term")
        m.d.comb += term.eq(Mux(sign, -placed[2 * F:], placed[2 * F:]))

        quire = Signal(Q, name="quire")
        nar_pattern = 1 << (Q - 1)
        base = Mux(first, 0, quire)
        with m.If(clear):
            m.d.sync += quire.eq(0)
        with m.Elif(en):
            with m.If(nar | (base == nar_pattern)):
                m.d.sync += quire.eq(nar_pattern)
            with m.Else():
                m.d.sync += quire.eq(base + term)

        # -- read-out: magnitude, leading-one position, one rounding by the encoder
        neg = quire[Q - 1]
        magnitude = Signal(Q, name="magnitude")
        m.d.comb += magnitude.eq(Mux(neg, -quire, quire))
        m.submodules.lzc = lzc = LeadingZeroCounter(Q)
        m.d.comb += lzc.i.eq(magnitude)
        normalised = Signal(Q, name="normalised")
        m.d.comb += normalised.eq(magnitude << lzc.count)
        W = min(Q - 1, f.n + 1)                       # more than any code keeps, + guard
        m.submodules.encode = enc = PositEncode(f, (-qfb - 1, Q - 1 - qfb), W)   # -qfb - 1: zero
        m.d.comb += [
            enc.sign.eq(neg),
            enc.is_nar.eq(quire == nar_pattern),
            enc.is_zero.eq(quire == 0),
            enc.scale.eq((Q - 1 - qfb) - lzc.count),
            enc.frac.eq(normalised[Q - 1 - W:Q - 1]),
            enc.sticky.eq(normalised[:Q - 1 - W].any()),
            self.acc.eq(enc.code),
        ]
        return m
