"""Exact, scalar reference arithmetic for the golden-model tests.

Independent of ``golden``'s code: everything below is Python ints and :class:`fractions.Fraction`,
written straight from docs/formats.md ("Value semantics", "Operations"). The only thing
read from a golden format object is its *defining fields* (``exp_bits``, ``man_bits``, ``bias``,
``specials``, ``signed``, ``subnormals`` for minifloats; ``n``, ``signed`` for integers); every
derived quantity (max, NaN codes, rounding grid) is recomputed here. It is meant to be obviously
correct, not fast. A few numpy helpers at the end (NaN masks, hex printing) serve the tests.

Values are :class:`Val`: ``kind`` is ``"num"``, ``"inf"`` or ``"nan"``; ``neg`` the sign (kept for
zeros); ``mag`` the exact magnitude as a Fraction (0 for inf/NaN).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

__all__ = [
    "Val", "NAN", "Spec", "spec_of", "decode", "from_float", "to_float", "round_val", "encode",
    "mul_val", "sum_vals", "fma_ref", "mul_ref", "dot_ref", "dot_terms", "nan_mask",
    "canon_codes", "hexrows", "check_codes", "check_nan_sign", "ReferenceUndefined", "MODES",
]

MODES = ("rne", "rtz", "rna", "rup", "rdn", "sr")


class ReferenceUndefined(ValueError):
    """The contract leaves this input undefined (e.g. 0 into a format with no zero)."""


@dataclass(frozen=True)
class Val:
    kind: str            # "num" | "inf" | "nan"
    neg: bool = False
    mag: Fraction = Fraction(0)

    @property
    def is_zero(self) -> bool:
        return self.kind == "num" and self.mag == 0

    @property
    def signed_value(self) -> Fraction:
        assert self.kind == "num"
        return -self.mag if self.neg else self.mag

    @staticmethod
    def num(x: Fraction, neg_zero: bool = False) -> "Val":
        x = Fraction(x)
        if x == 0:
            return Val("num", neg_zero, Fraction(0))
        return Val("num", x < 0, abs(x))


NAN = Val("nan")


# ------------------------------------------------------------------------------------------
# Format description, read off the defining fields only
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """The defining fields of a format, plus derived facts computed here from first principles."""
    kind: str                 # "float" | "int"
    bits: int
    signed: bool
    E: int = 0
    M: int = 0
    bias: int = 0
    specials: str = "ieee"    # "ieee" | "fn" | "fnuz" | "none"
    subnormals: bool = True

    # --- minifloat facts -------------------------------------------------------------
    @property
    def mag_bits(self) -> int:
        return self.E + self.M

    @property
    def sign_bit(self) -> int:
        return 1 << self.mag_bits if self.signed else 0

    @property
    def emin(self) -> int:
        """Exponent of the smallest binade whose values have an implicit leading one."""
        return 1 - self.bias if self.subnormals else -self.bias

    @property
    def max_mag_code(self) -> int:
        """Largest magnitude code whose decode is finite (found by search, not by formula)."""
        return _max_mag_code(self)

    @property
    def max(self) -> Fraction:
        return _max_of(self)

    @property
    def has_inf(self) -> bool:
        return self.specials == "ieee"

    @property
    def has_nan(self) -> bool:
        # Searches the codes' decodes rather than trusting a rule.
        return _has_nan(self)

    @property
    def has_neg_zero(self) -> bool:
        return self.signed and self.subnormals and self.specials != "fnuz"

    @property
    def has_zero(self) -> bool:
        return self.subnormals

    @property
    def min_int(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1


def spec_of(fmt) -> Spec:
    """Spec from a golden format object's defining fields (or a Spec, returned as is)."""
    if isinstance(fmt, Spec):
        return fmt
    hit = _SPEC_BY_ID.get(id(fmt))
    if hit is None or hit[0] is not fmt:
        hit = _SPEC_BY_ID[id(fmt)] = (fmt, _spec_of_cached(fmt))
    return hit[1]


_SPEC_BY_ID: dict = {}


