"""Quantize: k source elements in, one OCP MX v1.0 block out (shared e8m0 scale + elements)."""
from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from macforge.golden import FormatError, Rounding, parse

from ._addertree import MaxTree
from ._families import cast_packer, code_shape, decoder
from ._pack import round_pack
from ._pipeline import PipelinePlan
from ._unit import Unit, as_operand, as_rounding, check_stages, quiet_on_error
from .convert import scaled_raw

__all__ = ["Quantize"]

_E8M0_BIAS = 127


class Quantize(Unit):
    """MX block quantiser: ``golden.quantize`` of k elements (a block, padded with zeros to the
    format's 32 when ``lanes`` < 32, which changes neither the scale nor the elements).

    Every lane is decoded with a leading one, so its ``exp`` is floor(log2 |v|); the largest
    over the nonzero lanes (the shared :class:`~hw._addertree.MaxTree`) minus the element
    format's ``emax_elem`` is the shared exponent, clamped at -127 (an all-zero block gets
    -127 too, code 0x00). Each element is then a cast (:func:`~hw.convert.scaled_raw`: the
    exponent add of 2^-(shared + element_exp), and the shared rounder into the element format,
    saturating: OCP MX v1.0 section 6.3); MXINT8 clamps symmetrically to +-127. A block with a
    NaN or infinity gets the NaN scale 0xFF and zero elements.

    Parameters
    ----------
    fmt : format or name
        Source element format (fp32, bf16, fp16, any minifloat with a decoder).
    out : format or name
        An MX block format (mxfp8, mxe5m2, mxfp6, mxe3m2, mxfp4, mxint8).
    lanes : int
        Elements per cycle, 1..block (default: the block, 32).
    rounding : Rounding
        The elements' rounding (rne, rna, rtz, rup, rdn; as ``golden.quantize``).
    stages : int
        Pipeline registers: after decode and the scale, after normalise, then at the output.

    Attributes
    ----------
    a : in, ``ArrayLayout(code_shape(fmt), lanes)``
    y : out, ``ArrayLayout(element code shape, lanes)``
    scale : out, 8 bits (e8m0)

    Examples
    --------
    >>> Quantize(fmt="fp32", out="mxfp8").module_name
    'quant_fp32_mxfp8_x32_rne_s0'
    """
    _kind = "quantize"
    _model = "quantize"
    _prefix = "quant"
    _roles = {**Unit._roles, "scale": "scale"}

    @quiet_on_error
    def __init__(self, fmt="fp32", *, out="mxfp8", lanes=None, rounding=Rounding.RNE,
                 stages=0):
        fa = as_operand(fmt, "fmt")
        blk = parse(out)
        if not getattr(blk, "is_mx", False):
            raise FormatError(f"unit 'quantize' produces an MX block format (mxfp8, mxe5m2, "
                              f"mxfp6, mxe3m2, mxfp4, mxint8), not {blk.name}")
        rounding = as_rounding(rounding)
        if rounding is Rounding.SR:
            raise FormatError("unit 'quantize' rounds with rne, rna, rtz, rup or rdn "
                              "(as golden.quantize)")
        lanes = blk.block if lanes is None else lanes
        if not isinstance(lanes, int) or isinstance(lanes, bool) or not 1 <= lanes <= blk.block:
            raise FormatError(f"lanes must be an integer 1..{blk.block} (the block), "
                              f"not {lanes!r}")
        self._lanes = lanes
        self._blk = blk
        self._configure(formats={"a": fa, "out": blk}, rounding=rounding, saturate=True,
                        stages=check_stages(stages), rnd_bits=8, fused=None, latency=stages,
                        clocked=stages > 0, multiplier=None)
        members = {"a": In(data.ArrayLayout(code_shape(fa), lanes)),
                   "y": Out(data.ArrayLayout(code_shape(blk.element), lanes)),
                   "scale": Out(blk.scale.bits)}
        super().__init__(members)

    @property
    def module_name(self) -> str:
        f = self._formats
        return (f"{self._prefix}_{f['a'].name}_{self._blk.name}_x{self._lanes}_"
                f"{self._rounding.value}_s{self._stages}")

    def _manifest_extra(self) -> dict:
        return {"lanes": self._lanes, "align": None, "block": self._blk.block,
                "scale": self._blk.scale.name,
                "elements": {"a": self._formats["a"].name, "y": self._blk.element.name},
                "element_exp": self._blk.element_exp, "preset": None}

    def manifest(self) -> dict:
        man = super().manifest()
        elem = self._blk.element
        for p in man["ports"]:          # lane ports carry their lane width (hw.dot's convention)
            if p["name"] in ("a", "y"):
                p["lanes"] = self._lanes
                p["lane_bits"] = (self._formats["a"] if p["name"] == "a" else elem).bits
        return man

    def elaborate(self, platform):
        m = Module()
        fa, blk = self._formats["a"], self._blk
        elem, k = blk.element, self._lanes
        plan = PipelinePlan(self._stages, ("decoded", "normalised"))
        raws = []
        for i in range(k):
            m.submodules[f"decode{i}"] = dec = decoder(fa, normalise=True)
            m.d.comb += dec.code.eq(self.a[i])
            raws.append(dec.raw)
        exp_shape = raws[0].exp.shape()
        m.submodules.emax = mx = MaxTree(exp_shape, k)
        bad = Signal(name="bad")                   # NaN or inf in the block
        m.d.comb += bad.eq(_any([r.is_nan | r.is_inf for r in raws]))
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
        packer = cast_packer(elem)
        codes = []
        for i, r in enumerate(raws):
            sr = scaled_raw(m, r, shift, k_range, name=f"scaled{i}")
            sr, = (plan.cut(m, "decoded", sr),)
            code, _ = round_pack(m, plan, sr, None, elem, self._rounding, True, 8,
                                 prefix=f"lane{i}_", packer=packer)
            codes.append(code)
        bad_q, scale_q = plan.cut(m, "decoded", bad, scale_code)
        bad_q, scale_q = plan.cut(m, "normalised", bad_q, scale_q)
        lanes_out = Signal(self.y.shape(), name="lanes_out")
        for i, code in enumerate(codes):
            code = code.as_value() if hasattr(code, "as_value") else code
            if elem.family == "integer":          # symmetric: never the lone -2^(n-1)
                code = Mux(code == (elem.min_int & elem.mask), (elem.min_int + 1) & elem.mask,
                           code)
            m.d.comb += lanes_out[i].eq(Mux(bad_q, 0, code))
        y, scale = plan.output(m, lanes_out, scale_q)
        m.d.comb += [self.y.eq(y), self.scale.eq(scale)]
        return m


def _any(bits):
    out = 0
    for b in bits:
        out = out | b
    return out
