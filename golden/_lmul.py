"""L-Mul (Luo & Sun, "Addition is All You Need for Energy-efficient Language Models", 2024).

On a minifloat with ``M`` mantissa bits, for nonzero finite ``x = (1 + xm) * 2^xe`` and
``y = (1 + ym) * 2^ye`` (subnormals first normalised exactly, so ``xe`` may lie below emin):

- ``variant="formula"`` (the paper's definition, docs/formats.md)::

      lmul(x, y) = (-1)^(sx ^ sy) * (1 + xm + ym + 2^-l(M)) * 2^(xe + ye)

  with ``l(M) = M`` for M <= 3, 3 for M = 4, 4 for M > 4. As integers with M fraction bits the
  significand is ``2^M + Xm + Ym + 2^(M - l(M))``: it can reach 3 + 2^-l, i.e. two integer bits.
- ``variant="intadd"`` (the bit-pattern adder, Mitchell-style): the integer
  ``R = ((xe + ye) << M) + Xm + Ym + 2^(M - l(M))`` is read back as exponent ``R >> M`` and
  mantissa ``R mod 2^M``: the mantissa carry goes into the exponent, so with
  ``s = xm + ym + 2^-l`` the result is ``(1 + s) * 2^(xe + ye)`` for ``s < 1``,
  ``s * 2^(xe + ye + 1)`` for ``1 <= s < 2`` (Mitchell's approximation plus the offset) and
  ``(s - 1) * 2^(xe + ye + 2)`` for ``s >= 2``, which needs an offset above 2 ulp (M > 4:
  e.g. bf16, offset 8 ulp). For normal operands and results this is exactly
  ``|x|_bits + |y|_bits - (bias << M) + 2^(M - l)`` on the codes.

Either value is exact (a triple), then rounded **once** into ``out`` (default: the input
format) with the shared rounder, so overflow, subnormal results and rounding modes follow
docs/formats.md. Zeros, infinities and NaN follow ``mul`` (0 * inf is NaN).
"""
from __future__ import annotations

import enum

import numpy as np

from ._exact import FINITE, INF, NAN, ZERO_EXP, bit_length, resolve_rnd, round_to, unpack
from ._formats import FormatError, Rounding, parse_enum
from ._minifloat import Minifloat
from ._ops import _sum_exact2
from ._registry import parse

__all__ = ["LmulVariant", "lmul_offset_bits", "lmul", "lmul_exact", "lmul_mac_step", "lmul_dot"]


class LmulVariant(enum.Enum):
    """Which L-Mul: the paper's formula, or the integer add of the bit patterns."""
    FORMULA = "formula"
    INTADD = "intadd"

    @classmethod
    def parse(cls, value) -> "LmulVariant":
        return parse_enum(cls, value, "L-Mul variant")


def lmul_offset_bits(M: int) -> int:
    """l(M) of the paper: the offset is 2^-l(M) (M for M <= 3, 3 for M = 4, 4 for M > 4)."""
    return M if M <= 3 else (3 if M == 4 else 4)


def _minifloat(fmt) -> Minifloat:
    f = parse(fmt)
    if not isinstance(f, Minifloat):
        raise FormatError(f"L-Mul is defined on minifloats (e<E>m<M>, fp16, bf16, ...), not {f.name}")
    return f


def lmul_exact(a, b, fmt, variant="formula"):
    """The exact (unrounded) L-Mul value of codes ``a``, ``b``: (sign, m, e, kind) triples."""
    f = _minifloat(fmt)
    variant = LmulVariant.parse(variant)
    a, b = np.broadcast_arrays(f.check_codes(a), f.check_codes(b))
    M = f.man_bits
    off = np.int64(1 << (M - lmul_offset_bits(M)))
    sa, ma, ea, ka = unpack(f, a)
    sb, mb, eb, kb = unpack(f, b)

    def normalise(m, e):
        # 1.xm * 2^xe with xm as an M-bit integer; exact for subnormals (shift left, no loss)
        bl = np.maximum(bit_length(m), 1)
        frac = (m << np.clip(M + 1 - bl, 0, 63).astype(np.uint64)).astype(np.int64) - (1 << M)
        return frac, e + bl - 1                          # (Xm, unbiased exponent of the leading one)

    xa, ea1 = normalise(ma, ea)
    xb, eb1 = normalise(mb, eb)
    if variant is LmulVariant.FORMULA:
        m = (1 << M) + xa + xb + off                     # < 2^(M+2): three integer values of 1.x
        e = ea1 + eb1 - M
    else:
        R = ((ea1 + eb1) << M) + xa + xb + off           # exponent and mantissa in one adder
        m = (1 << M) + (R & ((1 << M) - 1))
        e = (R >> M) - M
    a_zero = (ka == FINITE) & (ma == 0)
    b_zero = (kb == FINITE) & (mb == 0)
    zero = a_zero | b_zero
    a_inf, b_inf = ka == INF, kb == INF
    nan = (ka == NAN) | (kb == NAN) | (a_inf & b_zero) | (b_inf & a_zero)
    kind = np.where(nan, NAN, np.where(a_inf | b_inf, INF, FINITE)).astype(np.int8)
    special = zero | (kind != FINITE)
    m = np.where(special, np.uint64(0), m.astype(np.uint64))
    e = np.where(special, ZERO_EXP, e).astype(np.int64)
    return sa ^ sb, m, e, kind