@lru_cache(maxsize=None)
def _spec_of_cached(fmt) -> Spec:
    if hasattr(fmt, "exp_bits"):
        specials = getattr(fmt.specials, "value", fmt.specials)
        specials = str(specials).lower()
        assert specials in ("ieee", "fn", "fnuz", "none"), specials
        E, M = int(fmt.exp_bits), int(fmt.man_bits)
        signed = bool(fmt.signed)
        return Spec("float", int(signed) + E + M, signed, E, M, int(fmt.bias), specials,
                    bool(fmt.subnormals))
    if hasattr(fmt, "n"):
        return Spec("int", int(fmt.n), bool(fmt.signed))
    raise TypeError(f"no reference for format {fmt!r}")


# ------------------------------------------------------------------------------------------
# Decoding
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _pow2(k: int) -> Fraction:
    """2^k exactly."""
    return Fraction(1 << k) if k >= 0 else Fraction(1, 1 << -k)


def _mag_is_special(s: Spec, mag: int, neg: bool):
    """'inf', 'nan' or None for a magnitude code (with sign ``neg``) per docs/formats.md."""
    e_field, m_field = mag >> s.M, mag & ((1 << s.M) - 1)
    if s.specials == "ieee":
        if e_field == (1 << s.E) - 1:
            return "inf" if m_field == 0 else "nan"
    elif s.specials == "fn":
        if mag == (1 << s.mag_bits) - 1:          # all-ones magnitude, either sign
            return "nan"
    elif s.specials == "fnuz":
        if neg and mag == 0:                      # the sign bit alone
            return "nan"
    return None


def decode_mag(s: Spec, mag: int) -> Fraction:
    """Finite magnitude of a (non-special) magnitude code."""
    e_field, m_field = mag >> s.M, mag & ((1 << s.M) - 1)
    if s.subnormals and e_field == 0:
        return Fraction(m_field) * _pow2(1 - s.bias - s.M)
    return Fraction((1 << s.M) + m_field) * _pow2(e_field - s.bias - s.M)


@lru_cache(maxsize=None)
def _max_mag_code(s: Spec) -> int:
    # Specials only ever occupy the all-ones magnitude or the all-ones exponent field, so the
    # largest finite magnitude is the first non-special among these, in descending order.
    top = (1 << s.mag_bits) - 1
    below_top_exponent = (((1 << s.E) - 2) << s.M) | ((1 << s.M) - 1)
    for mag in (top, top - 1, below_top_exponent):
        if _mag_is_special(s, mag, False) is None:
            return mag
    raise AssertionError(s)


@lru_cache(maxsize=None)
def _max_of(s: Spec) -> Fraction:
    return decode_mag(s, _max_mag_code(s))


@lru_cache(maxsize=None)
def _has_nan(s: Spec) -> bool:
    top = (1 << s.mag_bits) - 1
    cands = [top, top - 1, 0, (top >> s.M) << s.M | (1 << max(s.M - 1, 0))]
    return any(_mag_is_special(s, m, neg) == "nan" for m in cands for neg in (False, True)
               if 0 <= m <= top and (neg is False or s.signed))


def decode(fmt, code: int) -> Val:
    return _decode(spec_of(fmt), int(code))


@lru_cache(maxsize=1 << 18)
def _decode(s: Spec, code: int) -> Val:
    assert 0 <= code < (1 << s.bits), (code, s)
    if s.kind == "int":
        v = code - (1 << s.bits) if (s.signed and code >> (s.bits - 1)) else code
        return Val.num(Fraction(v))
    neg = bool(s.signed and (code >> s.mag_bits) & 1)
    mag = code & ((1 << s.mag_bits) - 1)
    sp = _mag_is_special(s, mag, neg)
    if sp == "nan":
        return NAN
    if sp == "inf":
        return Val("inf", neg)
    return Val("num", neg, decode_mag(s, mag))


