"""Operations on LNS codes: the product, the Gaussian-logarithm add and the LNS-Madam MAC.

The format itself (``Lns``: fields, exact decode/encode) is :mod:`golden._lns`; these are the
public operations on it, taking a format object or a name.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._formats import FormatError, storage_dtype
from ._lns import Lns, _bit_length, _boundary_bounds, _decide, _exp2_bounds, mul_fields
from ._registry import parse

__all__ = ["lns_mul", "lns_add", "lns_gauss_tables", "lns_mac_table", "lns_mac_terms",
           "lns_mac_step", "lns_acc_value"]


# ---------------------------------------------------------------------------------------------
# multiply and add in the log domain
# ---------------------------------------------------------------------------------------------
def lns_mul(a, b, fmt, rounding="rne") -> np.ndarray:
    """LNS product: add the L fields (saturating at L_max; below L_min + 1 is zero).

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> f = golden.parse("lns8f3")
    >>> x = f.encode(3.0)                   # L = round(8 * log2 3) = round(12.68) = 13
    >>> int(golden.mul(x, x, f))            # 13 + 13; the nearest code of 9 itself is 25
    26
    """
    return mul_fields(parse(fmt), a, b, rounding)


def _round_log2_interval(z_lo, z_hi, prec, F):
    """round(2^F * log2 z) for z in [z_lo, z_hi] / 2^prec (object arrays, z > 0), or None.

    z = 2^g * y with y in [1, 2): the answer is g * 2^F plus the number of boundaries
    B_j = 2^((2j+1)/2^(F+1)) not above y.
    """
    g_lo = _bit_length(z_lo).astype(np.int64) - 1 - prec
    g_hi = _bit_length(z_hi).astype(np.int64) - 1 - prec
    if not np.array_equal(g_lo, g_hi):
        return None                          # z straddles a power of two: more precision
    up = np.maximum(-g_lo, 0).astype(object)  # y = z * 2^-g, scaled by 2^prec
    dn = np.maximum(g_lo, 0).astype(object)
    y_lo = (z_lo << up) >> dn
    y_hi = -((-(z_hi << up)) >> dn)
    b_lo, b_hi = _boundary_bounds(F, prec)
    c_lo = np.searchsorted(b_hi, y_lo, side="right")         # boundaries surely <= y_lo
    c_hi = np.searchsorted(b_lo, y_hi, side="right")         # boundaries possibly <= y_hi
    if not np.array_equal(c_lo, c_hi):
        return None
    return (g_lo.astype(np.int64) << F) + c_lo


def lns_gauss_tables(fmt):
    """The Gaussian-logarithm tables (SB, DB) of an ``lns<N>f<F>`` format, int64, read-only.

    ``SB[d] = round(2^F * log2(1 + 2^(-d/2^F)))`` and ``DB[d] = round(2^F * log2(1 -
    2^(-d/2^F)))`` for ``0 <= d < len``, both zero for every larger ``d``; ``DB[0]`` (log 0)
    holds the sentinel ``-2^62``. Ties are impossible, so "round" needs no tie rule. The
    length is the first ``d`` from which both are zero: about ``2^F * (F + 1.53)`` entries
    (``2^F * log2(1 + 2^-t)`` falls below 1/2 once ``t > F + 1 + log2(1/ln 2)``).

    Examples
    --------
    >>> from macforge import golden
    >>> SB, DB = golden.lns_gauss_tables("lns8f3")
    >>> SB[:4].tolist(), DB[1:4].tolist()
    ([8, 8, 7, 7], [-29, -21, -17])
    """
    f = parse(fmt)
    if not isinstance(f, Lns):
        raise FormatError(f"Gaussian-logarithm tables belong to LNS formats, not {f.name}")
    return _gauss_tables(f.frac)


@lru_cache(maxsize=None)
def _gauss_tables(F: int):
    n_d = (1 << F) * (F + 3)                 # > 2^F * (F + 1.53): beyond the last nonzero entry
    d = np.arange(n_d, dtype=np.int64)
    q = d >> F
    r = d & ((1 << F) - 1)

    def attempt(prec):
        one = 1 << prec
        lo, hi = _exp2_bounds(F, prec)
        # w = 2^(-d/2^F) = 2^-(q+1) * 2^((2^F - r)/2^F) for r > 0, and exactly 2^-q for r = 0
        idx = np.where(r == 0, 0, (1 << F) - r)
        shift = np.where(r == 0, q, q + 1).astype(object)
        base_lo = np.where(r == 0, one, lo[idx])
        base_hi = np.where(r == 0, one, hi[idx])
        w_lo = base_lo // (2 ** shift)
        w_hi = -((-base_hi) // (2 ** shift))
        sb = _round_log2_interval(one + w_lo, one + w_hi, prec, F)
        if sb is None:
            return None
        k = d >= 1                           # DB[0] = log 0
        db = _round_log2_interval(one - w_hi[k], one - w_lo[k], prec, F)
        if db is None:
            return None
        return sb, np.concatenate([[-(1 << 62)], db])
    SB, DB = _decide(attempt, f"the Gaussian-logarithm tables of F={F}")
    # keep up to the first d from which both tables are zero (that entry included)
    last = max(int(np.nonzero(SB)[0].max(initial=-1)), int(np.nonzero(DB[1:])[0].max(initial=-1)) + 1)
    if last + 2 > n_d:                       # pragma: no cover - the bound above is a theorem
        raise FormatError("Gaussian-logarithm table longer than its bound")
    SB = SB[:last + 2].astype(np.int64)
    DB = DB[:last + 2].astype(np.int64)
    SB.setflags(write=False)
    DB.setflags(write=False)
    return SB, DB


def lns_add(x, y, fmt) -> np.ndarray:
    """LNS-domain sum of codes ``x`` and ``y`` with the Gaussian-logarithm tables.

    Equal to the nearest log code of the exact sum (then saturation / zero as in ``mul``);
    see the module docstring.

    Examples
    --------
    >>> from macforge import golden
    >>> f = golden.parse("lns8")
    >>> float(f.decode(golden.lns_add(f.encode(1.0), f.encode(1.0), f)))
    2.0
    """
    fmt = parse(fmt)
    x, y = np.broadcast_arrays(fmt.check_codes(x), fmt.check_codes(y))
    sx, Lx, zx = fmt.fields(x)
    sy, Ly, zy = fmt.fields(y)
    SB, DB = _gauss_tables(fmt.frac)
    swap = Ly > Lx
    s1, L1 = np.where(swap, sy, sx), np.where(swap, Ly, Lx)
    s2, L2 = np.where(swap, sx, sy), np.where(swap, Lx, Ly)
    d = np.minimum(L1 - L2, len(SB) - 1)     # the last entries are 0, as for every larger d
    same = s1 == s2
    cancel = ~same & (d == 0)                # x + (-x): +0
    out = fmt.pack(s1 & ~cancel, L1 + np.where(same, SB[d], DB[d]), cancel)
    # zero operands: the other operand unchanged; two zeros: -0 only if both are -0
    out = np.where(zx, y.astype(fmt.dtype), np.where(zy, x.astype(fmt.dtype), out))
    both = fmt.pack(sx & sy, np.full(x.shape, fmt.L_min), np.ones(x.shape, bool))
    return np.where(zx & zy, both, out).astype(fmt.dtype)


# ---------------------------------------------------------------------------------------------
# the LNS-Madam MAC
# ---------------------------------------------------------------------------------------------
def _check_mac_params(P, A):
    if not isinstance(P, (int, np.integer)) or not 0 <= P <= 60:
        raise FormatError(f"P (table fraction bits) must be an integer 0..60, not {P!r}")
    if not isinstance(A, (int, np.integer)) or not 2 <= A <= 62:
        raise FormatError(f"A (accumulator bits) must be an integer 2..62, not {A!r}")


@lru_cache(maxsize=None)
def _mac_table(F: int, P: int) -> np.ndarray:
    def attempt(prec):
        lo, hi = _exp2_bounds(F, prec)
        # rne(v * 2^P) = floor(v * 2^(P+1) + 1) >> 1; no ties (v irrational for r > 0; r = 0 exact)
        a = ((lo >> (prec - P - 1)) + 1) >> 1
        b = ((hi >> (prec - P - 1)) + 1) >> 1
        exact = np.zeros(len(lo), bool)
        exact[0] = True                      # 2^0 * 2^P is an integer
        if not np.array_equal(a[~exact], b[~exact]):
            return None
        a[0] = 1 << P
        return a.astype(np.uint64)
    t = _decide(attempt, f"the MAC table of F={F}, P={P}")
    t.setflags(write=False)
    return t


def lns_mac_table(fmt, P: int) -> np.ndarray:
    """The LNS-Madam table ``T[r] = rne(2^(r/2^F) * 2^P)``, r = 0..2^F-1 (uint64).

    Examples
    --------
    >>> from macforge import golden
    >>> golden.lns_mac_table("lns8f3", 8).tolist()      # 256 * 2^(r/8)
    [256, 279, 304, 332, 362, 395, 431, 470]
    """
    fmt = parse(fmt)
    _check_mac_params(P, 2)
    return _mac_table(fmt.frac, int(P))


def _terms(a, b, fmt, P):
    """(negative, magnitude uint64 mod 2^64, huge) of each product's linear term.

    ``huge`` marks terms whose magnitude T[r] * 2^q needs more than 62 bits (only possible for
    q > 0: such terms overflow every accumulator of at most 62 bits).
    """
    sa, La, za = fmt.fields(a)
    sb, Lb, zb = fmt.fields(b)
    F = fmt.frac
    L = La + Lb
    q = L >> F
    T = _mac_table(F, int(P))[L & ((1 << F) - 1)]
    zero = za | zb
    left = np.clip(q, 0, 63).astype(np.uint64)
    right = np.clip(-q, 0, 63).astype(np.uint64)
    mag = np.where(q >= 0, T << left, T >> right)            # >> truncates toward zero
    mag = np.where((q <= -64) | (q >= 64) | zero, np.uint64(0), mag)   # q >= 64: 0 mod 2^64
    huge = ~zero & (q > 0) & (q + (P + 2) > 62)
    return (sa ^ sb) & ~zero, mag, huge


def lns_mac_terms(a, b, fmt, P: int) -> np.ndarray:
    """Signed linear terms (int64, units of 2^-P) of the products ``a * b``; FormatError if a
    term needs more than 62 bits (use :func:`lns_mac_step`, which wraps or saturates)."""
    fmt = parse(fmt)
    _check_mac_params(P, 2)
    neg, mag, huge = _terms(a, b, fmt, P)
    if np.any(huge):
        raise FormatError(f"an {fmt.name} product term exceeds 62 bits at P={P}")
    v = mag.astype(np.int64)
    return np.where(neg, -v, v)


def lns_mac_step(acc, a, b, fmt, *, P: int, A: int, first=False, clear=False,
                 saturate=False) -> np.ndarray:
    """One LNS-Madam MAC step: the next A-bit accumulator codes (two's complement, units 2^-P).

    ``clear`` gives 0; ``first`` starts from 0 instead of ``acc``; otherwise
    ``acc + term(a * b)``, wrapping modulo 2^A, or clamped to [-2^(A-1), 2^(A-1) - 1] with
    ``saturate``. Read the value with :func:`lns_acc_value`.

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> f = golden.parse("lns8")
    >>> one, three = f.encode(1.0), f.encode(3.0)     # 3.0 -> L = 13 = 1*8 + 5
    >>> acc = golden.lns_mac_step(0, one, three, f, P=8, A=24, first=True)
    >>> golden.lns_acc_value(acc, P=8, A=24)           # T[5] * 2^1 / 2^8 = 395 / 128
    3.0859375
    """
    fmt = parse(fmt)
    _check_mac_params(P, A)
    mask = np.uint64((1 << A) - 1)
    acc = np.asarray(acc)
    if acc.dtype.kind not in "ui" or (acc.size and (int(acc.min()) < 0 or int(acc.max()) > int(mask))):
        raise FormatError(f"acc must be A={A}-bit codes (unsigned integers below 2^{A})")
    acc = acc.astype(np.uint64)
    first = np.asarray(first, bool)
    clear = np.asarray(clear, bool)
    neg, mag, huge = _terms(a, b, fmt, P)
    base = np.where(first, np.uint64(0), acc)
    if not saturate:
        with np.errstate(over="ignore"):                 # arithmetic modulo 2^64, then 2^A
            term = np.where(neg, ~mag + np.uint64(1), mag)
            nxt = (base + term) & mask
    else:
        half = 1 << (A - 1)
        bs = base.astype(np.int64)
        bs = np.where(bs >= half, bs - (1 << A), bs)
        big = huge | (mag >= np.uint64(1 << A))              # alone exceeds the range: clamps
        t = np.where(big, 0, mag.astype(np.int64))
        s = bs + np.where(neg, -t, t)                        # |s| < 2^63: A <= 62
        s = np.where(big, np.where(neg, -half, half - 1), np.clip(s, -half, half - 1))
        nxt = s.astype(np.uint64) & mask
    out = np.where(clear, np.uint64(0), nxt)
    return out.astype(storage_dtype(A))


def lns_acc_value(acc, P: int, A: int):
    """float64 value of A-bit accumulator codes in units of 2^-P (exact for |acc| < 2^53)."""
    _check_mac_params(P, A)
    v = np.asarray(acc).astype(np.int64)
    v = np.where(v >= (1 << (A - 1)), v - (1 << A), v)
    out = np.ldexp(v.astype(np.float64), -int(P))
    return out if out.ndim else float(out)
