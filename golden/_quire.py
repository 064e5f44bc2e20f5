"""The posit quire: an exact fixed-point accumulator, as state, for the posit MAC unit.

A quire of ``posit(n, es)`` has ``Q = n * 2^(es+2)`` bits (Posit Standard 2022: 16n for es = 2;
the older standard's n^2/2 for es = log2(n) - 3, i.e. SoftPosit's quire8 / quire16 / quire32):
a two's-complement integer in units of minpos^2 = 2^-(2 * max_scale), laid out as

    sign (1) | carry guard (2^(es+3) - 1) | integer (2 * max_scale) | fraction (2 * max_scale)

so every product of two posits is exactly a quire value, and at least 2^(2^(es+3) - 1) products
of maxpos^2 (2^31 for es = 2) add up without overflow. Beyond that the standard gives no
result; this model does what a Q-bit adder does: it wraps modulo 2^Q. The bit pattern 10...0 is
the quire's NaR; a NaR operand makes the quire NaR until it is cleared. (SoftPosit differs in
one corner: a sum that wraps exactly onto 10...0 becomes 0 there, NaR here.)

The state is a numpy ``uint32`` array of limbs, least significant first, on the last axis
(``Q / 32`` limbs, rounded up; bits above Q are zero). ``golden.dot(A, B, c, fmt, fmt)`` is the
same exact sum rounded once, without the wrap, for any length.
"""
from __future__ import annotations

import numpy as np

from ._exact import FINITE, NAN, resolve_rnd
from ._formats import FormatError, Rounding
from ._ops import _product
from ._posit import Posit, round_posit
from ._registry import parse

__all__ = ["quire_limbs", "quire_zero", "quire_step", "quire_read", "quire_to_int"]

_M32 = np.uint64(0xFFFF_FFFF)
_U1 = np.uint64(1)


def _posit(fmt) -> Posit:
    f = parse(fmt)
    if not isinstance(f, Posit):
        raise FormatError(f"the quire belongs to posit formats, not {f.name}")
    return f


