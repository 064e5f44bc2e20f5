"""L-Mul units (Luo & Sun, "Addition is All You Need"): a multiplier and a MAC without a
significand multiplier array.

The "product" of two minifloats is the L-Mul adder: for nonzero finite operands (subnormals
normalised exactly by :class:`~hw._unpack.Unpack`) with M-bit fractions ``Xm``, ``Ym``

* ``formula``: significand ``2^M + Xm + Ym + 2^(M - l(M))`` (M + 2 bits, at most one leading
  zero) at exponent ``xe + ye``;
* ``intadd``: ``s = Xm + Ym + 2^(M - l(M))``; its carry ``s >> M`` (0..2) goes into the
  exponent and ``s mod 2^M`` is the fraction (Mitchell's bit-pattern add).

Both are exact raw records (:class:`~hw._raw.RawFloatLayout`), so the unit rounds them with
the shared rounder (:func:`~hw._round.round_pack`) and the MAC adds them with the shared
fused-add core (:func:`~hw._fused_add.fused_add`), exactly as ``golden.lmul`` and
``golden.lmul_mac_step`` define.
"""
from amaranth.hdl import Module, Cat, Const, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from macforge.golden import FormatError, LmulVariant, Minifloat, Rounding
from macforge.golden._lmul import lmul_offset_bits

from ._fused_add import fused_add
from .fmul import round_product
from ._pipeline import COMBINATIONAL, PipelinePlan
from ._raw import RawFloatLayout
from ._unit import (Unit, as_result, as_rounding, check_bool, check_nan_capable,
                    check_rnd_bits, check_stages, quiet_on_error)
from ._families import code_shape, decoder, raw_layout_of

__all__ = ["LMulPath", "LMul", "LMulMac", "lmul_layout"]


def _as_minifloat(value, what: str) -> Minifloat:
    from macforge.golden import parse
    fmt = parse(value)
    if not isinstance(fmt, Minifloat) or not fmt.signed:
        raise FormatError(f"{what} must be a signed minifloat (L-Mul is defined on minifloats), "
                          f"not {fmt.name}")
    return fmt


def lmul_layout(fmt: Minifloat, variant: LmulVariant) -> RawFloatLayout:
    """Raw layout of the exact L-Mul value of two ``fmt`` codes."""
    la = raw_layout_of(fmt, normalise=True)
    M = fmt.man_bits
    if variant is LmulVariant.FORMULA:
        # 2^M + Xm + Ym + off < 3 * 2^M: M + 2 bits, the top one weighs 2^(xe + ye + 1)
        return RawFloatLayout(2 * la.exp_min + 1, 2 * la.exp_max + 1, M + 2)
    # 1.f with the adder's carry (0, 1 or 2) added into the exponent
    return RawFloatLayout(2 * la.exp_min, 2 * la.exp_max + 2, M + 1)


class LMulPath(wiring.Component):
    """Unpack two codes and form their exact L-Mul value as a raw record (``sticky`` 0).

    One M-bit-wide adder (plus the exponent adder), no multiplier array. Specials follow
    :class:`~hw._product.ProductPath`: NaN for a NaN operand or inf x 0, else inf for an inf
    operand, else zero (``sig`` 0) for a zero operand; the sign is always ``sa ^ sb``.

    Parameters
    ----------
    fmt : Minifloat
    variant : LmulVariant

    Attributes
    ----------
    a, b : in, ``fmt.layout()``
    p : out, :func:`lmul_layout`
    """

    def __init__(self, fmt: Minifloat, variant: LmulVariant):
        self._fmt = fmt
        self._variant = variant
        super().__init__({
            "a": In(fmt.layout()),
            "b": In(fmt.layout()),
            "p": Out(lmul_layout(fmt, variant)),
        })

    def elaborate(self, platform):
        m = Module()
        fmt, p = self._fmt, self.p
        M = fmt.man_bits
        offset = 1 << (M - lmul_offset_bits(M))      # 2^-l(M) in units of 2^-M
        m.submodules.unpack_a = ua = decoder(fmt, normalise=True)
        m.submodules.unpack_b = ub = decoder(fmt, normalise=True)
        m.d.comb += [ua.code.eq(self.a), ub.code.eq(self.b)]
        x, y = ua.raw, ub.raw
        zero = x.is_zero | y.is_zero
        # normalised: the top bit is the implicit one, the M bits below it are the fraction
        xm, ym = x.sig[:M], y.sig[:M]
        frac_sum = Signal(M + 2, name="frac_sum")        # Xm + Ym + off < 3 * 2^M
        m.d.comb += frac_sum.eq(xm + ym + offset)
        if self._variant is LmulVariant.FORMULA:
            sig = Signal(M + 2, name="lmul_sig")
            m.d.comb += sig.eq(frac_sum + (1 << M))
            exp = x.exp + y.exp + 1
        else:
            sig = Cat(frac_sum[:M], Const(1, 1))
            exp = x.exp + y.exp + frac_sum[M:]
        nan = x.is_nan | y.is_nan | (x.is_inf & y.is_zero) | (y.is_inf & x.is_zero)
        m.d.comb += [
            p.sig.eq(Mux(zero, 0, sig)),
            p.exp.eq(exp),
            p.sign.eq(x.sign ^ y.sign),
            p.is_zero.eq(zero),
            p.is_inf.eq(x.is_inf | y.is_inf),
            p.is_nan.eq(nan),
        ]
        return m


