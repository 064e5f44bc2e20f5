"""Logarithmic number system ``lns<N>f<F>`` (FORMATS.md "LNS", as LNS-Madam): the ``Lns`` family.

A code is ``s | L``: bit N-1 the sign, bits N-2..0 a two's-complement fixed-point log2
magnitude ``L`` with ``F`` fraction bits; the value is ``(-1)^s * 2^(L / 2^F)``. The most
negative ``L`` (``L_min = -2^(N-2)``, bits 10...0) encodes zero (both signs; the sign bit
makes -0). There is no inf and no NaN; values saturate.

Values are irrational, so nothing here uses floating-point logarithms. Every constant that
involves ``2^(j / 2^D)`` (decode values, encode decision boundaries, the MAC table, the
Gaussian-logarithm tables) is decided from rigorous integer intervals (:func:`_exp2_bounds`):
products of ``2^(2^-i)`` bounds obtained by repeated integer square roots at ``prec`` bits. A
decision that the interval cannot settle is retried at twice the precision; ties are
impossible (``2^(odd / 2^D)`` and ``1 +- 2^(-d / 2^F)`` are never dyadic midpoints), so this
always terminates with the exact answer.

Definitions (all bit-exact):

- **decode**: the float64 nearest to ``2^(L/2^F)`` (correctly rounded; every value is a float64
  normal number because ``N - 2 - F <= 9`` keeps ``|L / 2^F| < 512``).
- **encode** (nearest log code): ``L = round(2^F * log2|x|)``. A tie would need
  ``|x| = 2^((2L+1) / 2^(F+1))``, irrational, so none exists for a float64 ``x``; the decision
  ``|x| >= 2^((2j+1) / 2^(F+1))`` is made exactly by comparing the float64 mantissa with the
  largest float64 below that boundary. Then ``L > L_max`` saturates to ``L_max`` (and +-inf gives
  +-max), and ``L < L_min + 1`` gives zero of the sign of ``x``: ``x`` encodes to zero iff
  ``|x| < 2^((L_min + 1/2) / 2^F)``, the same rule as ``mul``. NaN cannot be encoded.
- **mul**: ``L = La + Lb`` exactly, sign ``sa ^ sb``; ``L > L_max`` saturates, ``L < L_min + 1``
  is zero (sign ``sa ^ sb``); a zero operand gives zero (sign ``sa ^ sb``).
- **lns_add** (LNS-domain addition with Gaussian logarithms): order the operands so that
  ``Lx >= Ly``, ``d = Lx - Ly``. Same signs: ``L = Lx + SB[d]``; opposite signs:
  ``L = Lx + DB[d]``, sign of ``x``, and ``d = 0`` gives +0. ``SB[d] = round(2^F log2(1 +
  2^(-d/2^F)))``, ``DB[d] = round(2^F log2(1 - 2^(-d/2^F)))`` (nearest; ties impossible), both 0
  from ``len(table)`` on. Since ``Lx`` is an integer, this *is* the nearest log code of the
  exact sum; then saturation / zero as in ``mul``. A zero operand returns the other operand;
  two zeros give -0 only if both are -0 (IEEE 754).
- **LNS-Madam MAC** (:func:`lns_mac_step`): a product ``L = La + Lb = q*2^F + r`` (exact, no
  saturation: the linear term has its own range) becomes ``T[r] * 2^q`` with
  ``T[r] = rne(2^(r/2^F) * 2^P)``, shifted right with truncation toward zero when ``q < 0``,
  in units of ``2^-P``, signed, and added to a signed ``A``-bit accumulator that wraps (two's
  complement) or, with ``saturate=True``, clamps.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import isqrt

import numpy as np

from ._formats import Format, FormatError, Rounding

__all__ = ["Lns", "lns_mul", "lns_add", "lns_gauss_tables", "lns_mac_table", "lns_mac_terms",
           "lns_mac_step", "lns_acc_value"]

_PREC0 = 128            # first precision of the interval arithmetic, bits; doubled on demand
_PREC_MAX = 4096


@dataclass(frozen=True)
class Lns(Format):
    """``lns<n>f<frac>``: sign bit plus an (n-1)-bit two's-complement log2 with ``frac`` fraction bits.

    Limits: 3 <= n <= 24; 0 <= frac <= min(16, n - 2) (tables of 2^frac entries); and
    n - 2 - frac <= 9, so that every value lies in (2^-512, 2^512) and decodes exactly into a
    float64 normal number.

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> f = golden.parse("lns8")                        # lns8f3: L in [-64, 63] / 8
    >>> f.decode(np.array([0x08, 0x00, 0x40, 0x88], np.uint8)).tolist()   # 2^1, 2^0, 0, -2
    [2.0, 1.0, 0.0, -2.0]
    >>> hex(int(f.encode(3.0)))                         # log2(3) * 8 = 12.68 -> L = 13
    '0xd'
    """
    n: int
    frac: int
    family = "lns"

    def __post_init__(self):
        if not isinstance(self.n, int) or not 3 <= self.n <= 24:
            raise FormatError(f"LNS width must be 3..24, not {self.n}")
        if not isinstance(self.frac, int) or not 0 <= self.frac <= min(16, self.n - 2):
            raise FormatError(f"LNS fraction bits must be 0..min(16, N-2), not {self.frac}")
        if self.n - 2 - self.frac > 9:
            raise FormatError(f"lns{self.n}f{self.frac} spans 2^+-{2 ** (self.n - 2 - self.frac)}, "
                              "beyond float64 (N-2-F must be at most 9)")

    # -- naming and ranges ----------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"lns{self.n}f{self.frac}"

    @property
    def bits(self) -> int:
        return self.n

    @property
    def L_min(self) -> int:
        """The zero code's L (bits 10...0)."""
        return -(1 << (self.n - 2))

    @property
    def L_max(self) -> int:
        return (1 << (self.n - 2)) - 1

    @property
    def sign_bit(self) -> int:
        return 1 << (self.n - 1)

    @property
    def zero_code(self) -> int:
        return 1 << (self.n - 2)

    @property
    def max(self) -> float:
        return float(self.decode(np.array([self.L_max], np.uint64))[0])

    @property
    def min_positive(self) -> float:
        return float(self.decode(self.pack(False, self.L_min + 1)))

    @property
    def min(self) -> float:
        return -self.max

    has_inf = False
    has_nan = False
    has_zero = True
    has_negative_zero = True
    signed = True

    @property
    def additive_identity(self) -> int:
        return self.sign_bit | self.zero_code        # -0: x + (-0) == x, -0 included

    # -- fields ---------------------------------------------------------------------------
    def fields(self, codes):
        """(sign bool, L int64, zero bool) of ``codes``."""
        u = self.check_codes(codes)
        sign = (u >> np.uint64(self.n - 1)) == 1
        raw = (u & np.uint64((1 << (self.n - 1)) - 1)).astype(np.int64)
        L = np.where(raw >= (1 << (self.n - 2)), raw - (1 << (self.n - 1)), raw)
        return sign, L, L == self.L_min

    def pack(self, sign, L, zero=None) -> np.ndarray:
        """Codes from sign and L, with the LNS rules: L > L_max saturates, L < L_min + 1 (or
        ``zero``) gives the zero code with ``sign``."""
        L = np.asarray(L, np.int64)
        z = L < self.L_min + 1
        if zero is not None:
            z = z | zero
        L = np.where(z, self.L_min, np.minimum(L, self.L_max))
        u = (L.astype(np.uint64) & np.uint64((1 << (self.n - 1)) - 1))
        u = u | np.where(np.asarray(sign, bool), np.uint64(self.sign_bit), np.uint64(0))
        return u.astype(self.dtype)

    # -- family interface: no exact triples ---------------------------------------------------
    def _no_triples(self):
        return FormatError(f"{self.name} values 2^(L/2^F) are irrational, so exact-triple "
                           "operations (fma, dot, add, mac_step, mixed mul) do not apply; use "
                           "golden.mul, golden.lns_add or golden.lns_mac_step")

    @property
    def exact_sig_bits(self) -> int:
        raise self._no_triples()

    def exact_unpack(self, u):
        raise self._no_triples()

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        raise self._no_triples()

    def domain_mul(self, a, b, fmt_b=None, out=None, rounding="rne", saturate=False, rnd=None):
        """``golden.mul`` hook: products are sums of log fields (see :func:`lns_mul`)."""
        if (fmt_b is not None and fmt_b != self) or (out is not None and out != self):
            raise self._no_triples()
        return lns_mul(a, b, self, rounding)

    def is_nan(self, codes) -> np.ndarray:
        return np.zeros(np.shape(codes), bool)

    def is_inf(self, codes) -> np.ndarray:
        return np.zeros(np.shape(codes), bool)

    # -- conversion -----------------------------------------------------------------------
    def decode(self, codes) -> np.ndarray:
        """The float64 nearest to each code's value (-0.0 for the negative zero)."""
        sign, L, zero = self.fields(codes)
        F = self.frac
        q = L >> F
        r = L & ((1 << F) - 1)
        val = np.ldexp(_decode_table(F)[r], q.astype(np.int32))     # exact: a normal number
        val = np.where(zero, 0.0, val)
        return np.where(sign, -val, val)

    def encode(self, x, rounding="rne", saturate=False, rnd=None, rnd_bits=None) -> np.ndarray:
        """Nearest log code of float64 ``x`` (see the module docstring for the exact rule).

        Only round-to-nearest exists (``rne``; ``rna`` is the same, as there are no ties).
        Overflow always saturates; NaN raises FormatError.
        """
        rounding = Rounding.parse(rounding)
        if rounding not in (Rounding.RNE, Rounding.RNA):
            raise FormatError(f"{self.name} encodes to the nearest log code only (rne); "
                              f"rounding {rounding.value!r} is not defined for LNS")
        x = np.asarray(x, np.float64)
        if np.any(np.isnan(x)):
            raise FormatError(f"{self.name} has no NaN; cannot encode NaN")
        sign = np.signbit(x)
        ax = np.abs(x)
        inf = np.isinf(ax)
        zero = ax == 0
        mant, ex = np.frexp(np.where(inf | zero, 1.0, ax))       # ax = mant * 2^ex, mant in [0.5, 1)
        y = mant * 2.0                                             # [1, 2): exact
        F = self.frac
        c = np.searchsorted(_encode_bounds(F), y, side="left")     # boundaries below y: 0..2^F
        L = ((ex.astype(np.int64) - 1) << F) + c
        L = np.where(inf, self.L_max, L)
        return self.pack(sign, L, zero)

    def describe(self) -> str:
        return f"F={self.frac}, L in [{self.L_min + 1}, {self.L_max}], zero = L_min, -0, saturating"


