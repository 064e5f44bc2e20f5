"""FAdd: round(a + b) once, on the fused-add core."""
from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from macforge.golden import Rounding

from ._families import code_shape, decoder
from ._fused_add import fused_add
from ._pipeline import PipelinePlan
from ._unit import (Unit, as_operand, as_result, as_rounding, check_bool, check_nan_capable,
                    check_rnd_bits, check_stages, quiet_on_error)

__all__ = ["FAdd"]


class FAdd(Unit):
    """Adder: ``y = round(a + b)`` into ``out``, one rounding (``golden.add``).

    ``a`` is decoded with a leading one (the ``p`` side of :class:`~hw._fused_add.AlignAdd`,
    where a product would be), ``b`` is the addend; the fused-add core aligns with a
    borrow-correct sticky and the shared rounder rounds once, in every mode (SR too). Both
    operands are of one format, so both lie on its grid, and the window of
    :func:`~hw._fused_add.window_bits` (at least the wider of the operand and result
    significands plus R + 1 bits) loses no bit the rounder reads.

    Parameters
    ----------
    fmt : format or name
        Format of ``a`` and ``b`` (minifloat, hif8, takum; integers too).
    out : format or name, optional
        Result format (default ``fmt``).
    rounding, saturate, rnd_bits
        As for :class:`~hw.FMul`.
    stages : int
        Pipeline registers: after decode, after align+add, after normalise, then at the output.

    Attributes
    ----------
    a, b : in, operand codes
    rnd : in, R bits (only when ``rounding`` is SR)
    y : out, ``code_shape(out)``

    Examples
    --------
    >>> FAdd(fmt="e5m2").module_name
    'fadd_e5m2_e5m2_rne_s0'
    """
    _kind = "add"
    _model = "add"
    _prefix = "fadd"

    @quiet_on_error
    def __init__(self, fmt="e5m2", *, out=None, rounding=Rounding.RNE, saturate=False, stages=0,
                 rnd_bits=8):
        fa = as_operand(fmt, "fmt")
        fo = as_result(out if out is not None else fa, "out")
        check_nan_capable(fo, fa)
        self._configure(formats={"a": fa, "b": fa, "out": fo}, rounding=as_rounding(rounding),
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=check_rnd_bits(rnd_bits), fused=None, latency=stages,
                        clocked=stages > 0, multiplier=None)
        members = {"a": In(code_shape(fa)), "b": In(code_shape(fa))}
        if self._rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        members["y"] = Out(code_shape(fo))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        f = self._formats
        plan = PipelinePlan(self._stages, ("decoded", "sum", "normalised"))
        m.submodules.decode_a = dec = decoder(f["a"], normalise=True)
        m.d.comb += dec.code.eq(self.a)
        rnd = self.rnd if self._rounding is Rounding.SR else None
        a, b, rnd = plan.cut(m, "decoded", dec.raw, self.b, rnd)
        code = fused_add(m, plan, a, b, 0, rnd, f["out"], self._rounding, self._saturate,
                         self._rnd_bits, c_fmt=f["b"])
        m.d.comb += self.y.eq(plan.output(m, code))
        return m