def from_float(x: float) -> Val:
    x = float(x)
    if math.isnan(x):
        return NAN
    if math.isinf(x):
        return Val("inf", x < 0)
    if x == 0:
        return Val("num", math.copysign(1.0, x) < 0, Fraction(0))
    return Val.num(Fraction(x))


def to_float(v: Val) -> float:
    if v.kind == "nan":
        return math.nan
    if v.kind == "inf":
        return -math.inf if v.neg else math.inf
    f = float(v.mag)
    return -f if v.neg else f


# ------------------------------------------------------------------------------------------
# Rounding an exact value into a format
# ------------------------------------------------------------------------------------------
def _floor_log2(x: Fraction) -> int:
    """floor(log2 x) for x > 0, exactly (integer comparisons only)."""
    num, den = x.numerator, x.denominator
    e = num.bit_length() - den.bit_length()          # 2^(e-1) < x < 2^(e+1)
    # is 2^e <= num/den ?
    if e >= 0:
        below = num < (den << e)
    else:
        below = (num << -e) < den
    return e - 1 if below else e


def _round_up(mode: str, neg: bool, rem: int, D: int, down_is_odd: bool, rnd, R) -> bool:
    """Whether the magnitude rounds up, given its position frac = rem/D in [0, 1) between the
    two neighbours, in ulps."""
    if rem == 0:
        return False                                  # exact: never changes
    if mode == "rtz":
        return False
    if mode == "rup":
        return not neg
    if mode == "rdn":
        return neg
    if mode == "rne":                                 # frac > 1/2, or a tie and odd below
        return 2 * rem > D or (2 * rem == D and down_is_odd)
    if mode == "rna":                                 # frac >= 1/2
        return 2 * rem >= D
    if mode == "sr":
        # docs/formats.md: t = floor(frac * 2^R); round up iff t + rnd >= 2^R.
        assert rnd is not None and R is not None and 0 <= rnd < (1 << R), (rnd, R)
        t = (rem << R) // D
        return t + rnd >= (1 << R)
    raise ValueError(mode)


def _code_of_mag(s: Spec, sig: int, e: int) -> int:
    """Magnitude code of the representable value sig * 2^(e - M), where sig < 2^M only in the
    subnormal binade (e = emin)."""
    if sig < (1 << s.M):
        assert s.subnormals and e == s.emin and sig > 0, (sig, e)
        code = sig                                        # exponent field 0
    else:
        assert sig < (1 << (s.M + 1)), sig
        e_field = e + s.bias
        assert 0 <= e_field < (1 << s.E), (sig, e)
        code = (e_field << s.M) | (sig - (1 << s.M))
    assert decode_mag(s, code) == sig * _pow2(e - s.M)    # self-check against decode
    return code


def _nan_code(s: Spec) -> int:
    """Canonical NaN: sign bit 0 where the format allows (docs/formats.md); IEEE quiet NaN pattern
    (tests compare NaNs canonicalised, so only 'is NaN' and the sign matter)."""
    if s.specials == "ieee":
        return (((1 << s.E) - 1) << s.M) | (1 << (s.M - 1))
    if s.specials == "fnuz":
        return s.sign_bit
    if s.specials == "fn":
        return (1 << s.mag_bits) - 1
    raise ReferenceUndefined("format has no NaN")


def _with_sign(s: Spec, neg: bool, mag_code: int) -> int:
    if neg and s.signed and not (mag_code == 0 and not s.has_neg_zero):
        return s.sign_bit | mag_code
    if neg and not s.signed and mag_code != 0:
        raise ReferenceUndefined("negative value into an unsigned format")
    return mag_code


def _overflow_code(s: Spec, neg: bool, to_inf: bool) -> int:
    """Code for an overflowed result: ±inf if ``to_inf`` (else ±max); a format without inf gives
    NaN if it has NaN, else ±max."""
    if not to_inf:
        return _with_sign(s, neg, s.max_mag_code)
    if s.has_inf:
        return _with_sign(s, neg, ((1 << s.E) - 1) << s.M)
    if s.has_nan:
        return _nan_code(s)
    return _with_sign(s, neg, s.max_mag_code)


