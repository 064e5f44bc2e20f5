"""``golden.dot``: the fused dot product, or a modelled tensor core's accumulation (a preset).

The exact dot product is :func:`golden._ops.dot`; a preset (:mod:`golden._presets`, e.g.
``"h100-fp8"``) replaces its single rounding by the tensor core's chunked accumulation. This
module sits above both so that neither imports the other.
"""
from __future__ import annotations

from ._formats import FormatError
from ._ops import dot as _exact_dot, dot_operands
from ._presets import preset_dot

__all__ = ["dot"]


def dot(A, B, c, fmt, acc, align=None, rounding="rne", rnd=None, rnd_bits=None,
        saturate=False, fmt_b=None, preset=None, scales=None):
    """N-lane fused dot product: round(sum(A[..., i] * B[..., i]) + c) once into ``acc``.

    ``A``, ``B``: codes shaped ``(..., N)`` (the dot runs over the last axis, lane-wise; leading
    axes broadcast with ``c``'s shape). ``align=W`` models tensor-core alignment: with ``emax``
    the largest exponent among the nonzero products and ``c``, every term is truncated toward
    zero to a multiple of 2^(emax-W), the truncated terms are summed exactly, then rounded once.
    ``preset`` (e.g. ``"h100-fp8"``) replaces the single rounding by a modelled tensor core's
    chunked accumulation (:mod:`golden._presets`); it supplies ``align`` and the rounding.
    ``scales = (sa, sb)``: the fp32 operand scales of a scaled preset (deepseek-fp8), one code
    per ``scale_block`` elements along K.

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> e4m3 = golden.parse("e4m3")
    >>> a = e4m3.encode([1.0, 2.0, 3.0]); b = e4m3.encode([0.5, 0.25, 2.0])
    >>> float(golden.parse("fp32").decode(golden.dot(a, b, 0, e4m3, "fp32")))
    7.0
    """
    if preset is None:
        if scales is not None:
            raise FormatError("scales apply to a scaled preset (preset='deepseek-fp8')")
        return _exact_dot(A, B, c, fmt, acc, align, rounding, rnd, rnd_bits, saturate, fmt_b)
    fa, fb, fc, A, B, c, _, rounding, _, _ = dot_operands(A, B, c, fmt, acc, align, rounding,
                                                          rnd, rnd_bits, fmt_b)
    return preset_dot(A, B, c, fa, fb, fc, preset, align, rounding, saturate, scales)
