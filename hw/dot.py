"""k-lane dot-product-accumulate units: ``acc <- round(sum_i a_i * b_i + acc)`` per cycle.

:class:`FDot` takes k element pairs per cycle -- minifloats (OCP FP8/FP6/FP4, IEEE-like),
integers, or block formats (MX: an e8m0 scale per operand block; NVFP4/NVINT4: an e4m3 scale)
-- and updates a floating-point accumulator with ONE rounding per step. :class:`IDot` is the
integer version (integer elements, exact sum, wrapping or saturating integer accumulator).

Two summation modes share one aligner and adder tree (:mod:`hw._addertree`):

* exact (default): the k exact products are summed in a Kulisch-style fixed-point window as
  wide as the element formats' product range (nothing is ever lost), the block scales are
  applied to that exact sum (an exponent add for e8m0, a small significand multiply for
  e4m3), and the result goes through the shared fused adder with the accumulator
  (:func:`~hw._fused_add.fused_add`, the FMA's aligner and rounder): ``golden.dot`` /
  ``golden.block_dot`` exactly.
* ``align=W``: docs/formats.md's tensor-core model. ``emax`` is the largest leading exponent among
  the nonzero (scaled) products and the accumulator; every term, the accumulator included, is
  truncated toward zero to a multiple of ``2^(emax - W)``, the integers are summed exactly and
  the sum is rounded once into the accumulator (the shared normaliser/rounder). Because
  ``emax`` depends on the accumulator, the whole aligner sits in the one-cycle accumulate loop.

Examples
--------
>>> FDot("e4m3", lanes=32, align=13, acc="e8m13").module_name
'fdot_e4m3fn_x32_e8m13_rne_a13_s0'
>>> IDot("int8", lanes=16).module_name
'idot_int8_x16_int32_wrap_s0'
"""
import math

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for

from macforge.limits import LIMITS, check as check_limit
from macforge.golden import FormatError, Rounding, parse

from ._addertree import AdderTree, MaxTree, Term, aligned_sum, sign_magnitude, term_lead
from ._fused_add import fused_add
from ._intsat import int_accumulate
from .imac import _as_int, _value_shape
from ._lzc import LeadingZeroCounter
from ._multiplier import StarMultiplier
from ._pipeline import COMBINATIONAL, PipelinePlan
from ._product import ProductPath, product_layout
from ._raw import RawFloatLayout
from ._pack import round_pack
from ._unit import (Unit, _token, as_result, as_rounding, check_bool, check_multiplier,
                    check_nan_capable, check_rnd_bits, check_stages, quiet_on_error)
from ._families import code_shape, decoder, hw_family, operand_families, raw_layout_of

__all__ = ["FDot", "IDot", "make_dot", "DEFAULT_LANES", "MAX_LANES", "default_lanes", "block_of"]

#: Lanes of a plain-format dot unit unless given: the MX block, and the 32-product chunk of
#: the H100 FP8 tensor core (DeepSeek ISCA'25, docs/anchors.md). Block formats default to their
#: block size (32 for MX, 16 for NVFP4/NVINT4).
DEFAULT_LANES = 32
MAX_LANES = LIMITS["lanes"].hi
MAX_ALIGN = LIMITS["align"].hi          # golden.dot's bound on W


def block_of(fmt):
    """The block format object when ``fmt`` is one (``golden.BlockFormat``), else None."""
    return fmt if all(hasattr(fmt, k) for k in ("element", "scale", "block")) else None


def default_lanes(fmt) -> int:
    """Lanes a dot unit for ``fmt`` has unless told: the block size, else 32."""
    blk = block_of(parse(fmt))
    return blk.block if blk is not None else DEFAULT_LANES


def _check_lanes(lanes) -> int:
    return check_limit("lanes", lanes)


def _check_align(align):
    if align is None:
        return None
    return check_limit("align", align)


def _element(value, what):
    """(element format, block format or None) of an operand name/object."""
    fmt = parse(value)
    blk = block_of(fmt)
    elem = blk.element if blk is not None else fmt
    if hw_family(elem).decoder is None:
        raise FormatError(f"{what} must be a block format or an operand format "
                          f"({operand_families()}), not {fmt.name} ({fmt.family})")
    return elem, blk


