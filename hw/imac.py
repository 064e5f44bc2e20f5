"""IntMac: an integer accumulator updated by an exact integer multiply-add."""
from amaranth.hdl import Module, signed, unsigned
from amaranth.lib.wiring import In, Out

from macforge.golden import FormatError, Int, parse

from ._intsat import int_accumulate
from ._multiplier import StarMultiplier
from ._pipeline import PipelinePlan
from ._unit import Unit, check_bool, check_multiplier, check_stages, quiet_on_error

__all__ = ["IntMac"]


def _as_int(value, what):
    fmt = parse(value)
    if not isinstance(fmt, Int):
        raise FormatError(f"{what} must be an integer format (int<N>/uint<N>), not {fmt.name}")
    return fmt


def _value_shape(fmt):
    return signed(fmt.n) if fmt.signed else unsigned(fmt.n)


class IntMac(Unit):
    """Integer multiply-accumulate: ``acc <- a * b + acc``, exact, then wrap or saturate.

    Ports and timing as :class:`~hw.FMac` (no ``rnd``): ``clear`` gives 0, ``first`` adds the
    product to 0, ``latency = stages + 1``. The product is exact (``na + nb`` bits) and so is
    the sum; the result wraps into ``acc`` (two's complement) or, with ``saturate``, clamps
    to its range (:func:`golden.mac_step`).

    Parameters
    ----------
    fmt : format or name
        Format of ``a`` (and ``b`` unless ``fmt_b``): ``int<N>`` or ``uint<N>``.
    acc : format or name
        Accumulator integer format.
    fmt_b : format or name, optional
    saturate : bool
    stages : int
        Product-path registers: after the multiply, then at the end of the product path.
    multiplier : Multiplier subclass
        Must accept signed operands for signed formats (:class:`~hw.StarMultiplier`).

    Examples
    --------
    >>> IntMac(fmt="int8", acc="int32").module_name
    'imac_int8_int32_wrap_s0'
    """
    _kind = "imac"
    _model = "mac_step"
    _state = "observed"
    _prefix = "imac"

    @quiet_on_error
    def __init__(self, fmt="int8", *, acc="int32", fmt_b=None, saturate=False, stages=0,
                 multiplier=StarMultiplier):
        fa = _as_int(fmt, "fmt")
        fb = _as_int(fmt_b, "fmt_b") if fmt_b is not None else fa
        fc = _as_int(acc, "acc")
        self._configure(formats={"a": fa, "b": fb, "acc": fc}, rounding=None,
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=None, fused=None, latency=stages + 1, clocked=True,
                        multiplier=check_multiplier(multiplier))
        super().__init__({
            "a": In(fa.bits), "b": In(fb.bits), "en": In(1), "first": In(1), "clear": In(1),
            "acc": Out(fc.bits),
        })

    def elaborate(self, platform):
        m = Module()
        f = self._formats
        plan = PipelinePlan(self._stages, ("product",))
        shape_a, shape_b = _value_shape(f["a"]), _value_shape(f["b"])
        m.submodules.mul = mul = self._multiplier(shape_a, shape_b)
        m.d.comb += [mul.a.eq(self.a), mul.b.eq(self.b)]
        p = plan.cut(m, "product", mul.p)
        control = plan.cut(m, "product", self.en, self.first, self.clear, reset_less=False)
        p = plan.output(m, p)
        en, first, clear = plan.output(m, *control, reset_less=False)

        int_accumulate(m, self.acc, f["acc"], self._saturate, p, en, first, clear,
                       split=False)
        return m
