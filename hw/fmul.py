"""FMul: round(a * b) once into any minifloat."""
from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from macforge.golden import Rounding

from ._multiplier import StarMultiplier
from ._pipeline import PipelinePlan
from ._product import ProductPath
from ._pack import round_pack
from ._unit import (Unit, as_result, as_operand, as_rounding, check_bool,
                    check_multiplier, check_nan_capable, check_rnd_bits, check_stages,
                    quiet_on_error)
from ._families import code_shape

__all__ = ["FMul", "round_product"]


class FMul(Unit):
    """Multiplier: ``y = round(a * b)`` into ``out``, one rounding.

    Operands may be any minifloats or integers, mixed (e4m3 x e5m2 -> fp16 as on current
    GPUs). The exact product (``pa + pb`` significand bits, subnormals unnormalised) goes
    straight to the shared rounder, which normalises it.

    Parameters
    ----------
    fmt : format or name
        Format of ``a`` (and of ``b`` and ``y`` unless given).
    fmt_b : format or name, optional
    out : format or name, optional
        Result format: a signed minifloat with subnormals.
    rounding : Rounding
    saturate : bool
        Overflow clamps to +-max in every mode.
    stages : int
        Pipeline registers: after unpack+multiply, after normalise, then at the output.
    rnd_bits : int
        Width R of ``rnd`` (stochastic rounding only).
    multiplier : Multiplier subclass
        Significand multiplier implementation.

    Attributes
    ----------
    a, b : in, operand codes
    rnd : in, R bits (only when ``rounding`` is SR)
    y : out, ``code_shape(out)`` (``out.layout()``; 8 bits for hif8)

    Examples
    --------
    >>> FMul(fmt="e4m3").module_name
    'fmul_e4m3fn_e4m3fn_rne_s0'
    """
    _kind = "mul"
    _model = "mul"
    _prefix = "fmul"

    @quiet_on_error
    def __init__(self, fmt="e4m3", *, fmt_b=None, out=None, rounding=Rounding.RNE,
                 saturate=False, stages=0, rnd_bits=8, multiplier=StarMultiplier):
        fa = as_operand(fmt, "fmt")
        fb = as_operand(fmt_b, "fmt_b") if fmt_b is not None else fa
        fo = as_result(out if out is not None else fa, "out")
        check_nan_capable(fo, fa, fb)
        self._configure(formats={"a": fa, "b": fb, "out": fo}, rounding=as_rounding(rounding),
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=check_rnd_bits(rnd_bits), fused=None, latency=stages,
                        clocked=stages > 0, multiplier=check_multiplier(multiplier))
        members = {"a": In(code_shape(fa)), "b": In(code_shape(fb))}
        if self._rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        members["y"] = Out(code_shape(fo))
        super().__init__(members)

    def elaborate(self, platform):
        f = self._formats
        return round_product(self, ProductPath(f["a"], f["b"], multiplier=self._multiplier))


def round_product(unit, product):
    """The multiplier datapath shared by every ``a, b -> y`` unit: ``product`` (a component
    with ``a``, ``b`` in and a raw record ``p`` out: the exact significand product, or L-Mul's
    adder), a pipeline cut, and the one rounder into ``unit``'s ``out`` format."""
    m = Module()
    plan = PipelinePlan(unit._stages, ("product", "normalised"))
    m.submodules.product = product
    m.d.comb += [product.a.eq(unit.a), product.b.eq(unit.b)]
    rnd = unit.rnd if unit._rounding is Rounding.SR else None
    p, rnd = plan.cut(m, "product", product.p, rnd)
    code, _ = round_pack(m, plan, p, rnd, unit._formats["out"], unit._rounding, unit._saturate,
                         unit._rnd_bits)
    m.d.comb += unit.y.eq(plan.output(m, code))
    return m
