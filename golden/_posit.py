"""Posits (Posit Standard 2022, and posit(n, es) variants): the ``Posit`` family.

A posit code of ``n`` bits is two's complement: the top bit is the sign, a negative code is the
negation (mod 2^n) of its magnitude's code. After the sign come a *regime* (a run of ``r``
identical bits ended by the opposite bit, or by the end of the code), ``es`` exponent bits and
the fraction; exponent and fraction bits cut off by the end of the code are zeros. With the run
of ones ``k = r - 1``, of zeros ``k = -r``, the value is ``(1 + f) * 2^(k * 2^es + exp)``.
``0...0`` is zero, ``10...0`` is NaR ("not a real"); there is no -0 and no infinity.

Rounding works **on the encoding** (Posit Standard 2022, 4.1): the exact value's infinitely
long posit bit string is cut after ``n - 1`` bits and rounded as a binary fraction, so a tie
goes to the even *code*. Where exponent bits are cut off this is not "nearest in value" (the
neighbours are 2^(2^j) apart); it is what the standard and SoftPosit do. A nonzero value never
rounds to 0 or NaR: below minpos gives +-minpos, at or above maxpos gives +-maxpos.

The family plugs into every exact operation: ``golden.mul`` / ``fma`` round once into a posit;
``golden.dot(A, B, c, p, p)`` is the standard's fused dot product, i.e. the quire: the exact
sum (the Kulisch accumulator of ``_ops`` is unbounded, so it is at least as wide as the
n * 2^(es+2)-bit quire) rounded once. The two agree for every sum of fewer than
2^(2^(es+3) - 1) products (2^31 for es = 2, the quire sum limit); past that a hardware quire
wraps and the exact sum does not. ``golden.mac_step`` with a posit accumulator rounds every
step (a chain of posit FMAs); the quire MAC, rounded only at read-out, is ``_quire``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._exact import FINITE, NAN, ZERO_EXP, bit_length, _low_mask, _round_fields
from ._formats import FormatError
from ._tapered import TaperedFormat, normalise_to

__all__ = ["Posit", "unpack_posit", "round_posit"]

_U1 = np.uint64(1)
# The rounder normalises every significand to exactly this many bits (shifting in zeros, or
# folding the bits shifted out into the sticky) before cutting the encoding. A posit code keeps
# at most n - 3 = 29 bits after its regime, so at least 57 - 29 = 28 bits lie below the cut:
# the round bit is always a real bit and SR has up to 28 exact bits. (exponent << 57) | fraction
# needs es + 57 <= 61 bits of uint64.
_KEEP_BITS = 58


@dataclass(frozen=True)
class Posit(TaperedFormat):
    """posit(n, es): ``n`` bits (3..32), ``es`` exponent bits (0..4; the 2022 standard has 2).

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> p8 = golden.parse("posit8")           # posit(8, 2), Posit Standard 2022
    >>> p8.decode(np.array([0x40, 0x7F, 0x01, 0x80], np.uint8)).tolist()
    [1.0, 16777216.0, 5.960464477539063e-08, nan]
    >>> int(p8.encode(1e30))                  # no overflow to NaR: maxpos
    127
    """
    n: int
    es: int = 2
    family = "posit"

    def __post_init__(self):
        if not isinstance(self.n, int) or not 3 <= self.n <= 32:
            raise FormatError(f"posit width must be 3..32, not {self.n}")
        if not isinstance(self.es, int) or not 0 <= self.es <= 4:
            raise FormatError(f"posit exponent size es must be 0..4, not {self.es}")

    # -- naming and ranges ----------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"posit{self.n}" if self.es == 2 else f"posit{self.n}es{self.es}"

    @property
    def max_scale(self) -> int:
        """log2(maxpos) = (n - 2) * 2^es: the regime of n - 1 ones (k = n - 2), no other bits."""
        return (self.n - 2) << self.es

    @property
    def max(self) -> float:
        return float(2.0 ** self.max_scale)

    @property
    def min_positive(self) -> float:
        """minpos = 2^-max_scale (code 0...01)."""
        return float(2.0 ** -self.max_scale)

    @property
    def exact_sig_bits(self) -> int:
        """Significand bits with the hidden one: n - 2 - es at the shortest regime (2 bits)."""
        return max(1, self.n - 2 - self.es)

    # -- the quire (Posit Standard 2022, 3.4, generalised to any es) ---------------------
    @property
    def quire_bits(self) -> int:
        """Quire width n * 2^(es+2): 16n for es = 2 (the standard), 32 for posit(8,0) and 128
        for posit(16,1) (the older standard, SoftPosit's quire8/quire16)."""
        return self.n << (self.es + 2)

    @property
    def quire_frac_bits(self) -> int:
        """Fraction bits of the quire: its LSB is minpos^2 = 2^-(2 * max_scale)."""
        return 2 * self.max_scale

    @property
    def quire_carry_bits(self) -> int:
        """Carry-guard bits between maxpos^2 and the sign: 2^(es+3) - 1 (31 for es = 2), so at
        least 2^(carry bits) products of maxpos^2 add up without overflow."""
        return self.quire_bits - 1 - 2 * self.quire_frac_bits

    # -- family interface ------------------------------------------------------------------
    def exact_unpack(self, u):
        return unpack_posit(self, u)

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        return round_posit(self, sign, m, e, sticky, kind, rounding, rnd, R)

    @property
    def calibration_target(self) -> float:
        """Where post-training quantisation maps a tensor's calibrated maximum: a quarter of
        2^(2^es), the top of the band whose regime is at most 2 bits and which so keeps the
        most fraction bits (posit8: |x| in [1/16, 16) has 3; the maximum goes to 4)."""
        return float(2.0 ** (1 << self.es)) / 4

    @property
    def default_accumulator(self) -> str:
        """The posit MAC reads its quire out in the operand format."""
        return self.name

    def corner_codes(self) -> np.ndarray:
        """0, NaR and its neighbours, +-minpos, +-maxpos, +-1 and their neighbours."""
        one = int(self.encode(1.0)[()])
        mags = {0, self.minpos_code, self.minpos_code + 1, self.maxpos_code, self.maxpos_code - 1,
                one, one - 1, one + 1}
        full = (1 << self.n) - 1
        codes = {m & full for m in mags} | {(-m) & full for m in mags} | {self.nar_code}
        return np.array(sorted(codes), dtype=np.uint64).astype(self.dtype)

    def describe(self) -> str:
        return f"es={self.es}, NaR, no inf/-0, quire {self.quire_bits} bits"


def unpack_posit(fmt: Posit, u):
    """``Posit.exact_unpack``: codes -> (sign, m, e, kind), m = 1.fraction as an integer.

    The regime run length comes from a bit length: a run of ones is the leading zeros of the
    inverted body, a run of zeros the leading zeros of the body (n - 1 bits after the sign).
    """
    n, es = fmt.n, fmt.es
    u = np.asarray(u, np.uint64)
    full = np.uint64((1 << n) - 1)
    body_mask = np.uint64((1 << (n - 1)) - 1)
    nar = u == np.uint64(fmt.nar_code)
    zero = u == 0
    neg = (u >> np.uint64(n - 1)) == _U1
    mag = np.where(neg, (~u + _U1) & full, u)               # two's complement magnitude
    body = mag & body_mask
    ones = ((body >> np.uint64(n - 2)) & _U1) == _U1        # regime of ones (k >= 0)
    run = np.where(ones, (n - 1) - bit_length(~body & body_mask), (n - 1) - bit_length(body))
    k = np.where(ones, run - 1, -run)
    rem = np.maximum(n - 2 - run, 0)                        # bits after the regime terminator
    tail = body & _low_mask(rem)
    flen = np.maximum(rem - es, 0)
    ex = np.where(rem >= es, tail >> flen.astype(np.uint64),
                  tail << np.clip(es - rem, 0, 63).astype(np.uint64)).astype(np.int64)
    frac = tail & _low_mask(flen)
    special = nar | zero
    m = np.where(special, np.uint64(0), (_U1 << flen.astype(np.uint64)) | frac)
    e = np.where(special, ZERO_EXP, (k << es) + ex - flen).astype(np.int64)
    kind = np.where(nar, NAN, FINITE).astype(np.int8)
    return neg & ~special, m, e, kind


def round_posit(fmt: Posit, sign, m, e, sticky, kind, rounding, rnd=None, R=0) -> np.ndarray:
    """``Posit.exact_round``: round exact triples to posit codes on the encoding.

    ``rne`` is the standard's rounding. The other modes are defined on the same bit string:
    ``rtz`` truncates it, ``rup``/``rdn`` round the magnitude away from / toward zero by sign
    (these are exact directed roundings in value, since codes are ordered like values), ``rna``
    breaks ties away, and ``sr`` takes ``frac`` as the cut-off bits read as a binary fraction.
    In every mode a nonzero value stays within [minpos, maxpos] in magnitude, and NaN or
    infinite inputs (``kind`` NAN/INF: e.g. 0 * inf from a float operand) give NaR.
    """
    n, es = fmt.n, fmt.es
    nonzero, m, e, sticky = normalise_to(_KEEP_BITS, m, e, sticky)
    bl = np.full(m.shape, _KEEP_BITS, np.int64)
    scale = e + bl - 1                                       # exponent of the leading one
    top = fmt.max_scale
    big = scale >= top                                       # >= maxpos: maxpos in every mode
    small = scale < -top                                     # < minpos: minpos in every mode
    sc = np.clip(scale, -top, top - 1)
    k = sc >> es                                             # regime value (floor division)
    ex = (sc & ((1 << es) - 1)).astype(np.uint64)
    reglen = np.where(k >= 0, k + 2, 1 - k)                  # run plus terminator; <= n - 1 here
    avail = (n - 1) - reglen                                 # code bits left for exponent + fraction
    regime = np.where(k >= 0, ((_U1 << (k + 1).clip(0, 62).astype(np.uint64)) - _U1) << _U1, _U1)
    f = np.maximum(bl - 1, 0)                                # fraction bits of m
    fu = f.astype(np.uint64)
    tailbits = (ex << fu) | (m & ((_U1 << fu) - _U1))       # exponent then fraction: es + f bits
    s = es + f - avail                                       # bits of the bit string cut off
    head = regime << avail.astype(np.uint64)

    def lsb_of(kept):
        return ((head | kept) & _U1) == _U1

    kept, inc = _round_fields(tailbits, e, sticky, s, sign, rounding, rnd, R, lsb_of)
    code = (head | kept) + inc.astype(np.uint64)             # a carry ripples into the regime
    code = np.where(big, np.uint64(fmt.maxpos_code), np.where(small, _U1, code))
    code = np.where(nonzero, code, np.uint64(0))
    code = np.where(sign & nonzero, (~code + _U1) & np.uint64((1 << n) - 1), code)
    code = np.where(kind != FINITE, np.uint64(fmt.nar_code), code)
    return code.astype(fmt.dtype)
