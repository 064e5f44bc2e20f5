"""Quantize: k source elements in, one block out: OCP MX v1.0 (shared e8m0 scale + elements)
or NVFP4 / NVINT4 (an e4m3 block scale from the block max and an fp32 tensor-scale input)."""
from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from macforge.golden import FormatError, Rounding, parse

from ._addertree import MaxTree
from ._families import cast_packer, code_shape, decoder
from ._pack import round_pack
from ._pipeline import COMBINATIONAL, PipelinePlan
from ._raw import RawFloatLayout
from ._blockunit import BlockUnit
from ._unit import as_operand, check_stages, quiet_on_error
from .convert import scaled_raw

__all__ = ["Quantize", "restoring_divide"]

_E8M0_BIAS = 127
_SCALE_Q_BITS = 10               # quotient bits of amax / (Q * t): >= 7 significant (see below)
_ELEM_Q_BITS = 6                 # quotient bits of v / (S * t): >= 5 significant (see below)
#: Pipeline cuts in datapath order (``stages`` fills them from the first): MX after the lanes'
#: scaled records (decode, shared exponent) and after normalise; NV first after the block
#: scale (so its divider and the element dividers are in different cycles), then the same two.
_MX_CUTS = ("decoded", "normalised")
_NV_CUTS = ("scaled",) + _MX_CUTS


