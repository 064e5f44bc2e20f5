"""DeepSeek-V3's fine-grained scaled FP8 dot (golden preset ``deepseek-fp8``) as hardware.

The tensor-core step is the h100-fp8 :class:`~hw.dot.FDot` (32 e4m3 products per cycle, 13-bit
truncating alignment into the e8m13 register); the promotion datapath (the CUDA-core part of
DeepGEMM) is composed of the shared fp32 units: ``s = fp32_rne(sa * sb)`` (:class:`~hw.FMul`)
and ``acc = fp32_rne(R * s + acc)`` (:class:`~hw.FFMA` with an e8m13 multiplicand), exactly
golden/_presets.py's deepseek-fp8 promotion. Every one of these figures (k, align, register
and its rounding, the promotion's rounding: rne) is read from the preset object, as golden
reads it.

Command per cycle: ``en``/``first``/``clear`` drive the tensor-core register as for FDot
(``first`` on the first step of each 128-element chunk); ``promote`` adds the register's
current value R (the chunk's partial sum, shown on ``reg``) times ``fp32(sa * sb)`` into the
fp32 accumulator ``acc`` at the clock edge. ``promote`` may share a cycle with the next chunk's
``first`` step (the register changes at the same edge); ``clear`` zeroes both registers.
"""
from amaranth.hdl import Module, Signal
from amaranth.lib.wiring import In, Out

from macforge.golden import FormatError, Rounding, parse

from .dot import FDot, _DotBase
from .ffma import FFma as FFMA
from .fmul import FMul
from ._unit import quiet_on_error

__all__ = ["DeepSeekDot", "scaled_preset", "make_scaled_dot"]


def scaled_preset(preset):
    """The golden preset object when ``preset`` names a scaled one (operand scales applied at
    promotion: deepseek-fp8), else None: the one test of which dot unit a preset builds."""
    if preset is None:
        return None
    from macforge.golden._presets import get_preset             # one place for presets (golden)
    p = get_preset(preset)
    return p if p.scale_block is not None else None


def make_scaled_dot(fa, fb, preset, *, acc=None, rounding="rne", saturate=False, stages=0,
                    multiplier="star", lanes=None, align=None):
    """:func:`hw.make_unit`'s ``"dot"`` with a scaled preset: :class:`DeepSeekDot`. The preset
    fixes everything else; an option given with another value is a one-line error."""
    p = scaled_preset(preset)
    fixed = {"lanes": (lanes, p.k), "align": (align, p.align),
             "acc": (None if acc is None else parse(acc).name, parse(p.acc).name),
             "rounding": (Rounding.parse(rounding).value, p.acc_rounding.value),
             "saturate": (bool(saturate), False), "stages": (stages, 0),
             "multiplier": (multiplier, "star")}
    for key, (given, want) in fixed.items():
        if given is not None and given != want:
            raise FormatError(f"preset {p.name} fixes {key} = {want}, not {given}")
    return DeepSeekDot(fa, fmt_b=None if fb == parse(fa) else fb, preset=p)


class DeepSeekDot(_DotBase):
    """The deepseek-fp8 preset: h100-fp8 tensor-core steps plus the scaled fp32 promotion.

    Attributes
    ----------
    a, b : in, 32 e4m3 lanes
    sa, sb : in, fp32 scale codes (read on ``promote``)
    en, first, clear, promote : in, 1 bit each
    reg : out, e8m13, the tensor-core register
    acc : out, fp32, the promoted accumulator (reset: +0)
    """
    _kind = "dot"
    _model = "deepseek_dot"
    _state = "observed"
    _prefix = "dsdot"
    _roles = {**_DotBase._roles, "promote": "enable", "reg": "accumulator"}

    @quiet_on_error
    def __init__(self, fmt="e4m3", *, fmt_b=None, preset="deepseek-fp8"):
        from macforge.golden._presets import get_preset
        p = get_preset(preset)
        if p.scale_block is None:
            raise FormatError(f"DeepSeekDot is the scaled preset deepseek-fp8, not {p.name}")
        accepted = [parse(n) for n in p.inputs]
        for f in (fmt, fmt if fmt_b is None else fmt_b):
            if parse(f) not in accepted:
                raise FormatError(f"preset {p.name} takes {' or '.join(p.inputs)} elements, "
                                  f"not {parse(f).name}")
        self._preset = p
        # the tensor-core step from this preset's own fields (deepseek-fp8's are h100-fp8's),
        # as golden tensor_core_dot reads them
        self._core = FDot(fmt, fmt_b=fmt_b, lanes=p.k, align=p.align, acc=p.register,
                          rounding=p.register_rounding)
        # elaborated as this unit's submodule; a DeepSeekDot built only for its name or
        # manifest warns by itself, so its core need not
        self._core._MustUse__silence = True
        fa, fb = self._core._formats["a"], self._core._formats["b"]
        reg, fc = parse(p.register), parse(p.acc)
        self._lanes = p.k
        self._configure(formats={"a": fa, "b": fb, "scale": fc, "reg": reg, "acc": fc},
                        rounding=Rounding.parse(p.acc_rounding), saturate=False, stages=0,
                        rnd_bits=None, fused=None, latency=1, clocked=True, multiplier=None)
        core = self._core.signature.members
        super().__init__({"a": In(core["a"].shape), "b": In(core["b"].shape),
                          "sa": In(fc.bits), "sb": In(fc.bits), "en": In(1), "first": In(1),
                          "clear": In(1), "promote": In(1), "reg": Out(reg.bits),
                          "acc": Out(fc.bits)})

    @property
    def module_name(self) -> str:
        return f"dsdot_{self._formats['a'].name.lower()}_x{self._lanes}_fp32_s0"

    def _manifest_extra(self) -> dict:
        f = self._formats
        return {"lanes": self._lanes, "align": self._preset.align, "block": None,
                "elements": {"a": f["a"].name, "b": f["b"].name}, "element_exp": 0,
                "scale": f["scale"].name, "preset": self._preset.name,
                "scale_block": self._preset.scale_block, "promote_every": self._preset.promote_every}

    def elaborate(self, platform):
        m = Module()
        f = self._formats
        m.submodules.core = core = self._core
        m.d.comb += [core.a.eq(self.a), core.b.eq(self.b), core.en.eq(self.en),
                     core.first.eq(self.first), core.clear.eq(self.clear), self.reg.eq(core.acc)]
        # both promotion roundings are the preset's acc_rounding (golden scaled_promotion)
        rounding = self._rounding
        m.submodules.scale_mul = smul = FMul(f["scale"], out=f["acc"], rounding=rounding)
        m.d.comb += [smul.a.eq(self.sa), smul.b.eq(self.sb)]
        m.submodules.promote_fma = fma = FFMA(f["reg"], fmt_b=f["scale"], acc=f["acc"],
                                              rounding=rounding)
        acc = Signal(f["acc"].bits, name="acc_q")
        m.d.comb += [fma.a.eq(core.acc), fma.b.eq(smul.y), fma.c.eq(acc), self.acc.eq(acc)]
        with m.If(self.clear):
            m.d.sync += acc.eq(0)
        with m.Elif(self.promote):
            m.d.sync += acc.eq(fma.y)
        return m