class _LMulUnit(Unit):
    def _name_tokens(self):
        return [] if self._variant is LmulVariant.FORMULA else [self._variant.value]

    def _manifest_extra(self):
        return {"variant": self._variant.value}


class LMul(_LMulUnit):
    """L-Mul multiplier: ``y = round(lmul(a, b))`` into ``out`` (``golden.lmul``), one rounding.

    Parameters
    ----------
    fmt : format or name
        Operand format (a signed minifloat).
    out : format or name, optional
        Result format (default ``fmt``): a signed minifloat with subnormals.
    variant : LmulVariant or str
        ``"formula"`` (the paper's) or ``"intadd"`` (bit-pattern add).
    rounding, saturate, rnd_bits
        As for :class:`~hw.FMul`.
    stages : int
        Pipeline registers: after the L-Mul adder, after normalise, then at the output.

    Examples
    --------
    >>> LMul(fmt="e4m3").module_name
    'lmul_e4m3fn_e4m3fn_rne_s0'
    >>> LMul(fmt="e5m2", variant="intadd").module_name
    'lmul_e5m2_e5m2_rne_intadd_s0'
    """
    _kind = "lmul"
    _model = "lmul"
    _prefix = "lmul"

    @quiet_on_error
    def __init__(self, fmt="e4m3", *, out=None, variant="formula", rounding=Rounding.RNE,
                 saturate=False, stages=0, rnd_bits=8):
        fa = _as_minifloat(fmt, "fmt")
        fo = as_result(out if out is not None else fa, "out")
        check_nan_capable(fo, fa)
        self._variant = LmulVariant.parse(variant)
        self._configure(formats={"a": fa, "b": fa, "out": fo}, rounding=as_rounding(rounding),
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=check_rnd_bits(rnd_bits), fused=None, latency=stages,
                        clocked=stages > 0, multiplier=None)
        members = {"a": In(fa.layout()), "b": In(fa.layout())}
        if self._rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        members["y"] = Out(code_shape(fo))
        super().__init__(members)

    def elaborate(self, platform):
        # FMul's datapath with L-Mul's adder in place of the significand multiplier
        return round_product(self, LMulPath(self._formats["a"], self._variant))


class LMulMac(_LMulUnit):
    """L-Mul MAC: ``acc <- round(acc + lmul(a, b))`` per enabled cycle, one rounding per step.

    :func:`golden.lmul_mac_step`: the exact L-Mul value (never rounded on its own) goes into
    the shared fused-add core, as :class:`~hw.FMac` does with an exact product. Commands
    (``en``, ``first``, ``clear``) and latency (``stages + 1``) are those of :class:`~hw.FMac`.

    Parameters
    ----------
    fmt : format or name
        Operand format (a signed minifloat).
    acc : format or name
        Accumulator (fp32, bf16, ...): a signed minifloat with subnormals.
    variant : LmulVariant or str
    rounding : Rounding
        A deterministic mode (the golden step has no stochastic rounding).
    saturate : bool
    stages : int
        Product-path registers (after the L-Mul adder, then at its end).

    Examples
    --------
    >>> LMulMac(fmt="e4m3", acc="bf16").module_name
    'lmulmac_e4m3fn_bf16_rne_s0'
    """
    _kind = "lmulmac"
    _model = "lmul_mac_step"
    _state = "observed"
    _prefix = "lmulmac"

    @quiet_on_error
    def __init__(self, fmt="e4m3", *, acc="fp32", variant="formula", rounding=Rounding.RNE,
                 saturate=False, stages=0):
        fa = _as_minifloat(fmt, "fmt")
        fc = as_result(acc, "acc")
        check_nan_capable(fc, fa)
        rounding = as_rounding(rounding)
        if rounding is Rounding.SR:
            raise ValueError("the L-Mul MAC rounds deterministically (rne, rtz, rna, rup, rdn), "
                             "not sr")
        self._variant = LmulVariant.parse(variant)
        self._configure(formats={"a": fa, "b": fa, "acc": fc}, rounding=rounding,
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=None, fused=True, latency=stages + 1, clocked=True,
                        multiplier=None)
        super().__init__({"a": In(fa.layout()), "b": In(fa.layout()),
                          "en": In(1), "first": In(1), "clear": In(1),
                          "acc": Out(code_shape(fc))})

    def elaborate(self, platform):
        m = Module()
        f = self._formats
        plan = PipelinePlan(self._stages, ("product",))
        m.submodules.product = product = LMulPath(f["a"], self._variant)
        m.d.comb += [product.a.eq(self.a), product.b.eq(self.b)]
        p = plan.cut(m, "product", product.p)
        control = plan.cut(m, "product", self.en, self.first, self.clear, reset_less=False)
        p = plan.output(m, p)
        en, first, clear = plan.output(m, *control, reset_less=False)
        total = fused_add(m, COMBINATIONAL, p, self.acc, first, None, f["acc"], self._rounding,
                          self._saturate, 1, prefix="loop_")
        with m.If(clear):
            m.d.sync += self.acc.eq(0)                          # +0
        with m.Elif(en):
            m.d.sync += self.acc.eq(total)
        return m
