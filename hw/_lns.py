"""LNS units (``lns<N>f<F>``, as LNS-Madam): a multiplier that is an adder, the MAC with
the 2^F-entry table and a shifter into a linear fixed-point accumulator, and the LNS-domain
adder with the Gaussian-logarithm tables (``golden.lns_add``)."""
from amaranth.hdl import Module, Array, Cat, Const, Mux, Signal, signed
from amaranth.utils import bits_for
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from macforge.golden import (FormatError, Int, Lns, Rounding, lns_gauss_tables, lns_mac_table,
                             parse)

from ._family import HwFamily
from ._normalise import Grid
from ._pipeline import PipelinePlan
from ._round import Round
from ._unit import Unit, check_bool, check_stages, quiet_on_error

__all__ = ["LnsMul", "LnsMac", "LnsAdd", "LnsFields", "LnsRound", "HW"]


def _as_lns(value, what: str) -> Lns:
    fmt = parse(value)
    if not isinstance(fmt, Lns):
        raise FormatError(f"{what} must be an LNS format (lns<N>f<F>), not {fmt.name}")
    return fmt


def _check_rne(rounding, why="LNS products are exact sums of log fields"):
    if Rounding.parse(rounding) is not Rounding.RNE:
        raise FormatError(f"{why}; only rounding 'rne' applies")
    return Rounding.RNE


class _LnsBinary(Unit):
    """An LNS unit ``y = a op b`` in one LNS format, always saturating, rounding rne only
    (``_rne_why`` says why); its ports ``a``, ``b``, ``y``."""
    _rne_why = "LNS products are exact sums of log fields"

    @quiet_on_error
    def __init__(self, fmt="lns8", *, rounding=Rounding.RNE, stages=0):
        f = _as_lns(fmt, "fmt")
        self._configure(formats={"a": f, "b": f, "out": f},
                        rounding=_check_rne(rounding, self._rne_why), saturate=False,
                        stages=check_stages(stages), rnd_bits=None, fused=None, latency=stages,
                        clocked=stages > 0, multiplier=None)
        super().__init__({"a": In(f.n), "b": In(f.n), "y": Out(f.n)})


class LnsFields(wiring.Component):
    """Split an LNS code: ``sign``, ``L`` (signed, N - 1 bits), ``is_zero`` (L = L_min)."""

    def __init__(self, fmt: Lns):
        self._fmt = fmt
        super().__init__({"code": In(fmt.n), "sign": Out(1), "L": Out(signed(fmt.n - 1)),
                          "is_zero": Out(1)})

    def elaborate(self, platform):
        m = Module()
        n = self._fmt.n
        m.d.comb += [self.sign.eq(self.code[n - 1]), self.L.eq(self.code[:n - 1]),
                     self.is_zero.eq(self.code[:n - 1] == self._fmt.zero_code)]
        return m


def _product(m, fmt, a, b):
    """Sign, exact L sum (N bits) and zero flag of a * b."""
    m.submodules.fields_a = fa = LnsFields(fmt)
    m.submodules.fields_b = fb = LnsFields(fmt)
    m.d.comb += [fa.code.eq(a), fb.code.eq(b)]
    L = Signal(signed(fmt.n), name="L_sum")
    m.d.comb += L.eq(fa.L + fb.L)
    return fa.sign ^ fb.sign, L, fa.is_zero | fb.is_zero


class LnsMul(_LnsBinary):
    """LNS multiplier (``golden.mul`` on LNS): ``L = La + Lb``, sign ``sa ^ sb``; ``L > L_max``
    saturates to L_max, ``L < L_min + 1`` or a zero operand gives zero (sign ``sa ^ sb``).
    One N-bit adder and two comparators: no multiplier.

    Examples
    --------
    >>> LnsMul(fmt="lns8").module_name
    'lnsmul_lns8f3_lns8f3_rne_s0'
    """
    _kind = "lnsmul"
    _model = "mul"
    _prefix = "lnsmul"

    def elaborate(self, platform):
        m = Module()
        f = self._formats["a"]
        plan = PipelinePlan(self._stages, ("product",))
        sign, L, zero = plan.cut(m, "product", *_product(m, f, self.a, self.b))
        y = Signal(f.n, name="y_code")
        with m.If(zero | (L < f.L_min + 1)):
            m.d.comb += y.eq(Const(f.zero_code, f.n - 1))
        with m.Elif(L > f.L_max):
            m.d.comb += y.eq(Const(f.L_max, f.n - 1))
        with m.Else():
            m.d.comb += y.eq(L[:f.n - 1])
        m.d.comb += y[f.n - 1].eq(sign)
        m.d.comb += self.y.eq(plan.output(m, y))
        return m