def lmul(a, b, fmt, out=None, variant="formula", rounding="rne", saturate=False, rnd=None,
         rnd_bits=None) -> np.ndarray:
    """L-Mul of codes ``a`` and ``b`` of ``fmt``, rounded once into ``out`` (default ``fmt``).

    Examples
    --------
    >>> from macforge import golden
    >>> e4m3 = golden.parse("e4m3")
    >>> x, y = e4m3.encode(1.5), e4m3.encode(1.25)      # exact product 1.875
    >>> float(e4m3.decode(golden.lmul(x, y, e4m3)))      # 1 + 0.5 + 0.25 + 2^-3
    1.875
    >>> z = e4m3.encode(1.75)                            # exact product 3.0625
    >>> float(e4m3.decode(golden.lmul(z, z, e4m3)))      # 1 + 0.75 + 0.75 + 1/8 = 2.625 -> 2.5 (tie, even)
    2.5
    >>> float(e4m3.decode(golden.lmul(z, z, e4m3, variant="intadd")))   # carry: (0.75+0.75+1/8) * 2
    3.25
    """
    f = _minifloat(fmt)
    fo = parse(out) if out is not None else f
    sign, m, e, kind = lmul_exact(a, b, f, variant)
    rounding = Rounding.parse(rounding)
    rnd, R = resolve_rnd(rounding, rnd, rnd_bits, m.shape)
    return round_to(fo, sign, m, e, np.zeros(m.shape, bool), kind, rounding, saturate, rnd, R)


def lmul_mac_step(acc, a, b, fmt, acc_fmt="fp32", first=False, clear=False, variant="formula",
                  rounding="rne", saturate=False) -> np.ndarray:
    """One L-Mul MAC step: ``acc + lmul(a, b)`` with one rounding into ``acc_fmt``.

    The L-Mul value is exact (unrounded) when it is added; ``first`` and ``clear`` behave as in
    ``golden.mac_step``: ``first`` starts a sum with the L-Mul value rounded once into
    ``acc_fmt`` (as ``lmul(..., out=acc_fmt)``: no -0 addend, which would flip +0 under rdn);
    ``clear`` gives +0.
    """
    fc = parse(acc_fmt)
    acc = fc.check_codes(acc)
    first = np.asarray(first, bool)
    clear = np.asarray(clear, bool)
    rounding = Rounding.parse(rounding)
    if rounding is Rounding.SR:
        raise FormatError("lmul_mac_step supports the deterministic rounding modes")
    p = lmul_exact(a, b, fmt, variant)
    shape = np.broadcast_shapes(p[1].shape, acc.shape, first.shape, clear.shape)
    p = tuple(np.broadcast_to(v, shape) for v in p)
    addend = np.broadcast_to(acc, shape)
    sign, m, e, sticky, kind = _sum_exact2(p, unpack(fc, addend), rounding)
    nxt = round_to(fc, sign, m, e, sticky, kind, rounding, saturate)
    loaded = round_to(fc, p[0], p[1], p[2], np.zeros(shape, bool), p[3], rounding, saturate)
    nxt = np.where(first, loaded, nxt)
    return np.where(clear, np.zeros((), fc.dtype), nxt).astype(fc.dtype)


def lmul_dot(A, B, fmt, acc="fp32", c=None, variant="formula", rounding="rne",
             saturate=False) -> np.ndarray:
    """Attention-style dot product on the L-Mul MAC: lanes in order, one rounding per step.

    ``A``, ``B``: (..., N) codes of ``fmt``; ``c``: start value (codes of ``acc``; default the
    additive identity, so the first step loads the first product rounded once).
    """
    fc = parse(acc)
    A, B = np.broadcast_arrays(np.asarray(A), np.asarray(B))
    if A.ndim == 0:
        raise FormatError("lmul_dot needs operands of shape (..., N)")
    state = np.full(A.shape[:-1], fc.additive_identity if c is None else 0, fc.dtype)
    if c is not None:
        state = np.broadcast_to(fc.check_codes(c), A.shape[:-1]).astype(fc.dtype)
    for k in range(A.shape[-1]):             # lanes are sequential: one rounding per step
        state = lmul_mac_step(state, A[..., k], B[..., k], fmt, fc, variant=variant,
                              rounding=rounding, saturate=saturate)
    return state
