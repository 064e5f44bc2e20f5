"""What a format family gives the gateware: the contract of a family's hw module.

A format family ``F`` (``golden`` format objects with ``family == F``) enters the hardware
through its module ``macforge.hw._<F>`` (``_minifloat``, ``_integer``, ``_hif8``, ``_takum``,
``_posit``, ``_lns``, ``_block``), which defines ``HW = HwFamily(...)``. Nothing else in hw
branches on the family: :mod:`hw._families` finds the module by that name and the units ask it
for decoders, packers and code shapes. HardFloat's split is the model: the decoder turns a code
into the shared raw record (:class:`~hw._raw.RawFloatLayout`, exact), the datapath works on
raw records, and the packer rounds a normalised raw record into a code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["HwFamily"]


@dataclass(frozen=True)
class HwFamily:
    """The hardware half of one format family.

    Parameters
    ----------
    code_shape : callable, optional
        ``code_shape(fmt)``: the Amaranth shape of a code on a port (a ``data.StructLayout``
        with ``sign``/``exponent``/``mantissa`` where the fields are fixed, else the bit width).
    raw_layout : callable, optional
        ``raw_layout(fmt, normalise)``: the :class:`~hw._raw.RawFloatLayout` its decoder gives.
    decoder : callable, optional
        ``decoder(fmt, normalise=False)``: a ``wiring.Component`` with ``code`` (in,
        ``code_shape``) and ``raw`` (out, ``raw_layout``). ``normalise`` asks for a leading one
        in ``sig`` (subnormals shifted up). Families with a decoder are operands of the shared
        units (``mul``, ``fma``, ``mac``, ``dot``).
    packer : class, optional
        Rounds a normalised raw record into a code, behind the shared
        :class:`~hw._normalise.Normalise`: staticmethods ``grid(fmt)`` (what Normalise targets:
        ``emin``, ``precision``) and ``code_shape(fmt)``, constructor ``(fmt, in_layout,
        rounding, saturate, rnd_bits)``, ports ``norm`` in, ``code`` out, ``rnd`` in under SR.
        Families with a packer are results and accumulators of the shared units.
    result_check : callable, optional
        ``result_check(fmt)`` returns why ``fmt`` cannot be a packer's output (e.g. a minifloat
        without zero), or None.
    cast_packer : class, optional
        A packer on the same contract that only casts (:class:`~hw.Convert`) use, for a family
        that is no result of the shared units (integers: :class:`~hw._int.IntRound`,
        saturating). A cast takes ``packer`` where there is one, else this.
    units : dict
        For a family with units of its own: every generic unit name it takes, mapped to the
        unit kind built for it (posit: ``{"mul": "pmul", "mac": "pmac", "fma": "fma", "add":
        "add", "convert": "convert"}``, its own multiplier and quire MAC plus shared units
        through its decoder and packer; a block format runs on ``{"dot": "dot", "dequantize":
        "dequantize"}``).
        Empty for families that run on every shared unit.
    """
    code_shape: Callable | None = None
    raw_layout: Callable | None = None
    decoder: Callable | None = None
    packer: type | None = None
    result_check: Callable | None = None
    cast_packer: type | None = None
    units: dict = field(default_factory=dict)
