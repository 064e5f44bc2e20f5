"""What the two's-complement tapered formats share (posits, takums): ``TaperedFormat``.

An ``n``-bit code is two's complement: a negative code is the negation (mod 2^n) of its
magnitude's code, so codes read as signed integers are ordered like their values. ``0...0`` is
zero, ``10...0`` is NaR ("not a real", the only NaN); there is no -0 and no infinity; the largest
magnitude ``01...1`` is maxpos and the smallest ``0...01`` minpos. A family defines its field
decoding (``exact_unpack``), its rounding on the encoding (``exact_round``), ``max`` and
``min_positive``; codes, specials, negation and float64 decoding come from here.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._exact import NAN, _low_mask, bit_length, encode_float64
from ._formats import Format

__all__ = ["TaperedFormat", "normalise_to"]

_U1 = np.uint64(1)


class TaperedFormat(Format):
    """Base of two's-complement formats with NaR (a family sets the field ``n``)."""

    has_inf = False
    has_nan = True
    has_zero = True
    has_negative_zero = False
    signed = True
    additive_identity = 0                   # zero is unsigned: x + 0 == x for every x

    @property
    def bits(self) -> int:
        return self.n

    @property
    def maxpos_code(self) -> int:
        return (1 << (self.n - 1)) - 1

    @property
    def minpos_code(self) -> int:
        return 1

    @property
    def nar_code(self) -> int:
        return 1 << (self.n - 1)

    @property
    def nan_code(self) -> int:
        """NaR is the format's only NaN (decodes to NaN)."""
        return self.nar_code

    @property
    def max_code(self) -> int:
        """Positive code of the largest value (maxpos)."""
        return self.maxpos_code

    @property
    def sign_bit(self) -> int:
        return 1 << (self.n - 1)

    @property
    def min(self) -> float:
        return -self.max

    def negate(self, codes) -> np.ndarray:
        """Codes of -x: two's complement of the code (0 and NaR are their own negation)."""
        u = self.check_codes(codes)
        return ((np.uint64(self.mask) - u + np.uint64(1)) & np.uint64(self.mask)).astype(self.dtype)

    def is_nan(self, codes) -> np.ndarray:
        return self.check_codes(codes) == np.uint64(self.nar_code)

    def is_inf(self, codes) -> np.ndarray:
        return np.zeros(np.shape(codes), bool)

    def decode(self, codes) -> np.ndarray:
        """Exact value of each code as float64 (NaR -> NaN), from the exact triples (a value
        table for widths up to 16 bits). The families' ranges fit float64 exactly."""
        if self.bits <= 16:
            return _value_table(self)[self._checked(codes)]
        return _decode(self, self.check_codes(codes))

    def encode(self, x, rounding="rne", saturate=False, rnd=None, rnd_bits=None) -> np.ndarray:
        """Round float64 values into codes (NaN and +-inf give NaR; a nonzero finite value
        never gives 0 or NaR). ``saturate`` has no effect: these formats always saturate."""
        return encode_float64(self, x, rounding, saturate, rnd, rnd_bits)


@lru_cache(maxsize=None)
def _value_table(fmt: TaperedFormat) -> np.ndarray:
    t = _decode(fmt, np.arange(1 << fmt.n, dtype=np.uint64))
    t.setflags(write=False)
    return t


def _decode(fmt: TaperedFormat, u) -> np.ndarray:
    sign, m, e, kind = fmt.exact_unpack(u)
    val = np.ldexp(m.astype(np.float64), np.where(m == 0, 0, e).astype(np.int32))
    val = np.where(sign, -val, val)
    return np.where(kind == NAN, np.nan, val)


def normalise_to(keep: int, m, e, sticky):
    """The first step of a rounding on the encoding: ``(nonzero, m, e, sticky)`` with every
    nonzero significand shifted to exactly ``keep`` bits (bits shifted out join the sticky), so
    the bit string can be cut at any code position with exact guard and SR bits.

    ``m == 0`` with ``sticky`` set means "tiny but nonzero"; the exact operations never produce
    it, and it is given the scale of its sticky position so it still rounds to +-minpos.
    """
    nonzero = (m != 0) | sticky
    tiny = (m == 0) & sticky
    m = np.where(tiny, _U1, m)
    e = np.where(tiny, e - 1, e)
    bl = bit_length(m)
    drop = np.clip(bl - keep, 0, 63)
    sticky = sticky | ((m & _low_mask(drop)) != 0)
    up = np.clip(keep - bl, 0, 63)
    m = (m >> drop.astype(np.uint64)) << up.astype(np.uint64)
    return nonzero, m, e + drop - up, sticky
