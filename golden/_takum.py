"""Linear takums (``takum<N>``, N = 8..32): the ``Takum`` family.

Definition implemented (sources below; "the papers" means both). An n-bit code is

    S | D | R2 R1 R0 | C (r bits) | M (p = n - 5 - r bits)

with sign ``S``, direction bit ``D``, three regime bits ``R`` and the regime
``r = R if D else 7 - R`` (0..7), so the characteristic field ``C`` has ``r`` bits and the mantissa
``M`` takes the rest. Bits that the end of a short code cuts off are zeros: below n = 12 a large
``r`` leaves ``p < 0``, the characteristic keeps only its top ``n - 5`` bits and there is no
mantissa (libtakum decodes takum8 exactly so, as the top byte of a 16-bit takum). The
characteristic is

    c = 2^r - 1 + C            (D = 1:   0 .. 254)
    c = -2^(r+1) + 1 + C       (D = 0: -255 .. -1)

and, with ``m = M / 2^p``, a code with ``S = 0`` has the value ``(1 + m) * 2^c``: the *linear*
takum reads ``c`` as a binary exponent ``h`` and ``m`` as the fraction ``f`` of a floating-point
significand, where the logarithmic takum reads ``c + m`` as a base-sqrt(e) logarithm. A code with
``S = 1`` read bit by bit has the value ``((1 - 3S) + m) * 2^((1 - 2S)(c + S))``, i.e.
``-(2 - m) * 2^(-c - 1)`` (the Posit Standard's form of a negative code); this is exactly the
negative of the code's two's complement, which is how this module decodes it (as posits do), and
``tests/test_golden_takum.py`` proves the two readings equal on every takum8 and takum16 code.
``0...0`` is zero, ``10...0`` is NaR ("not a real"); there is no infinity and no -0.

Ranges (exponent of the leading one, from the field formulas above): takum8 runs from minpos
``0x01 = 2^-239`` (D = 0, r = 7, C = 0010000b with four bits cut off) to maxpos ``0x7F = 2^239``;
in general the range is ``2^-(255 - 2^(12-n)) .. 2^(255 - 2^(12-n))`` while n <= 12 (takum12:
2^-254 .. 2^254), and from n = 13 on, where every characteristic -255 .. 254 has a code with a
mantissa, minpos is ``(1 + 2^-(n-12)) * 2^-255`` and maxpos ``(2 - 2^-(n-12)) * 2^254``
(takum16: 0x0001 = 17 * 2^-259, 0x7FFF = 31 * 2^250; takum32: 0x00000001 = (2^20 + 1) * 2^-275,
0x7FFFFFFF = (2^21 - 1) * 2^234). Significands have at most ``n - 4`` bits with the hidden one
(p = n - 5 at r = 0) and bit weights stay within 2^-275 .. 2^254: every value is a float64
normal number, so ``decode`` is exact for every width.

Rounding works on the encoding, as for posits and as the issue contract says: the exact value's
infinitely long takum bit string (D, R, C, then the fraction's binary expansion) is cut after
``n - 1`` bits and rounded as a binary fraction, a tie going to the even *code*. Where the cut
falls inside the characteristic (n < 12) neighbours are powers of two 2^(2^j) apart and a tie
is not their arithmetic mean; elsewhere it is ordinary rounding of the p-bit mantissa, with a
carry rippling from the mantissa into C, R and D. A nonzero finite value never rounds to 0 or
NaR: below minpos gives +-minpos, at or above maxpos gives +-maxpos, in every mode; NaN and
infinite inputs (``kind`` NAN/INF) give NaR; ``saturate`` has no effect. The directed modes,
``rna`` and ``sr`` are defined on the same bit string exactly as ``golden._posit`` defines them.

Sources:

- L. Hunhold, "Beating Posits at Their Own Game: Takum Arithmetic", arXiv 2404.18603 (CoNGA
  2024): the field layout S, D, R, C, M, ``r`` from ``D`` and ``R``, the characteristic ``c``,
  NaR = 1 followed by zeros, negation as two's complement, and (its algorithms converting
  ``(s, c, m)`` to and from a floating-point ``(s, h, f)``) the linear reading.
- L. Hunhold, "Design and Implementation of a Takum Arithmetic Hardware Codec", arXiv
  2408.10594: the linear takum as a floating-point format sharing the codec, ``p = n - 5 - r``.
- libtakum (the author's C99 reference library, github.com/takum-arithmetic/libtakum, read for
  facts only): the characteristic bias per (D, R) (-255, -127, ..., -1, 0, 1, ..., 127), the
  mantissa width per (D, R), sub-12-bit codes padded with zeros, encoders that clamp to
  [minpos, maxpos] before rounding the bit string (never 0 or NaR), and ``TAKUM_LINEAR*``
  constants used as test vectors (e.g. 1 = 0x40 / 0x4000, pi = 74 / 19016).

Where the sources leave a choice: the papers define round to nearest (ties to even) only; the
other modes here are this project's (the same bit-string definitions as posits). libtakum's
takum8 encoder rounds via takum32 (a double rounding); this module rounds once, which is what
the issue asks for ("round to nearest, ties to even, on the encoding").
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._exact import FINITE, NAN, ZERO_EXP, bit_length, _low_mask, _round_fields
from ._formats import FormatError
from ._tapered import TaperedFormat, normalise_to

__all__ = ["Takum", "unpack_takum", "round_takum", "REGIME_BITS", "CHAR_MIN", "CHAR_MAX"]

_U1 = np.uint64(1)
REGIME_BITS = 3                                   # R2 R1 R0
_R_MAX = (1 << REGIME_BITS) - 1                   # r = 0..7 characteristic bits
CHAR_MAX = (1 << _R_MAX) - 1 + (1 << _R_MAX) - 1  # D = 1, r = 7, C = 1111111: 127 + 127 = 254
CHAR_MIN = -(1 << (_R_MAX + 1)) + 1               # D = 0, r = 7, C = 0: -256 + 1 = -255
_HEAD_BITS = 1 + REGIME_BITS                      # D and R: n - 5 bits of C and M follow
# The rounder normalises every significand to exactly this many bits before cutting. The cut
# tail is C (<= 7 bits) above the 56 fraction bits: 63 bits, inside uint64. A code keeps at most
# n - 5 = 27 of those 63 bits, so at least 29 lie below the cut: the guard bit is always a real
# bit, and stochastic rounding has up to 29 exact bits.
_KEEP_BITS = 57


@dataclass(frozen=True)
class Takum(TaperedFormat):
    """Linear takum of ``n`` bits (8..32); see the module docstring for the definition.

    Examples
    --------
    >>> import numpy as np
    >>> from macforge.golden._takum import Takum
    >>> t8 = Takum(8)
    >>> t8.decode(np.array([0x40, 0x4A, 0x7F, 0x01, 0xC0, 0x80], np.uint8)).tolist()
    [1.0, 3.0, 8.834235323891922e+71, 1.131959884853339e-72, -1.0, nan]
    >>> hex(int(t8.encode(3.14159))), hex(int(t8.encode(1e300))), hex(int(t8.encode(-1e-300)))
    ('0x4a', '0x7f', '0xff')
    >>> Takum(16).name, Takum(16).exact_sig_bits
    ('takum16', 12)
    """
    n: int
    family = "takum"
    default_accumulator = "fp32"            # a takum MAC accumulates into fp32 unless told
    #: Where post-training quantisation maps a tensor's calibrated maximum: precision tapers
    #: away from 1 (regime lengths r <= 1 cover [2^-3, 2^3) with the most mantissa bits), so
    #: the maximum goes to 4, as for posits, not to maxpos (2^239 for takum8).
    calibration_target = 4.0

    def __post_init__(self):
        if not isinstance(self.n, int) or isinstance(self.n, bool) or not 8 <= self.n <= 32:
            raise FormatError(f"takum width must be 8..32, not {self.n}")

    # -- naming and ranges ----------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"takum{self.n}"

    @property
    def exact_sig_bits(self) -> int:
        """Significand bits with the hidden one: p + 1 = n - 4 at r = 0."""
        return self.n - _HEAD_BITS

    @cached_property
    def _extreme_scales(self):
        _, m, e, _ = unpack_takum(self, np.array([self.minpos_code, self.maxpos_code], np.uint64))
        return tuple(int(v) for v in e + bit_length(m) - 1)

    @property
    def scale_min(self) -> int:
        """Exponent of minpos's leading one: -239 (takum8), -254 (takum12), -255 from n = 13."""
        return self._extreme_scales[0]

    @property
    def scale_max(self) -> int:
        """Exponent of maxpos's leading one (239 for takum8, 254 from n = 12 on)."""
        return self._extreme_scales[1]

    @property
    def max(self) -> float:
        return float(self.decode(np.array([self.maxpos_code], np.uint64))[0])

    @property
    def min_positive(self) -> float:
        return float(self.decode(np.array([self.minpos_code], np.uint64))[0])

    def mantissa_bits(self, codes) -> np.ndarray:
        """Stored mantissa bits ``p = max(n - 5 - r, 0)`` of each code (0 for zero and NaR)."""
        u = self.check_codes(codes)
        _, m, _, _ = unpack_takum(self, u)
        return np.maximum(bit_length(m) - 1, 0)

    def corner_codes(self) -> np.ndarray:
        """Directed corner codes, sorted: 0, NaR, +-minpos, +-maxpos and +-1 with their
        neighbours, and both sides of every (D, R) boundary (the first and last code of each of
        the 16 regime groups: where the characteristic and mantissa widths change), both signs.

        >>> [hex(c) for c in Takum(8).corner_codes()[:6]]
        ['0x0', '0x1', '0x2', '0x7', '0x8', '0xf']
        """
        n = self.n
        full = (1 << n) - 1
        one = 1 << (n - 2)                                  # 0 1 000 0...: D = 1, c = 0, m = 0
        mags = {1, 2, self.maxpos_code, self.maxpos_code - 1, one - 1, one, one + 1}
        group = 1 << (n - 1 - _HEAD_BITS)                   # codes per (D, R): 2^(n-5)
        for g in range(1 << _HEAD_BITS):
            mags |= {g * group, g * group + group - 1}
        mags.discard(0)
        codes = {0, self.nar_code} | mags | {(-v) & full for v in mags}
        return np.array(sorted(codes), dtype=np.uint64).astype(self.dtype)

    # -- family interface ------------------------------------------------------------------
    def exact_unpack(self, u):
        return unpack_takum(self, u)

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        return round_takum(self, sign, m, e, sticky, kind, rounding, rnd, R)

    def describe(self) -> str:
        return (f"linear takum: 3-bit regime, exponents {self.scale_min}..{self.scale_max}, "
                f"{self.exact_sig_bits - 1}-bit mantissa at most, NaR, no inf/-0")


