"""Post-training quantisation: calibration and float -> codes with scales.

Scales are float64 numbers applied outside the unit (the epilogue multiplies the accumulator's
value by ``scale_a * scale_w``), as integer and FP8 inference stacks do. A tensor scale maps the
calibrated absolute maximum ``amax`` onto the spec's target (the format's largest finite value
by default), ``scale = amax / target``; values beyond the calibrated range clamp to ±max
(``saturate=True``), which is what percentile calibration trades for resolution.

* weights: per output channel (``channel``, default) or per tensor (``tensor``), from the
  weights themselves (max);
* activations: per tensor, static, calibrated on the calibration split (``max``, or
  ``p99.9`` = the 99.9th percentile of ``|x|``);
* block formats: ``golden.quantize`` along the reduction axis (K), weights once, activations
  dynamically per inference (as MX/NVFP4 hardware does); no extra scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from macforge import golden

from .units import UnitSpec

__all__ = ["QTensor", "calibrate", "scale_for", "quantize_weight", "quantize_act"]


@dataclass
class QTensor:
    """Codes of a matmul operand and the float64 scale the epilogue applies.

    ``codes``: (rows, K) element codes for scalar formats (weights are stored transposed,
    (N, K), so K is the last axis for both operands); ``block``: the ``golden.BlockTensor``
    for block formats (then ``codes`` is None); ``scale``: scalar or (rows,) array.
    """
    codes: np.ndarray | None
    scale: np.ndarray | float
    block: object = None


def calibrate(samples, method: str = "max") -> float:
    """Absolute maximum of ``samples`` (``max``) or its percentile (``p99.9``)."""
    a = np.abs(np.asarray(samples, np.float64)).ravel()
    if a.size == 0:
        return 0.0
    if method == "max":
        return float(a.max())
    return float(np.percentile(a, float(method[1:])))


def scale_for(amax, spec: UnitSpec):
    """``amax / target`` (1 where amax is 0), elementwise for arrays."""
    amax = np.asarray(amax, np.float64)
    s = np.where(amax > 0, amax / spec.target, 1.0)
    return s if s.ndim else float(s)


def _encode(x, spec: UnitSpec):
    fmt = spec.element
    return fmt.encode(np.asarray(x, np.float64), rounding="rne", saturate=True)


def quantize_weight(w_nk, spec: UnitSpec) -> QTensor:
    """Quantise weights given as (N, K) (output channels x reduction)."""
    w = np.asarray(w_nk, np.float64)
    if spec.is_block:
        return QTensor(None, 1.0, golden.quantize(w, spec.fmt, axis=-1))
    if not spec.scaled:
        return QTensor(_encode(w, spec), 1.0)
    if spec.weight_granularity == "channel":
        s = scale_for(np.abs(w).max(axis=1), spec)
        return QTensor(_encode(w / s[:, None], spec), s)
    s = scale_for(np.abs(w).max(), spec)
    return QTensor(_encode(w / s, spec), s)


def quantize_act(x_mk, spec: UnitSpec, scale) -> QTensor:
    """Quantise activations (M, K) with the calibrated tensor ``scale`` (ignored for blocks)."""
    x = np.asarray(x_mk, np.float64)
    if spec.is_block:
        return QTensor(None, 1.0, golden.quantize(x, spec.fmt, axis=-1))
    if not spec.scaled:
        return QTensor(_encode(x, spec), 1.0)
    return QTensor(_encode(x / scale, spec), float(scale))
