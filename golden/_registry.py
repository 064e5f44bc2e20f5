"""Format names: ``parse(name) -> Format`` and the canonical name of each format object.

Names follow the ml_dtypes / LLVM vocabulary. Grammar for minifloats::

    e<E>m<M>[b<bias>][fn|fnuz|ieee]

Plain ``e<E>m<M>`` is IEEE-like except for the OCP names (e4m3, e2m3, e3m2, e2m1), which
mean the OCP (``fn``) formats. ``fn`` means "finite": no inf; NaN at the all-ones magnitude for
formats of 8 bits or more, and no NaN at all below 8 bits (OCP MX FP6/FP4, ml_dtypes'
``float6_*fn`` / ``float4_*fn``). ``fnuz`` adds "unsigned zero": a single NaN at 0x80, no -0,
default bias 2^(E-1).

Other families: ``posit<N>`` (Posit Standard 2022, es = 2) and ``posit<N>es<K>``; ``lns<N>f<F>``
(``lns8`` = ``lns8f3``). Their classes live in ``_posit`` and ``_lns``.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ._formats import Format, FormatError, Int, Minifloat, Specials
from ._block import BLOCK_NAMES, block_format
from ._hif8 import HiF8
from ._lns import Lns
from ._posit import Posit

__all__ = ["parse", "canonical_name", "known_names", "FAMILIES"]

# The OCP FP8/FP6/FP4 element formats, whose plain names mean the finite variant.
_OCP_PLAIN = {(4, 3), (2, 3), (3, 2), (2, 1)}

# Names outside the e<E>m<M> grammar, mapped to grammar names (ml_dtypes/numpy spellings).
_ALIASES = {
    "fp16": "e5m10", "float16": "e5m10", "half": "e5m10", "binary16": "e5m10",
    "bf16": "e8m7", "bfloat16": "e8m7",
    "fp32": "e8m23", "float32": "e8m23", "single": "e8m23", "binary32": "e8m23",
    "fp64": "e11m52", "float64": "e11m52", "double": "e11m52",
    "tf32": "e8m10",
    "e8m0": "e8m0fnu", "float8_e8m0fnu": "e8m0fnu", "e8m0fnu": "e8m0fnu",
    "lns8": "lns8f3",
}
# Canonical spellings for a few IEEE formats everyone knows by another name.
_NICKNAMES = {(5, 10): "fp16", (8, 7): "bf16", (8, 23): "fp32", (11, 52): "fp64"}

FAMILIES = ("int<N>/uint<N> (N=2..32)",
            "e<E>m<M>[b<bias>][fn|fnuz|ieee] (E=1..11, M=0..52), e.g. e4m3, e5m2, e2m1",
            "fp16, bf16, fp32, tf32, e8m0",
            "ml_dtypes names (float8_e4m3fn, float6_e2m3fn, float4_e2m1fn, ...)",
            "posit<N>[es<K>] (N=3..32, K=0..4, default 2)",
            "lns<N>f<F> (N=3..24, F=0..16, N-2-F<=9), lns8",
            "hif8", "block: mxfp8 (mxe4m3), mxe5m2, mxfp6 (mxe2m3), mxe3m2, mxfp4, mxint8, "
            "nvfp4, nvint4")

_MINIFLOAT_RE = re.compile(r"e(\d+)m(\d+)(?:b(-?\d+))?(fnuz|fnu|fn|ieee)?")
_INT_RE = re.compile(r"(u?)int(\d+)")
_POSIT_RE = re.compile(r"posit(\d+)(?:es(\d+))?")
_LNS_RE = re.compile(r"lns(\d+)f(\d+)")


def _error(name, why=""):
    why = f" ({why})" if why else ""
    return FormatError(f"unknown format {name!r}{why}; accepted: " + "; ".join(FAMILIES))


@lru_cache(maxsize=None)
def _parse_str(name: str) -> Format:
    key = name.strip().lower()
    ml_name = key.startswith("float") and "_" in key     # ml_dtypes: float8_e4m3fn, float4_e2m1fn
    ml_bits = None
    if ml_name:
        prefix, key = key.split("_", 1)
        if not prefix[5:].isdigit():
            raise _error(name)
        ml_bits = int(prefix[5:])
    key = _ALIASES.get(key, key)
    if key == "hif8" and not ml_name:
        return HiF8()
    if key in BLOCK_NAMES and not ml_name:
        return block_format(key)
    m = _INT_RE.fullmatch(key)
    if m:
        n = int(m.group(2))
        if not 2 <= n <= 32:
            raise _error(name, f"integer width must be 2..32, not {n}")
        return Int(n, signed=not m.group(1))
    for regex, family in ((_POSIT_RE, Posit), (_LNS_RE, Lns)):
        m = regex.fullmatch(key)
        if m:
            args = [int(g) for g in m.groups() if g is not None]
            try:
                return family(*args)
            except FormatError as exc:
                raise _error(name, str(exc)) from None
    m = _MINIFLOAT_RE.fullmatch(key)
    if not m:
        raise _error(name)
    E, M = int(m.group(1)), int(m.group(2))
    suffix = m.group(4)
    if not 1 <= E <= 11 or not 0 <= M <= 52:
        raise _error(name, f"exponent bits must be 1..11 and mantissa bits 0..52, not E={E}, M={M}")
    if suffix == "fnu":
        if (E, M) != (8, 0) or m.group(3):
            raise _error(name, "'fnu' (unsigned, no zero) is defined for e8m0 only")
        return Minifloat(8, 0, 127, Specials.FN, signed=False, subnormals=False)
    if suffix is None:      # ml_dtypes names are literal (float8_e4m3 is IEEE-like); ours follow OCP
        suffix = "fn" if (E, M) in _OCP_PLAIN and not ml_name else "ieee"
    if suffix == "fnuz":
        specials, bias = Specials.FNUZ, 1 << (E - 1)
    elif suffix == "fn":
        specials = Specials.FN if 1 + E + M >= 8 else Specials.NONE
        bias = (1 << (E - 1)) - 1
    else:
        specials, bias = Specials.IEEE, (1 << (E - 1)) - 1
    if m.group(3) is not None:
        bias = int(m.group(3))
    try:
        fmt = Minifloat(E, M, bias, specials)
    except FormatError as exc:
        raise _error(name, str(exc)) from None
    if ml_bits is not None and fmt.bits != ml_bits:
        raise _error(name, f"float{ml_bits}_ names a {ml_bits}-bit type, e{E}m{M} has {fmt.bits} bits")
    return fmt


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
                          "accepted: " + "; ".join(FAMILIES))
    return _parse_str(name)


def canonical_name(f: Minifloat) -> str:
    E, M = f.exp_bits, f.man_bits
    if not f.signed:
        return f"e{E}m{M}fnu"
    if f.specials is Specials.FNUZ:
        suffix, default_bias = "fnuz", 1 << (E - 1)
    elif f.specials in (Specials.FN, Specials.NONE):
        suffix, default_bias = "fn", (1 << (E - 1)) - 1
    else:
        suffix, default_bias = ("ieee" if (E, M) in _OCP_PLAIN else ""), (1 << (E - 1)) - 1
    bias = "" if f.bias == default_bias else f"b{f.bias}"
    if not bias and not suffix and (E, M) in _NICKNAMES:
        return _NICKNAMES[(E, M)]
    return f"e{E}m{M}{bias}{suffix}"


def known_names() -> list[str]:
    """Names listed by ``macforge formats``: the FORMATS.md table."""
    return ["int4", "int8", "int16", "int32", "uint8",
            "e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m4", "e4m3ieee", "e4m3b11fnuz",
            "e2m3", "e3m2", "e2m1", "e8m0", "fp16", "bf16", "fp32", "tf32",
            "posit8", "posit16", "posit32", "posit8es0", "posit16es1",
            "lns8", "lns6f2", "lns12f6", "hif8",
            "mxfp8", "mxe5m2", "mxfp6", "mxe3m2", "mxfp4", "mxint8", "nvfp4", "nvint4"]
