"""Format names: ``parse(name) -> Format``, from one table of format families.

Each format family is one line of :data:`FAMILIES`: its class, the regular expression its names
match (numbers in named groups), how its grammar reads in messages, its aliases and the names
``macforge formats`` lists. The class builds itself from the matched groups
(:meth:`Format.from_name`), so a new family is its own module plus one line here; nothing else in
macforge branches on family names. Names follow the ml_dtypes / LLVM vocabulary; the minifloat
grammar and its OCP rule are :mod:`golden._minifloat`'s (``e<E>m<M>[b<bias>][fn|fnuz|ieee]``).

ml_dtypes names (``float8_e4m3fn``, ``float4_e2m1fn``) are minifloat names behind a
``float<bits>_`` prefix, read literally (``float8_e4m3`` is IEEE-like, as in ml_dtypes) and
checked against the stated width.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ._block import BLOCK_ALIASES, BLOCK_NAMES, BlockFormat
from ._formats import Format, FormatError
from ._hif8 import HiF8
from ._int import Int
from ._lns import Lns
from ._minifloat import MINIFLOAT_ALIASES, NAME_PATTERN as MINIFLOAT_PATTERN, Minifloat
from ._posit import Posit
from ._takum import Takum

__all__ = ["Family", "FAMILIES", "parse", "known_names", "accepted"]

#: Longest number a name may carry: enough for every real format, and int() of a 5000-digit
#: exponent is not attempted.
_MAX_DIGITS = 6


@dataclass(frozen=True)
class Family:
    """One line of the registry: a format family and the names that select it.

    Parameters
    ----------
    cls : type
        The :class:`Format` subclass; ``cls.from_name(groups, literal)`` builds a format from
        the pattern's named groups (numeric groups as ints).
    pattern : str
        Regular expression matched in full against the lower-cased name (after aliases).
    grammar : str
        How the grammar reads in the "accepted:" part of an unknown-name error.
    examples : tuple of str
        Names ``macforge formats`` lists, in order.
    aliases : dict
        Names outside the pattern and the pattern names they mean.
    """
    cls: type
    pattern: str
    grammar: str
    examples: tuple = ()
    aliases: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "_regex", re.compile(self.pattern))


#: The format families, in the order names are tried and listed.
FAMILIES = (
    Family(Int, r"(?P<unsigned>u?)int(?P<n>\d+)", "int<N>/uint<N> (N=2..32)",
           ("int4", "int8", "int16", "int32", "uint8")),
    Family(Minifloat, MINIFLOAT_PATTERN,
           "e<E>m<M>[b<bias>][fn|fnuz|ieee] (E=1..11, M=0..52), e.g. e4m3, e5m2, e2m1; "
           "fp16, bf16, fp32, tf32, e8m0; "
           "ml_dtypes names (float8_e4m3fn, float6_e2m3fn, float4_e2m1fn, ...)",
           ("e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m4", "e4m3ieee", "e4m3b11fnuz", "e2m3",
            "e3m2", "e2m1", "e8m0", "fp16", "bf16", "fp32", "tf32"), MINIFLOAT_ALIASES),
    Family(Posit, r"posit(?P<n>\d+)(?:es(?P<es>\d+))?",
           "posit<N>[es<K>] (N=3..32, K=0..4, default 2)",
           ("posit8", "posit16", "posit32", "posit8es0", "posit16es1")),
    Family(Lns, r"lns(?P<n>\d+)f(?P<frac>\d+)", "lns<N>f<F> (N=3..24, F=0..16, N-2-F<=9), lns8",
           ("lns8", "lns6f2", "lns12f6"), {"lns8": "lns8f3"}),
    Family(HiF8, r"hif8", "hif8", ("hif8",)),
    Family(BlockFormat, r"(?P<block_name>" + "|".join(BLOCK_NAMES) + ")",
           "block: mxfp8 (mxe4m3), mxe5m2, mxfp6 (mxe2m3), mxe3m2, mxfp4, mxint8, nvfp4, nvint4",
           ("mxfp8", "mxe5m2", "mxfp6", "mxe3m2", "mxfp4", "mxint8", "nvfp4", "nvint4"),
           BLOCK_ALIASES),
    Family(Takum, r"takum(?P<n>\d+)", "takum<N> (linear, N=8..32)", ("takum8", "takum16", "takum32")),
)

_ALIASES = {k: v for fam in FAMILIES for k, v in fam.aliases.items()}


def accepted() -> str:
    """The grammar of every family, as the "accepted:" part of a FormatError."""
    return "; ".join(fam.grammar for fam in FAMILIES)


def _error(name, why=""):
    why = f" ({why})" if why else ""
    shown = repr(name) if len(name) <= 64 else repr(name[:48]) + f"... ({len(name)} characters)"
    return FormatError(f"unknown format {shown}{why}; accepted: " + accepted())


def _groups(match) -> dict:
    out = {}
    for k, v in match.groupdict().items():
        if v is not None and v.lstrip("-").isdigit():
            if len(v.lstrip("-")) > _MAX_DIGITS:
                raise FormatError(f"{k} has more than {_MAX_DIGITS} digits")
            v = int(v)
        out[k] = v
    return out


@lru_cache(maxsize=None)
def _parse_str(name: str) -> Format:
    key = name.strip().lower()
    ml_bits = None
    if key.startswith("float") and "_" in key:         # ml_dtypes: float8_e4m3fn, float4_e2m1fn
        prefix, key = key.split("_", 1)
        if not prefix[5:].isdigit() or len(prefix) > 5 + _MAX_DIGITS:
            raise _error(name)
        ml_bits = int(prefix[5:])
    key = _ALIASES.get(key, key)
    for fam in FAMILIES:
        if ml_bits is not None and fam.cls is not Minifloat:
            continue                                   # ml_dtypes float names are minifloats
        m = fam._regex.fullmatch(key)
        if m is None:
            continue
        try:
            fmt = fam.cls.from_name(_groups(m), literal=ml_bits is not None)
        except FormatError as exc:
            raise _error(name, str(exc)) from None
        if ml_bits is not None and fmt.bits != ml_bits:
            raise _error(name, f"float{ml_bits}_ names a {ml_bits}-bit type, "
                               f"e{fmt.exp_bits}m{fmt.man_bits} has {fmt.bits} bits")
        return fmt
    raise _error(name)


def parse(name) -> Format:
    """Return the :class:`Format` for ``name`` (a format object is returned unchanged).

    >>> parse("e4m3").name
    'e4m3fn'
    >>> parse("float8_e5m2").max
    57344.0
    """
    if isinstance(name, Format):
        return name
    if not isinstance(name, str):
        raise FormatError(f"a format is a name or a golden.Format, not {type(name).__name__}; "
                          "accepted: " + accepted())
    return _parse_str(name)


def known_names() -> list[str]:
    """Names listed by ``macforge formats``: each family's examples, in registry order."""
    return [n for fam in FAMILIES for n in fam.examples]