class LnsMac(Unit):
    """LNS-Madam MAC (``golden.lns_mac_step``): ``acc <- acc + T[r] * 2^q`` per enabled step.

    The product's exact ``L = La + Lb = q * 2^F + r`` selects ``T[r] = rne(2^(r/2^F) * 2^P)``
    from a 2^F-entry constant table (``golden.lns_mac_table``); one shifter places it at
    ``2^q`` (bits below 2^-P truncated, i.e. toward zero on the magnitude), and the signed
    term is added into an ``A``-bit two's-complement accumulator in units of 2^-P that wraps,
    or with ``saturate`` clamps (a term beyond the range alone clamps as well). ``en``,
    ``first``, ``clear`` and the latency ``stages + 1`` are those of :class:`~hw.FMac`.

    Parameters
    ----------
    fmt : format or name
        An LNS format.
    P : int
        Table fraction bits (0..60).
    A : int
        Accumulator bits (2..32: the accumulator is shown as the ``int<A>`` format).
    saturate : bool
    stages : int

    Examples
    --------
    >>> LnsMac(fmt="lns8", P=8, A=24).module_name
    'lnsmac_lns8f3_int24_wrap_p8_s0'
    """
    _kind = "lnsmac"
    _model = "lns_mac_step"
    _state = "observed"
    _prefix = "lnsmac"

    @quiet_on_error
    def __init__(self, fmt="lns8", *, P=8, A=24, saturate=False, stages=0):
        f = _as_lns(fmt, "fmt")
        if not isinstance(P, int) or isinstance(P, bool) or not 0 <= P <= 60:
            raise TypeError(f"P must be an integer 0..60, not {P!r}")
        if not isinstance(A, int) or isinstance(A, bool) or not 2 <= A <= 32:
            raise TypeError(f"A must be an integer 2..32, not {A!r}")
        self._P, self._A = P, A
        acc = Int(A, True)
        self._configure(formats={"a": f, "b": f, "acc": acc}, rounding=None,
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=None, fused=None, latency=stages + 1, clocked=True,
                        multiplier=None)
        super().__init__({"a": In(f.n), "b": In(f.n), "en": In(1), "first": In(1),
                          "clear": In(1), "acc": Out(A)})

    def _name_tokens(self):
        return [f"p{self._P}"]

    def _manifest_extra(self):
        return {"P": self._P, "A": self._A,
                "table": [int(t) for t in lns_mac_table(self._formats["a"], self._P)]}

    def elaborate(self, platform):
        m = Module()
        f = self._formats["a"]
        P, A, F = self._P, self._A, f.frac
        plan = PipelinePlan(self._stages, ("product",))
        sign, L, zero = plan.cut(m, "product", *_product(m, f, self.a, self.b))
        control = plan.cut(m, "product", self.en, self.first, self.clear, reset_less=False)
        sign, L, zero = plan.output(m, sign, L, zero)
        en, first, clear = plan.output(m, *control, reset_less=False)

        # products of nonzero codes: L in 2 * (L_min + 1) .. 2 * L_max
        q_min, q_max = (2 * (f.L_min + 1)) >> F, (2 * f.L_max) >> F
        table = [int(t) for t in lns_mac_table(f, P)]
        T = Array(Const(t, P + 1) for t in table)[L[:F]] if F else Const(table[0], P + 1)
        q = L >> F
        # place T at 2^q: shift left by q - q_min, then drop the -q_min bits below 2^0
        # (truncation toward zero of the magnitude); the term is an integer in units of 2^-P
        low = max(-q_min, 0)
        span = q_max - min(q_min, 0)
        amount = Signal(range(span + 1), name="place")
        m.d.comb += amount.eq(q - min(q_min, 0))
        placed = Signal(P + 1 + span, name="placed")
        m.d.comb += placed.eq(T << amount)
        mag = Signal(max(len(placed) - low, 1), name="term_mag")
        m.d.comb += mag.eq(Mux(zero, 0, placed[low:]))

        acc = Signal(A, name="acc_reg")
        base = Mux(first, 0, acc)
        if not self._saturate:
            nxt = Signal(A, name="next")
            m.d.comb += nxt.eq(base + Mux(sign, -mag, mag))
        else:
            half = 1 << (A - 1)
            width = max(A, len(mag)) + 2
            total = Signal(signed(width), name="total")
            m.d.comb += total.eq(Mux(first, 0, acc.as_signed()) + Mux(sign, -mag, mag))
            big = mag >= (1 << A) if len(mag) > A else 0
            nxt = Signal(A, name="next")
            with m.If(big):
                m.d.comb += nxt.eq(Mux(sign, -half, half - 1))
            with m.Elif(total > half - 1):
                m.d.comb += nxt.eq(half - 1)
            with m.Elif(total < -half):
                m.d.comb += nxt.eq(-half)
            with m.Else():
                m.d.comb += nxt.eq(total)
        with m.If(clear):
            m.d.sync += acc.eq(0)
        with m.Elif(en):
            m.d.sync += acc.eq(nxt)
        m.d.comb += self.acc.eq(acc)
        return m