def round_val(fmt, v: Val, mode: str = "rne", saturate: bool = False, rnd=None, R=None,
              inf_saturates: bool = False) -> int:
    """Code of ``v`` rounded into ``fmt`` per docs/formats.md.

    ``inf_saturates``: how an *infinite* input is treated under ``saturate=True`` (the contract
    only says "clamp to ±max finite" for results that round beyond ±max; callers choose).
    """
    s = spec_of(fmt)
    if s.kind == "int":
        return _round_int(s, v, mode, saturate, rnd, R)
    if v.kind == "nan":
        if not s.has_nan:
            raise ReferenceUndefined("NaN into a format without NaN is an error")
        return _nan_code(s)
    if v.kind == "inf":
        if saturate and inf_saturates:
            return _with_sign(s, v.neg, s.max_mag_code)
        # inf is not an overflow of a finite result: it stays inf where possible, else NaN, else
        # (FP6/FP4: no inf, no NaN) clamps to ±max (as ml_dtypes does).
        return _overflow_code(s, v.neg, True)
    x = v.mag
    if x == 0:
        if not s.has_zero:
            raise ReferenceUndefined("zero into a format without zero")
        return _with_sign(s, v.neg, 0)
    e = _floor_log2(x)
    if e < s.emin:
        if not s.subnormals:
            raise ReferenceUndefined("value below the smallest magnitude of a format with no zero")
        e_eff = s.emin                      # subnormal range: fixed quantum
    else:
        e_eff = e
    # Position of x on the grid of its binade (unbounded exponent), ulp q = 2^(e_eff - M):
    # x / q = lo + rem/D with 0 <= rem < D, in integers.
    sh = s.M - e_eff
    N = x.numerator << sh if sh >= 0 else x.numerator
    D = x.denominator if sh >= 0 else x.denominator << -sh
    lo, rem = divmod(N, D)
    # Parity of the lower neighbour's *code*: the significand integer's LSB for M >= 1 (also
    # across binade edges, where lo = 2^(M+1)-1 is odd and the upper code has mantissa 0); for
    # M = 0 the significand is always 1 and the code LSB is the exponent field's.
    if lo == 0:
        down_odd = False
    elif s.M >= 1:
        down_odd = bool(lo & 1)
    else:
        down_odd = bool((e_eff + s.bias) & 1)
    up = _round_up(mode, v.neg, rem, D, down_odd, rnd, R)
    sig, e_r = (lo + 1 if up else lo), e_eff
    if sig == 1 << (s.M + 1):               # carried into the next binade
        sig, e_r = 1 << s.M, e_eff + 1
    r = sig * _pow2(e_r - s.M)              # the rounded magnitude (unbounded exponent)
    if r > s.max:
        if saturate:
            return _with_sign(s, v.neg, s.max_mag_code)
        if mode in ("rne", "rna", "sr"):
            return _overflow_code(s, v.neg, True)
        if mode == "rtz":
            return _overflow_code(s, v.neg, False)
        if mode == "rup":
            return _overflow_code(s, v.neg, not v.neg)
        if mode == "rdn":
            return _overflow_code(s, v.neg, v.neg)
        raise ValueError(mode)
    if sig == 0:
        return _with_sign(s, v.neg, 0)
    if not s.subnormals and r < _pow2(s.emin):
        raise ReferenceUndefined("below the smallest magnitude of a format with no zero")
    return _with_sign(s, v.neg, _code_of_mag(s, sig, e_r))


def _round_int(s: Spec, v: Val, mode, saturate, rnd, R) -> int:
    if v.kind != "num":
        raise ReferenceUndefined("inf/NaN into an integer format")
    x = v.mag
    lo, rem = divmod(x.numerator, x.denominator)
    up = _round_up(mode, v.neg, rem, x.denominator, bool(lo & 1), rnd, R)
    m = lo + 1 if up else lo
    val = -m if v.neg else m
    if saturate:
        val = min(max(val, s.min_int), s.max_int)
    return val & ((1 << s.bits) - 1)


