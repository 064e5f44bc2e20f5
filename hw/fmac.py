"""FMac: an accumulator register updated by a fused (or two-rounding) multiply-add."""
from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from macforge.golden import FormatError, Rounding

from ._fused_add import fused_add
from ._multiplier import StarMultiplier
from ._pipeline import COMBINATIONAL, PipelinePlan
from ._product import ProductPath
from ._pack import round_pack
from ._unit import (Unit, as_result, as_operand, as_rounding, check_bool,
                    check_multiplier, check_nan_capable, check_rnd_bits, check_stages,
                    quiet_on_error)
from ._families import code_shape, decoder

__all__ = ["FMac"]


class FMac(Unit):
    """Multiply-accumulate: ``acc <- round(a * b + acc)`` per enabled cycle.

    Each cycle presents a command: ``clear`` (acc <- +0; wins over a step), else if ``en`` a
    step, which adds the product to ``acc`` -- or, with ``first``, to the additive identity,
    so it loads ``round(a * b)`` exactly as a multiply would (zero signs included). Steps
    follow :func:`golden.mac_step`. ``stages`` registers the product path (``a``, ``b``,
    ``en``, ``first``, ``clear``, ``rnd`` delayed alike); the accumulate+round is a one-cycle
    loop. A command presented at cycle t shows on ``acc`` at cycle t + ``latency``,
    ``latency = stages + 1``; commands issued back to back chain (each step adds to the
    result of the one before).

    ``fused=True`` rounds once (the fused-add core FFma uses); ``fused=False`` rounds the
    product into ``acc``'s format first (in the product path), then rounds the sum -- with
    the same ``rnd`` for both under SR.

    Parameters
    ----------
    fmt : format or name
        Format of ``a`` (and ``b`` unless ``fmt_b``).
    acc : format or name
        Accumulator format: a signed minifloat with subnormals.
    fused : bool
    fmt_b, rounding, saturate, rnd_bits, multiplier
        As for :class:`~hw.FMul`.
    stages : int
        Product-path registers: after unpack+multiply (and, non-fused, after normalising the
        product), then at the end of the product path.
    loop_stages : int
        Registers inside the accumulate loop (0..5): the unit interleaves ``loop_stages + 1``
        accumulators (see above).

    Attributes
    ----------
    a, b : in, operand codes
    en, first, clear : in, 1 bit each
    rnd : in, R bits (only when ``rounding`` is SR)
    acc : out, ``code_shape(acc)``, the accumulator register (reset: +0)

    Examples
    --------
    >>> FMac(fmt="e4m3", acc="fp32", stages=2).module_name
    'fmac_e4m3fn_fp32_rne_s2'
    >>> FMac(fmt="e4m3", acc="fp32", stages=1, loop_stages=2).latency
    4
    """
    _kind = "mac"
    _model = "mac_step"
    _state = "observed"
    _prefix = "fmac"

    @quiet_on_error
    def __init__(self, fmt="e4m3", *, acc="fp32", fmt_b=None, fused=True,
                 rounding=Rounding.RNE, saturate=False, stages=0, loop_stages=0, rnd_bits=8,
                 multiplier=StarMultiplier):
        self._loop_stages = check_loop_stages(loop_stages)
        fa = as_operand(fmt, "fmt")
        fb = as_operand(fmt_b, "fmt_b") if fmt_b is not None else fa
        fc = as_result(acc, "acc")
        check_nan_capable(fc, fa, fb)
        self._configure(formats={"a": fa, "b": fb, "acc": fc}, rounding=as_rounding(rounding),
                        saturate=check_bool(saturate, "saturate"), stages=check_stages(stages),
                        rnd_bits=check_rnd_bits(rnd_bits), fused=check_bool(fused, "fused"),
                        latency=stages + loop_stages + 1, clocked=True,
                        multiplier=check_multiplier(multiplier))
        members = {"a": In(code_shape(fa)), "b": In(code_shape(fb)),
                   "en": In(1), "first": In(1), "clear": In(1)}
        if self._rounding is Rounding.SR:
            members["rnd"] = In(rnd_bits)
        members["acc"] = Out(code_shape(fc))
        super().__init__(members)

    def _name_tokens(self) -> list:
        return [f"l{self._loop_stages}"] if self._loop_stages else []

    @property
    def interleave(self) -> int:
        return self._loop_stages + 1

    def _manifest_extra(self) -> dict:
        return {"loop_stages": self._loop_stages} if self._loop_stages else {}

    def elaborate(self, platform):
        m = Module()
        f, fused = self._formats, self._fused
        rounding, saturate, rnd_bits = self._rounding, self._saturate, self._rnd_bits
        plan = PipelinePlan(self._stages, ("product",) if fused else ("product", "normalised"))
        control = (self.en, self.first, self.clear)
        rnd = self.rnd if rounding is Rounding.SR else None

        # -- product path (pipelined) ----------------------------------------------------
        m.submodules.product = product = ProductPath(f["a"], f["b"], normalise=fused,
                                                     multiplier=self._multiplier)
        m.d.comb += [product.a.eq(self.a), product.b.eq(self.b)]
        p, rnd = plan.cut(m, "product", product.p, rnd)
        control = plan.cut(m, "product", *control, reset_less=False)
        if fused:
            p, rnd = plan.output(m, p, rnd)
        else:
            # first rounding: the product into the accumulator format (extra stages register
            # this code, narrower than the raw product), then back to a raw record
            code, rnd = round_pack(m, plan, p, rnd, f["acc"], rounding, saturate, rnd_bits,
                                   prefix="product_")
            control = plan.cut(m, "normalised", *control, reset_less=False)
            code, rnd = plan.output(m, code, rnd)
            m.submodules.product_unpack = unpack = decoder(f["acc"])
            m.d.comb += unpack.code.eq(code)
            p = unpack.raw
        en, first, clear = plan.output(m, *control, reset_less=False)

        # -- accumulate loop: one cycle, or a ring of S = loop_stages + 1 accumulators -----
        loop = PipelinePlan(self._loop_stages, LOOP_CUTS[self._loop_stages]) \
            if self._loop_stages else COMBINATIONAL
        total = fused_add(m, loop, p, self.acc, first, rnd, f["acc"], rounding,
                          saturate, rnd_bits, prefix="loop_")
        # the command and the accumulator it read travel with the datapath around the ring
        # (reset, so every accumulator starts at +0 and no phantom step is taken)
        held = self.acc
        for boundary in LOOP_BOUNDARIES:
            en, clear, held = loop.cut(m, boundary, en, clear, held, reset_less=False)
        with m.If(clear):
            m.d.sync += self.acc.eq(0)                          # +0
        with m.Elif(en):
            m.d.sync += self.acc.eq(total)
        if self._loop_stages:
            with m.Else():
                m.d.sync += self.acc.eq(held)                   # the slot passes unchanged
        return m