# ---------------------------------------------------------------------------------------------
# rigorous 2^(j / 2^D) bounds
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _root_bounds(D: int, prec: int):
    """[(lo, hi)] for i = 1..D with lo <= 2^(2^-i) * 2^prec <= hi (repeated integer sqrt)."""
    one = 1 << prec
    lo, hi = 2 * one, 2 * one
    out = []
    for _ in range(D):
        lo = isqrt(lo * one)                 # floor(sqrt(lo)) scaled: a lower bound
        hi = isqrt(hi * one) + 1             # and an upper bound
        out.append((lo, hi))
    return out


@lru_cache(maxsize=None)
def _exp2_bounds(D: int, prec: int):
    """Object arrays (lo, hi) over j = 0..2^D-1 with lo <= 2^(j/2^D) * 2^prec <= hi.

    Built by doubling: the entries with bit t of j set are the others times 2^(2^(t-D));
    lower bounds round down, upper bounds up; j = 0 is exactly 2^prec.
    """
    roots = _root_bounds(D, prec)
    lo = np.array([1 << prec], dtype=object)
    hi = lo.copy()
    for t in range(D):
        rl, rh = roots[D - 1 - t]            # 2^(2^t / 2^D) = 2^(2^-(D-t))
        lo = np.concatenate([lo, (lo * rl) >> prec])
        hi = np.concatenate([hi, -((-(hi * rh)) >> prec)])
    return lo, hi


