"""``convert``: one format into another (a cast), optionally scaled by a power of two.

The value is unpacked into its exact triple, the scale 2^k is applied exactly (an exponent add:
a power of two times a triple is a triple), and the shared rounder of the output family rounds
it once, in any mode, SR included. Integers have no NaN or infinity: a cast into an integer
maps NaN to the largest integer and +-inf to the largest / smallest one (RISC-V ``fcvt``'s
rule), whatever ``saturate`` says; finite overflow wraps modulo 2^n, or clamps with
``saturate``. A cast into LNS (``lns<N>f<F>``, no exact triples) is the nearest log code of the
exact scaled value (:meth:`Lns.round_triple`, the rule of ``Lns.encode``): rne/rna only,
overflow and +-inf saturate to +-max whatever ``saturate`` says, and NaN (a NaN source code
or scale) gives +max, as LNS has no NaN. The minifloats without NaN or infinity (OCP FP6/FP4:
e2m1, e2m3, e3m2) define the same: +-inf and overflow clamp to +-max, NaN gives +max.
"""
from __future__ import annotations

import numpy as np

from ._exact import FINITE, INF, NAN, ZERO_EXP, resolve_rnd, round_to, unpack
from ._formats import FormatError, Rounding
from ._int import Int
from ._lns import Lns
from ._minifloat import Minifloat
from ._registry import parse

__all__ = ["convert", "scale_exponent"]


def scale_exponent(scale, scale_fmt):
    """``(k, nan)``: the power-of-two exponent k each scale code stands for, and where it is NaN.

    A scale is an integer exponent (``int<N>``: 2^code) or a power-of-two minifloat without
    mantissa bits (``e8m0``: 2^(code - 127), NaN at 0xFF).
    """
    sf = parse(scale_fmt)
    codes = sf.check_codes(scale)
    if isinstance(sf, Int):
        return sf.to_int(codes).astype(np.int64), np.zeros(codes.shape, bool)
    if isinstance(sf, Minifloat) and sf.man_bits == 0 and not sf.signed and not sf.subnormals:
        _, m, e, kind = unpack(sf, codes)
        return np.where(kind == FINITE, e, 0).astype(np.int64), kind == NAN
    raise FormatError(f"a conversion scale is an integer exponent (int<N>) or a power of two "
                      f"(e8m0), not {sf.name}")


def convert(x, fmt, out, rounding="rne", saturate=False, scale=None, scale_fmt="e8m0",
            rnd=None, rnd_bits=None):
    """Round ``x * 2^k`` once into ``out``: ``x`` codes of ``fmt``, ``2^k`` from ``scale``.

    Parameters
    ----------
    x : array of codes of ``fmt``
    fmt, out : format or name
        Source and result formats (any families with exact triples: integers, minifloats,
        hif8, posits, takums, in either direction; LNS as a result).
    rounding : str or Rounding
        Every mode; ``sr`` needs ``rnd`` (R bits per element, R = ``rnd_bits``). Into LNS:
        ``rne`` or ``rna`` (the nearest log code; no ties exist).
    saturate : bool
        Overflow clamps to +-max (integers: to the integer range; else they wrap).
    scale : array of codes of ``scale_fmt``, optional
        The power of two applied exactly before rounding (the "cast with scale" of FP8
        training; :func:`scale_exponent`). A NaN scale gives NaN.
    scale_fmt : format or name
        ``e8m0`` (default) or an integer exponent ``int<N>``.

    Examples
    --------
    >>> from macforge import golden
    >>> bf16, e4m3 = golden.parse("bf16"), golden.parse("e4m3")
    >>> code = golden.convert(bf16.encode(300.0), bf16, e4m3)
    >>> float(e4m3.decode(code))
    288.0
    >>> float(e4m3.decode(golden.convert(bf16.encode(300.0), bf16, e4m3, scale=125)))
    72.0
    """
    fi, fo = parse(fmt), parse(out)
    codes = fi.check_codes(x)
    if isinstance(fo, Lns):
        fo.check_nearest(rounding)
    if scale is not None:
        k, scale_nan = scale_exponent(scale, scale_fmt)
        codes, k, scale_nan = np.broadcast_arrays(codes, k, scale_nan)
    else:
        k, scale_nan = np.zeros((), np.int64), np.zeros((), bool)
    rounding = Rounding.parse(rounding)
    rnd_arr, R = resolve_rnd(rounding, rnd, rnd_bits, codes.shape)
    sign, m, e, kind = unpack(fi, codes)
    e = np.where(m != 0, e + k, ZERO_EXP)
    kind = np.where(scale_nan, NAN, kind).astype(np.int8)
    if isinstance(fo, Lns):
        return fo.round_triple(sign, m, e, kind == NAN, kind == INF)
    sticky = np.zeros(codes.shape, bool)
    if isinstance(fo, Int):
        finite = kind == FINITE
        y = round_to(fo, sign, np.where(finite, m, 0), np.where(finite, e, ZERO_EXP), sticky,
                     np.full(codes.shape, FINITE, np.int8), rounding, saturate, rnd_arr, R)
        high = fo.from_int(np.full(codes.shape, fo.max_int, np.int64))
        low = fo.from_int(np.full(codes.shape, fo.min_int, np.int64))
        return np.where(kind == NAN, high, np.where(kind == INF, np.where(sign, low, high),
                                                    y)).astype(fo.dtype)
    nan = kind == NAN
    if fo.has_nan or not np.any(nan):
        return round_to(fo, sign, m, e, sticky, kind, rounding, saturate, rnd_arr, R)
    # the only NaN-less results left (integers and LNS returned above) are the OCP FP6/FP4
    # minifloats: NaN -> +max, as for integers and LNS
    y = round_to(fo, sign, np.where(nan, 0, m), np.where(nan, ZERO_EXP, e), sticky,
                 np.where(nan, FINITE, kind).astype(np.int8), rounding, saturate, rnd_arr, R)
    return np.where(nan, fo.max_code, y).astype(fo.dtype)
