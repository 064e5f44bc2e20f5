"""Logarithmic number system ``lns<N>f<F>`` (docs/formats.md "LNS", as LNS-Madam): the ``Lns`` family.

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
- **convert** into LNS (:meth:`Lns.round_triple`, ``golden.convert``): the encode rule on an
  exact value ``m * 2^e`` of any precision (``m`` up to 64 bits), the significand compared with
  ``floor(B_j * 2^63)`` (:func:`boundary_floors`); +-inf saturates, NaN gives +max.
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

from ._exact import bit_length
from ._formats import Format, FormatError, Rounding

__all__ = ["Lns", "mul_fields", "boundary_floors"]

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
        return mul_fields(self, a, b, rounding)

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
        self.check_nearest(rounding)
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

    def check_nearest(self, rounding) -> Rounding:
        """LNS rounds to the nearest log code only: ``rne`` (``rna`` is the same, no ties)."""
        rounding = Rounding.parse(rounding)
        if rounding not in (Rounding.RNE, Rounding.RNA):
            raise FormatError(f"{self.name} rounds to the nearest log code only (rne or rna); "
                              f"rounding {rounding.value!r} is not defined for LNS")
        return rounding

    def boundary_floors(self, P: int) -> np.ndarray:
        """``floor(B_j * 2^P)`` of this format's rounding boundaries (:func:`boundary_floors`)."""
        return boundary_floors(self.frac, P)

    def round_triple(self, sign, m, e, nan, inf) -> np.ndarray:
        """Nearest log code of the exact values ``(-1)^sign * m * 2^e`` (``golden.convert``).

        The rule of :meth:`encode` on exact values of any precision: with ``m`` of ``b`` bits,
        ``y = m / 2^(b-1)`` in [1, 2) has ``y >= B_j`` iff ``y * 2^63 > floor(B_j * 2^63)``
        (B_j irrational, ``y * 2^63`` an integer: :func:`boundary_floors`); ``L = (e + b - 1)
        * 2^F + #{j : y >= B_j}``, then saturation at ``L_max`` and zero below ``L_min + 1``.
        ``m = 0`` is the zero of ``sign``, ``inf`` gives +-max and ``nan`` +max (the cast's
        defined result for a NaN source or scale: LNS has no NaN).
        """
        m = np.asarray(m).astype(np.uint64)
        bl = bit_length(m)
        zero = (m == 0) & ~nan & ~inf
        top = np.where(bl > 0, m << (64 - np.maximum(bl, 1)).astype(np.uint64), np.uint64(0))
        c = np.searchsorted(self.boundary_floors(63), top, side="left")
        big = np.int64(1) << np.int64(62 - self.frac)                 # far beyond any L range
        q = np.clip(np.asarray(e, np.int64) + bl - 1, -big, big)
        L = np.where(nan | inf, self.L_max, (q << self.frac) + c)
        return self.pack(np.asarray(sign, bool) & ~nan, L, zero)

    #: LNS-Madam accumulates the linear terms in a signed A-bit integer, A = 24 by default.
    default_accumulator = "int24"
    #: Where post-training quantisation maps a tensor's calibrated maximum: with the default
    #: MAC (P = 8 table bits, A = 24) a maximum of 8 keeps products below 2^6 and a K = 1536
    #: sum below the accumulator's 2^15.
    calibration_target = 8.0

    @property
    def max_code(self) -> int:
        """Positive code of the largest value (L = L_max)."""
        return int(self.pack(False, np.array([self.L_max]))[0])

    def corner_codes(self) -> np.ndarray:
        """+-0, +-1 and its neighbours, the smallest and largest L of both signs."""
        Ls = np.array(sorted({self.L_min, self.L_min + 1, self.L_min + 2, -1, 0, 1,
                              self.L_max - 1, self.L_max}))
        codes = np.concatenate([self.pack(False, Ls), self.pack(True, Ls)]).astype(np.uint64)
        return np.unique(codes).astype(self.dtype)

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
def boundary_floors(F: int, P: int) -> np.ndarray:
    """``floor(B_j * 2^P)``, j = 0..2^F-1 (uint64, P <= 63): a y in [1, 2) with at most P
    fraction bits has ``y >= B_j`` iff ``y * 2^P > floor(B_j * 2^P)``, B_j being irrational."""
    if not 0 <= P <= 63:
        raise ValueError(f"boundary precision must be 0..63 bits, not {P}")

    def attempt(prec):
        lo, hi = _boundary_bounds(F, prec)
        a = lo >> (prec - P)                 # floor(B * 2^P) from each bound
        b = hi >> (prec - P)
        return a if np.array_equal(a, b) else None
    t = _decide(attempt, f"the encode boundaries of F={F}").astype(np.uint64)   # < 2^(P+1)
    t.setflags(write=False)
    return t


@lru_cache(maxsize=None)
def _encode_bounds(F: int) -> np.ndarray:
    """D_j = the largest float64 below B_j: a float64 y in [1, 2) has y >= B_j iff y > D_j."""
    t = np.ldexp(boundary_floors(F, 52).astype(np.float64), -52)   # < 2^53: exact
    t.setflags(write=False)
    return t


def mul_fields(fmt: Lns, a, b, rounding="rne") -> np.ndarray:
    """The LNS product of codes ``a``, ``b`` of ``fmt``: the L fields add (saturating at
    L_max; below L_min + 1 the result is zero). :func:`golden.lns_mul` is the public form."""
    if Rounding.parse(rounding) is not Rounding.RNE:
        raise FormatError(f"{fmt.name} products are exact sums of log fields; only rounding "
                          "'rne' (the default) applies")
    sa, La, za = fmt.fields(a)
    sb, Lb, zb = fmt.fields(b)
    return fmt.pack(sa ^ sb, La + Lb, za | zb)
