"""Accuracy by bit-exact emulation: inference with every matmul on a unit's golden semantics.

* :mod:`~costmodel.accuracy.units` -- unit specs: a format name -> arithmetic, quantisation
  defaults and the hardware unit that prices it;
* :mod:`~costmodel.accuracy.quant` -- post-training quantisation (per tensor, per channel,
  per block; max or percentile calibration);
* :mod:`~costmodel.accuracy.emulate` -- a matmul on the unit: golden calls, and fast paths
  proven bit-identical by the tests;
* :mod:`~costmodel.accuracy.run` -- the float model, calibration, the emulated network;
* :mod:`~costmodel.accuracy.digits`, :mod:`~costmodel.accuracy.minilm` -- the two models;
* :mod:`~costmodel.accuracy.costmap` -- energy per MAC, area and Fmax of the unit of a spec.
"""
from .units import Accumulate, UnitSpec, unit_spec, SPEC_NAMES, DEFAULT_FORMATS, SpecError
from .run import evaluate, layer_specs

__all__ = ["Accumulate", "UnitSpec", "unit_spec", "SPEC_NAMES", "DEFAULT_FORMATS", "SpecError",
           "evaluate", "layer_specs", "get_model", "MODELS"]

#: Models with an accuracy emulation.
MODELS = ("digits", "minilm")


def get_model(name: str, progress=None):
    """The model object for ``name`` (``digits`` or ``minilm``)."""
    if name == "digits":
        from .digits import Digits
        return Digits(progress=progress)
    if name == "minilm":
        from .minilm import MiniLM
        return MiniLM(progress=progress)
    raise SpecError(f"unknown workload {name!r} for accuracy emulation; accepted: "
                    + ", ".join(MODELS))
