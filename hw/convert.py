"""Convert: a cast of one format into another, optionally scaled by a power of two."""
from amaranth.hdl import Module, Signal, signed
from amaranth.lib.wiring import In, Out

from macforge.golden import FormatError, Int, Rounding, parse

from ._families import as_cast_result, cast_packer, code_shape, decoder, raw_layout_of
from ._pack import round_pack
from ._pipeline import PipelinePlan
from ._raw import RawFloatLayout
from ._unit import (Unit, as_operand, as_rounding, check_bool, check_rnd_bits,
                    check_stages, quiet_on_error)

__all__ = ["Convert", "scale_range", "scaled_raw"]


def scale_range(fmt):
    """``(k_min, k_max)`` of the exponents a scale format's codes give (``golden.scale_exponent``:
    an integer exponent, or e8m0's 2^(code - bias) with its NaN code excluded)."""
    if isinstance(fmt, Int):
        return fmt.min_int, fmt.max_int
    if getattr(fmt, "family", None) == "minifloat" and fmt.man_bits == 0 and not fmt.signed \
            and not fmt.subnormals:
        top = fmt.max_code                          # the largest finite code
        return -fmt.bias, top - fmt.bias
    raise FormatError(f"a conversion scale is an integer exponent (int<N>) or a power of two "
                      f"(e8m0), not {fmt.name}")


class Convert(Unit):
    """Cast: ``y = round(a * 2^k)`` into ``out``, one rounding (``golden.convert``).

    The source's decoder gives the exact raw record; the scale ``2^k`` (port ``scale``: an
    e8m0 code, 2^(code - 127), NaN at 0xFF, or a signed integer exponent) is an add on its
    exponent, exact; the shared rounder (:func:`~hw._pack.round_pack`: ``Normalise`` and the
    output family's packer, integers: the saturating :class:`~hw._int.IntRound`, LNS: the
    nearest-log-code :class:`~hw._lns.LnsRound`) rounds once in any mode (LNS: rne/rna), SR
    with ``rnd_bits`` random bits.

    Parameters
    ----------
    fmt : format or name
        Source format (integer, minifloat, hif8, takum).
    out : format or name
        Result format (minifloat, hif8, takum, posit, integer, LNS).
    rounding : Rounding
    saturate : bool
        Overflow clamps to +-max (required for integer results).
    stages : int
        Pipeline registers: after decode (+ scale), after normalise, then at the output.
    rnd_bits : int
    scale : format or name, optional
        Format of the ``scale`` port (``e8m0`` or ``int<N>``); None: no scale port.

    Attributes
    ----------
    a : in, source code
    scale : in, scale code (only with ``scale``)
    rnd : in, R bits (only when ``rounding`` is SR)
    y : out, ``code_shape(out)``

    Examples
    --------
    >>> Convert(fmt="bf16", out="e4m3", rounding="sr").module_name
    'cvt_bf16_e4m3fn_sr_r8_s0'
    """
    _kind = "convert"
    _model = "convert"
    _prefix = "cvt"
    _roles = {**Unit._roles, "scale": "scale"}

    @quiet_on_error
    def __init__(self, fmt="bf16", *, out="e4m3", rounding=Rounding.RNE, saturate=False,
                 stages=0, rnd_bits=8, scale=None):
        fa = as_operand(fmt, "fmt")
        fo = as_cast_result(out, "out")
        saturate = check_bool(saturate, "saturate")
        self._packer = cast_packer(fo)
        check_cast = getattr(self._packer, "check_cast", None)      # LNS: rne/rna, exact source
        if check_cast is not None:
            check_cast(fo, raw_layout_of(fa), as_rounding(rounding))
        if getattr(self._packer, "saturate_only", False) and not saturate:
            raise FormatError(f"a cast into {fo.name} saturates: pass saturate (--saturate)")
        formats = {"a": fa, "out": fo}
        if scale is not None:
            formats["scale"] = parse(scale)
            self._k_range = scale_range(formats["scale"])
        # every cast result defines NaN (a NaN source or scale): its NaN code or NaR; integers
        # max_int; LNS and the minifloats without NaN (FP6/FP4) +max -- so nothing is refused
        self._configure(formats=formats, rounding=as_rounding(rounding), saturate=saturate,
                        stages=check_stages(stages), rnd_bits=check_rnd_bits(rnd_bits),
                        fused=None, latency=stages, clocked=stages > 0, multiplier=None)
        members = {"a": In(code_shape(fa))}
        if scale is not None:
            members["scale"] = In(formats["scale"].bits)
        if self._rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        members["y"] = Out(code_shape(fo))
        super().__init__(members)

    def _name_tokens(self):
        f = self._formats
        return [f"k{f['scale'].name.lower()}"] if "scale" in f else []

    def elaborate(self, platform):
        m = Module()
        f = self._formats
        plan = PipelinePlan(self._stages, ("decoded", "normalised"))
        m.submodules.decode = dec = decoder(f["a"])
        m.d.comb += dec.code.eq(self.a)
        raw = dec.raw
        if "scale" in f:
            raw = self._scaled(m, raw)
        rnd = self.rnd if self._rounding is Rounding.SR else None
        raw, rnd = plan.cut(m, "decoded", raw, rnd)
        code, _ = round_pack(m, plan, raw, rnd, f["out"], self._rounding, self._saturate,
                             self._rnd_bits, packer=self._packer)
        m.d.comb += self.y.eq(plan.output(m, code))
        return m

    def _scaled(self, m, raw):
        """The raw record times 2^k (k from the scale port), a NaN scale makes a NaN."""
        fs = self._formats["scale"]
        k = Signal(signed(max(abs(v) for v in self._k_range).bit_length() + 2), name="k")
        nan = 0
        if isinstance(fs, Int):
            m.d.comb += k.eq(self.scale.as_signed() if fs.signed else self.scale)
        else:
            m.d.comb += k.eq(self.scale - fs.bias)
            if fs.has_nan:
                nan = self.scale == fs.nan_code
        return scaled_raw(m, raw, k, self._k_range, nan)


def scaled_raw(m, raw, k, k_range, nan=0, name="scaled"):
    """``raw`` times 2^k (k a signed value in ``k_range``): the exponent add of a cast with a
    power-of-two scale, exact; ``nan`` (a bit) makes the result NaN. Returns the new record."""
    lay = raw.shape()
    k_min, k_max = k_range
    out = Signal(RawFloatLayout(lay.exp_min + k_min, lay.exp_max + k_max, lay.sig_width),
                 name=name)
    m.d.comb += [out.sig.eq(raw.sig), out.exp.eq(raw.exp + k), out.sign.eq(raw.sign),
                 out.sticky.eq(raw.sticky), out.is_zero.eq(raw.is_zero),
                 out.is_inf.eq(raw.is_inf), out.is_nan.eq(raw.is_nan | nan)]
    return out