class LnsAdd(_LnsBinary):
    """LNS adder (``golden.lns_add``): the Gaussian-logarithm add, one table look-up.

    Order the operands so that ``L1 >= L2``, ``d = L1 - L2`` (clamped to the tables' last
    entry, which is 0 in both, as every larger ``d`` is); same signs add ``SB[d]``, opposite
    signs ``DB[d]`` to ``L1`` (constant tables from ``golden.lns_gauss_tables``, so the result
    is the nearest log code of the exact sum); the sign is the larger operand's, ``x + (-x)``
    is +0; then the LNS rules of :class:`LnsMul` (``L > L_max`` saturates, ``L < L_min + 1``
    is zero). A zero operand gives the other operand; two zeros give -0 only if both are -0.

    Parameters
    ----------
    fmt : format or name
        An LNS format.
    stages : int
        Pipeline registers: after the table look-up, then at the output.

    Examples
    --------
    >>> LnsAdd(fmt="lns8").module_name
    'lnsadd_lns8f3_lns8f3_rne_s0'
    """
    _kind = "lnsadd"
    _model = "lns_add"
    _prefix = "lnsadd"

    _rne_why = ("the LNS add gives the nearest log code of the sum (Gaussian-logarithm "
                "tables)")

    def elaborate(self, platform):
        m = Module()
        f = self._formats["a"]
        n = f.n
        plan = PipelinePlan(self._stages, ("looked_up",))
        m.submodules.fields_a = fa = LnsFields(f)
        m.submodules.fields_b = fb = LnsFields(f)
        m.d.comb += [fa.code.eq(self.a), fb.code.eq(self.b)]
        swap = fb.L > fa.L
        s1, s2 = Mux(swap, fb.sign, fa.sign), Mux(swap, fa.sign, fb.sign)
        L1 = Signal(signed(n - 1), name="L1")
        d = Signal(n - 1, name="d")                          # 0 .. L_max - L_min
        m.d.comb += [L1.eq(Mux(swap, fb.L, fa.L)),
                     d.eq(Mux(swap, fb.L - fa.L, fa.L - fb.L))]
        SB, DB = (t.tolist() for t in lns_gauss_tables(f))
        DB[0] = 0                          # log 0: x + (-x) is the +0 below, not a table entry
        # padded with zeros to a power of two (every entry from len(SB) on is 0 in both), so
        # the look-up is a full case; a larger d reads the last entry, also 0
        size = 1 << bits_for(len(SB) - 1)
        SB, DB = SB + [0] * (size - len(SB)), DB + [0] * (size - len(DB))
        index = Signal(range(size), name="index")
        m.d.comb += index.eq(Mux(d >= size, size - 1, d) if (1 << (n - 1)) > size else d)
        shape = signed(max(bits_for(min(DB), True), bits_for(max(SB), True)))
        same = s1 == s2
        delta = Signal(shape, name="delta")
        m.d.comb += delta.eq(Mux(same, Array(Const(v, shape) for v in SB)[index],
                                 Array(Const(v, shape) for v in DB)[index]))
        cancel = ~same & (d == 0)
        L = Signal(signed(max(n, shape.width) + 1), name="L")
        m.d.comb += L.eq(L1 + delta)
        L, sign, cancel, za, zb, sa, sb, a, b = plan.cut(
            m, "looked_up", L, s1, cancel, fa.is_zero, fb.is_zero, fa.sign, fb.sign, self.a,
            self.b)
        y = Signal(n, name="y_code")
        with m.If(za & zb):
            m.d.comb += y.eq(Cat(Const(f.zero_code, n - 1), sa & sb))
        with m.Elif(za):
            m.d.comb += y.eq(b)
        with m.Elif(zb):
            m.d.comb += y.eq(a)
        with m.Elif(cancel | (L < f.L_min + 1)):
            m.d.comb += y.eq(Cat(Const(f.zero_code, n - 1), sign & ~cancel))
        with m.Elif(L > f.L_max):
            m.d.comb += y.eq(Cat(Const(f.L_max, n - 1), sign))
        with m.Else():
            m.d.comb += y.eq(Cat(L[:n - 1], sign))
        m.d.comb += self.y.eq(plan.output(m, y))
        return m