class Quantize(BlockUnit):
    """MX block quantiser: ``golden.quantize`` of k elements (a block, padded with zeros to the
    format's 32 when ``lanes`` < 32, which changes neither the scale nor the elements).

    Every lane is decoded with a leading one, so its ``exp`` is floor(log2 |v|); the largest
    over the nonzero lanes (the shared :class:`~hw._addertree.MaxTree`) minus the element
    format's ``emax_elem`` is the shared exponent, clamped at -127 (an all-zero block gets
    -127 too, code 0x00). Each element is then a cast (:func:`~hw.convert.scaled_raw`: the
    exponent add of 2^-(shared + element_exp), and the shared rounder into the element format,
    saturating: OCP MX v1.0 section 6.3); MXINT8 clamps symmetrically to +-127. A block with a
    NaN or infinity gets the NaN scale 0xFF and zero elements.

    **NVFP4 / NVINT4** (``out`` nvfp4, nvint4; golden.quantize with ``tensor_scale``): the
    port ``tscale`` takes the fp32 tensor scale t. The block max is the largest magnitude
    code over the finite lanes (a float's magnitude bits order as its values); the block
    scale is ``e4m3_rne_sat(amax / (Q * t))`` of the exact quotient (Q = 6, or 7 for int4):
    a restoring divider of the normalised significands gives 10 quotient bits (at least 7
    significant: M_a / (Q M_t) lies in (1/(2Q), 2/Q)) and the remainder's sticky bit, and
    the shared rounder rounds that once. Each element is ``round(v / (S * t))`` into the
    element format, saturating, from a 6-bit quotient (at least 5 significant: M_v / (M_S
    M_t) lies in (1/4, 1)) and its sticky bit: a rounding of the exact quotient, in every
    mode. A block with a NaN or infinity, or whose t is not a positive finite value, gets
    the e4m3 NaN scale 0x7F; a block whose scale rounds to 0 gets zero elements (both:
    element codes 0).

    Parameters
    ----------
    fmt : format or name
        Source element format (fp32, bf16, fp16, any minifloat with a decoder).
    out : format or name
        A block format (mxfp8, mxe5m2, mxfp6, mxe3m2, mxfp4, mxint8, nvfp4, nvint4).
    lanes : int
        Elements per cycle, 1..block (default: the block, 32 for MX, 16 for NV).
    rounding : Rounding
        The elements' rounding (rne, rna, rtz, rup, rdn; as ``golden.quantize``).
    stages : int
        Pipeline registers, latency ``stages``: MX after decode and the scale, after
        normalise, then at the output; NV first after the block scale (before the element
        dividers), then after the element quotients, after normalise, at the output.

    Attributes
    ----------
    a : in, ``ArrayLayout(code_shape(fmt), lanes)``
    tscale : in, 32 bits (fp32; nv* formats only)
    y : out, ``ArrayLayout(element code shape, lanes)``
    scale : out, 8 bits (e8m0, or e4m3 for nv*)

    Examples
    --------
    >>> Quantize(fmt="fp32", out="mxfp8").module_name
    'quant_fp32_mxfp8_x32_rne_s0'
    >>> Quantize(fmt="bf16", out="nvfp4").module_name
    'quant_bf16_nvfp4_x16_rne_s0'
    """
    _kind = "quantize"
    _model = "quantize"
    _prefix = "quant"

    @quiet_on_error
    def __init__(self, fmt="fp32", *, out="mxfp8", lanes=None, rounding=Rounding.RNE,
                 stages=0):
        fa = as_operand(fmt, "fmt")
        blk = parse(out)
        if getattr(blk, "family", None) != "block":
            raise FormatError(f"unit 'quantize' produces a block format (mxfp8, mxe5m2, "
                              f"mxfp6, mxe3m2, mxfp4, mxint8, nvfp4, nvint4), not {blk.name}")
        if not blk.is_mx and fa.family != "minifloat":
            raise FormatError(f"unit 'quantize' into {blk.name} takes a float source "
                              f"(fp32, bf16, fp16, a minifloat), not {fa.name}")
        ts = blk.tensor_scale_format
        if ts is not None and fa.precision > ts.precision:
            raise FormatError(f"unit 'quantize' into {blk.name} takes sources no wider than its "
                              f"{ts.name} tensor scale's {ts.precision}-bit "
                              f"significand (fp32, bf16, fp16, ...), not {fa.name}")
        rounding = self._block_setup(blk, rounding, lanes)
        formats = {"a": fa, "out": blk}
        if ts is not None:
            formats["tscale"] = ts
        self._configure(formats=formats, rounding=rounding, saturate=True,
                        stages=check_stages(stages), rnd_bits=8, fused=None, latency=stages,
                        clocked=stages > 0, multiplier=None)
        members = {"a": In(data.ArrayLayout(code_shape(fa), self._lanes))}
        if not blk.is_mx:
            members["tscale"] = In(code_shape(formats["tscale"]))
        members.update({"y": Out(data.ArrayLayout(code_shape(blk.element), self._lanes)),
                        "scale": Out(blk.scale.bits)})
        super().__init__(members)

    @property
    def module_name(self) -> str:
        f = self._formats
        return (f"{self._prefix}_{f['a'].name}_{self._blk.name}_x{self._lanes}_"
                f"{self._rounding.value}_s{self._stages}")

    def _lane_formats(self) -> dict:
        return {"a": self._formats["a"], "y": self._blk.element}

    def elaborate(self, platform):
        m = Module()
        fa = self._formats["a"]
        plan = PipelinePlan(self._stages, _MX_CUTS if self._blk.is_mx else _NV_CUTS)
        raws = []
        for i in range(self._lanes):
            m.submodules[f"decode{i}"] = dec = decoder(fa, normalise=True)
            m.d.comb += dec.code.eq(self.a[i])
            raws.append(dec.raw)
        bad = Signal(name="bad")                   # NaN or inf in the block
        m.d.comb += bad.eq(_any([r.is_nan | r.is_inf for r in raws]))
        if self._blk.is_mx:
            codes, drop, scale_code = self._mx(m, plan, raws, bad)
        else:
            codes, drop, scale_code = self._nv(m, plan, raws, bad)
        self._output(m, plan, codes, drop, scale_code)
        return m

    def _mx(self, m, plan, raws, bad):
        """Elements and the e8m0 scale of an MX block (see the class docstring)."""
        blk = self._blk
        k = self._lanes
        exp_shape = raws[0].exp.shape()
        m.submodules.emax = mx = MaxTree(exp_shape, k)
        for i, r in enumerate(raws):
            m.d.comb += [mx.values[i].eq(r.exp), mx.valid[i].eq(~r.is_zero)]
        lay = raws[0].shape()
        lo = max(lay.exp_min - blk.emax_elem, -_E8M0_BIAS)
        hi = max(lay.exp_max - blk.emax_elem, -_E8M0_BIAS)
        shared = Signal(signed(max(abs(lo), abs(hi), _E8M0_BIAS).bit_length() + 2),
                        name="shared")
        raw_shared = mx.max - blk.emax_elem
        m.d.comb += shared.eq(Mux(mx.any & (raw_shared > -_E8M0_BIAS), raw_shared, -_E8M0_BIAS))
        # hi may pass 127 only through inf/NaN encodings (their block is bad: NaN scale)
        # elements: v * 2^-(shared + element_exp), one saturating rounding each
        lo = -_E8M0_BIAS                           # shared's floor (the zero block's too)
        k_range = (-hi - blk.element_exp, -lo - blk.element_exp)
        shift = Signal(signed(max(abs(v) for v in k_range).bit_length() + 2), name="shift")
        m.d.comb += shift.eq(-shared - blk.element_exp)
        scale_code = Mux(bad, blk.scale.nan_code, shared + _E8M0_BIAS)
        scaled = [scaled_raw(m, r, shift, k_range, name=f"scaled{i}") for i, r in enumerate(raws)]
        return self._round_elements(m, plan, scaled), bad, scale_code

    def _nv(self, m, plan, raws, bad):
        """Elements and the e4m3 scale of an NV block (see the class docstring)."""
        fa, blk, ft = self._formats["a"], self._blk, self._formats["tscale"]
        Q = int(blk._element_max_code_value)
        # the block max: the largest magnitude code of the finite lanes (a zero block: 0)
        mag_bits = fa.bits - 1
        m.submodules.amax = mx = MaxTree(signed(mag_bits + 1), self._lanes)
        for i, r in enumerate(raws):
            m.d.comb += [mx.values[i].eq(_value(self.a[i])[:mag_bits]),
                         mx.valid[i].eq(~r.is_nan & ~r.is_inf)]
        m.submodules.decode_amax = da = decoder(fa, normalise=True)
        m.d.comb += da.code.eq(Mux(mx.any, mx.max[:mag_bits], 0))
        m.submodules.decode_t = dt = decoder(ft, normalise=True)
        m.d.comb += dt.code.eq(self.tscale)
        amax, t = da.raw, dt.raw
        t_bad = t.is_nan | t.is_inf | t.is_zero | t.sign
        # S = e4m3_rne_sat(amax / (Q t)): M_a' / (Q M_t), M_a' = M_a aligned to M_t's width,
        # so M_a' < 2^wt <= Q M_t (Q >= 2): the divider's first remainder is below the divisor
        wa, wt = len(amax.sig), len(t.sig)
        q_den = Q * ((1 << wt) - 1)                    # the divisor's largest value
        den = Signal(unsigned(q_den.bit_length()), name="scale_den")
        num = Signal(unsigned(wt), name="scale_num")
        m.d.comb += [den.eq(t.sig * Q), num.eq(amax.sig << (wt - wa))]
        q, rem = restoring_divide(m, num, den, _SCALE_Q_BITS, "scale_div")
        # amax / (Q t) = (num / den) 2^(ea - et) exactly (both sig tops have weight 2^e) and
        # num / den = q 2^-P (+ rem): q's top bit P-1 weighs 2^(ea - et - 1)
        la, lt = amax.shape(), t.shape()
        srec = Signal(RawFloatLayout(la.exp_min - lt.exp_max - 1, la.exp_max - lt.exp_min - 1,
                                     _SCALE_Q_BITS), name="scale_raw")
        m.d.comb += [srec.sig.eq(q), srec.exp.eq(amax.exp - t.exp - 1), srec.sticky.eq(rem != 0),
                     srec.is_zero.eq(amax.is_zero)]
        sc, _ = round_pack(m, COMBINATIONAL, srec, None, blk.scale, Rounding.RNE, True, 8,
                           prefix="scale_")
        scale_rounded = Signal(blk.scale.bits, name="scale_rounded")
        m.d.comb += scale_rounded.eq(sc)
        # the "scaled" cut: the scale divider and the element dividers, each some 10 / 6
        # restoring steps of ~28-bit subtracters, would otherwise sit in series in one cycle
        scale_rounded, t, bad_block, *raws = plan.cut(m, "scaled", scale_rounded, t,
                                                      bad | t_bad, *raws)
        m.submodules.decode_s = ds = decoder(blk.scale, normalise=True)
        m.d.comb += ds.code.eq(scale_rounded)
        S = ds.raw
        # elements: v / (S t), divisor M_S M_t normalised to its top bit (one left shift)
        ws = len(S.sig)
        wd = ws + wt
        prod = Signal(unsigned(wd), name="elem_den_raw")
        m.d.comb += prod.eq(S.sig * t.sig)
        top = prod[wd - 1]
        den2 = Signal(unsigned(wd), name="elem_den")
        m.d.comb += den2.eq(Mux(top, prod, prod << 1))
        ls = S.shape()
        scaled = []
        for i, r in enumerate(raws):
            wv = len(r.sig)
            num2 = Signal(unsigned(wd - 1), name=f"elem_num{i}")
            m.d.comb += num2.eq(r.sig << (wd - 1 - wv))    # below 2^(wd-1) <= den2
            q2, rem2 = restoring_divide(m, num2, den2, _ELEM_Q_BITS, f"elem_div{i}")
            # v / (S t) = (num2 / den2) 2^(ev - es - et + 1 - top): S t = den2 2^(es + et -
            # (wd - 2) - (1 - top)), v = num2 2^(ev - (wd - 2)); q2's top bit weighs 2^(... - 1)
            lr = r.shape()
            rec = Signal(RawFloatLayout(lr.exp_min - ls.exp_max - lt.exp_max - 1,
                                        lr.exp_max - ls.exp_min - lt.exp_min,
                                        _ELEM_Q_BITS), name=f"elem_raw{i}")
            m.d.comb += [rec.sig.eq(q2), rec.exp.eq(r.exp - S.exp - t.exp - top),
                         rec.sticky.eq(rem2 != 0), rec.sign.eq(r.sign),
                         rec.is_zero.eq(r.is_zero)]
            scaled.append(rec)
        codes = self._round_elements(m, plan, scaled)
        scale_code = Mux(bad_block, blk.scale.nan_code, scale_rounded)
        return codes, bad_block | S.is_zero, scale_code

    def _round_elements(self, m, plan, scaled):
        """Each lane's raw record rounded into the element format (saturating), after the
        "decoded" cut."""
        elem = self._blk.element
        packer = cast_packer(elem)
        codes = []
        for i, sr in enumerate(scaled):
            sr = plan.cut(m, "decoded", sr)
            code, _ = round_pack(m, plan, sr, None, elem, self._rounding, True, 8,
                                 prefix=f"lane{i}_", packer=packer)
            codes.append(code)
        return codes

    def _output(self, m, plan, codes, drop, scale_code):
        """The element codes (0 where ``drop``) and the scale, through the remaining cuts."""
        elem = self._blk.element
        drop_q, scale_q = plan.cut(m, "decoded", drop, scale_code)
        drop_q, scale_q = plan.cut(m, "normalised", drop_q, scale_q)
        lanes_out = Signal(self.y.shape(), name="lanes_out")
        for i, code in enumerate(codes):
            code = _value(code)
            if elem.family == "integer":          # symmetric: never the lone -2^(n-1)
                code = Mux(code == (elem.min_int & elem.mask), (elem.min_int + 1) & elem.mask,
                           code)
            m.d.comb += lanes_out[i].eq(Mux(drop_q, 0, code))
        y, scale = plan.output(m, lanes_out, scale_q)
        m.d.comb += [self.y.eq(y), self.scale.eq(scale)]