def encode(fmt, x: float, mode="rne", saturate=False, rnd=None, R=None, **kw) -> int:
    return round_val(fmt, from_float(x), mode, saturate, rnd, R, **kw)


# ------------------------------------------------------------------------------------------
# Exact arithmetic on Val with IEEE special-value and zero-sign rules
# ------------------------------------------------------------------------------------------
def mul_val(a: Val, b: Val) -> Val:
    neg = a.neg != b.neg
    if a.kind == "nan" or b.kind == "nan":
        return NAN
    if a.kind == "inf" or b.kind == "inf":
        if a.is_zero or b.is_zero:
            return NAN                       # inf * 0
        return Val("inf", neg)
    return Val("num", neg, a.mag * b.mag)


def sum_vals(terms, mode: str = "rne") -> Val:
    """Exact sum with IEEE rules: NaN wins; +inf + -inf = NaN; an exact zero is -0 only if
    every term is -0, or if it is a sum of terms of different signs under rdn (docs/formats.md:
    "an exact zero sum of opposite-signed terms is +0 in every mode but rdn")."""
    terms = list(terms)
    assert terms
    if any(t.kind == "nan" for t in terms):
        return NAN
    infs = {t.neg for t in terms if t.kind == "inf"}
    if len(infs) == 2:
        return NAN
    if infs:
        return Val("inf", infs.pop())
    total = sum((t.signed_value for t in terms), Fraction(0))
    if total != 0:
        return Val.num(total)
    if all(t.neg for t in terms):
        return Val("num", True, Fraction(0))
    if all(not t.neg for t in terms):
        return Val("num", False, Fraction(0))
    return Val("num", mode == "rdn", Fraction(0))


def mul_ref(fa, a, fb, b, out, mode="rne", saturate=False, rnd=None, R=None, **kw) -> int:
    return round_val(out, mul_val(decode(fa, a), decode(fb, b)), mode, saturate, rnd, R, **kw)


def fma_ref(fa, a, fb, b, acc, c, mode="rne", saturate=False, rnd=None, R=None, **kw) -> int:
    p = mul_val(decode(fa, a), decode(fb, b))
    return round_val(acc, sum_vals([p, decode(acc, c)], mode), mode, saturate, rnd, R, **kw)


def _truncate_to(x: Fraction, unit: Fraction) -> Fraction:
    """x truncated toward zero to a multiple of ``unit``."""
    n = abs(x) / unit
    t = math.floor(n) * unit
    return t if x >= 0 else -t


def dot_terms(fa, A, fb, B, acc, c, align=None):
    """The terms of dot(A, B, c): exact products then c; with ``align=W`` the docs/formats.md
    truncation (emax over the nonzero finite products and c, each term truncated toward zero
    to a multiple of 2^(emax-W)). Zero terms keep their sign."""
    terms = [mul_val(decode(fa, a), decode(fb, b)) for a, b in zip(A, B)]
    terms.append(decode(acc, c))
    if align is None or any(t.kind != "num" for t in terms):
        return terms
    nz = [t for t in terms if t.mag != 0]
    if not nz:
        return terms
    emax = max(_floor_log2(t.mag) for t in nz)
    unit = _pow2(emax - align)
    out = []
    for t in terms:
        tv = _truncate_to(t.signed_value, unit)
        out.append(Val("num", t.neg, abs(tv)))       # a term truncated to 0 keeps its sign
    return out


def dot_ref(fa, A, fb, B, acc, c, align=None, mode="rne", saturate=False, rnd=None, R=None,
            **kw) -> int:
    s = spec_of(acc)
    if s.kind == "int":
        total = sum(decode(fa, a).signed_value * decode(fb, b).signed_value for a, b in zip(A, B))
        total += decode(acc, c).signed_value
        total = int(total)
        if saturate:
            total = min(max(total, s.min_int), s.max_int)
        return total & ((1 << s.bits) - 1)
    terms = dot_terms(fa, A, fb, B, acc, c, align)
    return round_val(acc, sum_vals(terms, mode), mode, saturate, rnd, R, **kw)