#: The accumulate loop's cut points in datapath order (:func:`hw._fused_add.fused_add`):
#: after the exponent compare and operand swap, after the alignment shifter, after the add,
#: after the magnitude, after normalising.
LOOP_BOUNDARIES = ("swapped", "aligned", "added", "sum", "normalised")

#: Where ``loop_stages = L`` registers go: the L cuts that balance the loop best (1-4 chosen by
#: the nextpnr Fmax of the e4m3 -> fp32 MAC on both FPGA families, docs/fpga.md; 5 adds the
#: "added" cut, which splits the add's carry chain from the magnitude's: on the 45 nm library
#: that stage alone is 2.1 ns of the e4m3 -> fp32 MAC at loop stages 3 or 4).
LOOP_CUTS = {1: ("sum",), 2: ("aligned", "normalised"), 3: ("aligned", "sum", "normalised"),
             4: ("swapped", "aligned", "sum", "normalised"), 5: LOOP_BOUNDARIES}

#: The most registers the accumulate loop takes.
MAX_LOOP_STAGES = max(LOOP_CUTS)


def check_loop_stages(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"loop_stages must be an integer, not {value!r}")
    if not 0 <= value <= MAX_LOOP_STAGES:
        raise FormatError(f"loop_stages must be 0..{MAX_LOOP_STAGES} (registers after the "
                          f"operand swap, the alignment, the add, the magnitude, the "
                          f"normalisation), not {value}")
    return value
