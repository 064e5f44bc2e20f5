"""What every number format shares: the ``Format`` base class, the policy enums, FormatError.

Every property (max, min normal, NaN code, ...) is derived from the defining fields; nothing is
a typed-out table. Codes are bit patterns held right-aligned in numpy unsigned integers.
"""
from __future__ import annotations

import enum

import numpy as np

from macforge.errors import MacforgeError

__all__ = ["FormatError", "Rounding", "Specials", "Format", "storage_dtype", "parse_enum"]


class FormatError(ValueError, MacforgeError):
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
    """Rounding modes of docs/formats.md ("Value semantics")."""
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
    #: Accumulator (a format name) of a MAC or FMA on these operands when none is named.
    default_accumulator: str = "fp32"

    @classmethod
    def from_name(cls, groups: dict, literal: bool = False) -> "Format":
        """The format named by the family's registry pattern: ``groups`` are the pattern's
        named groups (numbers as ints, absent ones None). Families whose fields are those
        groups need not override this."""
        return cls(**{k: v for k, v in groups.items() if v is not None})

    def negate(self, codes) -> np.ndarray:
        """Codes of -x: the sign bit flipped (sign-magnitude formats; unsigned formats are
        returned unchanged). Two's-complement families override this."""
        codes = self._checked(codes)
        if not getattr(self, "signed", False):
            return codes.astype(self.dtype)
        return (codes ^ self.dtype.type(self.sign_bit)).astype(self.dtype)

    def corner_codes(self) -> np.ndarray:
        """Directed corner codes for verification stimulus: zeros, the extremes, 1 and its
        neighbours, special codes, both signs (sorted, in the format's dtype)."""
        raise NotImplementedError(f"{type(self).__name__} defines no corner codes")

    def exact_unpack(self, u):
        raise NotImplementedError

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        raise NotImplementedError

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype codes are stored in (``uint8`` for e4m3): what every operation
        takes and returns. The matching float type, where one exists, is :attr:`ml_dtype`."""
        return storage_dtype(self.bits)

    #: The ml_dtypes (or numpy) float dtype whose values and bit layout are exactly this
    #: format's (``float8_e4m3fn`` for e4m3, ``float16`` for fp16), or None. Arrays of it are
    #: accepted wherever codes are (viewed as codes, no rounding); ``output="ml_dtypes"``
    #: returns one. Families with such types override it (:class:`golden.Minifloat`).
    ml_dtype = None

    def as_ml_dtype(self, codes) -> np.ndarray:
        """``codes`` viewed as :attr:`ml_dtype` values (the same bits; no rounding)."""
        if self.ml_dtype is None:
            raise FormatError(f"{self.name} has no ml_dtypes type; output='ml_dtypes' is for "
                              "the minifloats ml_dtypes has (float8_*, float6_*, float4_*, "
                              "bfloat16, float16, float32, float64)")
        return np.asarray(self._checked(codes)).astype(self.dtype).view(self.ml_dtype)

    def output(self, codes, output: str = "codes"):
        """Result ``codes`` in the form an operation's ``output=`` asks for: ``"codes"`` (the
        unsigned bit patterns, the default) or ``"ml_dtypes"`` (:meth:`as_ml_dtype`)."""
        if output == "codes":
            return codes
        if output == "ml_dtypes":
            return self.as_ml_dtype(codes)
        raise FormatError(f"unknown output {output!r}; accepted: codes, ml_dtypes")

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
        if self.ml_dtype is not None and arr.dtype == self.ml_dtype:
            u = arr.view(self.dtype)                   # the format's own values: their bits
            return u & self.dtype.type(self.mask) if self.dtype.itemsize * 8 > self.bits else u
        if arr.dtype.kind in "fV":
            own = f" or an array of {self.ml_dtype}" if self.ml_dtype is not None else ""
            raise FormatError(f"{self.name}: codes must be integers (bit patterns), not "
                              f"{arr.dtype}; pass codes (golden.parse({self.name!r}).encode(x)){own}")
        if arr.dtype.kind not in "ui" and arr.dtype != np.bool_:
            raise FormatError(f"{self.name}: codes must be integers, not {arr.dtype}")
        if arr.dtype.kind == "i" and arr.size and int(arr.min()) < 0:
            raise FormatError(f"{self.name}: codes are unsigned bit patterns; got a negative value")
        if arr.size and int(arr.max()) > self.mask:
            raise FormatError(f"{self.name}: code {int(arr.max()):#x} does not fit in {self.bits} bits")
        return arr.astype(np.uint64) if arr.dtype.kind != "u" else arr

    def __str__(self) -> str:
        return self.name
