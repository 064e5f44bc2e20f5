"""Number-format objects: one frozen dataclass per family.

Every property (max, min normal, NaN code, ...) is derived from the defining fields; nothing is
a typed-out table. Codes are bit patterns held right-aligned in numpy unsigned integers.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = [
    "FormatError", "Rounding", "Specials", "Format", "Int", "Minifloat", "storage_dtype",
    "parse_enum",
]


class FormatError(ValueError):
    """An unknown or impossible format name, or an operation a format does not support."""


def parse_enum(cls, value, what: str):
    """``value`` as a member of the string-valued enum ``cls`` (members pass through); else a
    one-line FormatError naming ``what`` and the accepted values. Strings exist only at the
    edges (CLI, manifests) and are parsed once, here."""
    if isinstance(value, cls):
        return value
    try:
        return cls(str(value).lower())
    except ValueError:
        accepted = ", ".join(m.value for m in cls)
        raise FormatError(f"unknown {what} {value!r}; accepted: {accepted}") from None


class Rounding(enum.Enum):
    """Rounding modes of FORMATS.md ("Value semantics")."""
    RNE = "rne"   #: to nearest, ties to even
    RTZ = "rtz"   #: toward zero
    RNA = "rna"   #: to nearest, ties away from zero
    RUP = "rup"   #: toward +inf
    RDN = "rdn"   #: toward -inf
    SR = "sr"     #: stochastic, with an explicit random integer per element

    @classmethod
    def parse(cls, value) -> "Rounding":
        return parse_enum(cls, value, "rounding mode")


class Specials(enum.Enum):
    """Which codes of a minifloat are special.

    ``IEEE``: top exponent field holds +-inf (mantissa 0) and NaNs (mantissa != 0).
    ``FN``: no inf; the all-ones magnitude (exponent and mantissa bits set) is NaN, both signs.
    ``FNUZ``: no inf, no -0; the single NaN is the sign bit alone (0x80 for 8 bits).
    ``NONE``: no inf, no NaN: every code is finite (OCP MX FP6/FP4).
    """
    IEEE = "ieee"
    FN = "fn"
    FNUZ = "fnuz"
    NONE = "none"


_VALUE_TABLES: dict = {}     # Minifloat -> float64 value of every code (formats <= 16 bits)


def storage_dtype(bits: int) -> np.dtype:
    """Smallest unsigned numpy dtype holding ``bits`` bits."""
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if bits <= np.dtype(dt).itemsize * 8:
            return np.dtype(dt)
    raise FormatError(f"formats wider than 64 bits are not supported, not {bits}")


class Format:
    """Common interface of every format family.

    A family plugs into every operation (mul, fma, dot, MAC) by providing ``name``, ``bits``,
    ``decode``, ``encode`` and the exact interface of :mod:`golden._exact`:

    - ``exact_unpack(u)`` -> (sign, m, e, kind): codes as exact triples;
    - ``exact_round(sign, m, e, sticky, kind, rounding, saturate, rnd, R)`` -> codes: the
      family's one rounding of an exact value;
    - ``exact_sig_bits``: the widest ``m`` that ``exact_unpack`` returns;
    - ``additive_identity``: the code that leaves any value unchanged when added (MAC ``first``).
    """
    family: str = "?"

    def exact_unpack(self, u):
        raise NotImplementedError

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        raise NotImplementedError

    @property
    def dtype(self) -> np.dtype:
        return storage_dtype(self.bits)

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1

    def codes(self) -> np.ndarray:
        """Every code of the format, ascending (only for formats of at most 24 bits)."""
        if self.bits > 24:
            raise FormatError(f"{self.name} has 2^{self.bits} codes; enumerating is limited to 24 bits")
        return np.arange(1 << self.bits, dtype=np.uint64).astype(self.dtype)

    def check_codes(self, codes) -> np.ndarray:
        """Return ``codes`` as uint64, raising FormatError for a code outside the format."""
        return self._checked(codes).astype(np.uint64, copy=False)

    def _checked(self, codes) -> np.ndarray:
        """``codes`` as an unsigned integer array (its own dtype where possible), validated."""
        arr = np.asarray(codes)
        if arr.dtype.kind == "u" and arr.dtype.itemsize * 8 <= self.bits:
            return arr                                 # every value of the dtype is a code
        if arr.dtype.kind == "f":
            raise FormatError(f"{self.name}: codes must be integers (bit patterns), not {arr.dtype}")
        if arr.dtype.kind not in "ui" and arr.dtype != np.bool_:
            raise FormatError(f"{self.name}: codes must be integers, not {arr.dtype}")
        if arr.dtype.kind == "i" and arr.size and int(arr.min()) < 0:
            raise FormatError(f"{self.name}: codes are unsigned bit patterns; got a negative value")
        if arr.size and int(arr.max()) > self.mask:
            raise FormatError(f"{self.name}: code {int(arr.max()):#x} does not fit in {self.bits} bits")
        return arr.astype(np.uint64) if arr.dtype.kind != "u" else arr

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Int(Format):
    """Two's-complement (``signed``) or unsigned integer of ``n`` bits."""
    n: int
    signed: bool = True
    family = "integer"

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
        from ._exact import unpack_int
        return unpack_int(self, u)

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        from ._exact import round_int
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
        from ._exact import encode_float64
        return encode_float64(self, x, rounding, saturate, rnd, rnd_bits)

    def describe(self) -> str:
        return f"{self.min_int}..{self.max_int}"


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
    @property
    def name(self) -> str:
        from ._registry import canonical_name
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
        from ._exact import unpack_minifloat
        return unpack_minifloat(self, u)

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        from ._exact import round_minifloat
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
        """Round float64 values ``x`` into codes (see FORMATS.md for overflow and SR rules)."""
        from ._exact import encode_float64
        return encode_float64(self, x, rounding, saturate, rnd, rnd_bits)

    def layout(self):
        """Amaranth ``data.StructLayout`` of a code: ``mantissa``, ``exponent``, ``sign``."""
        from amaranth.lib import data
        fields = {"mantissa": self.man_bits, "exponent": self.exp_bits}
        if self.signed:
            fields["sign"] = 1
        return data.StructLayout(fields)

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
