"""HiFloat8 (``hif8``): Ascend's tapered 8-bit float, the ``HiF8`` family.

Definition (docs/formats.md "HiF8"; Luo et al., "Ascend HiFloat8 Format for Deep Learning",
arXiv 2409.16626; MindSpore ``core/base/hifloat8.h`` decodes the same table). A code is
``S | dot | exponent | mantissa``. The *dot* field is a prefix code that sets the widths of the
other two: its exponent field has ``D`` bits, sign-magnitude with an implicit leading magnitude
one (so ``|E|`` lies in ``[2^(D-1), 2^D - 1]``), and the mantissa takes what is left of the
7 magnitude bits:

======  ===  ========  ==========  ==========
dot     D    |E|       mantissa    binades
======  ===  ========  ==========  ==========
``11``  4    8..15     1 bit       16
``10``  3    4..7      2 bits      8
``01``  2    2..3      3 bits      4
``001`` 1    1         3 bits      2
``0001`` 0   0         3 bits      1
``0000`` -   -         (denormal)  7
======  ===  ========  ==========  ==========

A normal code is ``(-1)^S * 2^E * 1.M``; the denormal codes ``0000 M`` are ``2^(M - 23)`` for
``M = 1..7`` (seven more binades, 2^-22 .. 2^-16, with no fraction bits). ``0x00`` is the only
zero, ``0x80`` (the "negative zero" slot) is NaN, ``0x6F`` / ``0xEF`` (``11 0111 1``: E = +15
with mantissa 1) are +-inf, and the largest finite value is ``0x6E = 2^15``. So 253 codes are
finite: 2 * 126 nonzero values and one zero.

Rounding (docs/formats.md: "rounds to nearest even, rna available"). The codes are not ordered like
the values (``001`` codes hold both E = +1 and E = -1), so rounding is defined on values: an
exact ``x`` is placed in its binade ``[2^E, 2^(E+1))``, whose representable grid is
``2^E * (1 + k / 2^p(E))`` with ``p(E)`` the mantissa bits of that binade (0 for the denormal
binades, and below 2^-22 the grid is the multiples of 2^-22, i.e. 0 and 2^-22). The grid's
next point ``2^(E+1)`` is always a representable power of two, so rounding within the binade
*is* rounding to the nearest representable value, in every mode. A tie goes to the neighbour
whose **code** has least significant bit 0 ("even on the encoding"). For every normal binade
the code's last bit is the mantissa's last bit, so this is IEEE 754's "even significand"
(a power of two above a tie has mantissa 0 and wins); in the denormal binades, where both
neighbours are powers of two with no fraction bits, it is the neighbour with the even ``M``
field: the convention our rounder and ml_dtypes use for every ``e<E>m0`` format (e8m0). At
the top, ``0x6F`` is where ``1.5 * 2^15`` would be: a result that rounds to it or beyond
overflows, i.e. ``|x| >= 1.25 * 2^15 = 40960`` overflows under ``rne`` except the tie itself
(which goes to the even ``0x6E``), and ``|x| >= 40960`` under ``rna``. Overflow gives +-inf, or
+-max with ``saturate=True`` or under the directed modes as docs/formats.md says. Results that
round to zero give ``0x00`` (no -0). The paper's own conversion is ties-away (our ``rna``);
MindSpore's ``FromFloat32`` truncates (our ``rtz``, except that it maps everything above 2^15
to inf).

The family plugs into the shared exact machinery (:mod:`golden._exact`): ``exact_unpack``
gives ``(sign, 1.M as an integer, E - p)``, at most 4 significand bits, and ``exact_round`` is
the rounding above, built on the shared ``_round_fields`` so every mode (rne, rna, rtz, rup,
rdn, sr) behaves as for the other families.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._exact import (FINITE, INF, NAN, ZERO_EXP, bit_length, encode_float64, _overflow_to_max,
                     _round_fields)
from ._formats import Format, FormatError

__all__ = ["HiF8", "DotClass"]


@dataclass(frozen=True)
class DotClass:
    """One value of the dot prefix code: ``prefix`` (bit string), ``exp_bits`` (D, the width
    of the sign-magnitude exponent field) and ``man_bits``; ``None`` exp_bits = denormals."""
    prefix: str
    exp_bits: int | None
    man_bits: int

    @property
    def exp_range(self) -> tuple[int, int]:
        """(min |E|, max |E|): the implicit leading one gives 2^(D-1) .. 2^D - 1 (D = 0: 0)."""
        if self.exp_bits is None:
            raise FormatError("denormal codes have no exponent field")
        if self.exp_bits == 0:
            return (0, 0)
        return (1 << (self.exp_bits - 1), (1 << self.exp_bits) - 1)


_MAG_BITS = 7
# The dot prefix code, derived: exponent-field widths 4, 3, 2, 1, 0 take the prefixes 11, 10,
# 01, 001, 0001; the mantissa gets the rest of the 7 magnitude bits (capped at 3).
_DOTS = tuple(DotClass(p, d, _MAG_BITS - len(p) - d)
              for p, d in (("11", 4), ("10", 3), ("01", 2), ("001", 1), ("0001", 0))) \
    + (DotClass("0000", None, 0),)
_DENORMAL_BIAS = 23                     # denormal 0000 M: 2^(M - 23), M = 1..7


@dataclass(frozen=True)
class HiF8(Format):
    """Ascend HiFloat8 (``golden.parse("hif8")``); see the module docstring for the format.

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> h = golden.parse("hif8")
    >>> h.decode(np.array([0x08, 0x6E, 0x01, 0x6F, 0x80], np.uint8)).tolist()
    [1.0, 32768.0, 2.384185791015625e-07, inf, nan]
    >>> hex(int(h.encode(3.0))), hex(int(h.encode(40960.0))), hex(int(h.encode(40960.0, "rna")))
    ('0x14', '0x6e', '0x6f')
    """
    family = "hif8"

    # -- naming and ranges ----------------------------------------------------------------
    @property
    def name(self) -> str:
        return "hif8"

    bits = 8
    signed = True
    has_inf = True
    has_nan = True
    has_zero = True
    has_negative_zero = False
    additive_identity = 0x00            # the only zero: x + 0 = x for every x
    sign_bit = 0x80
    nan_code = 0x80
    inf_code = 0x6F                     # 0 11 0111 1: where 1.5 * 2^15 would be
    max_code = 0x6E                     # 0 11 0111 0 = 2^15
    dot_classes = _DOTS
    emax = 15                           # largest normal exponent (dot 11, |E| = 15)
    emin = -15                          # smallest normal exponent
    denormal_bias = _DENORMAL_BIAS
    min_subnormal_exp = 1 - _DENORMAL_BIAS          # 2^-22 (code 0x01)
    max_subnormal_exp = 7 - _DENORMAL_BIAS          # 2^-16 (code 0x07)
    exact_sig_bits = 4                  # 1.MMM at most

    @property
    def max(self) -> float:
        return float(2.0 ** self.emax)

    @property
    def min(self) -> float:
        return -self.max

    @property
    def min_positive(self) -> float:
        return float(2.0 ** self.min_subnormal_exp)

    @property
    def min_subnormal(self) -> float:
        return self.min_positive

    @property
    def min_normal(self) -> float:
        return float(2.0 ** self.emin)

    def dot_class(self, E: int) -> DotClass:
        """The dot class whose codes hold exponent ``E`` (normal: -15..15; denormal: -22..-16)."""
        if self.min_subnormal_exp <= E <= self.max_subnormal_exp:
            return _DOTS[-1]
        for d in _DOTS[:-1]:
            lo, hi = d.exp_range
            if lo <= abs(E) <= hi:
                return d
        raise FormatError(f"hif8 has no binade 2^{E} (exponents -22..15)")

    def man_bits_at(self, E):
        """Mantissa bits of the binade 2^E (array-valued; 0 in the denormal binades)."""
        return self._man_bits_table[np.asarray(E, np.int64) - self.min_subnormal_exp]

    # -- tables, derived once from the field definitions ---------------------------------------
    @cached_property
    def _fields(self):
        """Per code: (sign, m, e, kind) of the exact value and the binade exponent."""
        n = 1 << self.bits
        sign = np.zeros(n, bool)
        m = np.zeros(n, np.uint64)
        e = np.full(n, ZERO_EXP, np.int64)
        kind = np.zeros(n, np.int8)
        for code in range(n):
            sign[code] = bool(code & self.sign_bit)
            mag = code & 0x7F
            if code == self.nan_code:
                kind[code] = NAN
                continue
            if mag == self.inf_code:
                kind[code] = INF
                continue
            if mag == 0:
                continue                                # zero
            bits = format(mag, "07b")
            d = next(d for d in _DOTS if bits.startswith(d.prefix))
            rest = bits[len(d.prefix):]
            if d.exp_bits is None:                      # denormal: 2^(M - 23)
                m[code], e[code] = 1, int(rest, 2) - _DENORMAL_BIAS
                continue
            if d.exp_bits:
                ef = rest[:d.exp_bits]
                E = (1 << (d.exp_bits - 1)) | int(ef[1:] or "0", 2)
                E = -E if ef[0] == "1" else E
            else:
                E = 0
            man = rest[d.exp_bits:]
            m[code] = (1 << d.man_bits) | int(man, 2)
            e[code] = E - d.man_bits
        for a in (sign, m, e, kind):
            a.setflags(write=False)
        return sign, m, e, kind

    @cached_property
    def _man_bits_table(self):
        Es = np.arange(self.min_subnormal_exp, self.emax + 2)
        t = np.array([self.dot_class(int(E)).man_bits if E <= self.emax else 0 for E in Es],
                     np.int64)
        t.setflags(write=False)
        return t

    @cached_property
    def _code_table(self):
        """Magnitude code of 2^E * (1 + f/8), indexed [E - min_subnormal_exp, f] (f 0..7);
        -1 where no code has that value (overflow: 1.5 * 2^15 and above)."""
        _, m, e, kind = self._fields
        t = np.full((self.emax - self.min_subnormal_exp + 2, 8), -1, np.int64)
        for code in range(1, 0x80):
            if kind[code] != FINITE:
                continue
            bl = int(m[code]).bit_length()
            E = int(e[code]) + bl - 1
            f = (int(m[code]) - (1 << (bl - 1))) << (4 - bl)
            t[E - self.min_subnormal_exp, f] = code
        t.setflags(write=False)
        return t

    @cached_property
    def _values(self):
        sign, m, e, kind = self._fields
        v = np.ldexp(m.astype(np.float64), np.where(m == 0, 0, e).astype(np.int32))
        v = np.where(sign, -v, v)
        v = np.where(kind == INF, np.copysign(np.inf, v), v)
        v = np.where(kind == NAN, np.nan, v)
        v.setflags(write=False)
        return v

    # -- Format interface -----------------------------------------------------------------
    def fields(self, codes):
        """(sign, E, mantissa as 1.M integer with the binade's ``p`` bits, kind) per code: what a
        hardware unpacker produces. Zero has m = 0; denormals m = 1 (p = 0)."""
        sign, m, e, kind = self.exact_unpack(self.check_codes(codes))
        bl = bit_length(m)
        E = np.where(m == 0, 0, e + bl - 1)
        return sign, E, m, kind

    def exact_unpack(self, u):
        sign, m, e, kind = self._fields
        u = np.asarray(u).astype(np.intp)
        return sign[u], m[u], e[u], kind[u]

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        return round_hif8(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R)

    def is_nan(self, codes) -> np.ndarray:
        return self.check_codes(codes) == np.uint64(self.nan_code)

    def is_inf(self, codes) -> np.ndarray:
        return (self.check_codes(codes) & np.uint64(0x7F)) == np.uint64(self.inf_code)

    def decode(self, codes) -> np.ndarray:
        """Exact value of each code as float64 (NaN for 0x80, +-inf for 0x6F / 0xEF)."""
        return self._values[self._checked(codes)]

    def encode(self, x, rounding="rne", saturate=False, rnd=None, rnd_bits=None) -> np.ndarray:
        """Round float64 values into hif8 codes (see the module docstring for the rule)."""
        return encode_float64(self, x, rounding, saturate, rnd, rnd_bits)

    def corner_codes(self) -> np.ndarray:
        """The two smallest and two largest magnitudes of every dot class (0, the denormal and
        dot-class edges, 2^15 and inf), +-1 and its neighbours, both signs, NaN (0x80, the
        "-0" slot)."""
        one = int(self.encode(1.0)[()])
        mags = {one - 1, one, one + 1, self.max_code, self.inf_code}
        for d in self.dot_classes:
            free = self.bits - 1 - len(d.prefix)             # exponent and mantissa bits
            lo = int(d.prefix, 2) << free
            mags |= {lo, lo + 1, lo + (1 << free) - 2, lo + (1 << free) - 1}
        codes = mags | {m | self.sign_bit for m in mags}
        return np.array(sorted(codes), dtype=np.uint64).astype(self.dtype)

    def describe(self) -> str:
        return "tapered float, dot-coded exponent (1-3 mantissa bits), denormals to 2^-22, inf, NaN, no -0"


def round_hif8(fmt: HiF8, sign, m, e, sticky, kind, rounding, saturate, rnd=None, R=0):
    """``HiF8.exact_round``: round exact triples into hif8 codes (one rounding)."""
    lo_E = fmt.min_subnormal_exp
    nonzero = (m != 0) | sticky
    bl = bit_length(m)
    Ev = np.where(m != 0, e + bl - 1, lo_E - 2)              # leading-bit exponent (tiny: below)
    big = nonzero & (Ev > fmt.emax)                         # >= 2^16: overflows in every mode
    Evc = np.clip(Ev, lo_E - 1, fmt.emax)
    p = np.where(Evc < lo_E, 0, fmt.man_bits_at(np.maximum(Evc, lo_E)))
    q = np.where(Evc < lo_E, lo_E, Evc - p)                 # exponent of the binade's ulp
    e_eff = np.where(big, q, e)                             # keeps shifts small; code forced below
    m_eff = np.where(big, np.uint64(1), m)
    s = q - e_eff
    table = fmt._code_table

    def code_of(K):
        """Magnitude code of K * 2^q (0 for K = 0, -1 above the largest finite value)."""
        K = K.astype(np.uint64)
        blK = bit_length(K)
        E = q + blK - 1
        lead = np.where(blK > 0, np.uint64(1) << np.maximum(blK - 1, 0).astype(np.uint64),
                        np.uint64(0))
        f3 = (K - lead).astype(np.int64)                    # the bits below the leading one
        f3 = np.where(blK <= 4, f3 << np.clip(4 - blK, 0, 3), f3 >> np.clip(blK - 4, 0, 63))
        inside = (E >= lo_E) & (E <= fmt.emax)
        Ei = np.clip(E - lo_E, 0, table.shape[0] - 1)
        code = table[Ei, np.clip(f3, 0, 7)]
        code = np.where(inside, code, np.where(E > fmt.emax, -1, 0))
        return np.where(K == 0, 0, code)

    def lsb_of(kept):
        return (code_of(kept) & 1) == 1                       # ties to the even *code*

    kept, inc = _round_fields(m_eff, e_eff, sticky, s, sign, rounding, rnd, R, lsb_of)
    code = code_of(kept + inc.astype(np.uint64))
    code = np.where(big, -1, np.where(nonzero, code, 0))
    over = code < 0
    to_max = over & _overflow_to_max(rounding, sign, saturate)
    code = np.where(over, np.where(to_max, fmt.max_code, fmt.inf_code), code)
    inf = kind == INF
    code = np.where(inf, fmt.max_code if saturate else fmt.inf_code, code)
    nan = kind == NAN
    out = code.astype(np.uint64)
    neg = sign & (out != 0) & ~nan
    out = out | np.where(neg, np.uint64(fmt.sign_bit), np.uint64(0))
    out = np.where(nan, np.uint64(fmt.nan_code), out)
    return out.astype(fmt.dtype)
