"""Binary floating point of any width: the ``Minifloat`` family (IEEE-like, OCP fn, fnuz, e8m0).

One frozen dataclass covers every e<E>m<M> format; ``Specials`` says which codes are inf/NaN.
Its canonical name follows the ml_dtypes / LLVM vocabulary (``e4m3fn``, ``e5m2fnuz``, ``fp16``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._exact import (FINITE, INF, NAN, ZERO_EXP, _overflow_to_max, _round_fields, bit_length,
                     encode_float64)
from ._formats import Format, FormatError, Rounding, Specials

__all__ = ["Minifloat", "canonical_name", "minifloat", "NAME_PATTERN", "MINIFLOAT_ALIASES",
           "OCP_PLAIN", "unpack_minifloat", "round_minifloat"]

#: The OCP FP8/FP6/FP4 element formats, whose plain names mean the finite variant.
OCP_PLAIN = frozenset({(4, 3), (2, 3), (3, 2), (2, 1)})
# Canonical spellings for a few IEEE formats everyone knows by another name.
_NICKNAMES = {(5, 10): "fp16", (8, 7): "bf16", (8, 23): "fp32", (11, 52): "fp64"}

#: The minifloat name grammar ``e<E>m<M>[b<bias>][fn|fnuz|ieee]`` (the registry's pattern; ``fnu``
#: is e8m0's unsigned, zero-less variant).
NAME_PATTERN = r"e(?P<E>\d+)m(?P<M>\d+)(?:b(?P<bias>-?\d+))?(?P<suffix>fnuz|fnu|fn|ieee)?"
#: Names outside the grammar (ml_dtypes / numpy / IEEE spellings) and the grammar names they mean.
MINIFLOAT_ALIASES = {
    "fp16": "e5m10", "float16": "e5m10", "half": "e5m10", "binary16": "e5m10",
    "bf16": "e8m7", "bfloat16": "e8m7",
    "fp32": "e8m23", "float32": "e8m23", "single": "e8m23", "binary32": "e8m23",
    "fp64": "e11m52", "float64": "e11m52", "double": "e11m52",
    "tf32": "e8m10",
    "e8m0": "e8m0fnu", "e8m0fnu": "e8m0fnu",
}

_VALUE_TABLES: dict = {}     # Minifloat -> float64 value of every code (formats <= 16 bits)


@dataclass(frozen=True)
class Minifloat(Format):
    """Binary floating point with ``exp_bits`` exponent and ``man_bits`` stored mantissa bits.

    ``bias`` is the exponent bias; ``specials`` says which codes are inf/NaN (:class:`Specials`).
    ``signed=False`` drops the sign bit (e8m0 scales). ``subnormals=False`` makes exponent
    field 0 an ordinary binade with an implicit leading one, so the format has no zero (e8m0).
    """
    exp_bits: int
    man_bits: int
    bias: int
    specials: Specials = Specials.IEEE
    signed: bool = True
    subnormals: bool = True
    family = "minifloat"

    def __post_init__(self):
        if not isinstance(self.exp_bits, int) or not 1 <= self.exp_bits <= 11:
            raise FormatError(f"exponent bits must be 1..11, not {self.exp_bits}")
        if not isinstance(self.man_bits, int) or not 0 <= self.man_bits <= 52:
            raise FormatError(f"mantissa bits must be 0..52, not {self.man_bits}")
        # E = 1 is allowed: an IEEE-like e1mM is degenerate (subnormals, then inf/NaN) but defined
        if self.specials is Specials.FNUZ and not self.signed:
            raise FormatError("fnuz formats need a sign bit (its NaN is the sign bit alone)")
        # Exponents must stay inside float64's normal range so decode is exact.
        if self.emax > 1023 or self.min_subnormal_exp < -1074:
            raise FormatError(f"exponent range of e{self.exp_bits}m{self.man_bits} bias {self.bias} "
                              "exceeds float64's; decode would not be exact")

    # -- naming ---------------------------------------------------------------------------
    @classmethod
    def from_name(cls, groups: dict, literal: bool = False) -> "Minifloat":
        """The format of a name matching :data:`NAME_PATTERN` (``groups``: E, M, bias, suffix).

        Plain ``e<E>m<M>`` is IEEE-like, except the OCP element formats (e4m3, e2m3, e3m2, e2m1),
        which mean the finite ``fn`` variant -- unless ``literal`` (an ml_dtypes name, where
        ``float8_e4m3`` is IEEE-like). ``fn`` means no inf, with NaN at the all-ones magnitude
        from 8 bits up and no NaN below (OCP MX FP6/FP4); ``fnuz`` a single NaN 0x80, no -0 and
        default bias 2^(E-1); ``b<bias>`` overrides the bias.
        """
        E, M, suffix = groups["E"], groups["M"], groups["suffix"]
        if not 1 <= E <= 11 or not 0 <= M <= 52:
            raise FormatError(f"exponent bits must be 1..11 and mantissa bits 0..52, not E={E}, M={M}")
        if suffix == "fnu":
            if (E, M) != (8, 0) or groups["bias"] is not None:
                raise FormatError("'fnu' (unsigned, no zero) is defined for e8m0 only")
            return cls(8, 0, 127, Specials.FN, signed=False, subnormals=False)
        if suffix is None:
            suffix = "fn" if (E, M) in OCP_PLAIN and not literal else "ieee"
        if suffix == "fnuz":
            specials, bias = Specials.FNUZ, 1 << (E - 1)
        elif suffix == "fn":
            specials = Specials.FN if 1 + E + M >= 8 else Specials.NONE
            bias = (1 << (E - 1)) - 1
        else:
            specials, bias = Specials.IEEE, (1 << (E - 1)) - 1
        if groups["bias"] is not None:
            bias = groups["bias"]
        return cls(E, M, bias, specials)

    @property
    def name(self) -> str:
        return canonical_name(self)

    @property
    def bits(self) -> int:
        return int(self.signed) + self.exp_bits + self.man_bits

    @property
    def precision(self) -> int:
        """Significand bits including the implicit one."""
        return self.man_bits + 1

    @property
    def exact_sig_bits(self) -> int:
        return self.precision

    @property
    def additive_identity(self) -> int:
        """-0 where the format has it (x + -0 = x for every x, -0 included), else +0."""
        return self.sign_bit if self.has_negative_zero else 0

    def exact_unpack(self, u):
        return unpack_minifloat(self, u)

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        return round_minifloat(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R)

    # -- derived ranges -------------------------------------------------------------------
    @property
    def emin(self) -> int:
        """Exponent of the smallest normal binade."""
        return (1 if self.subnormals else 0) - self.bias

    @property
    def max_code(self) -> int:
        """Positive code of the largest finite value."""
        top = (1 << (self.exp_bits + self.man_bits)) - 1      # all-ones magnitude
        if self.specials is Specials.IEEE:
            return top - (1 << self.man_bits)                   # exponent all-ones minus one, mantissa all ones
        if self.specials is Specials.FN:
            return top - 1                                      # all-ones is NaN
        return top                                              # FNUZ / NONE: all-ones is finite

    @property
    def emax(self) -> int:
        return (self.max_code >> self.man_bits) - self.bias

    @property
    def min_subnormal_exp(self) -> int:
        return self.emin - self.man_bits if self.subnormals else self.emin

    @cached_property
    def max(self) -> float:
        return float(self.decode(np.array([self.max_code]))[0])

    @cached_property
    def min_normal(self) -> float:
        return float(2.0 ** self.emin)

    @cached_property
    def min_subnormal(self) -> float:
        return float(2.0 ** self.min_subnormal_exp)

    @property
    def min(self) -> float:
        return -self.max if self.signed else self.min_subnormal

    # -- special codes --------------------------------------------------------------------
    @property
    def sign_bit(self) -> int:
        return (1 << (self.bits - 1)) if self.signed else 0

    @property
    def has_inf(self) -> bool:
        return self.specials is Specials.IEEE

    @property
    def has_nan(self) -> bool:
        if self.specials is Specials.IEEE:
            return self.man_bits >= 1          # with no mantissa bits the top exponent is inf only
        return self.specials in (Specials.FN, Specials.FNUZ)

    @property
    def has_negative_zero(self) -> bool:
        return self.signed and self.subnormals and self.specials is not Specials.FNUZ

    @property
    def has_zero(self) -> bool:
        return self.subnormals

    @property
    def inf_code(self) -> int:
        if not self.has_inf:
            raise FormatError(f"{self.name} has no infinity")
        return ((1 << self.exp_bits) - 1) << self.man_bits

    @property
    def nan_code(self) -> int:
        """Canonical NaN: sign 0 where the format allows; IEEE quiet NaN (mantissa MSB set)."""
        if not self.has_nan:
            raise FormatError(f"{self.name} has no NaN")
        if self.specials is Specials.IEEE:
            return self.inf_code | (1 << (self.man_bits - 1))
        if self.specials is Specials.FNUZ:
            return self.sign_bit
        return (1 << (self.exp_bits + self.man_bits)) - 1      # FN: all-ones magnitude

    def is_nan(self, codes) -> np.ndarray:
        u = self.check_codes(codes)
        mag = u & np.uint64((1 << (self.exp_bits + self.man_bits)) - 1)
        if self.specials is Specials.IEEE:
            return (mag > np.uint64(self.inf_code)) if self.has_nan else np.zeros(u.shape, bool)
        if self.specials is Specials.FN:
            return mag == np.uint64(self.nan_code)
        if self.specials is Specials.FNUZ:
            return u == np.uint64(self.sign_bit)
        return np.zeros(u.shape, bool)

    def is_inf(self, codes) -> np.ndarray:
        u = self.check_codes(codes)
        if not self.has_inf:
            return np.zeros(u.shape, bool)
        mag = u & np.uint64((1 << (self.exp_bits + self.man_bits)) - 1)
        return mag == np.uint64(self.inf_code)

    # -- conversion -----------------------------------------------------------------------
    def decode(self, codes) -> np.ndarray:
        """Exact value of each code as float64 (NaN for NaN, +-inf, -0.0 kept)."""
        if self.bits <= 16:                      # small formats: one gather from a value table
            return self._value_table()[self._checked(codes)]
        native = self.native_dtype
        if native is not None:                   # fp32: the bits are a float32 already
            with np.errstate(invalid="ignore"):  # signalling-NaN patterns widen quietly
                return self._checked(codes).astype(self.dtype).view(native).astype(np.float64)
        return self._decode_fields(self.check_codes(codes))

    def _value_table(self) -> np.ndarray:
        table = _VALUE_TABLES.get(self)
        if table is None:
            table = self._decode_fields(np.arange(1 << self.bits, dtype=np.uint64))
            table.setflags(write=False)
            _VALUE_TABLES[self] = table
        return table

    @cached_property
    def ml_dtype(self):
        """The ml_dtypes / numpy float dtype with exactly this format (``float8_e4m3fn`` for
        e4m3, ``bfloat16``, ``float16``), or None: the type whose name parses to this format."""
        return _ML_DTYPES.get(self)

    @cached_property
    def native_dtype(self):
        """The numpy float type with exactly this format's values and IEEE semantics, if any
        (fp16 -> float16, fp32 -> float32): its casts are used as a proven-equal fast path."""
        for dt in (np.float16, np.float32):
            fi = np.finfo(dt)
            if (self.specials is Specials.IEEE and self.signed and self.subnormals
                    and self.man_bits == fi.nmant and self.exp_bits == fi.iexp
                    and self.bias == (1 << (fi.iexp - 1)) - 1):
                return np.dtype(dt)
        return None

    def _decode_fields(self, u) -> np.ndarray:
        M = self.man_bits
        mag = u & np.uint64((1 << (self.exp_bits + M)) - 1)
        e_field = (mag >> np.uint64(M)).astype(np.int64)
        m_field = (mag & np.uint64((1 << M) - 1)).astype(np.int64)
        if self.subnormals:
            normal = e_field > 0
            sig = np.where(normal, m_field + (1 << M), m_field)
            exp = np.where(normal, e_field, 1) - self.bias - M
        else:
            sig = m_field + (1 << M)
            exp = e_field - self.bias - M
        val = np.ldexp(sig.astype(np.float64), exp.astype(np.int32))
        if self.signed:
            neg = (u & np.uint64(self.sign_bit)) != 0
            val = np.where(neg, -val, val)
        if self.has_inf:
            inf = self.is_inf(u)
            val = np.where(inf, np.copysign(np.inf, val), val)
        if self.has_nan:
            val = np.where(self.is_nan(u), np.nan, val)
        return val

    def encode(self, x, rounding="rne", saturate=False, rnd=None, rnd_bits=None) -> np.ndarray:
        """Round float64 values ``x`` into codes (see docs/formats.md for overflow and SR rules)."""
        return encode_float64(self, x, rounding, saturate, rnd, rnd_bits)

    def layout(self):
        """Amaranth ``data.StructLayout`` of a code: ``mantissa``, ``exponent``, ``sign``."""
        from amaranth.lib import data
        fields = {"mantissa": self.man_bits, "exponent": self.exp_bits}
        if self.signed:
            fields["sign"] = 1
        return data.StructLayout(fields)

    def corner_codes(self) -> np.ndarray:
        """+-0, smallest/largest subnormal, smallest normal, 1 and its neighbours, largest
        finite and its neighbour, inf, and the NaN codes (IEEE: a signalling pattern and a
        negative all-ones payload too; fn: both signs)."""
        M = self.man_bits
        mags = {0, 1, (1 << M) - 1 if M else 0, 1 << M, self.max_code, self.max_code - 1,
                (1 << M) + 1}
        one = int(self.encode(1.0)[()]) if self.emin <= 0 <= self.emax else 1 << M
        mags |= {one, one + 1, max(one - 1, 0)}
        if self.has_inf:
            mags.add(self.inf_code)
        codes = set()
        for mag in mags:
            mag &= (1 << (self.exp_bits + M)) - 1
            codes.add(mag)
            if self.signed:
                codes.add(mag | self.sign_bit)
        if self.has_nan:
            codes.add(self.nan_code)
            if self.specials is Specials.IEEE:
                codes.add(self.inf_code | 1)                       # a signalling-pattern NaN
                codes.add(self.inf_code | ((1 << M) - 1) | self.sign_bit)
            elif self.specials is Specials.FN:
                codes.add(self.nan_code | self.sign_bit)
        return np.array(sorted(codes), dtype=np.uint64).astype(self.dtype)

    def describe(self) -> str:
        specials = []
        if self.has_inf:
            specials.append("inf")
        if self.has_nan:
            specials.append("NaN")
        if self.has_negative_zero:
            specials.append("-0")
        if not self.has_zero:
            specials.append("no zero")
        return ", ".join(specials) or "finite only"


def minifloat(name: str) -> Minifloat:
    """A minifloat from its grammar name or alias alone (``minifloat("e4m3")``): what formats
    built from fixed element formats (the block formats) use instead of the registry."""
    import re
    key = MINIFLOAT_ALIASES.get(name, name)
    m = re.fullmatch(NAME_PATTERN, key)
    if m is None:
        raise FormatError(f"{name!r} is not a minifloat name")
    groups = {k: (int(v) if v is not None and v.lstrip("-").isdigit() else v)
              for k, v in m.groupdict().items()}
    return Minifloat.from_name(groups)


def canonical_name(f: Minifloat) -> str:
    E, M = f.exp_bits, f.man_bits
    if not f.signed:
        return f"e{E}m{M}fnu"
    if f.specials is Specials.FNUZ:
        suffix, default_bias = "fnuz", 1 << (E - 1)
    elif f.specials in (Specials.FN, Specials.NONE):
        suffix, default_bias = "fn", (1 << (E - 1)) - 1
    else:
        suffix, default_bias = ("ieee" if (E, M) in OCP_PLAIN else ""), (1 << (E - 1)) - 1
    bias = "" if f.bias == default_bias else f"b{f.bias}"
    if not bias and not suffix and (E, M) in _NICKNAMES:
        return _NICKNAMES[(E, M)]
    return f"e{E}m{M}{bias}{suffix}"


def unpack_minifloat(fmt: Minifloat, u):
    """``Minifloat.exact_unpack``: significand with its implicit bit, unbiased exponent."""
    M = fmt.man_bits
    mag = u & np.uint64((1 << (fmt.exp_bits + M)) - 1)
    e_field = (mag >> np.uint64(M)).astype(np.int64)
    m = mag & np.uint64((1 << M) - 1)
    if fmt.subnormals:
        normal = e_field > 0
        m = np.where(normal, m | np.uint64(1 << M), m)
        e = np.where(normal, e_field, 1) - fmt.bias - M
    else:
        m = m | np.uint64(1 << M)
        e = e_field - fmt.bias - M
    sign = (u & np.uint64(fmt.sign_bit)) != 0 if fmt.signed else np.zeros(u.shape, bool)
    kind = np.zeros(u.shape, np.int8)
    if fmt.has_inf:
        kind[fmt.is_inf(u)] = INF
    if fmt.has_nan:
        kind[fmt.is_nan(u)] = NAN
    special = kind != FINITE
    m = np.where(special, np.uint64(0), m)
    e = np.where(m == 0, ZERO_EXP, e)
    return sign, m, e.astype(np.int64), kind


def round_minifloat(fmt: Minifloat, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
    M, bias = fmt.man_bits, fmt.bias
    max_code = fmt.max_code
    if rounding is Rounding.SR and R > 61 - M:
        raise FormatError(f"stochastic rounding into {fmt.name} supports rnd_bits up to {61 - M}")
    nonzero = (m != 0) | sticky
    bl = bit_length(m)
    Ev = e + bl - 1                                           # exponent of the leading bit
    big = nonzero & (Ev > fmt.emax + 1)                       # overflows whatever the rounding
    Ev = np.where(big, fmt.emax, Ev)
    e_eff = np.where(big, Ev - (bl - 1), e)                  # keeps shifts in range; code forced below
    q = (np.maximum(Ev, fmt.emin) if fmt.subnormals else Ev) - M      # exponent of the ulp
    s = q - e_eff

    def lsb_of(kept):
        code = ((q + M + bias) << M) + kept.astype(np.int64) - (1 << M)
        return (code & 1) == 1

    kept, inc = _round_fields(m, e_eff, sticky, s, sign, rounding, rnd, R, lsb_of)
    code = ((q + M + bias) << M) + kept.astype(np.int64) - (1 << M) + inc.astype(np.int64)
    code = np.where(big, max_code + 1, code)
    code = np.where(nonzero, code, 0)
    # -- NaN results, tracked as a mask (codes stay magnitudes) -------------------------------
    nan = kind == NAN
    # -- overflow: inf, else NaN, else clamp; directed modes and saturate go to max -----------
    over = code > max_code
    to_max = over & _overflow_to_max(rounding, sign, saturate)
    to_special = over & ~to_max
    if fmt.has_inf:
        code = np.where(to_special, fmt.inf_code, np.where(to_max, max_code, code))
    else:
        if fmt.has_nan:
            nan = nan | to_special
        code = np.where(over, max_code, code)       # (codes under a NaN mask are replaced below)
    # -- no zero (e8m0): underflow goes to the smallest code; zero itself has no code: NaN ----
    if not fmt.has_zero:
        code = np.where(code < 0, 0, code)
        nan = nan | (~nonzero & (kind == FINITE))
    # -- infinite inputs ---------------------------------------------------------------------
    inf = kind == INF
    if fmt.has_inf:
        code = np.where(inf, max_code if saturate else fmt.inf_code, code)
    elif saturate or not fmt.has_nan:
        code = np.where(inf, max_code, code)
    else:
        nan = nan | inf
    if not fmt.signed:
        nan = nan | (sign & (nonzero | inf))         # negative values are not representable
    if not fmt.has_nan and np.any(nan):
        raise FormatError(f"{fmt.name} has no NaN; cannot encode a NaN result")
    out = code.astype(np.uint64)
    if fmt.signed:
        neg = sign & ~nan
        if fmt.specials is Specials.FNUZ:
            neg &= out != 0
        out = out | np.where(neg, np.uint64(fmt.sign_bit), np.uint64(0))
    if fmt.has_nan:
        out = np.where(nan, np.uint64(fmt.nan_code), out)
    return out.astype(fmt.dtype)


def _ml_dtypes() -> dict:
    """Minifloat -> the ml_dtypes / numpy float dtype whose name parses to it."""
    import ml_dtypes
    types = [np.dtype(getattr(ml_dtypes, n)) for n in dir(ml_dtypes)
             if n.startswith(("float", "bfloat"))]
    types += [np.dtype(t) for t in (np.float16, np.float32, np.float64)]
    out = {}
    for dt in types:
        key = MINIFLOAT_ALIASES.get(dt.name) or dt.name.partition("_")[2]
        m = re.fullmatch(NAME_PATTERN, key)
        if m is None:
            continue
        groups = {k: (int(v) if v is not None and k != "suffix" else v)
                  for k, v in m.groupdict().items()}
        try:
            fmt = Minifloat.from_name(groups, literal=True)
        except FormatError:                    # a type outside the grammar's ranges
            continue
        out.setdefault(fmt, dt)
    return out


_ML_DTYPES = _ml_dtypes()
