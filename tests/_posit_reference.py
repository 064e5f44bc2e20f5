"""Scalar Fraction reference for rounding into and decoding posits, in every mode.

Written from the definition (Posit Standard 2022, and docs/formats.md for the modes beyond
its round-to-nearest), independent of ``golden/_posit.py``: a positive real ``x`` in
[minpos, maxpos) has the infinite bit string ``regime, exponent (es bits), fraction bits of
x / 2^scale - 1``; the code body is its first ``n - 1`` bits and the rest, read as a binary
fraction ``frac`` in [0, 1), decides the increment exactly as for every other format
(``_reference._round_up``: rne ties to the even code, rna away, rtz/rup/rdn directed by sign,
sr ``t = floor(frac * 2^R)``, up iff ``t + rnd >= 2^R``). Below minpos gives +-minpos, at or
above maxpos +-maxpos, in every mode; NaN and inf give NaR; zero gives 0 (no -0).
Only ``n`` and ``es`` are read from a format object.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from _reference import Val, _floor_log2, _round_up

__all__ = ["ref_decode", "posit_decode", "posit_round"]


@lru_cache(maxsize=1 << 20)
def ref_decode(code: int, n: int, es: int):
    """Value of a posit(n, es) code as a Fraction (None for NaR), read off its bit string."""
    mask = (1 << n) - 1
    code = int(code) & mask
    if code == 0:
        return Fraction(0)
    if code == 1 << (n - 1):
        return None
    neg = code >> (n - 1)
    if neg:
        code = (-code) & mask
    bits = format(code, f"0{n}b")[1:]
    run = len(bits) - len(bits.lstrip(bits[0]))
    k = run - 1 if bits[0] == "1" else -run
    rest = bits[run + 1:]
    e = int(rest[:es].ljust(es, "0"), 2) if es else 0
    frac = rest[es:]
    f = Fraction(int(frac, 2), 1 << len(frac)) if frac else Fraction(0)
    v = (1 + f) * Fraction(2) ** (k * (1 << es) + e)
    return -v if neg else v


def posit_decode(fmt, code: int) -> Val:
    """:func:`ref_decode` as a :class:`~_reference.Val` (NaR -> NaN; zero is +0)."""
    v = ref_decode(int(code), fmt.n, fmt.es)
    return Val("nan") if v is None else Val.num(v)


def posit_round(fmt, v: Val, mode: str = "rne", rnd=None, R=None) -> int:
    """Code of ``v`` rounded into posit(n, es) on the encoding (see the module docstring)."""
    n, es = fmt.n, fmt.es
    mask = (1 << n) - 1
    top = (n - 2) << es                            # log2 maxpos
    if v.kind != "num":
        return 1 << (n - 1)
    x = v.mag
    if x == 0:
        return 0
    s = _floor_log2(x)
    if s >= top:
        body = (1 << (n - 1)) - 1
    elif s < -top:
        body = 1
    else:
        k, e = s >> es, s & ((1 << es) - 1)
        if k >= 0:
            regime, length = ((1 << (k + 1)) - 1) << 1, k + 2       # k + 1 ones, then a 0
        else:
            regime, length = 1, -k + 1                              # -k zeros, then a 1
        f = x / Fraction(2) ** s - 1                                # [0, 1)
        string = (regime << es) + e + f                             # length + es bits, point after
        scaled = string * Fraction(2) ** (n - 1 - length - es)
        body = scaled.numerator // scaled.denominator
        rem = scaled - body                                         # frac, [0, 1)
        up = _round_up(mode, v.neg, rem.numerator, rem.denominator, bool(body & 1), rnd, R)
        body += up
    return (-body) & mask if v.neg else body