#: Fraction bits of the significand a cast into LNS compares: Normalise keeps
#: ``_CAST_PRECISION`` + 1 (guard) bits, so every source significand of up to 64 bits (every
#: code of at most 64 bits) reaches the packer exactly, without sticky.
_CAST_PRECISION = 63


def _count_below(m, S, floors):
    """``#{j : S > floors[j]}`` of ascending constants, as a binary search (F compare steps,
    each against the constant its higher result bits select) rather than 2^F comparators."""
    F = (len(floors) - 1).bit_length()
    c = Signal(range(len(floors) + 1), name="log_frac")
    top = S > floors[-1]                                  # c = 2^F: S above every boundary
    bits = []
    for b in reversed(range(F)):                          # bit b of c (when not top)
        table = Array(Const(floors[(i << (b + 1) | (1 << b)) - 1], len(S))
                      for i in range(1 << (F - 1 - b)))
        hi = Cat(*reversed(bits)) if bits else None
        bit = Signal(name=f"log_frac_{b}")
        m.d.comb += bit.eq(S > table[hi] if bits else S > floors[(1 << b) - 1])
        bits.append(bit)
    m.d.comb += c.eq(Mux(top, len(floors), Cat(*reversed(bits)) if bits else 0))
    return c


class LnsRound(Round):
    """Round a normalised raw value into an LNS code: the packer of casts (``golden.convert``
    into LNS, :meth:`~golden.Lns.round_triple`).

    After :class:`~hw._normalise.Normalise` the value is ``y * 2^exp``, ``y = sig / 2^W`` in
    [1, 2) with all of the source's bits (``W = 63`` fraction bits, :data:`_CAST_PRECISION`).
    The log code's fraction ``c`` counts the boundaries ``B_j = 2^((2j+1)/2^(F+1))`` at or
    below ``y``: ``y >= B_j`` iff ``sig > floor(B_j * 2^W)`` (B_j irrational), found by a
    binary search over those ascending constants (``Lns.boundary_floors``): F + 1 comparators,
    each against the constant the result bits above it select; ``L = exp * 2^F + c``. Then
    ``L > L_max`` saturates to +-max, ``L < L_min + 1`` (or a value below the grid's
    ``emin = L_min / 2^F``, whose top bit Normalise leaves clear) is the zero of its sign,
    +-inf gives +-max and NaN +max (LNS has no NaN). Rounding rne or rna only; overflow always
    saturates.
    """
    @staticmethod
    def grid(fmt):
        return Grid(emin=fmt.L_min >> fmt.frac, precision=_CAST_PRECISION)

    code_shape = staticmethod(lambda fmt: fmt.n)

    @staticmethod
    def check_cast(fmt, source_layout, rounding):
        """Refuse what the packer cannot round exactly: modes other than rne/rna, and a source
        significand wider than the ``_CAST_PRECISION + 1`` bits that reach it exactly."""
        fmt.check_nearest(rounding)
        if source_layout.sig_width > _CAST_PRECISION + 1:
            raise FormatError(f"a cast into {fmt.name} takes source significands of at most "
                              f"{_CAST_PRECISION + 1} bits, not {source_layout.sig_width}")

    def elaborate(self, platform):
        m = Module()
        f, norm, lay = self._fmt, self.norm, self._in_layout
        n, F, width = f.n, f.frac, lay.sig_width
        S = norm.sig[width - _CAST_PRECISION - 1:]          # y * 2^W, exact (sticky 0)
        floors = [int(d) for d in f.boundary_floors(_CAST_PRECISION)]
        c = _count_below(m, S, floors)
        span = max(abs(lay.exp_min), abs(lay.exp_max)) + 1
        L = Signal(signed(bits_for(span) + F + 2), name="L")
        m.d.comb += L.eq((norm.exp << F) + c)
        zero = ~S[-1] | (L < f.L_min + 1)
        with m.If(norm.is_nan):
            m.d.comb += self.code.eq(Const(f.L_max, n))
        with m.Elif(norm.is_inf | (L > f.L_max)):
            m.d.comb += self.code.eq(Cat(Const(f.L_max, n - 1), norm.sign))
        with m.Elif(zero):
            m.d.comb += self.code.eq(Cat(Const(f.zero_code, n - 1), norm.sign))
        with m.Else():
            m.d.comb += self.code.eq(Cat(L[:n - 1], norm.sign))
        return m


#: LNS runs on its own units: the multiplier is an adder, the MAC LNS-Madam's, the adder the
#: Gaussian-logarithm one; casts into LNS round with :class:`LnsRound`.
HW = HwFamily(code_shape=lambda fmt: fmt.n, cast_packer=LnsRound,
              units={"mul": "lnsmul", "mac": "lnsmac", "add": "lnsadd"})
