"""Unit specs: what a format name means for inference emulation and which unit prices it.

A :class:`UnitSpec` ties a user-facing name (``int8``, ``e4m3``, ``mxfp4``, ``posit8``,
``lns8``, ``lmul-e4m3``, ...) to

* the **arithmetic** every matmul/conv of the network runs on (operand format, accumulator,
  rounding, how a dot product of K terms is accumulated -- :class:`Accumulate`), which
  :mod:`costmodel.accuracy.emulate` executes bit-exactly;
* the **quantisation** defaults (weights per channel or per block, activations per tensor with
  max calibration, or per block dynamically for block formats), see
  :mod:`costmodel.accuracy.quant`;
* the **hardware unit** the cost model prices for one MAC (``hw.make_unit`` arguments), and
  the storage bits per element for memory traffic.

Options follow the name after ``/``: ``e4m3/acc=fp16``, ``e4m3/dot/align=13`` (one rounding
per dot product, tensor-core alignment), ``int8/w=tensor``, ``int8/cal=p99.9``,
``int4/keep=int8`` (first and last layer in int8: mixed precision).

Examples
--------
>>> from macforge.costmodel.accuracy.units import unit_spec
>>> s = unit_spec("e4m3")
>>> s.fmt.name, s.acc, s.accumulate.value
('e4m3fn', 'fp32', 'mac')
>>> unit_spec("int8/w=tensor").weight_granularity
'tensor'
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from macforge import golden
from macforge.errors import MacforgeError

__all__ = ["Accumulate", "UnitSpec", "unit_spec", "SPEC_NAMES", "DEFAULT_FORMATS", "SpecError"]


class SpecError(MacforgeError, ValueError):
    """An unknown format name or option (one line, names what is accepted)."""


#: Lanes of the dot unit that prices a block format. The emulation follows the format's own
#: block (32 MX, 16 NV: the scales are per block); the priced unit has 8 lanes because a 32-lane
#: MX unit does not get through ABC's mapping within the synthesis timeout on 2 cores. Fewer
#: lanes amortise the unit's shared scale/fp32-adder logic over fewer MACs: an upper bound.
PRICING_LANES = 8


class Accumulate(enum.Enum):
    """How a K-term dot product is accumulated by the unit.

    ``MAC``: the sequential fused MAC unit, ``acc <- round(a*b + acc)`` each step, the first
    step loading ``round(a*b)`` (``golden.mac_step``; integers: exact, wrapping ``int<W>``).
    ``DOT``: one rounding per dot product (``golden.dot``, optional ``align``).
    ``QUIRE``: posit quire, exact sum rounded once at read-out (``golden.dot`` into the posit).
    ``LNS``: LNS-Madam MAC (``golden.lns_mac_step``: table terms summed in an A-bit register).
    ``LMUL``: L-Mul MAC (``golden.lmul_mac_step``: exact L-Mul value, one rounding per step).
    ``BLOCK``: k-lane block dot unit, one rounding per block step (``golden.block_dot``).
    """
    MAC = "mac"
    DOT = "dot"
    QUIRE = "quire"
    LNS = "lns"
    LMUL = "lmul"
    BLOCK = "block"


@dataclass(frozen=True)
class UnitSpec:
    """One arithmetic configuration for emulation and pricing (see module docstring)."""
    name: str                      #: the user-facing name, options included
    base: str                      #: the name before the options
    fmt: object                    #: golden Format (elements) or golden BlockFormat
    accumulate: Accumulate
    acc: str                       #: accumulator format name (``int<A>`` for LNS)
    rounding: str = "rne"
    align: int | None = None
    weight_granularity: str = "channel"   #: tensor | channel | block
    act_granularity: str = "tensor"       #: tensor | block (dynamic, block formats)
    calibration: str = "max"              #: max | p<percentile> (activations)
    amax_target: float | None = None      #: calibrated max maps to this (default fmt max)
    lns_P: int = 8
    keep: str | None = None               #: format of the first and last layer (mixed)
    scaled: bool = True                   #: False: values go in unscaled (fp32 reference)
    options: tuple = field(default=())

    # ------------------------------------------------------------------ derived properties
    @property
    def is_block(self) -> bool:
        return self.accumulate is Accumulate.BLOCK

    @property
    def element(self):
        """The golden Format of one operand element."""
        return self.fmt.element if self.is_block else self.fmt

    @property
    def bits_per_element(self) -> float:
        """Storage bits per element including the amortised block scale."""
        if self.is_block:
            return self.fmt.bits + self.fmt.scale.bits / self.fmt.block
        return float(self.fmt.bits)

    @property
    def target(self) -> float:
        """Value the calibrated absolute maximum is mapped to: ``amax=`` if given, else the
        element format's ``calibration_target`` (tapered and log formats, whose precision or
        accumulator range is not at their largest value), else its largest value."""
        if self.amax_target is not None:
            return self.amax_target
        own = getattr(self.element, "calibration_target", None)
        return float(own) if own is not None else float(self.element.max)

    def unit_args(self) -> dict:
        """``hw.make_unit`` keyword arguments of the unit that prices one MAC of this spec.

        For block formats the k-lane dot unit (``unit="dot"``, k = :data:`PRICING_LANES`); its
        cost per step is divided by k.
        """
        f = self.fmt.name
        if self.accumulate is Accumulate.BLOCK:
            return {"unit": "dot", "fmt": f, "lanes": PRICING_LANES}
        if self.accumulate is Accumulate.QUIRE:
            return {"unit": "mac", "fmt": f}
        if self.accumulate is Accumulate.LNS:
            return {"unit": "mac", "fmt": f, "P": self.lns_P, "A": int(self.acc[3:])}
        if self.accumulate is Accumulate.LMUL:
            return {"unit": "lmulmac", "fmt": f, "acc": self.acc, "rounding": self.rounding}
        if self.fmt.family == "integer":          # an integer MAC is exact: no rounding
            return {"unit": "mac", "fmt": f, "acc": self.acc}
        return {"unit": "mac", "fmt": f, "acc": self.acc, "rounding": self.rounding}

    def describe(self) -> str:
        """One line: arithmetic and quantisation, for the report."""
        acc = {Accumulate.MAC: f"MAC into {self.acc}, one rounding per step",
               Accumulate.DOT: f"dot into {self.acc}, one rounding per dot"
                               + (f", align {self.align}" if self.align is not None else ""),
               Accumulate.QUIRE: f"quire MAC, exact sum, one rounding into {self.acc}",
               Accumulate.LNS: f"LNS-Madam MAC, P={self.lns_P}, {self.acc} accumulator",
               Accumulate.LMUL: f"L-Mul MAC into {self.acc}, one rounding per step",
               Accumulate.BLOCK: f"k={getattr(self.fmt, 'block', '?')}-lane block dot into "
                                 f"{self.acc}, one rounding per block step"}[self.accumulate]
        if not self.scaled:
            q = "no scaling"
        else:
            q = f"weights per {self.weight_granularity}, activations per {self.act_granularity}"
            if self.act_granularity == "tensor":
                q += f" ({self.calibration} calibration)"
        keep = f"; first/last layer {self.keep}" if self.keep else ""
        return f"{self.fmt.name}: {acc}; {q}{keep}"


# name -> (format name, accumulate, accumulator, extra fields)
_BASE = {
    "fp32": ("fp32", Accumulate.MAC, "fp32", {"scaled": False}),
    "int8": ("int8", Accumulate.MAC, "int32", {}),
    "int4": ("int4", Accumulate.MAC, "int32", {}),
    "e4m3": ("e4m3", Accumulate.MAC, "fp32", {}),
    "e5m2": ("e5m2", Accumulate.MAC, "fp32", {}),
    "e2m1": ("e2m1", Accumulate.MAC, "fp32", {}),
    "fp16": ("fp16", Accumulate.MAC, "fp32", {}),
    "bf16": ("bf16", Accumulate.MAC, "fp32", {}),
    # posits: the quire adds exactly; the calibrated max maps to Posit.calibration_target
    "posit8": ("posit8", Accumulate.QUIRE, "posit8", {}),
    "posit16": ("posit16", Accumulate.QUIRE, "posit16", {}),
    # LNS-Madam MAC, P = 8, A = 24 (the unit defaults); max -> Lns.calibration_target
    "lns8": ("lns8", Accumulate.LNS, "int24", {}),
    "lmul-e4m3": ("e4m3", Accumulate.LMUL, "fp32", {}),
    "lmul-e5m2": ("e5m2", Accumulate.LMUL, "fp32", {}),
}
_BLOCK = ("mxfp8", "mxe5m2", "mxfp6", "mxe3m2", "mxfp4", "mxint8", "nvfp4", "nvint4")

#: The names :func:`unit_spec` accepts before options.
SPEC_NAMES = tuple(_BASE) + _BLOCK
#: The report's default format list (the issue's list).
DEFAULT_FORMATS = ("int8", "int4", "e4m3", "e5m2", "e2m1", "mxfp4", "mxint8", "nvfp4", "posit8",
                   "lns8", "lmul-e4m3")

_OPTIONS = ("acc=<format>", "dot", "align=<W>", "round=<mode>", "w=tensor|channel",
            "cal=max|p<percentile>", "amax=<value>", "keep=<format>")


def _block_format(name):
    if not hasattr(golden, "BlockFormat"):
        raise SpecError(f"{name}: block formats need golden.BlockFormat (issue #4), which this "
                        "checkout does not have yet")
    return golden.parse(name)


#: How the golden operation of a format's default MAC (its manifest ``model``) accumulates.
_MODEL_ACCUMULATE = {"mac_step": Accumulate.MAC, "quire_mac": Accumulate.QUIRE,
                     "lns_mac_step": Accumulate.LNS}


def _from_family(text: str, base: str) -> UnitSpec:
    """Any other format name: its family says how it accumulates. The unit is the one
    ``hw.make_unit`` builds by default for it (a MAC into its default accumulator, the quire
    MAC for posits, LNS-Madam for LNS); the calibrated maximum maps to
    :attr:`UnitSpec.target`."""
    from macforge import hw
    try:
        fmt = golden.parse(base)
        unit = hw.make_unit(None, fmt)
    except golden.FormatError:
        raise SpecError(f"unknown format {base!r}; accepted: " + ", ".join(SPEC_NAMES)
                        + ", or any format of `macforge formats` that has a MAC unit (options "
                        "after '/': " + ", ".join(_OPTIONS) + ")") from None
    unit._MustUse__silence = True
    man = unit.manifest()
    accum = _MODEL_ACCUMULATE.get(man["model"])
    if accum is None:
        raise SpecError(f"{base}: its MAC unit ({man['module']}) is not one the emulation "
                        "models (" + ", ".join(_MODEL_ACCUMULATE) + ")")
    extra = {}
    if accum is Accumulate.LNS:
        extra["lns_P"] = int(man["P"])
    return UnitSpec(name=text, base=base, fmt=fmt, accumulate=accum, acc=man["formats"]["acc"],
                    **extra)


def unit_spec(name) -> UnitSpec:
    """Parse ``name[/option...]`` into a :class:`UnitSpec` (a UnitSpec passes through).

    Raises
    ------
    SpecError
        Unknown name or option; the message lists what is accepted.
    """
    if isinstance(name, UnitSpec):
        return name
    text = str(name).strip()
    base, *opts = text.split("/")
    base = base.lower()
    if base in _BASE:
        fname, accum, acc, extra = _BASE[base]
        spec = UnitSpec(name=text, base=base, fmt=golden.parse(fname), accumulate=accum, acc=acc,
                        **extra)
    elif base in _BLOCK:
        spec = UnitSpec(name=text, base=base, fmt=_block_format(base),
                        accumulate=Accumulate.BLOCK, acc="fp32", weight_granularity="block",
                        act_granularity="block")
    else:
        spec = _from_family(text, base)
    changes = {}
    for opt in opts:
        k, _, v = opt.partition("=")
        try:
            if k == "acc" and v:
                golden.parse(v)
                changes["acc"] = v
            elif k == "dot" and not v:
                if spec.accumulate is not Accumulate.MAC:
                    raise SpecError(f"{text}: 'dot' applies to integer and minifloat formats")
                changes["accumulate"] = Accumulate.DOT
            elif k == "align" and v:
                changes["align"] = int(v)
                changes["accumulate"] = Accumulate.DOT
            elif k == "round" and v:
                changes["rounding"] = golden.Rounding.parse(v).value
            elif k == "w" and v in ("tensor", "channel") and not spec.is_block:
                changes["weight_granularity"] = v
            elif k == "cal" and (v == "max" or (v.startswith("p") and 50 <= float(v[1:]) <= 100)):
                changes["calibration"] = v
            elif k == "amax" and v:
                changes["amax_target"] = float(v)
            elif k == "keep" and v:
                unit_spec(v)
                changes["keep"] = v
            else:
                raise ValueError
        except (ValueError, golden.FormatError) as exc:
            if isinstance(exc, SpecError):
                raise
            raise SpecError(f"{text}: bad option {opt!r}; accepted: " + ", ".join(_OPTIONS)) \
                from None
    return replace(spec, options=tuple(opts), **changes)