def _top_exp(fmt) -> int:
    """Weight of the top significand bit of the largest finite magnitude (the decoder's
    ``exp``): floor(log2 max(|min|, max)); an integer's is n - 1 (|int_min| = 2^(n-1))."""
    return math.frexp(max(abs(fmt.min), fmt.max))[1] - 1


def _resolve_preset(preset):
    if preset is None:
        return None
    from macforge.golden._presets import get_preset             # one place for presets (golden)
    p = get_preset(preset)
    if p.scale_block is not None:
        raise FormatError(f"preset {p.name} scales and promotes into fp32: it is the unit "
                          f"make_unit('dot', preset='{p.name}') builds "
                          "(hw._deepseek.DeepSeekDot), not an FDot option; FDot takes presets "
                          "without scales (h100-fp8)")
    return p


class _DotBase(Unit):
    """What FDot and IDot share: lanes, the operand ports, the name and the manifest."""
    _roles = {**Unit._roles, "sa": "scale", "sb": "scale"}

    @property
    def lanes(self) -> int:
        return self._lanes

    @property
    def module_name(self) -> str:
        """``<unit>_<a>[_<b>]_x<lanes>_<acc>_...``: :attr:`Unit.module_name` with the lane
        count after the operand formats, e.g. ``fdot_mxfp4_x32_fp32_rne_a13_s0``."""
        name = super().module_name
        f = self._formats
        head = [self._prefix, _token(f["a"])] + ([_token(f["b"])] if f["b"] != f["a"] else [])
        head = "_".join(head)
        assert name.startswith(head + "_"), (name, head)
        return f"{head}_x{self._lanes}{name[len(head):]}"

    def manifest(self) -> dict:
        man = super().manifest()
        for port in man["ports"]:
            if port["name"] in ("a", "b"):
                port["lanes"] = self._lanes
                port["lane_bits"] = port["width"] // self._lanes
        return man



