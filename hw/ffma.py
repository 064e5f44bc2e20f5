"""FFma: round(a * b + c) once."""
from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from macforge.golden import Rounding

from ._fused_add import fused_add
from ._multiplier import StarMultiplier
from ._pipeline import PipelinePlan
from ._product import ProductPath
from ._unit import (Unit, as_result, as_operand, as_rounding, check_bool,
                    check_multiplier, check_nan_capable, check_rnd_bits, check_stages,
                    quiet_on_error)
from ._families import code_shape

__all__ = ["FFma"]


class FFma(Unit):
    """Fused multiply-add: ``y = round(a * b + c)`` into ``acc``, one rounding.

    The exact product of normalised significands meets ``c`` in the shared fused-add core
    (:class:`~hw._fused_add.AlignAdd` + the shared rounder), the same core FMac loops on.

    Parameters
    ----------
    fmt : format or name
        Format of ``a`` (and ``b`` unless ``fmt_b``).
    acc : format or name
        Format of ``c`` and ``y``: a signed minifloat with subnormals.
    fmt_b : format or name, optional
    rounding, saturate, rnd_bits, multiplier
        As for :class:`~hw.FMul`.
    stages : int
        Pipeline registers: after unpack+multiply, after align+add, after normalise, then at
        the output.

    Attributes
    ----------
    a, b : in, operand codes
    c : in, ``code_shape(acc)``
    rnd : in, R bits (only when ``rounding`` is SR)
    y : out, ``code_shape(acc)``

    Examples
    --------
    >>> FFma(fmt="e4m3", acc="fp16").module_name
    'ffma_e4m3fn_fp16_rne_s0'
    """
    _kind = "fma"
    _model = "fma"
    _prefix = "ffma"

    @quiet_on_error
    def __init__(self, fmt="e4m3", *, acc="fp32", fmt_b=None, rounding=Rounding.RNE,
                 saturate=False, stages=0, rnd_bits=8, multiplier=StarMultiplier):
        fa = as_operand(fmt, "fmt")
        fb = as_operand(fmt_b, "fmt_b") if fmt_b is not None else fa
        fc = as_result(acc, "acc")
        check_nan_capable(fc, fa, fb)
        self._configure(formats={"a": fa, "b": fb, "acc": fc}, rounding=as_rounding(rounding),
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=check_rnd_bits(rnd_bits), fused=True, latency=stages,
                        clocked=stages > 0, multiplier=check_multiplier(multiplier))
        members = {"a": In(code_shape(fa)), "b": In(code_shape(fb)), "c": In(code_shape(fc))}
        if self._rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        members["y"] = Out(code_shape(fc))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        f = self._formats
        plan = PipelinePlan(self._stages, ("product", "sum", "normalised"))
        m.submodules.product = product = ProductPath(f["a"], f["b"], normalise=True,
                                                     multiplier=self._multiplier)
        m.d.comb += [product.a.eq(self.a), product.b.eq(self.b)]
        rnd = self.rnd if self._rounding is Rounding.SR else None
        p, c, rnd = plan.cut(m, "product", product.p, self.c, rnd)
        code = fused_add(m, plan, p, c, 0, rnd, f["acc"], self._rounding, self._saturate,
                         self._rnd_bits)
        m.d.comb += self.y.eq(plan.output(m, code))
        return m
