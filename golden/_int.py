"""Integers: the ``Int`` family (two's complement or unsigned, 2..32 bits).

An integer code is its own exact value with exponent 0; rounding into an integer format (a MAC's
accumulator, a quantiser's output) either wraps modulo 2^n or saturates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._exact import FINITE, ZERO_EXP, _U1, _round_fields, bit_length, encode_float64
from ._formats import Format, FormatError

__all__ = ["Int", "unpack_int", "round_int"]


@dataclass(frozen=True)
class Int(Format):
    """Two's-complement (``signed``) or unsigned integer of ``n`` bits."""
    n: int
    signed: bool = True
    family = "integer"

    @classmethod
    def from_name(cls, groups: dict, literal: bool = False) -> "Int":
        """``int<N>`` / ``uint<N>`` (registry groups ``unsigned``, ``n``)."""
        return cls(groups["n"], signed=not groups["unsigned"])

    def __post_init__(self):
        if not isinstance(self.n, int) or not 2 <= self.n <= 32:
            raise FormatError(f"integer width must be 2..32, not {self.n}")

    @property
    def name(self) -> str:
        return f"{'' if self.signed else 'u'}int{self.n}"

    @property
    def bits(self) -> int:
        return self.n

    @property
    def max_int(self) -> int:
        return (1 << (self.n - 1)) - 1 if self.signed else (1 << self.n) - 1

    @property
    def min_int(self) -> int:
        return -(1 << (self.n - 1)) if self.signed else 0

    @property
    def max(self) -> float:
        return float(self.max_int)

    @property
    def min(self) -> float:
        return float(self.min_int)

    has_inf = False
    has_nan = False
    has_negative_zero = False

    @property
    def exact_sig_bits(self) -> int:
        return self.n             # |int_min| = 2^(n-1) needs n bits in a signed format too

    additive_identity = 0

    def exact_unpack(self, u):
        return unpack_int(self, u)

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        return round_int(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R)

    def to_int(self, codes) -> np.ndarray:
        """Signed integer values (int64) of ``codes``."""
        u = self.check_codes(codes).astype(np.int64)
        if self.signed:
            u = np.where(u >= (1 << (self.n - 1)), u - (1 << self.n), u)
        return u

    def from_int(self, values, saturate: bool = False) -> np.ndarray:
        """Codes of integer ``values`` (int64): two's-complement wrap, or clamp if ``saturate``."""
        v = np.asarray(values, dtype=np.int64)
        if saturate:
            v = np.clip(v, self.min_int, self.max_int)
        return (v.astype(np.uint64) & np.uint64(self.mask)).astype(self.dtype)

    def decode(self, codes) -> np.ndarray:
        return self.to_int(codes).astype(np.float64)

    def encode(self, x, rounding="rne", saturate=False, rnd=None, rnd_bits=None) -> np.ndarray:
        return encode_float64(self, x, rounding, saturate, rnd, rnd_bits)

    default_accumulator = "int32"

    @property
    def max_code(self) -> int:
        """Code of the largest value."""
        return int(self.from_int(np.array([self.max_int]))[0])

    def negate(self, codes) -> np.ndarray:
        """Codes of -x; the most negative value stays (its negation does not exist)."""
        v = self.to_int(codes)
        return self.from_int(np.where(v == self.min_int, v, -v)).astype(self.dtype)

    def corner_codes(self) -> np.ndarray:
        """0, +-1, max, max - 1, min, min + 1."""
        vals = {0, 1, self.max_int, self.max_int - 1, self.min_int, self.min_int + 1}
        if self.signed:
            vals.add(-1)
        return np.unique(self.from_int(np.array(sorted(vals), np.int64)))

    def describe(self) -> str:
        return f"{self.min_int}..{self.max_int}"


def unpack_int(fmt: Int, u):
    """``Int.exact_unpack``: the integer itself, exponent 0."""
    v = fmt.to_int(u)
    sign = v < 0
    m = np.abs(v).astype(np.uint64)
    e = np.where(m == 0, ZERO_EXP, np.int64(0))
    return sign, m, e, np.zeros(u.shape, np.int8)


def round_int(fmt: Int, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
    if np.any(kind != FINITE):
        raise FormatError(f"{fmt.name} has no NaN or infinity; cannot encode a non-finite result")
    nonzero = (m != 0) | sticky
    bl = bit_length(m)
    Ev = e + bl - 1
    big = nonzero & (Ev >= 62)             # |value| >= 2^62: wraps to 0 mod 2^n when e >= n
    s = np.where(nonzero, -e, 0)
    kept, inc = _round_fields(np.where(big, 0, m), np.where(big, 0, e), sticky & ~big,
                              np.where(big, 0, s), sign, rounding, rnd, R,
                              lambda k: (k & _U1) == _U1)
    mag = kept + inc.astype(np.uint64)
    # wrap: m * 2^e mod 2^n for huge values (e >= 0 there, the value is an integer)
    wrap_mag = np.where(e >= fmt.n, np.uint64(0), m << np.clip(e, 0, 63).astype(np.uint64))
    mag = np.where(big, wrap_mag, mag)
    limit_pos = np.uint64(fmt.max_int)
    limit_neg = np.uint64(-fmt.min_int)
    if saturate:
        over_pos = ~sign & (big | (mag > limit_pos))
        over_neg = sign & (big | (mag > limit_neg))
        val = np.where(sign, -(np.minimum(mag, limit_neg).astype(np.int64)),
                       np.minimum(mag, limit_pos).astype(np.int64))
        val = np.where(over_pos, fmt.max_int, np.where(over_neg, fmt.min_int, val))
        return fmt.from_int(val)
    mask = np.uint64(fmt.mask)
    low = mag & mask
    out = np.where(sign, (~low + _U1) & mask, low)
    return out.astype(fmt.dtype)