def unpack_takum(fmt: Takum, u):
    """``Takum.exact_unpack``: codes -> (sign, m, e, kind), m = 1.M as an integer.

    A negative code is decoded as its two's complement (module docstring). The characteristic
    is read by padding the ``n - 5`` bits after D and R with 7 zeros below (the most that the
    end of a code can cut off) and shifting by ``r``.
    """
    n = fmt.n
    u = np.asarray(u, np.uint64)
    full = np.uint64((1 << n) - 1)
    nar = u == np.uint64(fmt.nar_code)
    zero = u == 0
    neg = (u >> np.uint64(n - 1)) == _U1
    mag = np.where(neg, (full - u + _U1) & full, u)         # two's complement: 2^n - u
    width = n - 1 - _HEAD_BITS                              # C and M bits: n - 5
    D = ((mag >> np.uint64(n - 2)) & _U1) == _U1
    R = ((mag >> np.uint64(width)) & np.uint64(_R_MAX)).astype(np.int64)
    r = np.where(D, R, _R_MAX - R)
    rest = mag & np.uint64((1 << width) - 1)
    C = ((rest << np.uint64(_R_MAX)) >> (width + _R_MAX - r).astype(np.uint64)).astype(np.int64)
    p = np.maximum(width - r, 0)
    M = rest & _low_mask(p)
    c = np.where(D, (1 << r) - 1 + C, C + 1 - (2 << r))
    special = nar | zero
    m = np.where(special, np.uint64(0), (_U1 << p.astype(np.uint64)) | M)
    e = np.where(special, ZERO_EXP, c - p).astype(np.int64)
    kind = np.where(nar, NAN, FINITE).astype(np.int8)
    return neg & ~special, m, e, kind


