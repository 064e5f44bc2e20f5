"""Error statistics of a K-deep GEMM through a tensor-core preset (``macforge error-stats
--preset``): random data quantised to the operand format, multiplied through the preset's
golden model (:func:`golden.matmul`, or one register over K without promotion), compared with
float64. Above :mod:`golden._presets` and :mod:`golden._dot`, which it uses."""
from __future__ import annotations

import numpy as np

from ._dot import matmul
from ._formats import FormatError
from ._presets import DISTS, PresetStats, fine_grained_quantize, get_preset, tensor_core_dot

__all__ = ["preset_stats"]


def preset_stats(preset="h100-fp8", k=4096, promote=True, m=64, n=64, fmt="e4m3",
                 dist="uniform", seed=0) -> PresetStats:
    """Quantise random data to ``fmt``, multiply through the preset, compare with float64.

    ``uniform``: U(0, 1) data (all products positive: the running sum grows like K, so the
    register's truncation relative to it is what DeepSeek-V3 observed); ``normal``: N(0, 1)
    (sums of mixed sign; the relative error of outputs near zero dominates the maximum).
    Data are scaled to the e4m3/e5m2 range by its own max (``encode`` rounds to nearest).
    """
    from ._registry import parse
    p = get_preset(preset)
    f = parse(fmt)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise FormatError(f"k must be a positive integer, not {k!r}")
    if dist not in DISTS:
        raise FormatError(f"unknown distribution {dist!r}; accepted: " + ", ".join(DISTS))
    rng = np.random.default_rng(seed)
    draw = (lambda s: rng.random(s)) if dist == "uniform" else (lambda s: rng.normal(size=s))
    fp32 = parse(p.acc)
    scales = None
    if p.scale_block:
        a, b, scales, va, vb = fine_grained_quantize(draw((m, k)), draw((n, k)).T, f, p)
    else:
        a = f.encode(draw((m, k)) * (f.max / 8))
        b = f.encode(draw((k, n)) * (f.max / 8))
        va, vb = f.decode(a), f.decode(b)
    exact = va @ vb                                    # products exact; the sum to 2^-52
    if promote:
        got = fp32.decode(matmul(a, b, f, fp32, preset=p.name, scales=scales))
    else:                                              # one register over K: not a golden.dot
        A = np.repeat(a[:, None, :], n, axis=1)        # (m, n, K) rows
        B = np.repeat(b.T[None, :, :], m, axis=0)
        zero = np.zeros((m, n), fp32.dtype)
        got = fp32.decode(tensor_core_dot(A, B, zero, f, p, promote=False, scales=scales))
    seq = np.zeros((m, n), np.float32)
    prods = (va[:, None, :] * vb.T[None, :, :]).astype(np.float32)    # exact in fp32
    # (scaled presets: va, vb are the dequantised values; their products round into fp32)
    for i in range(k):
        seq = seq + prods[:, :, i]
    nz = exact != 0
    rel = np.abs(got - exact)[nz] / np.abs(exact)[nz]
    rel32 = np.abs(seq.astype(np.float64) - exact)[nz] / np.abs(exact)[nz]
    return PresetStats(p.name, f.name, int(k), m, n, dist, seed, bool(promote),
                       float(rel.max()), float(rel.mean()),
                       float(np.abs(got - exact).max() / np.abs(exact).max()),
                       float(rel32.max()))