class FDot(_DotBase):
    """k-lane fused dot-product-accumulate into a floating-point register.

    Each cycle presents a command, as :class:`~hw.FMac`: ``clear`` (acc <- +0; wins), else
    if ``en`` a step ``acc <- round(scale * sum_i a_i * b_i + acc)`` -- or, with ``first``, the
    same sum without the old accumulator (``acc <- round(scale * sum_i a_i * b_i)``, zero signs
    as IEEE 754 gives them for the products alone). ``stages`` registers the product path
    (and, in exact mode, the exact sum); a command shows on ``acc`` ``stages + 1`` cycles later
    and back-to-back commands chain.

    ``scale`` is ``scale(sa) * scale(sb) * 2^(element_exp_a + element_exp_b)`` for block
    formats (``sa``, ``sb`` ports: e8m0 for MX, e4m3 for NVFP4/NVINT4; a NaN scale gives NaN;
    the per-tensor fp32 scale of NVFP4 is not in the unit), 1 otherwise. Specials as
    ``golden.dot``: NaN in, inf x 0, or infinities of both signs give NaN; else an inf wins.

    Parameters
    ----------
    fmt : format or name
        Element format of ``a`` (and ``b`` unless ``fmt_b``): a minifloat, an integer, or a
        block format (``mxfp8``, ``mxe5m2``, ``mxfp6``, ``mxe3m2``, ``mxfp4``, ``mxint8``,
        ``nvfp4``, ``nvint4``).
    lanes : int, optional
        k, products per step (default: the block size, else 32).
    acc : format or name
        Accumulator: a signed minifloat with subnormals (fp32 default, bf16, fp16, e8m13 ...).
    fmt_b : format or name, optional
        Second operand format (a block format needs one with the same block and scale format).
    align : int, optional
        W: tensor-core alignment (see the module docstring); None (default) sums exactly.
    rounding, saturate, rnd_bits, multiplier, stages
        As for :class:`~hw.FMac`.
    preset : str or preset object, optional
        A tensor-core preset of ``golden`` (e.g. ``"h100-fp8"``): lanes, align and acc come
        from it (they may be given only if they agree). Its periodic promotion into an fp32
        accumulator lies outside the unit.

    Attributes
    ----------
    a, b : in, ``ArrayLayout(element code shape, lanes)``: lane i at bits ``[i*n, (i+1)*n)``
    sa, sb : in, scale codes (block formats only)
    en, first, clear : in, 1 bit each
    rnd : in, R bits (stochastic rounding only)
    acc : out, ``acc.layout()``, the accumulator register (reset: +0)
    """
    _kind = "dot"
    _model = "dot"
    _state = "observed"
    _prefix = "fdot"

    @quiet_on_error
    def __init__(self, fmt="e4m3", *, lanes=None, acc=None, fmt_b=None, align=None,
                 rounding=None, saturate=False, stages=0, rnd_bits=8,
                 multiplier=StarMultiplier, preset=None):
        preset = _resolve_preset(preset)
        if preset is not None:
            lanes, align, acc, rounding = self._from_preset(preset, fmt, fmt_b, lanes, align,
                                                            acc, rounding)
        ea, blk_a = _element(fmt, "fmt")
        eb, blk_b = _element(fmt_b, "fmt_b") if fmt_b is not None else (ea, blk_a)
        if (blk_a is None) != (blk_b is None) or (
                blk_a is not None and (blk_a.scale != blk_b.scale or blk_a.block != blk_b.block)):
            raise FormatError(f"a block dot product needs two block formats with the same block "
                              f"and scale format, not {parse(fmt).name} x {parse(fmt_b).name}")
        fc = as_result("fp32" if acc is None else acc, "acc")
        if fc.family != "minifloat":
            raise FormatError(f"acc must be a signed minifloat with subnormals, not {fc.name}")
        self._block = blk_a
        self._elements = (ea, eb)
        scale = blk_a.scale if blk_a is not None else None
        if scale is not None and (scale.family != "minifloat" or scale.has_inf or (
                scale.precision == 1 and (scale.subnormals or scale.signed))):
            raise FormatError(f"block scale {scale.name} must be a minifloat without inf "
                              "(an exponent-only scale: unsigned, no zero, as e8m0)")
        check_nan_capable(fc, ea, eb, *(() if scale is None else (scale,)))
        self._scale = scale
        self._element_exp = (blk_a.element_exp + blk_b.element_exp) if blk_a else 0
        if scale is not None:
            # the range of the scale's exponent shift (see _scale_product): a significand
            # product's top bit sits at ex + ey + 1, and multiplying by it adds one more (the
            # top of a (wa + wb)-bit product of tops A, B weighs A + B + 1)
            lay = raw_layout_of(scale, normalise=True)
            extra = 0 if scale.precision == 1 else 2
            self._shift_range = (2 * lay.exp_min + self._element_exp + extra,
                                 2 * lay.exp_max + self._element_exp + extra)
        self._lanes = _check_lanes(lanes if lanes is not None else
                                   (blk_a.block if blk_a is not None else DEFAULT_LANES))
        self._align = _check_align(align)
        self._preset = preset
        rounding = as_rounding("rne" if rounding is None else rounding)
        formats = {"a": blk_a or ea, "b": blk_b or eb, "acc": fc}
        if scale is not None:
            formats["scale"] = scale
        self._configure(formats=formats, rounding=rounding,
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=check_rnd_bits(rnd_bits), fused=None, latency=stages + 1,
                        clocked=True, multiplier=check_multiplier(multiplier))
        k = self._lanes
        members = {"a": In(data.ArrayLayout(code_shape(ea), k)),
                   "b": In(data.ArrayLayout(code_shape(eb), k))}
        if scale is not None:
            # plain bits: e8m0's layout has a zero-width mantissa field (a [-1:0] wire)
            members["sa"] = In(scale.bits)
            members["sb"] = In(scale.bits)
        members.update({"en": In(1), "first": In(1), "clear": In(1)})
        if rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        members["acc"] = Out(fc.layout())
        super().__init__(members)

    @staticmethod
    def _from_preset(preset, fmt, fmt_b, lanes, align, acc, rounding):
        """The unit a tensor-core preset describes: its k-product step (``lanes``), ``align``
        and accumulation register (``acc``, rounded as the preset says); the periodic
        promotion into the preset's fp32 accumulator happens outside the unit."""
        accepted = [parse(n) for n in preset.inputs]
        for f in (fmt, fmt if fmt_b is None else fmt_b):
            if parse(f) not in accepted:
                raise FormatError(f"preset {preset.name} takes {' or '.join(preset.inputs)} "
                                  f"elements, not {parse(f).name}")
        want = {"lanes": preset.k, "align": preset.align, "acc": parse(preset.register),
                "rounding": Rounding.parse(preset.register_rounding)}
        given = {"lanes": lanes, "align": align, "acc": None if acc is None else parse(acc),
                 "rounding": None if rounding is None else Rounding.parse(rounding)}
        for key, value in given.items():
            if value is not None and value != want[key]:
                def show(v):
                    return getattr(v, "name", None) if key == "acc" else getattr(v, "value", v)
                raise FormatError(f"preset {preset.name} fixes {key} = {show(want[key])}, "
                                  f"not {show(value)}")
        return want["lanes"], want["align"], want["acc"], want["rounding"]

    @property
    def align(self):
        return self._align

    def _name_tokens(self) -> list:
        return [] if self._align is None else [f"a{self._align}"]

    def _manifest_extra(self) -> dict:
        blk = self._block
        return {
            "lanes": self._lanes,
            "align": self._align,
            "block": None if blk is None else blk.block,
            "elements": {"a": self._elements[0].name, "b": self._elements[1].name},
            "element_exp": self._element_exp,
            "scale": None if self._scale is None else self._scale.name,
            "preset": None if self._preset is None else self._preset.name,
        }

    # -- datapath ----------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        exact = self._align is None
        plan = PipelinePlan(self._stages, ("product", "sum") if exact else ("product",))
        control = (self.en, self.first, self.clear)
        rnd = self.rnd if self._rounding is Rounding.SR else None
        ea, eb = self._elements
        k = self._lanes

        products = []
        for i in range(k):
            pp = ProductPath(ea, eb, normalise=not exact, multiplier=self._multiplier)
            m.submodules[f"product{i}"] = pp
            m.d.comb += [pp.a.eq(self.a[i]), pp.b.eq(self.b[i])]
            products.append(pp.p)
        scale = self._scale_product(m) if self._scale is not None else None
        values = plan.cut(m, "product", *products, *(scale or ()), rnd)
        products, scale, rnd = (list(values[:k]), values[k:-1] or None, values[-1])
        control = plan.cut(m, "product", *control, reset_less=False)

        if exact:
            p = self._exact_sum(m, products, scale)
            p, rnd = plan.cut(m, "sum", p, rnd)
            control = plan.cut(m, "sum", *control, reset_less=False)
            p, rnd = plan.output(m, p, rnd)
            en, first, clear = plan.output(m, *control, reset_less=False)
            total = fused_add(m, COMBINATIONAL, p, self.acc, first, rnd, self._formats["acc"],
                              self._rounding, self._saturate, self._rnd_bits or 8,
                              prefix="loop_")
        else:
            values = plan.output(m, *products, *(scale or ()), rnd)
            products, scale, rnd = (list(values[:k]), values[k:-1] or None, values[-1])
            en, first, clear = plan.output(m, *control, reset_less=False)
            total = self._aligned_loop(m, products, scale, first, rnd)
        with m.If(clear):
            m.d.sync += self.acc.eq(0)                          # +0
        with m.Elif(en):
            m.d.sync += self.acc.eq(total)
        return m

    def _scale_product(self, m):
        """``(nan, zero, sign, shift[, sig])`` of scale(sa) * scale(sb) * 2^element_exp.

        Applying the scale to a value whose top significand bit has weight ``T`` gives top
        weight ``T + shift``. Power-of-two scales (e8m0: precision 1) are the exponent sum
        alone (no ``sig``); otherwise ``sig`` is the exact product of the two normalised
        significands (2p bits, at most one leading zero) to multiply by. The static range
        of ``shift`` is ``self._shift_range``.
        """
        fs = self._scale
        if fs.precision == 1:
            # a pure exponent code (e8m0: 2^(code - bias), no zero, NaN at its NaN code),
            # decoded from the bits: Unpack's code port would carry a zero-width mantissa
            lay = raw_layout_of(fs, normalise=True)
            x, y = Signal(lay, name="scale_a"), Signal(lay, name="scale_b")
            for raw, code in ((x, self.sa), (y, self.sb)):
                m.d.comb += [raw.exp.eq(code - fs.bias), raw.sig.eq(1),
                             raw.is_nan.eq(code == fs.nan_code if fs.has_nan else 0)]
        else:
            m.submodules.scale_a = ua = decoder(fs, normalise=True)
            m.submodules.scale_b = ub = decoder(fs, normalise=True)
            m.d.comb += [ua.code.eq(self.sa), ub.code.eq(self.sb)]
            x, y = ua.raw, ub.raw
        nan = Signal(name="scale_nan")
        zero = Signal(name="scale_zero")
        sign = Signal(name="scale_sign")
        m.d.comb += [nan.eq(x.is_nan | y.is_nan), zero.eq(x.is_zero | y.is_zero),
                     sign.eq(x.sign ^ y.sign)]
        extra = 0 if fs.precision == 1 else 2
        lo, hi = self._shift_range
        shift = Signal(range(lo, hi + 1), name="scale_shift")
        m.d.comb += shift.eq(x.exp + y.exp + self._element_exp + extra)
        if fs.precision == 1:
            return nan, zero, sign, shift
        m.submodules.scale_mul = mul = self._multiplier(len(x.sig), len(y.sig))
        m.d.comb += [mul.a.eq(x.sig), mul.b.eq(y.sig)]
        sig = Signal(len(mul.p), name="scale_sig")
        m.d.comb += sig.eq(mul.p)
        return nan, zero, sign, shift, sig

    def _specials(self, m, flags, name):
        """``(nan, inf, inf_sign)`` over (is_nan, is_inf, sign) triples (golden.dot's rules)."""
        nan_in = Cat(*(f[0] for f in flags)).any()
        pos_inf = Cat(*(f[1] & ~f[2] for f in flags)).any()
        neg_inf = Cat(*(f[1] & f[2] for f in flags)).any()
        nan, inf = Signal(name=f"{name}_nan"), Signal(name=f"{name}_inf")
        m.d.comb += [nan.eq(nan_in | (pos_inf & neg_inf)), inf.eq(pos_inf | neg_inf)]
        return nan, inf, neg_inf

    def _zero_sign(self, zero_terms):
        """Sign of an all-zero sum of ``(is_zero, sign)`` terms: IEEE 754's (equal signs keep
        theirs, else +0; -0 under rdn); a cancelled nonzero sum gives +0 (-0 under rdn)."""
        rdn = self._rounding is Rounding.RDN
        all_zero = Cat(*(z for z, _ in zero_terms)).all()
        if rdn:
            return all_zero, Mux(all_zero, Cat(*(z & s for z, s in zero_terms)).any(), 1)
        return all_zero, Mux(all_zero, Cat(*(~z | s for z, s in zero_terms)).all(), 0)

    def _exact_sum(self, m, products, scale):
        """Kulisch sum of the products, scaled and normalised: a raw record for fused_add."""
        ea, eb = self._elements
        s_nan, s_zero, s_sign = (0, 0, 0) if scale is None else scale[:3]
        lay = product_layout(ea, eb, normalise=False)
        wp = lay.sig_width
        top = _top_exp(ea) + _top_exp(eb) + 1               # largest finite product's top bit
        reach = top - lay.exp_min                           # top bits of the smallest products
        width = wp + reach                                  # every product bit has its place
        terms = [Term(p.sig, p.exp, p.sign, ~p.is_nan & ~p.is_inf & ~p.is_zero)
                 for p in products]
        total = aligned_sum(m, terms, top, width, reach, prefix="lane")
        negative, magnitude = sign_magnitude(m, total, "kulisch_magnitude")
        growth = len(magnitude) - width                     # carries above the window
        sum_top = top + growth                              # weight of magnitude's top bit

        nan, inf, inf_sign = self._specials(
            m, [(p.is_nan, p.is_inf, p.sign ^ s_sign) for p in products], "lanes")
        # each term is (element product) x (scale product): zero with either, signed by both
        all_zero, zero_sign = self._zero_sign([(p.is_zero | s_zero, p.sign ^ s_sign)
                                               for p in products])
        return self._scaled_sum(m, negative, magnitude, sum_top, scale, nan, inf, inf_sign,
                                zero_sign)

    def _scaled_sum(self, m, negative, magnitude, sum_top, scale, nan, inf, inf_sign,
                    zero_sign):
        """The exact sum (sign, magnitude with top-bit weight ``sum_top``) times the block
        scale, normalised: the raw record fused_add adds to the accumulator."""
        sig, sig_top = magnitude, sum_top
        exp_lo, exp_hi = sum_top, sum_top
        if scale is not None:
            s_nan, s_zero, s_sign, s_exp = scale[:4]
            if len(scale) == 5:                             # significand multiply (e4m3)
                s_sig = scale[4]
                m.submodules.scale_apply = mul = self._multiplier(len(sig), len(s_sig))
                m.d.comb += [mul.a.eq(sig), mul.b.eq(s_sig)]
                sig = mul.p
            sig_top = sum_top + s_exp
            exp_lo, exp_hi = sum_top + self._shift_range[0], sum_top + self._shift_range[1]
            nan = nan | s_nan | (s_zero & inf)              # a zero scale times inf: NaN
        # normalise the exact sum (its leading zeros: cancellation, small products)
        m.submodules.sum_lzc = lzc = LeadingZeroCounter(len(sig))
        m.d.comb += lzc.i.eq(sig)
        width = len(sig)
        out = RawFloatLayout(exp_lo - width, exp_hi, width)
        p = Signal(out, name="dot_sum")
        zero = lzc.count == width
        sign = negative
        if scale is not None:
            sign = negative ^ s_sign
            zero = zero | s_zero
        m.d.comb += [
            p.sig.eq(Mux(zero, 0, (sig << lzc.count)[:width])),     # a zero scale: sig is 0
            p.exp.eq(sig_top - lzc.count),
            p.is_zero.eq(zero),
            p.is_nan.eq(nan),
            p.is_inf.eq(inf),
            p.sign.eq(Mux(inf, inf_sign, Mux(zero, zero_sign, sign))),
        ]
        return p

    def _aligned_loop(self, m, products, scale, first, rnd):
        """align=W: emax over products and acc, truncating aligner, exact tree, one rounding."""
        W = self._align
        fc = self._formats["acc"]
        ea, eb = self._elements
        plo = product_layout(ea, eb, normalise=True)
        m.submodules.acc_unpack = uc = decoder(fc, normalise=True)
        m.d.comb += uc.code.eq(self.acc)
        c = uc.raw
        clo = raw_layout_of(fc, normalise=True)

        terms, flags, zeros = [], [], []
        lo, hi = plo.exp_min, plo.exp_max
        lead_zeros = 1                                      # products of normalised sigs
        s_nan = s_zero = s_sign = 0
        for i, p in enumerate(products):
            sig, exp, sign = p.sig, p.exp, p.sign
            if scale is not None:
                s_nan, s_zero, s_sign, s_exp = scale[:4]
                if len(scale) == 5:
                    mul = self._multiplier(len(sig), len(scale[4]))
                    m.submodules[f"scale_apply{i}"] = mul
                    m.d.comb += mul.a.eq(sig), mul.b.eq(scale[4])
                    sig = mul.p
                exp = exp + s_exp
                sign = sign ^ s_sign
            live = ~p.is_nan & ~p.is_inf & ~p.is_zero & ~s_zero
            terms.append(Term(sig, exp, sign, live))
            flags.append((p.is_nan | s_nan | (p.is_inf & s_zero), p.is_inf, sign))
            zeros.append((p.is_zero | s_zero, sign))
        if scale is not None:
            lo, hi = lo + self._shift_range[0], hi + self._shift_range[1]
            if len(scale) == 5:
                lead_zeros = 3                              # four normalised significands
        for t in terms:
            t.lead_zeros = lead_zeros
        c_live = ~first & ~c.is_nan & ~c.is_inf & ~c.is_zero
        terms.append(Term(c.sig, c.exp, c.sign, c_live))
        flags.append((c.is_nan & ~first, c.is_inf & ~first, c.sign))
        zeros.append((c.is_zero | first, c.sign | first if self._rounding is not Rounding.RDN
                      else c.sign & ~first))
        lo, hi = min(lo, clo.exp_min), max(hi, clo.exp_max)

        # emax: the largest leading exponent among the live terms
        lead_lo = lo - lead_zeros
        exp_shape = signed(max(bits_for(lead_lo, True), bits_for(hi, True)))
        n = len(terms)
        m.submodules.emax = mx = MaxTree(exp_shape, n)
        for i, t in enumerate(terms):
            m.d.comb += [mx.values[i].eq(term_lead(m, t, f"lead{i}")), mx.valid[i].eq(t.live)]
        emax = Signal(exp_shape, name="emax")
        m.d.comb += emax.eq(Mux(mx.any, mx.max, lead_lo))
        D = lead_zeros
        width = W + 1 + D                                   # weights emax + D .. emax - W
        top = Signal(signed(exp_shape.width + 2), name="window_top")
        m.d.comb += top.eq(emax + D)
        total = aligned_sum(m, terms, top, width, width, prefix="term")
        negative, magnitude = sign_magnitude(m, total, "aligned_magnitude")
        growth = len(magnitude) - width

        nan, inf, inf_sign = self._specials(m, flags, "terms")
        all_zero, zero_sign = self._zero_sign(zeros)
        lay = RawFloatLayout(lead_lo + D + growth, hi + D + growth, len(magnitude))
        raw = Signal(lay, name="aligned_sum")
        zero = magnitude == 0
        m.d.comb += [
            raw.sig.eq(magnitude),
            raw.exp.eq(top + growth),
            raw.is_zero.eq(zero),
            raw.is_nan.eq(nan),
            raw.is_inf.eq(inf),
            raw.sign.eq(Mux(inf, inf_sign, Mux(zero, zero_sign, negative))),
        ]
        code, _ = round_pack(m, COMBINATIONAL, raw, rnd, fc, self._rounding, self._saturate,
                             self._rnd_bits or 8, prefix="loop_")
        return code