def round_takum(fmt: Takum, sign, m, e, sticky, kind, rounding, rnd=None, R=0) -> np.ndarray:
    """``Takum.exact_round``: round exact triples to takum codes on the encoding.

    The magnitude's bit string after the sign is built as ``head`` (D and R, placed above the
    ``n - 5`` code bits that follow) and ``tail`` (C, then the 56 fraction bits of the
    normalised significand); the shared ``_round_fields`` cuts ``tail`` at the code's last bit,
    and the increment is added to the whole body so a carry ripples through C, R and D. A carry
    out of the body (above maxpos) gives maxpos, a body of 0 (below minpos) gives minpos.
    """
    n = fmt.n
    nonzero, m, e, sticky = normalise_to(_KEEP_BITS, m, e, sticky)
    scale = e + _KEEP_BITS - 1                               # the exponent h = c
    big = scale > CHAR_MAX                                   # >= 2^255 > maxpos
    small = scale < CHAR_MIN                                 # < 2^-255 < minpos
    c = np.clip(scale, CHAR_MIN, CHAR_MAX)
    D = c >= 0
    v = np.where(D, c + 1, -c)                               # 1 .. 255: [2^r, 2^(r+1))
    r = bit_length(v.astype(np.uint64)) - 1
    C = np.where(D, v - (1 << r), (2 << r) - 1 - v).astype(np.uint64)
    regime = np.where(D, r, _R_MAX - r).astype(np.uint64)
    width = n - 1 - _HEAD_BITS
    head = ((D.astype(np.uint64) << np.uint64(REGIME_BITS)) | regime) << np.uint64(width)
    F = _KEEP_BITS - 1
    tail = (C << np.uint64(F)) | (m & np.uint64((1 << F) - 1))   # r + 56 bits
    s = r + F - width                                        # bits cut off: >= 29

    def lsb_of(kept):
        return (kept & _U1) == _U1                           # head's low bits are zero

    kept, inc = _round_fields(tail, e, sticky, s, sign, rounding, rnd, R, lsb_of)
    body = (head | kept) + inc.astype(np.uint64)             # a carry ripples into C, R, D
    maxpos, minpos = np.uint64(fmt.maxpos_code), np.uint64(fmt.minpos_code)
    body = np.where(body > maxpos, maxpos, np.where(body == 0, minpos, body))
    body = np.where(big, maxpos, np.where(small, minpos, body))
    body = np.where(nonzero, body, np.uint64(0))
    full = np.uint64((1 << n) - 1)
    code = np.where(sign & nonzero, (full - body + _U1) & full, body)   # 2^n - body: no wrap
    code = np.where(kind != FINITE, np.uint64(fmt.nar_code), code)
    return code.astype(fmt.dtype)
