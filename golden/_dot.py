"""``golden.dot``: the fused dot product, or a modelled tensor core's accumulation (a preset).

The exact dot product is :func:`golden._ops.dot`; a preset (:mod:`golden._presets`, e.g.
``"h100-fp8"``) replaces its single rounding by the tensor core's chunked accumulation. This
module sits above both so that neither imports the other.
"""
from __future__ import annotations

import numpy as np

from ._formats import FormatError
from ._ops import dot as _exact_dot, dot_operands
from ._presets import get_preset, preset_dot
from ._registry import parse

__all__ = ["dot", "matmul"]


def dot(A, B, c, fmt, acc, align=None, rounding="rne", rnd=None, rnd_bits=None,
        saturate=False, fmt_b=None, preset=None, scales=None, output="codes"):
    """N-lane fused dot product: round(sum(A[..., i] * B[..., i]) + c) once into ``acc``.

    ``A``, ``B``: codes shaped ``(..., N)`` (the dot runs over the last axis, lane-wise; leading
    axes broadcast with ``c``'s shape). ``align=W`` models tensor-core alignment: with ``emax``
    the largest exponent among the nonzero products and ``c``, every term is truncated toward
    zero to a multiple of 2^(emax-W), the truncated terms are summed exactly, then rounded once.
    ``preset`` (e.g. ``"h100-fp8"``) replaces the single rounding by a modelled tensor core's
    chunked accumulation (:mod:`golden._presets`); it supplies ``align`` and the rounding.
    ``scales = (sa, sb)``: the fp32 operand scales of a scaled preset (deepseek-fp8), one code
    per ``scale_block`` elements along K.
    ``c`` is a code of ``acc`` (its additive identity, ``parse(acc).additive_identity``, adds
    nothing). For matrices use :func:`matmul`. Operands may be ml_dtypes arrays and
    ``output="ml_dtypes"`` returns one (as in :func:`golden.mul`).

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
        res = _exact_dot(A, B, c, fmt, acc, align, rounding, rnd, rnd_bits, saturate, fmt_b)
    else:
        fa, fb, fc, A, B, c, _, rounding, _, _ = dot_operands(A, B, c, fmt, acc, align, rounding,
                                                              rnd, rnd_bits, fmt_b)
        res = preset_dot(A, B, c, fa, fb, fc, preset, align, rounding, saturate, scales)
    return parse(acc).output(res, output)


def matmul(A, B, fmt, acc, c=None, align=None, rounding="rne", rnd=None, rnd_bits=None,
           saturate=False, fmt_b=None, preset=None, scales=None, output="codes"):
    """Matrix product with every output element one :func:`dot`: ``C[..., i, j] =
    round(sum_k A[..., i, k] * B[..., k, j] + c[..., i, j])`` once into ``acc`` (or by the
    tensor-core ``preset``'s accumulation).

    ``A``: codes (or ml_dtypes values) of ``fmt`` shaped ``(..., M, K)``; ``B``: of ``fmt_b``
    (default ``fmt``) shaped ``(..., K, N)``; leading axes broadcast as in ``numpy.matmul``;
    ``c``: codes of ``acc`` broadcastable to ``(..., M, N)``, default the accumulator's
    additive identity (nothing added). Returns ``acc`` codes shaped ``(..., M, N)``. The
    work is M*N*K products at once, so memory grows with that product.
    ``scales = (sa, sb)`` (only with a scaled preset, deepseek-fp8, which requires them): fp32
    codes, ``sa`` one per 1 x 128 activation tile shaped ``(..., M, ceil(K / 128))``, ``sb``
    one per 128 x 128 weight block shaped ``(..., ceil(K / 128), ceil(N / 128))``; element
    ``(i, j)`` is :func:`dot` of row i and column j with scales ``sa[..., i, :]`` and
    ``sb[..., :, j // 128]``.

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> e4m3, fp32 = golden.parse("e4m3"), golden.parse("fp32")
    >>> A = e4m3.encode([[1.0, 2.0], [3.0, 4.0]]); B = e4m3.encode([[0.5, 1.0], [0.25, -1.0]])
    >>> fp32.decode(golden.matmul(A, B, e4m3, fp32))
    array([[ 1. , -1. ],
           [ 2.5, -1. ]])

    DeepSeek-V3's scaled GEMM: K = 256 is two 128-element tiles of A (scales 1, 2) and two
    128-row blocks of B's one 128-column block (scales 0.5, 4): 128 * 0.5 * (1 * 0.5 + 2 * 4).

    >>> A = e4m3.encode(np.ones((1, 256))); B = e4m3.encode(np.full((256, 2), 0.5))
    >>> sa = fp32.encode([[1.0, 2.0]]); sb = fp32.encode([[0.5], [4.0]])
    >>> fp32.decode(golden.matmul(A, B, e4m3, fp32, preset="deepseek-fp8", scales=(sa, sb)))
    array([[544., 544.]])
    """
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    fc = parse(acc)
    A, B = fa._checked(A), fb._checked(B)
    if A.ndim < 2 or B.ndim < 2 or A.shape[-1] != B.shape[-2]:
        raise FormatError(f"matmul needs A (..., M, K) and B (..., K, N), not {A.shape} and "
                         f"{B.shape}")
    if c is None:
        c = fc.additive_identity
    if scales is not None or (preset is not None and get_preset(preset).scale_block):
        scales = _matmul_scales(A.shape, B.shape, preset, scales)
    lanes_a = A[..., :, None, :]                      # (..., M, 1, K)
    lanes_b = np.swapaxes(B, -1, -2)[..., None, :, :]   # (..., 1, N, K)
    return dot(lanes_a, lanes_b, c, fa, fc, align=align, rounding=rounding, rnd=rnd,
               rnd_bits=rnd_bits, saturate=saturate, fmt_b=fb, preset=preset, scales=scales,
               output=output)


def _matmul_scales(a_shape, b_shape, preset, scales):
    """matmul's ``scales = (sa, sb)`` (tile and block scales) as :func:`dot`'s per-element
    scales: ``sa`` (..., M, 1, nb) and ``sb`` (..., 1, N, nb) with nb = ceil(K / block)."""
    if preset is None:
        raise FormatError("scales apply to a scaled preset (preset='deepseek-fp8')")
    p = get_preset(preset)
    if not p.scale_block:
        raise FormatError(f"preset {p.name} has no operand scales; use deepseek-fp8")
    (M, K), N, blk = a_shape[-2:], b_shape[-1], p.scale_block
    nb, nn = -(-K // blk), -(-N // blk)
    want = (f"sa (..., M, ceil(K/{blk})) = (..., {M}, {nb}) and "
            f"sb (..., ceil(K/{blk}), ceil(N/{blk})) = (..., {nb}, {nn})")
    if scales is None:
        raise FormatError(f"preset {p.name} takes scales=(sa, sb): fp32 codes, {want}")
    if not isinstance(scales, (tuple, list)) or len(scales) != 2:
        raise FormatError(f"scales must be a pair (sa, sb): fp32 codes, {want}")
    fs = parse(p.acc)
    sa, sb = fs._checked(scales[0]), fs._checked(scales[1])
    batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    for s_, tail in ((sa, (M, nb)), (sb, (nb, nn))):
        try:
            ok = s_.ndim >= 2 and s_.shape[-2:] == tail and \
                np.broadcast_shapes(batch, s_.shape[:-2]) == batch
        except ValueError:
            ok = False
        if not ok:
            raise FormatError(f"scales shaped {sa.shape} and {sb.shape}; A {a_shape} @ B "
                              f"{b_shape} takes {want}")
    sb_cols = np.repeat(sb, blk, axis=-1)[..., :N]             # (..., nb, N): block of column j
    return sa[..., :, None, :], np.swapaxes(sb_cols, -1, -2)[..., None, :, :]