class IDot(_DotBase):
    """k-lane integer dot-product-accumulate: ``acc <- sum_i a_i * b_i + acc``, exact, then
    wrap or saturate into ``acc`` (``golden.dot`` with integer formats).

    Ports and timing as :class:`FDot` (no scales, no ``rnd``); the exact products go through
    the shared adder tree; ``stages`` registers the products, then the tree's sum.
    """
    _kind = "idot"
    _model = "dot"
    _state = "observed"
    _prefix = "idot"

    @quiet_on_error
    def __init__(self, fmt="int8", *, lanes=None, acc="int32", fmt_b=None, saturate=False,
                 stages=0, multiplier=StarMultiplier):
        fa = _as_int(fmt, "fmt")
        fb = _as_int(fmt_b, "fmt_b") if fmt_b is not None else fa
        fc = _as_int(acc, "acc")
        self._lanes = _check_lanes(DEFAULT_LANES if lanes is None else lanes)
        self._configure(formats={"a": fa, "b": fb, "acc": fc}, rounding=None,
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=None, fused=None, latency=stages + 1, clocked=True,
                        multiplier=check_multiplier(multiplier))
        k = self._lanes
        super().__init__({
            "a": In(data.ArrayLayout(fa.bits, k)), "b": In(data.ArrayLayout(fb.bits, k)),
            "en": In(1), "first": In(1), "clear": In(1), "acc": Out(fc.bits),
        })

    def _manifest_extra(self) -> dict:
        return {"lanes": self._lanes, "align": None, "block": None,
                "elements": {"a": self._formats["a"].name, "b": self._formats["b"].name},
                "element_exp": 0, "scale": None, "preset": None}

    def elaborate(self, platform):
        m = Module()
        f = self._formats
        plan = PipelinePlan(self._stages, ("product", "sum"))
        k = self._lanes
        shape_a, shape_b = _value_shape(f["a"]), _value_shape(f["b"])
        products = []
        for i in range(k):
            mul = self._multiplier(shape_a, shape_b)
            m.submodules[f"mul{i}"] = mul
            m.d.comb += [mul.a.eq(self.a[i]), mul.b.eq(self.b[i])]
            products.append(mul.p)
        products = list(plan.cut(m, "product", *products)) if k > 1 else \
            [plan.cut(m, "product", *products)]
        control = plan.cut(m, "product", self.en, self.first, self.clear, reset_less=False)
        width = len(products[0])
        m.submodules.tree = tree = AdderTree(width + 1, k)
        for i, p in enumerate(products):
            m.d.comb += tree.terms[i].eq(p)                 # signed (or zero-extended) product
        total = plan.cut(m, "sum", tree.sum)
        control = plan.cut(m, "sum", *control, reset_less=False)
        total = plan.output(m, total)
        en, first, clear = plan.output(m, *control, reset_less=False)

        int_accumulate(m, self.acc, f["acc"], self._saturate, total, en, first, clear,
                       split=True)
        return m


