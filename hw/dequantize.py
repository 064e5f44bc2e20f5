"""Dequantize: one block in (k element codes, its scale, the nv* tensor scale), k values out."""
from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from macforge.golden import FormatError, Rounding, parse

from ._families import as_result, code_shape, decoder
from ._multiplier import StarMultiplier
from ._pack import round_pack
from ._pipeline import PipelinePlan
from ._product import raw_product, raw_product_layout
from ._blockunit import BlockUnit
from ._unit import _token, check_stages, quiet_on_error
from .convert import scale_range, scaled_raw

__all__ = ["Dequantize"]


def _product_record(m, x, y, name):
    """A new raw record holding the exact product of raw records ``x`` and ``y``."""
    lx, ly = x.shape(), y.shape()
    p = Signal(raw_product_layout(lx, ly), name=name)
    m.submodules[f"{name}_mul"] = mul = StarMultiplier(lx.sig_width, ly.sig_width)
    raw_product(m, x, y, p, mul)
    return p


class Dequantize(BlockUnit):
    """Block dequantiser: ``golden.dequantize`` of one block, each value rounded once into
    ``out`` (``golden.dequantize(t, out=...)``).

    Each lane's element code is decoded into the raw record. An MX scale (e8m0:
    2^(code - 127), NaN at 0xFF) is an exponent add on it, with 2^element_exp (mxint8:
    2^-6), as a cast with a power-of-two scale (:func:`~hw.convert.scaled_raw`); an nv*
    scale (e4m3) is decoded and multiplied by the fp32 tensor scale (port ``tscale``) once
    per block, and every element is an exact product with that. The shared rounder rounds
    each into ``out``: exact for MX into fp32
    except where 2^127 x the element max overflows to infinity; nv* products (up to 30
    significand bits) and bf16 results round. NaN scales or elements give NaN, infinities
    (e5m2 elements, an infinite tensor scale) infinity, infinity x 0 NaN (as float
    arithmetic, which golden uses).

    Parameters
    ----------
    fmt : format or name
        The block format (mxfp8, mxe5m2, mxfp6, mxe3m2, mxfp4, mxint8, nvfp4, nvint4).
    out : format or name
        Result format of every element (fp32, bf16, fp16, a minifloat).
    lanes : int
        Elements per cycle, 1..block (default: the block, 32 for MX, 16 for NV).
    rounding : Rounding
        rne, rna, rtz, rup or rdn (as the format's ``encode``).
    stages : int
        Pipeline registers: after the products, after normalise, then at the output.

    Attributes
    ----------
    a : in, ``ArrayLayout(element code shape, lanes)``
    scale : in, 8 bits (the block's scale code)
    tscale : in, 32 bits (fp32; nv* formats only)
    y : out, ``ArrayLayout(code_shape(out), lanes)``

    Examples
    --------
    >>> Dequantize(fmt="mxfp8", out="fp32").module_name
    'dequant_mxfp8_x32_fp32_rne_s0'
    """
    _kind = "dequantize"
    _model = "dequantize"
    _prefix = "dequant"

    @quiet_on_error
    def __init__(self, fmt="mxfp8", *, out="fp32", lanes=None, rounding=Rounding.RNE,
                 stages=0):
        blk = parse(fmt)
        if getattr(blk, "family", None) != "block":
            raise FormatError(f"unit 'dequantize' takes a block format (mxfp8, mxe5m2, mxfp6, "
                              f"mxe3m2, mxfp4, mxint8, nvfp4, nvint4), not {blk.name}")
        fo = as_result(out, "out")
        rounding = self._block_setup(blk, rounding, lanes)
        formats = {"a": blk, "out": fo, "scale": blk.scale}
        if blk.tensor_scale:
            formats["tscale"] = blk.tensor_scale_format
        self._configure(formats=formats, rounding=rounding, saturate=False,
                        stages=check_stages(stages), rnd_bits=8, fused=None, latency=stages,
                        clocked=stages > 0, multiplier=None)
        members = {"a": In(data.ArrayLayout(code_shape(blk.element), self._lanes)),
                   "scale": In(blk.scale.bits)}
        if blk.tensor_scale:
            members["tscale"] = In(code_shape(formats["tscale"]))
        members["y"] = Out(data.ArrayLayout(code_shape(fo), self._lanes))
        super().__init__(members)

    @property
    def module_name(self) -> str:
        f = self._formats
        return (f"{self._prefix}_{self._blk.name}_x{self._lanes}_{_token(f['out'])}_"
                f"{self._rounding.value}_s{self._stages}")

    def _lane_formats(self) -> dict:
        return {"a": self._blk.element, "y": self._formats["out"]}

    def elaborate(self, platform):
        m = Module()
        blk, fo = self._blk, self._formats["out"]
        plan = PipelinePlan(self._stages, ("decoded", "normalised"))
        ee = blk.element_exp
        if blk.tensor_scale:                       # S x t once per block (exact: 4 x 24 bits)
            m.submodules.decode_scale = ds = decoder(blk.scale)
            m.submodules.decode_t = dt = decoder(self._formats["tscale"])
            m.d.comb += [ds.code.eq(self.scale), dt.code.eq(self.tscale)]
            scale = _product_record(m, ds.raw, dt.raw, "block_scale")
        else:                                      # e8m0: 2^(code - bias), an exponent add
            k_min, k_max = scale_range(blk.scale)
            k_range = (k_min + ee, k_max + ee)
            k = Signal(signed(max(abs(v) for v in k_range).bit_length() + 2), name="k")
            m.d.comb += k.eq(self.scale - blk.scale.bias + ee)
            nan = self.scale == blk.scale.nan_code
        lanes_out = Signal(self.y.shape(), name="lanes_out")
        for i in range(self._lanes):
            m.submodules[f"decode{i}"] = de = decoder(blk.element)
            m.d.comb += de.code.eq(self.a[i])
            if blk.tensor_scale:
                rec = _product_record(m, de.raw, scale, f"lane{i}_value")
                if ee:
                    rec = scaled_raw(m, rec, ee, (ee, ee), name=f"lane{i}_scaled")
            else:
                rec = scaled_raw(m, de.raw, k, k_range, nan, name=f"lane{i}_scaled")
            rec = plan.cut(m, "decoded", rec)
            code, _ = round_pack(m, plan, rec, None, fo, self._rounding, False, 8,
                                 prefix=f"lane{i}_")
            m.d.comb += lanes_out[i].eq(code)
        m.d.comb += self.y.eq(plan.output(m, lanes_out))
        return m
