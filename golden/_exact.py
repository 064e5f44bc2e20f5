"""Exact values as integer triples, and the one rounder every operation shares.

An exact value is ``(-1)**sign * m * 2**e`` (plus ``sticky``: a nonzero remainder strictly
below the least significant bit of ``m``), held in numpy arrays: ``sign`` bool, ``m`` uint64
(< 2**63), ``e`` int64, ``sticky`` bool, and ``kind`` (FINITE / INF / NAN). Operations build
this triple exactly (products of significands are integers; sums use an aligner with a
borrow-correct sticky bit, or the Kulisch limb accumulator of ``_ops``), and :func:`round_to`
turns it into codes of any format: one rounding, by one piece of code, for every operation.
"""
from __future__ import annotations

import numpy as np

from ._formats import FormatError, Rounding, Format

__all__ = ["FINITE", "INF", "NAN", "ZERO_EXP", "unpack", "round_to", "encode_float64",
           "resolve_rnd", "bit_length", "add_exact", "sig_bits"]

FINITE, INF, NAN = 0, 1, 2
ZERO_EXP = np.int64(-(1 << 40))     # exponent given to zeros: below every real operand
_U1 = np.uint64(1)


def bit_length(m: np.ndarray) -> np.ndarray:
    """Bit length of uint64 values (0 for 0), vectorised and exact for all 64 bits."""
    m = np.asarray(m, dtype=np.uint64)
    bl = np.frexp(m.astype(np.float64))[1].astype(np.int64)   # may be one too high after rounding
    high = np.maximum(bl - 1, 0).astype(np.uint64)
    too_high = (bl > 0) & ((m >> high) == 0)
    return bl - too_high


def _shr(m, s):
    """m >> s for uint64 m and int64 s >= 0, with shifts of 64 or more giving 0."""
    s = np.asarray(s, dtype=np.int64)
    return np.where(s >= 64, np.uint64(0), m >> np.minimum(s, 63).astype(np.uint64))


def _low_mask(s):
    """(1 << s) - 1 as uint64 for 0 <= s; all ones for s >= 64."""
    s = np.asarray(s, dtype=np.int64)
    return np.where(s >= 64, np.uint64(0xFFFF_FFFF_FFFF_FFFF),
                    (_U1 << np.clip(s, 0, 63).astype(np.uint64)) - _U1)


def resolve_rnd(rounding: Rounding, rnd, rnd_bits, shape):
    """Return (rnd as uint64 broadcast to shape, R) for SR; (None, 0) otherwise."""
    if rounding is not Rounding.SR:
        return None, 0
    if rnd is None:
        raise FormatError("rounding 'sr' needs rnd= (a random integer in [0, 2^R) per element)")
    arr = np.asarray(rnd)
    if arr.dtype.kind not in "ui":
        raise FormatError(f"rnd must be an integer array, not {arr.dtype}")
    if rnd_bits is None:
        if arr.dtype.kind != "u":
            raise FormatError("rnd_bits= is required when rnd is a signed array "
                              "(or pass rnd as uint8/uint16/uint32 to use its width as R)")
        rnd_bits = arr.dtype.itemsize * 8
    if not isinstance(rnd_bits, (int, np.integer)) or not 1 <= int(rnd_bits) <= 32:
        raise FormatError(f"rnd_bits must be an integer 1..32, not {rnd_bits!r}")
    R = int(rnd_bits)
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= (1 << R)):
        raise FormatError(f"rnd values must lie in [0, 2^{R})")
    return np.broadcast_to(arr.astype(np.uint64), shape), R


# ---------------------------------------------------------------------------------------------
# unpack: codes -> exact triples
# ---------------------------------------------------------------------------------------------
def sig_bits(fmt: Format) -> int:
    """Bits of the integer significand ``m`` that :func:`unpack` produces for ``fmt``."""
    return fmt.exact_sig_bits