# ------------------------------------------------------------------------------------------
# numpy helpers for the tests (vectorised, from the defining fields only)
# ------------------------------------------------------------------------------------------
def nan_mask(fmt, codes) -> np.ndarray:
    s = spec_of(fmt)
    u = np.asarray(codes).astype(np.uint64)
    if s.kind == "int":
        return np.zeros(u.shape, bool)
    mag = u & np.uint64((1 << s.mag_bits) - 1)
    if s.specials == "ieee":
        e = mag >> np.uint64(s.M)
        m = mag & np.uint64((1 << s.M) - 1)
        return (e == np.uint64((1 << s.E) - 1)) & (m != 0)
    if s.specials == "fn":
        return mag == np.uint64((1 << s.mag_bits) - 1)
    if s.specials == "fnuz":
        return u == np.uint64(s.sign_bit)
    return np.zeros(u.shape, bool)


def canon_codes(fmt, codes) -> np.ndarray:
    """Codes as int64 with every NaN replaced by -1 (so any NaN equals any NaN)."""
    u = np.asarray(codes).astype(np.uint64).astype(np.int64)
    return np.where(nan_mask(fmt, codes), -1, u)


def hexrows(columns: dict, idx, limit: int = 20) -> str:
    """Rows of the failing vectors: ``name=0x..`` per column (ints as hex, floats with repr)."""
    idx = np.asarray(idx).ravel()
    lines = []
    for i in idx[:limit]:
        parts = [f"{name}={_fmt_item(np.asarray(col)[i])}" for name, col in columns.items()]
        lines.append("  " + " ".join(parts))
    more = f"\n  ... and {len(idx) - limit} more" if len(idx) > limit else ""
    return f"{len(idx)} mismatches:\n" + "\n".join(lines) + more


def _fmt_item(item) -> str:
    a = np.asarray(item)
    if a.ndim:
        return "[" + ",".join(_fmt_item(x) for x in a.ravel()) + "]"
    if a.dtype.kind in "ui":
        v = int(a)
        return hex(v) if v >= 0 else str(v)
    if a.dtype.kind == "f":
        return repr(float(a))
    return str(a)


def check_codes(fmt, got, want, inputs: dict, what: str, extra_ok=None) -> int:
    """Assert ``got == want`` (codes of ``fmt``, NaNs canonicalised); return the vector count.

    ``inputs`` are columns (first axis = vector) printed for the failing vectors, with the
    expected and obtained codes. ``extra_ok`` is an optional boolean mask of vectors accepted
    anyway (each caller documents why).
    """
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != expected {want.shape}"
    n = want.size
    assert n > 0, f"{what}: compared no vectors"
    bad = canon_codes(fmt, got) != canon_codes(fmt, want)
    if extra_ok is not None:
        bad &= ~np.asarray(extra_ok)
    if bad.any():
        idx = np.flatnonzero(bad.ravel())
        cols = {k: np.asarray(v).reshape(n, -1) if np.asarray(v).ndim > 1 and
                np.asarray(v).shape[:want.ndim] == want.shape else np.asarray(v).ravel()
                for k, v in inputs.items()}
        cols["expected"] = want.ravel()
        cols["got"] = got.ravel()
        raise AssertionError(f"{what}: " + hexrows(cols, idx))
    return n


def check_nan_sign(fmt, got, what: str) -> None:
    """docs/formats.md: NaN results are the canonical NaN, sign bit 0 where the format allows."""
    s = spec_of(fmt)
    got = np.asarray(got).astype(np.uint64)
    if s.kind != "float" or not s.signed or s.specials == "fnuz":
        return
    nan = nan_mask(fmt, got)
    neg = (got & np.uint64(s.sign_bit)) != 0
    bad = nan & neg
    assert not bad.any(), (f"{what}: {int(bad.sum())} NaN results with the sign bit set, e.g. "
                           f"{[hex(int(x)) for x in got[bad][:8]]}")
