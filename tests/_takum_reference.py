"""Exact, scalar reference for linear takums, written from the definition (Python ints, Fraction).

Independent of ``golden/_takum.py``: nothing here reads the golden module except the width
``n`` of a format object. A code is read **bit by bit**, negative codes included (no two's
complement): fields ``S | D | R (3) | C (r bits) | M``, ``r = R if D else 7 - R``, characteristic
``c = 2^r - 1 + C`` (D = 1) or ``-2^(r+1) + 1 + C`` (D = 0), bits past the end of a short code
zero, ``m = M / 2^len(M)``, and the value

    ((1 - 3S) + m) * 2^((1 - 2S) * (c + S))

which is ``(1 + m) * 2^c`` for S = 0 and ``-(2 - m) * 2^(-c - 1)`` for S = 1: the conversion of
the takum paper's algorithms as libtakum applies it to linear takums (read from the raw bits,
``e = (1 - 2s)(c + s)``, ``g = 1 - m``), in the Posit Standard's bit-level form. 0...0 is zero,
1 0...0 is NaR (None here).

Rounding searches the codes by value (the codes of one sign are ordered like their values, which
the tests check). The encoding's midpoint between n-bit codes ``c`` and ``c + 1`` is the value
of the (n+1)-bit code ``2c + 1`` (the bit string of ``c`` followed by a one; appending bits to a
takum never changes the bits before them); stochastic rounding reads the R bits under the cut
off the largest (n+R)-bit code not above the value. Clamps: ``|x| <= minpos`` gives minpos and
``|x| >= maxpos`` gives maxpos in every mode; NaN and inf give NaR.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from _reference import NAN, Val

__all__ = ["ref_decode", "ref_round", "ref_round_val", "ref_val", "ref_mul", "nar",
           "sorted_positive", "check", "MODES"]

MODES = ("rne", "rtz", "rna", "rup", "rdn", "sr")


def nar(n: int) -> int:
    return 1 << (n - 1)


@lru_cache(maxsize=1 << 21)
def ref_decode(code: int, n: int):
    """Value of an n-bit takum code as a Fraction (None for NaR), read off its raw bits."""
    if code == 0:
        return Fraction(0)
    if code == nar(n):
        return None
    bits = format(code, f"0{n}b")
    S, D, R = int(bits[0]), int(bits[1]), int(bits[2:5], 2)
    r = R if D else 7 - R
    after = bits[5:]                                   # n - 5 bits: C then M
    C = int((after + "0" * 7)[:r] or "0", 2)           # cut-off characteristic bits are zeros
    mbits = after[r:]
    c = (2 ** r - 1 + C) if D else (-(2 ** (r + 1)) + 1 + C)
    m = Fraction(int(mbits, 2), 2 ** len(mbits)) if mbits else Fraction(0)
    return ((1 - 3 * S) + m) * Fraction(2) ** ((1 - 2 * S) * (c + S))


def _largest_at_most(x: Fraction, lo: int, hi: int, n: int) -> int:
    """Largest positive n-bit code in [lo, hi) whose value is <= x (value(lo) <= x assumed)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ref_decode(mid, n) <= x:
            lo = mid
        else:
            hi = mid
    return lo


def ref_round(x, n: int, mode: str = "rne", rnd: int | None = None, R: int | None = None) -> int:
    """n-bit takum code of x: a Fraction, or None for NaN / inf (-> NaR)."""
    if x is None:
        return nar(n)
    if x == 0:
        return 0
    neg = x < 0
    ax = abs(x)
    maxc = nar(n) - 1
    if ax >= ref_decode(maxc, n):
        mag = maxc
    elif ax <= ref_decode(1, n):
        mag = 1
    else:
        c = _largest_at_most(ax, 1, maxc, n)           # v(c) <= ax < v(c + 1)
        if ref_decode(c, n) == ax:
            mag = c
        elif mode in ("rne", "rna"):
            mid = ref_decode(2 * c + 1, n + 1)
            if ax != mid:
                mag = c if ax < mid else c + 1
            else:
                mag = c + 1 if mode == "rna" or c % 2 else c
        elif mode == "rtz":
            mag = c
        elif mode == "rup":
            mag = c if neg else c + 1
        elif mode == "rdn":
            mag = c + 1 if neg else c
        elif mode == "sr":
            wide = _largest_at_most(ax, c << R, (c + 1) << R, n + R)
            t = wide - (c << R)                        # floor(fraction of the cut * 2^R)
            mag = c + 1 if t + rnd >= 1 << R else c
        else:
            raise ValueError(mode)
    return (-mag) & ((1 << n) - 1) if neg else mag


def ref_val(code: int, n: int) -> Val:
    """A takum code as a ``_reference.Val`` (takum zero is +0)."""
    v = ref_decode(int(code), n)
    return NAN if v is None else Val.num(v)


def ref_round_val(v: Val, n: int, mode: str = "rne", rnd=None, R=None) -> int:
    """``ref_round`` of a ``_reference.Val`` (NaN and +-inf give NaR; a zero of either sign 0)."""
    if v.kind != "num":
        return nar(n)
    return ref_round(v.signed_value, n, mode, rnd, R)


def ref_mul(a: int, b: int, n: int, mode: str = "rne", rnd=None, R=None) -> int:
    x, y = ref_decode(int(a), n), ref_decode(int(b), n)
    return ref_round(None if x is None or y is None else x * y, n, mode, rnd, R)


@lru_cache(maxsize=None)
def sorted_positive(n: int):
    """(values, codes) of the positive codes 1 .. maxpos, ascending by value (as Fractions)."""
    pairs = sorted((ref_decode(c, n), c) for c in range(1, nar(n)))
    return [v for v, _ in pairs], [c for _, c in pairs]


def check(what: str, got, want, **inputs) -> int:
    """Assert equal code arrays; print the inputs of the first mismatches in hex. Returns the
    number of vectors compared (always > 0)."""
    got = np.asarray(got).astype(np.uint64).ravel()
    want = np.asarray(want).astype(np.uint64).ravel()
    assert got.shape == want.shape and got.size > 0, f"{what}: compared no vectors"
    bad = np.flatnonzero(got != want)
    if bad.size:
        rows = []
        for i in bad[:10]:
            cols = " ".join(f"{k}={int(np.asarray(v).ravel()[i]):#x}" for k, v in inputs.items())
            rows.append(f"  {cols} expected={int(want[i]):#x} got={int(got[i]):#x}")
        raise AssertionError(f"{what}: {bad.size} of {got.size} differ\n" + "\n".join(rows))
    return int(got.size)