def unpack(fmt: Format, codes):
    """Codes -> (sign, m, e, kind): value = (-1)^sign * m * 2^e exactly for FINITE codes.

    Zeros have m = 0 and e = ZERO_EXP; INF and NAN codes have m = 0. Each format family
    implements ``Format.exact_unpack``; this is the one entry point the operations use.
    """
    return fmt.exact_unpack(fmt.check_codes(codes))


# ---------------------------------------------------------------------------------------------
# exact addition of two triples (one aligner, borrow-correct sticky)
# ---------------------------------------------------------------------------------------------
def add_exact(s1, m1, e1, s2, m2, e2, rounding: Rounding):
    """Exact sum of two finite triples whose significands have at most 62 bits.

    Returns (sign, m, e, sticky). Both operands are normalised to bit 62, so their least
    significant bit is 0 and a one-place alignment is exact; for larger shifts the smaller
    operand keeps 62 bits and lost bits become the sticky, subtracted as a borrow so that
    ``m + sticky`` brackets the exact magnitude from below (as an FMA datapath does).
    An exact zero gets IEEE 754's sign: +0 (rdn: -0) unless both operands are zeros of one sign.
    """
    z1, z2 = m1 == 0, m2 == 0
    bl1, bl2 = bit_length(m1), bit_length(m2)
    if (bl1.size and bl1.max() > 62) or (bl2.size and bl2.max() > 62):
        raise FormatError("exact addition supports significands of at most 62 bits")
    k1, k2 = (62 - bl1).clip(0), (62 - bl2).clip(0)
    n1 = np.where(z1, np.uint64(0), m1 << k1.astype(np.uint64))
    n2 = np.where(z2, np.uint64(0), m2 << k2.astype(np.uint64))
    f1 = np.where(z1, ZERO_EXP, e1 - k1)
    f2 = np.where(z2, ZERO_EXP, e2 - k2)
    first = (f1 > f2) | ((f1 == f2) & (n1 >= n2))
    sX, mX, eX = np.where(first, s1, s2), np.where(first, n1, n2), np.where(first, f1, f2)
    sY, mY, eY = np.where(first, s2, s1), np.where(first, n2, n1), np.where(first, f2, f1)
    d = eX - eY
    y = _shr(mY, d)
    st = (mY & _low_mask(d)) != 0
    same = sX == sY
    m = np.where(same, mX + y, mX - y - st.astype(np.uint64))
    both_zero = z1 & z2
    exact_zero = (m == 0) & ~st
    if rounding is Rounding.RDN:
        zsign = np.where(both_zero, s1 | s2, True)
    else:
        zsign = np.where(both_zero, s1 & s2, False)
    sign = np.where(exact_zero, zsign, sX)
    e = np.where(exact_zero, ZERO_EXP, eX)
    return sign, m, e, st


# ---------------------------------------------------------------------------------------------
# the rounder
# ---------------------------------------------------------------------------------------------
def _increment(rounding, sign, lsb, round_bit, below, t, rnd, R):
    if rounding is Rounding.RNE:
        return round_bit & (below | lsb)
    if rounding is Rounding.RNA:
        return round_bit
    if rounding is Rounding.RTZ:
        return np.zeros_like(round_bit)
    if rounding is Rounding.RUP:
        return ~sign & (round_bit | below)
    if rounding is Rounding.RDN:
        return sign & (round_bit | below)
    return (t + rnd) >= np.uint64(1 << R)           # SR: docs/formats.md "Rounding modes"