def quire_limbs(fmt) -> int:
    """Number of 32-bit limbs of the quire of ``fmt``."""
    return -(-_posit(fmt).quire_bits // 32)


def quire_zero(fmt, shape=()) -> np.ndarray:
    """A cleared quire (value 0) of the given batch shape."""
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return np.zeros(shape + (quire_limbs(fmt),), np.uint32)


def _checked_state(f: Posit, q) -> np.ndarray:
    q = np.asarray(q)
    W = -(-f.quire_bits // 32)
    if q.ndim == 0 or q.shape[-1] != W or q.dtype.kind not in "ui":
        raise FormatError(f"a {f.name} quire is an unsigned integer array of {W} 32-bit limbs "
                          f"on its last axis, not shape {q.shape} {q.dtype}")
    q = q.astype(np.uint64)
    if np.any(q > _M32) or np.any(q[..., -1] >> np.uint64(f.quire_bits - 32 * (W - 1)) != 0):
        raise FormatError(f"quire limbs hold 32 bits each and {f.quire_bits} bits in all")
    return q


def _nar_pattern(f: Posit, W: int) -> np.ndarray:
    p = np.zeros(W, np.uint64)
    top = f.quire_bits - 1
    p[top // 32] = _U1 << np.uint64(top % 32)
    return p


def _add_limbs(x, y, carry, top_mask):
    """(x + y + carry) over the limbs (last axis), modulo 2^Q; carries ripple as in an adder."""
    out = np.empty_like(x)
    c = carry.astype(np.uint64)
    for i in range(x.shape[-1]):
        s = x[..., i] + y[..., i] + c
        out[..., i] = s & _M32
        c = s >> np.uint64(32)
    out[..., -1] &= top_mask
    return out


def quire_step(q, a, b, fmt, first=False, clear=False, sub=False) -> np.ndarray:
    """One MAC step: the quire after adding (``sub``: subtracting) the exact product ``a * b``.

    ``clear`` gives a cleared quire; ``first`` adds to a cleared quire instead of ``q``. The
    batch shape is the broadcast of ``q.shape[:-1]``, ``a``, ``b``, ``first``, ``clear``.

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> p8 = golden.parse("posit8")
    >>> q = golden.quire_zero(p8)
    >>> for x in (3.0, 0.125, -1.5):
    ...     q = golden.quire_step(q, p8.encode(x), p8.encode(x), p8)
    >>> golden.quire_to_int(q, p8) / 2**48            # exact: 9 + 1/64 + 2.25 (LSB 2^-48)
    11.265625
    >>> float(p8.decode(golden.quire_read(q, p8)))    # rounded once: posit8 has ulp 1 at 8..16
    11.0
    """
    f = _posit(fmt)
    q = _checked_state(f, q)
    W = q.shape[-1]
    a, b = f._checked(a), f._checked(b)
    first, clear, sub = (np.asarray(v, bool) for v in (first, clear, sub))
    shape = np.broadcast_shapes(q.shape[:-1], a.shape, b.shape, first.shape, clear.shape, sub.shape)
    q = np.broadcast_to(q, shape + (W,))
    a, b, first, clear, sub = (np.broadcast_to(v, shape) for v in (a, b, first, clear, sub))
    sign, m, e, kind = _product(f, f, a.astype(np.uint64), b.astype(np.uint64))
    nz = m != 0
    # place m * 2^(e + quire_frac) into limbs: m < 2^56 (two 28-bit significands) spans 3 limbs
    sh = np.where(nz, e + f.quire_frac_bits, 0)
    li = (sh // 32).astype(np.intp)
    bit = (sh % 32).astype(np.uint64)
    mm = np.where(nz, m, np.uint64(0))
    term = np.zeros(shape + (W + 3,), np.uint64)
    idx = np.indices(shape)
    term[(*idx, li)] = (mm & (_M32 >> bit)) << bit
    term[(*idx, li + 1)] = (mm >> (np.uint64(32) - bit)) & _M32
    term[(*idx, li + 2)] = (mm >> np.minimum(np.uint64(64) - bit, np.uint64(63))) & _M32
    term = term[..., :W]
    neg = sign ^ sub
    term = np.where(neg[..., None], ~term & _M32, term)       # subtract: add ~t + 1
    top_mask = (_U1 << np.uint64(f.quire_bits - 32 * (W - 1))) - _U1
    base = np.where(first[..., None], np.uint64(0), q)
    nxt = _add_limbs(base, term, neg, top_mask)
    pattern = _nar_pattern(f, W)
    was_nar = np.all(base == pattern, axis=-1)
    nar = was_nar | (kind == NAN)
    nxt = np.where(nar[..., None], pattern, nxt)
    nxt = np.where(clear[..., None], np.uint64(0), nxt)
    return nxt.astype(np.uint32)


def quire_read(q, fmt, rounding="rne", rnd=None, rnd_bits=None) -> np.ndarray:
    """Round the quire's value once into posit codes (NaR pattern -> NaR)."""
    f = _posit(fmt)
    q = _checked_state(f, q)
    W = q.shape[-1]
    shape = q.shape[:-1]
    rounding = Rounding.parse(rounding)
    rnd, R = resolve_rnd(rounding, rnd, rnd_bits, shape)
    top = f.quire_bits - 1
    neg = ((q[..., top // 32] >> np.uint64(top % 32)) & _U1) == _U1
    nar = np.all(q == _nar_pattern(f, W), axis=-1)
    top_mask = (_U1 << np.uint64(f.quire_bits - 32 * (W - 1))) - _U1
    inv = np.where(neg[..., None], ~q & _M32, q)               # |value| = ~q + 1 when negative
    mag = _add_limbs(inv, np.zeros_like(q), neg, top_mask)
    # the top two nonzero limbs give 62 bits; everything below is sticky
    padded = np.concatenate([np.zeros(shape + (1,), np.uint64), mag], axis=-1)
    nzl = padded != 0
    zero = ~nzl.any(axis=-1)
    h = np.where(zero, 1, W - np.argmax(nzl[..., ::-1], axis=-1))   # index in padded
    hi = np.take_along_axis(padded, h[..., None], -1)[..., 0]
    lo = np.take_along_axis(padded, (h - 1)[..., None], -1)[..., 0]
    w = (hi << np.uint64(32)) | lo
    m = w >> np.uint64(2)
    below = np.cumsum(nzl, axis=-1)                           # nonzero limbs at or below each index
    under = np.where(h >= 2, np.take_along_axis(below, np.maximum(h - 2, 0)[..., None], -1)[..., 0], 0)
    sticky = ((w & np.uint64(3)) != 0) | (under > 0)
    e = 32 * (h.astype(np.int64) - 2) + 2 - f.quire_frac_bits
    kind = np.where(nar, NAN, FINITE).astype(np.int8)
    return round_posit(f, neg & ~zero, np.where(zero, np.uint64(0), m), e, sticky & ~zero, kind,
                       rounding, rnd, R)


def quire_to_int(q, fmt) -> np.ndarray:
    """The quire's signed integer value (units of minpos^2) as Python ints (object array);
    None where the quire is NaR. For tests and debugging."""
    f = _posit(fmt)
    q = _checked_state(f, q)
    W = q.shape[-1]
    Q = f.quire_bits
    nar = np.all(q == _nar_pattern(f, W), axis=-1)

    def value(*limbs):
        u = sum(int(x) << (32 * i) for i, x in enumerate(limbs))
        return u - (1 << Q) if u >> (Q - 1) else u

    v = np.frompyfunc(value, W, 1)(*np.moveaxis(q, -1, 0))
    v = np.where(nar, None, v)
    return v if v.ndim else v[()]
