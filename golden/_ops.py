"""Operations of docs/formats.md: mul, fma, add, dot (exact and ``align=W``), and the MAC step.

Each builds the exact result as a triple (see :mod:`golden._exact`) and rounds once with the
shared rounder. Inputs are codes and broadcast like numpy; results are codes of the output
format. Vectorised numpy throughout; loops run only over the lanes of a dot product and the
limbs of its accumulator, never over elements.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._exact import (FINITE, INF, NAN, ZERO_EXP, add_exact, bit_length, encode_float64, resolve_rnd,
                     round_to, sig_bits, unpack, _shr, _low_mask)
from ._formats import Format, FormatError, Rounding
from ._int import Int
from ._minifloat import Minifloat
from ._registry import parse

__all__ = ["mul", "fma", "add", "dot", "mac_step", "mul_triples", "sum_round"]

_MAX_PRODUCT_BITS = 62      # exact products live in uint64 with a spare top bit


def _product(fa: Format, fb: Format, a, b):
    """Exact product triple of codes a (fa) and b (fb): (sign, m, e, kind)."""
    if sig_bits(fa) + sig_bits(fb) > _MAX_PRODUCT_BITS:
        raise FormatError(f"exact products of {fa.name} x {fb.name} need "
                          f"{sig_bits(fa) + sig_bits(fb)} significand bits; "
                          f"supported up to {_MAX_PRODUCT_BITS} (e.g. fp32 x fp32)")
    return mul_triples(unpack(fa, a), unpack(fb, b))


def mul_triples(x, y):
    """Exact product of two (sign, m, e, kind) triples with IEEE specials: NaN in or inf x 0
    gives NaN, else an inf gives inf. ``m`` products must fit in 62 bits (callers check)."""
    sa, ma, ea, ka = x
    sb, mb, eb, kb = y
    sign = sa ^ sb
    m = ma * mb
    zero = m == 0
    e = np.where(zero, ZERO_EXP, ea + eb)
    a_inf, b_inf = ka == INF, kb == INF
    a_zero = (ka == FINITE) & (ma == 0)
    b_zero = (kb == FINITE) & (mb == 0)
    nan = (ka == NAN) | (kb == NAN) | (a_inf & b_zero) | (b_inf & a_zero)
    kind = np.where(nan, NAN, np.where(a_inf | b_inf, INF, FINITE)).astype(np.int8)
    return sign, m, e, kind


def _setup(rounding, rnd, rnd_bits, shape):
    rounding = Rounding.parse(rounding)
    rnd_arr, R = resolve_rnd(rounding, rnd, rnd_bits, shape)
    return rounding, rnd_arr, R


def _mul_general(fa, fb, fo, a, b, rounding, saturate, rnd, R):
    sign, m, e, kind = _product(fa, fb, a, b)
    return round_to(fo, sign, m, e, np.zeros(m.shape, bool), kind, rounding, saturate, rnd, R)


@lru_cache(maxsize=64)
def _mul_table(fa, fb, fo, rounding, saturate):
    """Every product of a small format pair, computed once by the general path."""
    a = np.repeat(fa.codes(), 1 << fb.bits)
    b = np.tile(fb.codes(), 1 << fa.bits)
    table = _mul_general(fa, fb, fo, a, b, rounding, saturate, None, 0)
    table.setflags(write=False)
    return table


def mul(a, b, fmt, out=None, rounding="rne", fmt_b=None, rnd=None, rnd_bits=None,
        saturate=False, output="codes"):
    """Round ``a * b`` once into ``out`` (default: ``fmt``); ``fmt_b`` for a mixed pair.

    Operands are codes, or arrays of the format's ml_dtypes type (``fmt.ml_dtype``, viewed as
    codes); ``output="ml_dtypes"`` returns the result as ``out``'s ml_dtypes type instead of
    codes (every operation of golden takes the same two conventions).

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> e4m3 = golden.parse("e4m3")
    >>> code = golden.mul(e4m3.encode(1.5), e4m3.encode(3.0), "e4m3", "e4m3")
    >>> float(e4m3.decode(code))
    4.5
    """
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    fo = parse(out) if out is not None else fa
    domain_mul = getattr(fa, "domain_mul", None)
    if domain_mul is not None:      # a family without exact triples multiplies in its own domain (LNS)
        return fo.output(domain_mul(a, b, fmt_b=fb, out=fo, rounding=rounding,
                                    saturate=saturate, rnd=rnd), output)
    a = fa._checked(a)
    b = fb._checked(b)
    shape = np.broadcast_shapes(a.shape, b.shape)
    rounding, rnd, R = _setup(rounding, rnd, rnd_bits, shape)
    if rounding is not Rounding.SR and fa.bits + fb.bits <= 16:
        # small pairs: one gather from the table of every product (16-bit index arithmetic)
        table = _mul_table(fa, fb, fo, rounding, bool(saturate))
        idx = a.astype(np.uint16) << np.uint16(fb.bits)
        idx = idx | b.astype(np.uint16, copy=False)      # broadcasts (a and b may differ in shape)
        return fo.output(table[idx], output)
    a, b = np.broadcast_arrays(a.astype(np.uint64), b.astype(np.uint64))
    return fo.output(_mul_general(fa, fb, fo, a, b, rounding, saturate, rnd, R), output)


def _sum_exact2(p, c, rounding):
    """Exact sum of two triples with kinds: (sign, m, e, sticky, kind)."""
    sp, mp, ep, kp = p
    sc, mc, ec, kc = c
    sign, m, e, sticky = add_exact(sp, mp, ep, sc, mc, ec, rounding)
    p_inf, c_inf = kp == INF, kc == INF
    nan = (kp == NAN) | (kc == NAN) | (p_inf & c_inf & (sp != sc))
    inf = p_inf | c_inf
    sign = np.where(p_inf, sp, np.where(c_inf, sc, sign))
    kind = np.where(nan, NAN, np.where(inf, INF, FINITE)).astype(np.int8)
    return sign, m, e, sticky, kind


def fma(a, b, c, fmt, acc, rounding="rne", rnd=None, rnd_bits=None, saturate=False,
        fmt_b=None, output="codes"):
    """Round ``a * b + c`` once into ``acc``; ``c`` is a code of ``acc``. ``output`` as in
    :func:`mul`."""
    return parse(acc).output(_fma(a, b, c, fmt, acc, rounding, rnd, rnd_bits, saturate, fmt_b),
                             output)


def _fma(a, b, c, fmt, acc, rounding, rnd, rnd_bits, saturate, fmt_b):
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    fc = parse(acc)
    a, b, c = np.broadcast_arrays(fa._checked(a), fb._checked(b), fc._checked(c))
    rounding, rnd, R = _setup(rounding, rnd, rnd_bits, a.shape)
    if isinstance(fc, Int) and isinstance(fa, Int) and isinstance(fb, Int):
        return _int_dot(fa, fb, fc, a[..., None], b[..., None], c, saturate)
    if _fast_fma_ok(fa, fb, fc, rounding):
        return _fma_round_to_odd(fa, fb, fc, a, b, c, rounding, saturate)
    return _fma_exact(fa, fb, fc, a, b, c, rounding, saturate, rnd, R)


def _fma_exact(fa, fb, fc, a, b, c, rounding, saturate, rnd, R):
    """The reference path: exact triples, one aligner, the shared rounder."""
    p = _product(fa, fb, a, b)
    sign, m, e, sticky, kind = _sum_exact2(p, unpack(fc, c), rounding)
    return round_to(fc, sign, m, e, sticky, kind, rounding, saturate, rnd, R)


def _fast_fma_ok(fa, fb, fc, rounding) -> bool:
    """Whether :func:`_fma_round_to_odd` is exact for these formats.

    Needs: the product exact in float64 (significands of at most 53 bits together), every
    value inside float64's normal range, and the accumulator at most 51 bits of precision
    (round-to-odd at 53 bits then rounds correctly to any precision <= 51, Boldo & Melquiond
    2008). SR needs bits below the rounding point and rdn a different zero sign: both take
    the exact path.
    """
    if rounding in (Rounding.SR, Rounding.RDN):
        return False
    fmts = (fa, fb, fc)
    if not all(isinstance(f, Minifloat) and f.subnormals for f in fmts):
        return False
    return (fa.precision + fb.precision <= 53 and fc.precision <= 51
            and all(f.emax < 500 and f.min_subnormal_exp > -500 for f in fmts))


@lru_cache(maxsize=64)
def _product_values(fa, fb):
    """float64 value of every product of a small format pair (exact: see _fast_fma_ok)."""
    with np.errstate(invalid="ignore"):
        t = np.multiply.outer(fa.decode(fa.codes()), fb.decode(fb.codes())).ravel()
    t.setflags(write=False)
    return t


def _fma_round_to_odd(fa, fb, fc, a, b, c, rounding, saturate):
    """a*b + c via float64: exact product, TwoSum, round-to-odd, then one rounding into fc."""
    with np.errstate(invalid="ignore", over="ignore"):
        if fa.bits + fb.bits <= 16:                    # every exact product, one gather
            idx = a.astype(np.uint16) << np.uint16(fb.bits)
            idx |= b.astype(np.uint16, copy=False)
            p = _product_values(fa, fb)[idx]
        else:
            p = fa.decode(a) * fb.decode(b)            # exact (see _fast_fma_ok)
        y = fc.decode(c)
        s = p + y
        bp = s - y                                     # TwoSum (Knuth): err = p + y - s exactly
        err = (p - bp) + (y - (s - bp))
    inexact = np.isfinite(s) & (err != 0)
    even = (s.view(np.int64) & 1) == 0
    bump = inexact & even                             # round to odd: move to the odd neighbour
    s = np.where(bump, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)
    return encode_float64(fc, s, rounding, saturate)


def add(x, y, fmt, out=None, rounding="rne", rnd=None, rnd_bits=None, saturate=False, fmt_y=None,
        output="codes"):
    """Round ``x + y`` once into ``out`` (default ``fmt``). ``output`` as in :func:`mul`."""
    fx = parse(fmt)
    fy = parse(fmt_y) if fmt_y is not None else fx
    fo = parse(out) if out is not None else fx
    x, y = np.broadcast_arrays(fx.check_codes(x), fy.check_codes(y))
    rounding, rnd, R = _setup(rounding, rnd, rnd_bits, x.shape)
    sign, m, e, sticky, kind = _sum_exact2(unpack(fx, x), unpack(fy, y), rounding)
    return fo.output(round_to(fo, sign, m, e, sticky, kind, rounding, saturate, rnd, R), output)


# ---------------------------------------------------------------------------------------------
# dot products
# ---------------------------------------------------------------------------------------------
_LIMB = 32
_M32 = np.uint64(0xFFFF_FFFF)
_CHUNK = 1 << 14


def _kulisch(sign, m, e):
    """Exact sum of K terms per row (arrays (R, K)): returns (sign, m, e, sticky, zero).

    A fixed-point accumulator of 32-bit limbs in int64 (room for 2^31 terms of carries),
    positioned per row at the smallest exponent; the top 62 bits of the magnitude and a
    sticky of everything below are returned, ready for the rounder.
    """
    rows, K = m.shape
    nz = m != 0
    big = np.int64(1) << 62
    E0 = np.where(nz, e, big).min(axis=1)
    E0 = np.where(E0 == big, 0, E0) - 2 * _LIMB                  # two empty limbs below
    off = np.where(nz, e - E0[:, None], 2 * _LIMB)
    top = int((off + 62).max()) if off.size else 0
    L = (top + int(K).bit_length() + 2) // _LIMB + 2
    acc = np.zeros((rows, L), np.int64)
    r = np.arange(rows)
    for k in range(K):
        mk = np.where(nz[:, k], m[:, k], np.uint64(0))
        li = (off[:, k] // _LIMB).astype(np.intp)
        sh = (off[:, k] % _LIMB).astype(np.uint64)
        p0 = (mk & (_M32 >> sh)) << sh
        p1 = (mk >> (np.uint64(_LIMB) - sh)) & _M32
        p2 = (mk >> np.minimum(np.uint64(64) - sh, np.uint64(63))) & _M32
        sg = np.where(sign[:, k], np.int64(-1), np.int64(1))
        acc[r, li] += sg * p0.astype(np.int64)
        acc[r, li + 1] += sg * p1.astype(np.int64)
        acc[r, li + 2] += sg * p2.astype(np.int64)

    def propagate(a):
        for i in range(L - 1):
            carry = a[:, i] >> _LIMB
            a[:, i] &= 0xFFFF_FFFF
            a[:, i + 1] += carry
        return a

    acc = propagate(acc)
    neg = acc[:, L - 1] < 0
    acc = propagate(np.where(neg[:, None], -acc, acc))
    nzl = acc != 0
    zero = ~nzl.any(axis=1)
    h = L - 1 - np.argmax(nzl[:, ::-1], axis=1)
    h = np.where(zero, 2, h)
    hi = acc[r, h].astype(np.uint64)
    mid = acc[r, h - 1].astype(np.uint64)
    lo = acc[r, h - 2].astype(np.uint64)
    bl = bit_length(hi)
    w = (hi << np.uint64(_LIMB)) | mid
    wide = bl >= 30
    k_dn = np.clip(bl - 30, 0, 63).astype(np.uint64)
    k_up = np.clip(30 - bl, 0, 31).astype(np.uint64)
    m_out = np.where(wide, w >> k_dn, (w << k_up) | (lo >> (np.uint64(_LIMB) - k_up)))
    st = np.where(wide, ((w & _low_mask(k_dn.astype(np.int64))) != 0) | (lo != 0),
                  (lo & _low_mask((np.uint64(_LIMB) - k_up).astype(np.int64))) != 0)
    below = np.logical_or.accumulate(nzl, axis=1)
    st |= np.where(h >= 3, below[r, np.maximum(h - 3, 0)], False)
    e_out = E0 + _LIMB * h + bl - 1 - 61
    return neg, np.where(zero, np.uint64(0), m_out), np.where(zero, ZERO_EXP, e_out), st & ~zero, zero


def _aligned_sum(sign, m, e, W):
    """docs/formats.md ``align=W``: truncate every term toward zero to a multiple of 2^(emax-W)."""
    nz = m != 0
    lead = np.where(nz, e + bit_length(m) - 1, np.iinfo(np.int64).min)
    emax = lead.max(axis=1)
    none = ~nz.any(axis=1)
    emax = np.where(none, 0, emax)
    base = emax - W
    shift = base[:, None] - e                                  # >0: drop bits; <=0: exact
    k = np.where(shift > 0, _shr(m, np.maximum(shift, 0)),
                 m << np.clip(-shift, 0, 63).astype(np.uint64))
    k = np.where(nz, k, np.uint64(0)).astype(np.int64)
    S = np.where(sign, -k, k).sum(axis=1)
    neg = S < 0
    mag = np.abs(S).astype(np.uint64)
    zero = mag == 0
    return neg, mag, np.where(zero, ZERO_EXP, base), np.zeros(neg.shape, bool), zero


def _int_dot(fa, fb, fc, A, B, c, saturate):
    """All-integer dot: exact integer sum, wrapped (two's complement) or saturated into fc."""
    va, vb, vc = fa.to_int(A), fb.to_int(B), fc.to_int(c)
    K = A.shape[-1] + 1
    bound = (max(abs(fa.min_int), fa.max_int) * max(abs(fb.min_int), fb.max_int) * K
             + max(abs(fc.min_int), fc.max_int))
    if bound < (1 << 63):
        s = (va * vb).sum(axis=-1) + vc
    elif not saturate:                      # wraps mod 2^64 then mod 2^n: still exact mod 2^n
        with np.errstate(over="ignore"):
            s = (va.astype(np.uint64) * vb.astype(np.uint64)).sum(axis=-1, dtype=np.uint64) \
                + vc.astype(np.uint64)
        return (s & np.uint64(fc.mask)).astype(fc.dtype)
    else:                                   # Python integers: exact at any width
        s = (va.astype(object) * vb.astype(object)).sum(axis=-1) + vc.astype(object)
        s = np.clip(s, fc.min_int, fc.max_int).astype(np.int64)
    return fc.from_int(s, saturate=saturate)


def dot_operands(A, B, c, fmt, acc, align, rounding, rnd, rnd_bits, fmt_b):
    """Validated, broadcast operands of a dot product: ``(fa, fb, fc, A, B, c, lead, rounding,
    rnd, R)`` with A, B shaped ``lead + (N,)`` and c shaped ``lead``."""
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    fc = parse(acc)
    A, B = np.broadcast_arrays(fa.check_codes(A), fb.check_codes(B))
    if A.ndim == 0:
        raise FormatError("dot needs operands of shape (..., N)")
    c = fc.check_codes(c)
    lead = np.broadcast_shapes(A.shape[:-1], c.shape)
    A = np.broadcast_to(A, lead + A.shape[-1:])
    B = np.broadcast_to(B, lead + B.shape[-1:])
    c = np.broadcast_to(c, lead)
    if align is not None and (not isinstance(align, (int, np.integer)) or not 0 <= align <= 56):
        raise FormatError(f"align must be an integer 0..56 (fraction bits kept), not {align!r}")
    rounding, rnd, R = _setup(rounding, rnd, rnd_bits, lead)
    return fa, fb, fc, A, B, c, lead, rounding, rnd, R


def dot(A, B, c, fmt, acc, align=None, rounding="rne", rnd=None, rnd_bits=None,
        saturate=False, fmt_b=None):
    """N-lane fused dot product: round(sum(A[..., i] * B[..., i]) + c) once into ``acc``.

    ``align=W`` models tensor-core alignment: with ``emax`` the largest exponent among the
    nonzero products and ``c``, every term is truncated toward zero to a multiple of
    2^(emax-W), the truncated terms are summed exactly, then rounded once. (The public
    ``golden.dot`` adds tensor-core presets, :mod:`golden._dot`.)
    """
    fa, fb, fc, A, B, c, lead, rounding, rnd, R = dot_operands(A, B, c, fmt, acc, align,
                                                                rounding, rnd, rnd_bits, fmt_b)
    if isinstance(fc, Int) and isinstance(fa, Int) and isinstance(fb, Int) and align is None:
        return _int_dot(fa, fb, fc, A, B, c, saturate)
    N = A.shape[-1]
    terms = _product(fa, fb, A.reshape(-1, N), B.reshape(-1, N))
    return sum_round(terms, unpack(fc, c.reshape(-1)), fc, align, rounding, saturate, rnd, R,
                     lead)


def sum_round(terms, c, fc, align, rounding, saturate, rnd, R, lead):
    """round(sum of the term triples of each row + c) once into ``fc`` (docs/formats.md ``dot``).

    ``terms``: (sign, m, e, kind) arrays shaped (rows, N); ``c``: triples shaped (rows,).
    The exact sum is the Kulisch accumulator, or the ``align=W`` truncated sum. Shared by
    :func:`dot` and the block dot product of ``_block``.
    """
    sp, mp, ep, kp = terms
    sc, mc, ec, kc = c
    sign = np.concatenate([sp, sc[:, None]], axis=1)
    m = np.concatenate([mp, mc[:, None]], axis=1)
    e = np.concatenate([ep, ec[:, None]], axis=1)
    kind = np.concatenate([kp, kc[:, None]], axis=1)
    rows = m.shape[0]
    out_sign = np.empty(rows, bool)
    out_m = np.empty(rows, np.uint64)
    out_e = np.empty(rows, np.int64)
    out_st = np.empty(rows, bool)
    out_zero = np.empty(rows, bool)
    summer = _kulisch if align is None else (lambda s, mm, ee: _aligned_sum(s, mm, ee, align))
    for lo in range(0, rows, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        out_sign[sl], out_m[sl], out_e[sl], out_st[sl], out_zero[sl] = summer(sign[sl], m[sl], e[sl])
    # zero results: all terms zero -> IEEE signed-zero sum; otherwise exact cancellation
    finite_zero_terms = (m == 0) & (kind == FINITE)
    all_zero = finite_zero_terms.all(axis=1)
    if rounding is Rounding.RDN:
        zsign = np.where(all_zero, sign.any(axis=1), True)
    else:
        zsign = np.where(all_zero, sign.all(axis=1), False)
    out_sign = np.where(out_zero, zsign, out_sign)
    # specials: NaN in, inf*0, or inf of both signs; else inf wins
    is_inf = kind == INF
    nan = (kind == NAN).any(axis=1) | ((is_inf & sign).any(axis=1) & (is_inf & ~sign).any(axis=1))
    inf = is_inf.any(axis=1)
    out_sign = np.where(inf, (is_inf & sign).any(axis=1), out_sign)
    out_kind = np.where(nan, NAN, np.where(inf, INF, FINITE)).astype(np.int8)
    rnd_flat = None if rnd is None else np.asarray(rnd).reshape(-1)
    codes = round_to(fc, out_sign, out_m, out_e, out_st, out_kind, rounding, saturate, rnd_flat, R)
    return codes.reshape(lead)


def mac_step(acc, a, b, fmt, acc_fmt, first=False, clear=False, fused=True, rounding="rne",
             rnd=None, rnd_bits=None, saturate=False, fmt_b=None, output="codes"):
    """One step of the MAC unit: the next accumulator codes.

    ``clear`` gives +0 (integer 0). Otherwise, where ``first``, a new sum starts: the step
    loads round(a*b) into ``acc_fmt``, exactly ``mul`` (adding -0 instead would differ under
    rdn, where +0 + -0 = -0). Elsewhere ``fused`` rounds a*b + acc once, and ``fused=False``
    rounds the product into ``acc_fmt`` first, then the sum (same rnd for both roundings).
    ``output`` as in :func:`mul`.
    """
    fc = parse(acc_fmt)
    acc = fc.check_codes(acc)
    first = np.asarray(first, bool)
    clear = np.asarray(clear, bool)
    p = mul(a, b, fmt, fc, rounding, fmt_b, rnd, rnd_bits, saturate)
    if fused:
        nxt = fma(a, b, acc, fmt, fc, rounding, rnd, rnd_bits, saturate, fmt_b)
    else:
        nxt = add(p, acc, fc, fc, rounding, rnd, rnd_bits, saturate)
    nxt = np.where(first, p, nxt)
    return fc.output(np.where(clear, np.zeros((), fc.dtype), nxt).astype(fc.dtype), output)