def make_dot(fmt, fmt_b=None, acc=None, rounding="rne", saturate=False, stages=0, rnd_bits=8,
             multiplier="star", lanes=None, align=None, preset=None):
    """:func:`hw.make_unit`'s ``"dot"``: :class:`IDot` for integer elements with an integer
    accumulator (the default for them, int32), else :class:`FDot` (default acc fp32)."""
    from ._multiplier import MULTIPLIERS
    if multiplier not in MULTIPLIERS:
        raise FormatError(f"unknown multiplier {multiplier!r}; accepted: " + ", ".join(MULTIPLIERS))
    mult = MULTIPLIERS[multiplier]
    try:                                        # CLI-level input: one-line FormatErrors
        lanes = None if lanes is None else _check_lanes(lanes)
        align = _check_align(align)
    except TypeError as exc:
        raise FormatError(str(exc)) from None
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    if acc is None and preset is None:
        acc = "int32" if fa.family == fb.family == "integer" else "fp32"
    acc_fmt = parse(acc) if acc is not None else None
    if acc_fmt is not None and acc_fmt.family == "integer":
        if not (fa.family == "integer" and fb.family == "integer"):
            raise FormatError(f"an integer accumulator ({acc_fmt.name}) needs integer elements, "
                              f"not {fa.name} x {fb.name}")
        if Rounding.parse(rounding) is not Rounding.RNE:
            raise FormatError(f"an integer dot product is exact; rounding "
                              f"{Rounding.parse(rounding).value!r} does not apply (leave it at rne)")
        if align is not None or preset is not None:
            raise FormatError("align and preset apply to floating-point accumulators, not "
                              f"{acc_fmt.name}")
        return IDot(fa, lanes=lanes, acc=acc_fmt, fmt_b=fb, saturate=saturate, stages=stages,
                    multiplier=mult)
    if acc_fmt is not None and acc_fmt.family != "minifloat":
        raise FormatError(f"unit 'dot' accumulates into a signed minifloat with subnormals "
                          f"(fp32, bf16, fp16, e8m13, ...) or, for integer elements, an "
                          f"integer; not {acc_fmt.name}")
    if preset is not None and Rounding.parse(rounding) is Rounding.RNE:
        rounding = None                         # the CLI default: the preset's own rounding
    return FDot(fa, lanes=lanes, acc=acc_fmt, fmt_b=fmt_b, align=align, rounding=rounding,
                saturate=saturate, stages=stages, rnd_bits=rnd_bits, multiplier=mult,
                preset=preset)