def _round_fields(m, e, sticky, s, sign, rounding, rnd, R, lsb_of):
    """Split ``m * 2^e`` at 2^(e+s): kept integer, and the rounding increment.

    ``s`` (int64) may be <= 0 (exact: kept = m << -s). ``lsb_of(kept)`` gives the bit that
    ties-to-even looks at (the code's last bit).
    """
    pos = s > 0
    sp = np.where(pos, s, 0)
    kept = np.where(pos, _shr(m, sp), m << np.clip(-s, 0, 63).astype(np.uint64))
    round_bit = pos & ((_shr(m, sp - 1) & _U1) == _U1)
    below = (pos & ((m & _low_mask(sp - 1)) != 0)) | sticky
    t = None
    if rounding is Rounding.SR:
        rem = m & _low_mask(sp)
        # t = floor(frac * 2^R) with frac = (rem + sticky) / 2^s
        short = sp < R
        if np.any(short & sticky):
            raise FormatError("stochastic rounding needs the R bits below the rounding point "
                              "exactly; this operation does not keep enough (lower rnd_bits)")
        t = np.where(short, rem << np.clip(R - sp, 0, 63).astype(np.uint64), _shr(rem, sp - R))
    inc = _increment(rounding, sign, lsb_of(kept), round_bit, below, t, rnd, R)
    return kept, inc


def round_to(fmt: Format, sign, m, e, sticky, kind, rounding: Rounding, saturate: bool,
             rnd=None, R=0) -> np.ndarray:
    """Round exact triples into codes of ``fmt`` (one rounding; docs/formats.md rules).

    ``kind`` NAN gives the canonical NaN (FormatError if ``fmt`` has none); INF gives +-inf,
    or +-max / NaN per the overflow rules where ``fmt`` has no inf. Shifts of any size are
    handled exactly: tiny values keep every bit SR needs, huge ones overflow.
    """
    sign = np.asarray(sign, bool)
    m = np.asarray(m, np.uint64)
    e = np.asarray(e, np.int64)
    sticky = np.asarray(sticky, bool)
    kind = np.asarray(kind, np.int8)
    return fmt.exact_round(sign, m, e, sticky, kind, rounding, saturate, rnd, R)


def _overflow_to_max(rounding, sign, saturate):
    if saturate:
        return np.ones(sign.shape, bool)
    if rounding is Rounding.RTZ:
        return np.ones(sign.shape, bool)
    if rounding is Rounding.RUP:
        return sign.copy()
    if rounding is Rounding.RDN:
        return ~sign
    return np.zeros(sign.shape, bool)


# ---------------------------------------------------------------------------------------------
# encode from float64
# ---------------------------------------------------------------------------------------------
def encode_float64(fmt: Format, x, rounding="rne", saturate=False, rnd=None, rnd_bits=None):
    """Round float64 values into codes of ``fmt`` (the public ``Format.encode``)."""
    rounding = Rounding.parse(rounding)
    x = np.asarray(x, dtype=np.float64)
    native = getattr(fmt, "native_dtype", None)
    if native is not None and rounding is Rounding.RNE and not saturate:
        # IEEE binary16/32: numpy's cast is RNE with IEEE overflow, exactly docs/formats.md's rule
        # (tests/test_golden_fastpaths.py proves it equal to the general rounder)
        with np.errstate(over="ignore"):
            codes = x.astype(native).view(fmt.dtype)
        return np.where(np.isnan(x), fmt.dtype.type(fmt.nan_code), codes)
    nan = np.isnan(x)
    if np.any(nan) and not fmt.has_nan:
        raise FormatError(f"{fmt.name} has no NaN; cannot encode NaN")
    inf = np.isinf(x)
    sign = np.signbit(x)
    frac, ex = np.frexp(np.where(nan | inf, 0.0, np.abs(x)))
    m = np.ldexp(frac, 53).astype(np.uint64)                  # exact: 53-bit significand
    e = np.where(m == 0, ZERO_EXP, ex.astype(np.int64) - 53)
    kind = np.where(nan, NAN, np.where(inf, INF, FINITE)).astype(np.int8)
    rnd_arr, R = resolve_rnd(rounding, rnd, rnd_bits, x.shape)
    return round_to(fmt, sign, m, e, np.zeros(x.shape, bool), kind, rounding, saturate, rnd_arr, R)