_bit_length = np.frompyfunc(int.bit_length, 1, 1)


def _decide(fn, what):
    """Run ``fn(prec)`` at growing precision until it returns a decided result (not None)."""
    prec = _PREC0
    while prec <= _PREC_MAX:
        res = fn(prec)
        if res is not None:
            return res
        prec *= 2
    raise FormatError(f"could not decide {what} at {_PREC_MAX} bits")   # unreachable: no ties


@lru_cache(maxsize=None)
def _decode_table(F: int) -> np.ndarray:
    """float64 nearest to 2^(r/2^F), r = 0..2^F-1 (CPython's int / int is correctly rounded)."""
    def attempt(prec):
        lo, hi = _exp2_bounds(F, prec)
        one = 1 << prec
        a = (lo / one).astype(np.float64)
        b = (hi / one).astype(np.float64)
        return a if np.array_equal(a, b) else None
    t = _decide(attempt, f"the decode table of F={F}")
    t.setflags(write=False)
    return t


@lru_cache(maxsize=None)
def _boundary_bounds(F: int, prec: int):
    """Bounds of the rounding boundaries B_j = 2^((2j+1)/2^(F+1)), j = 0..2^F-1."""
    lo, hi = _exp2_bounds(F + 1, prec)
    return lo[1::2], hi[1::2]


@lru_cache(maxsize=None)
def _encode_bounds(F: int) -> np.ndarray:
    """D_j = the largest float64 below B_j: a float64 y in [1, 2) has y >= B_j iff y > D_j."""
    def attempt(prec):
        lo, hi = _boundary_bounds(F, prec)
        a = lo >> (prec - 52)                # floor(B * 2^52) from each bound
        b = hi >> (prec - 52)
        if not np.array_equal(a, b):
            return None
        return np.ldexp(a.astype(np.float64), -52)   # a < 2^53: exact
    t = _decide(attempt, f"the encode boundaries of F={F}")
    t.setflags(write=False)
    return t


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
    from ._registry import parse
    fmt = parse(fmt)
    if Rounding.parse(rounding) is not Rounding.RNE:
        raise FormatError(f"{fmt.name} products are exact sums of log fields; only rounding "
                          "'rne' (the default) applies")
    sa, La, za = fmt.fields(a)
    sb, Lb, zb = fmt.fields(b)
    return fmt.pack(sa ^ sb, La + Lb, za | zb)


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
    from ._registry import parse
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
    from ._registry import parse
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
    from ._registry import parse
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
    from ._registry import parse
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
    from ._registry import parse
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
    from ._formats import storage_dtype
    return out.astype(storage_dtype(A))


def lns_acc_value(acc, P: int, A: int):
    """float64 value of A-bit accumulator codes in units of 2^-P (exact for |acc| < 2^53)."""
    _check_mac_params(P, A)
    v = np.asarray(acc).astype(np.int64)
    v = np.where(v >= (1 << (A - 1)), v - (1 << A), v)
    out = np.ldexp(v.astype(np.float64), -int(P))
    return out if out.ndim else float(out)