def restoring_divide(m, num, den, bits: int, name: str):
    """``(q, rem)``: q = floor(num 2^bits / den) (``bits`` wide) and the remainder, by
    ``bits`` restoring steps (shift, compare, subtract), combinational. Needs num < den (the
    quotient then fits ``bits``); den = 0 gives an unspecified q."""
    w = len(den) + 1
    r = Signal(unsigned(w), name=f"{name}_r0")
    m.d.comb += r.eq(num)
    qbits = []
    for i in range(bits):
        shifted = Cat(0, r)[:w]                     # r < den, so 2r < 2 den fits w bits
        ge = Signal(name=f"{name}_q{bits - 1 - i}")
        nxt = Signal(unsigned(w), name=f"{name}_r{i + 1}")
        m.d.comb += [ge.eq(shifted >= den), nxt.eq(Mux(ge, shifted - den, shifted))]
        qbits.append(ge)
        r = nxt
    q = Signal(unsigned(bits), name=f"{name}_q")
    m.d.comb += q.eq(Cat(*reversed(qbits)))
    return q, r


def _value(v):
    """A plain Value of a data view (a lane of an ArrayLayout port) or a Value."""
    return v.as_value() if hasattr(v, "as_value") else v


def _any(bits):
    out = 0
    for b in bits:
        out = out | b
    return out
