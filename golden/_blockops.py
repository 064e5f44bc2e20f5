"""Quantising to block formats, dequantising, and the block dot product (the operations on
:class:`golden._block.BlockFormat`; the formats themselves, their table and scale rules are
documented there).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._block import _E8M0_BIAS, BLOCK_NAMES, BlockFormat
from ._exact import ZERO_EXP, bit_length, round_to, unpack
from ._formats import FormatError, Rounding
from ._int import Int
from ._ops import _product, _setup, mul_triples, sum_round
from ._registry import parse

__all__ = ["BlockTensor", "quantize", "dequantize", "block_dot"]


@dataclass
class BlockTensor:
    """A quantised tensor: ``elements`` (codes; blocks along the last axis, padded with zero
    codes to a multiple of ``fmt.block``), ``scales`` (codes, shape ``elements.shape[:-1] +
    (nblocks,)``), ``tensor_scale`` (the fp32 value for nv* formats, else None), ``shape``
    (the original shape) and ``axis`` (the original axis that was blocked; it was moved last)."""
    fmt: BlockFormat
    elements: np.ndarray
    scales: np.ndarray
    tensor_scale: float | np.ndarray | None
    shape: tuple
    axis: int = -1


# ---------------------------------------------------------------------------------------------
# exact quotients
# ---------------------------------------------------------------------------------------------
def _split(x):
    """float64 -> (sign, odd-free integer significand M (uint64, <= 53 bits), exponent E)."""
    x = np.asarray(x, np.float64)
    frac, ex = np.frexp(np.abs(x))
    M = np.ldexp(frac, 53).astype(np.uint64)
    E = ex.astype(np.int64) - 53
    return np.signbit(x), M, np.where(M == 0, ZERO_EXP, E)


def _odd(M, E):
    """Strip trailing zero bits: (M >> tz, E + tz), so M has at most its significant bits."""
    M = np.asarray(M, np.uint64)
    low = M & (~M + np.uint64(1))                         # lowest set bit
    tz = np.where(M == 0, 0, bit_length(low) - 1)
    return M >> tz.astype(np.uint64), np.asarray(E, np.int64) + tz


def _round_quotient(fmt, x, dM, dE, rounding, saturate):
    """Codes of ``fmt`` for the exact x / (dM * 2^dE), one rounding (x finite float64;
    dM a positive integer of at most 30 bits)."""
    sign, M, E = _split(x)
    dM = np.asarray(dM, np.uint64)
    num = M << np.uint64(10)                              # 63 bits: the quotient keeps >= 33
    q = num // dM
    sticky = (num % dM) != 0
    e = np.where(M == 0, ZERO_EXP, E - 10 - np.asarray(dE, np.int64))
    kind = np.zeros(q.shape, np.int8)
    return round_to(fmt, sign, q, e, sticky, kind, rounding, saturate)


def _pow2_parts(k):
    return np.ones(np.shape(k), np.uint64), np.asarray(k, np.int64)


# ---------------------------------------------------------------------------------------------
# quantise / dequantise
# ---------------------------------------------------------------------------------------------
def _elements(fmt: BlockFormat, x, dM, dE, rounding):
    codes = _round_quotient(fmt.element, x, dM, dE + fmt.element_exp, rounding, True)
    if isinstance(fmt.element, Int):                      # symmetric: never the lone -2^(n-1)
        codes = np.where(codes == fmt.element.from_int(fmt.element.min_int),
                         fmt.element.from_int(fmt.element.min_int + 1), codes)
    return codes.astype(fmt.element.dtype)


def quantize(x, fmt, axis=-1, rounding="rne", tensor_scale=None) -> BlockTensor:
    """Quantise a float array into blocks of ``fmt`` along ``axis`` (see the module docstring).

    ``rounding`` applies to the elements (the scales follow their definitions: MX exponents
    from the block max, NV scales rounded to nearest even). ``tensor_scale`` (nv* formats
    only) replaces the tensor scale computed from the tensor: fp32 values broadcastable to
    the block scales' shape (``x.shape`` with the blocked axis last and counted in blocks;
    one value per block is what the hardware quantiser's tensor-scale port gives), used as
    given; a block whose tensor scale is not a positive finite number gets the NaN scale and
    zero elements, as a block holding a NaN. Returns a :class:`BlockTensor` (its
    ``tensor_scale`` the given values as an fp32-valued float64 array; without
    ``tensor_scale``, the float computed from the tensor).

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> t = golden.quantize(np.array([6.0, -1.5, 0.25, 0.0]), "nvfp4", tensor_scale=0.5)
    >>> hex(int(t.scales[0])), golden.dequantize(t).tolist()     # scale 2: 6 / (6 * 0.5)
    ('0x40', [6.0, -1.5, 0.0, 0.0])
    """
    fmt = parse(fmt)
    if not isinstance(fmt, BlockFormat):
        raise FormatError(f"quantize needs a block format, not {fmt.name}; accepted: "
                          + ", ".join(BLOCK_NAMES))
    rounding = Rounding.parse(rounding)
    if tensor_scale is not None and fmt.is_mx:
        raise FormatError(f"tensor_scale applies to the nv* formats (nvfp4, nvint4), not "
                          f"{fmt.name}")
    if rounding is Rounding.SR:
        raise FormatError("quantize rounds with rne, rna, rtz, rup or rdn (sr needs rnd per "
                          "element: quantize the scaled values with fmt.element.encode)")
    x = np.asarray(x, np.float64)
    if x.ndim == 0:
        x = x[None]
    shape = x.shape
    if not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise FormatError(f"axis {axis!r} does not exist in an array of {x.ndim} dimension(s)")
    ax = int(axis) % x.ndim
    v = np.moveaxis(x, ax, -1)
    n = v.shape[-1]
    nb = -(-n // fmt.block)
    pad = nb * fmt.block - n
    if pad:
        v = np.concatenate([v, np.zeros(v.shape[:-1] + (pad,))], axis=-1)
    vb = v.reshape(v.shape[:-1] + (nb, fmt.block))
    bad = ~np.isfinite(vb).all(axis=-1)                          # NaN or inf in the block
    clean = np.where(np.isfinite(vb), vb, 0.0)
    amax_b = np.abs(clean).max(axis=-1)
    if fmt.is_mx:
        _, ex = np.frexp(amax_b)
        shared = np.where(amax_b > 0, ex.astype(np.int64) - 1 - fmt.emax_elem, -_E8M0_BIAS)
        shared = np.maximum(shared, -_E8M0_BIAS)
        bad = bad | (shared > _E8M0_BIAS)
        shared = np.where(bad, 0, shared)
        scales = np.where(bad, fmt.scale.nan_code, shared + _E8M0_BIAS)
        dM, dE = _pow2_parts(shared[..., None])
        tensor_scale = None
    else:
        t = _tensor_scale(fmt, clean) if tensor_scale is None else \
            _given_tensor_scale(fmt, tensor_scale, amax_b.shape)
        t_ok = np.isfinite(t) & (np.asarray(t) > 0)
        bad = bad | ~t_ok
        tM, tE = _odd(*_split(np.where(t_ok, t, 1.0))[1:])
        Q = int(fmt._element_max_code_value)
        sM, sE = _odd(np.uint64(Q) * tM, tE)
        sc = _round_quotient(fmt.scale, amax_b, sM, sE, Rounding.RNE, True)
        scales = np.where(bad, fmt.scale.nan_code, sc)
        S = fmt.scale.decode(np.where(bad, 0, sc))
        zero_scale = (S == 0)[..., None]
        bM, bE = _odd(*_split(S)[1:])
        dM = np.where(S == 0, 1, bM * tM)[..., None]
        dE = np.where(S == 0, 0, bE + tE)[..., None]
        clean = np.where(zero_scale, 0.0, clean)
        tensor_scale = float(t) if np.ndim(t) == 0 else t
    elems = _elements(fmt, np.where(bad[..., None], 0.0, clean), dM, dE, rounding)
    elems = elems.reshape(v.shape)
    return BlockTensor(fmt, elems, scales.astype(fmt.scale.dtype), tensor_scale, shape, ax)


def _given_tensor_scale(fmt: BlockFormat, t, shape) -> np.ndarray:
    """A caller's tensor scales as float64, broadcast to the block scales' ``shape``."""
    try:
        t = np.broadcast_to(np.asarray(t, np.float64), shape)
    except ValueError:
        raise FormatError(f"tensor_scale of shape {np.shape(t)} does not broadcast to the "
                          f"block scales' shape {shape}") from None
    ts = fmt.tensor_scale_format
    with np.errstate(over="ignore"):
        held = (ts.decode(ts.encode(t)) == t) | ~np.isfinite(t)
    if not held.all():
        raise FormatError(f"tensor_scale must hold {ts.name} values (the scale's format)")
    return t


def _tensor_scale(fmt: BlockFormat, clean) -> float:
    ts = fmt.tensor_scale_format
    amax = float(np.abs(clean).max()) if clean.size else 0.0
    if amax == 0.0:
        return 1.0
    Q = int(fmt._element_max_code_value)
    dM, dE = _odd(np.uint64(int(fmt.scale.max) * Q), np.int64(0))   # e4m3's max: 448
    code = _round_quotient(ts, np.float64(amax), dM, dE, Rounding.RNE, True)
    t = float(ts.decode(code))
    return t if t > 0 else ts.min_subnormal


def dequantize(t: BlockTensor, out=None, rounding="rne") -> np.ndarray:
    """Exact float64 values of a :class:`BlockTensor`, in its original shape; with ``out``
    (a format or name) those values rounded once into ``out`` (``rounding``; overflow gives
    infinity where ``out`` has one, as ``out.encode``), as codes.

    NaN (a NaN scale or element, infinity times a zero tensor scale) is NaN; a tensor scale
    per block (an array, see :func:`quantize`) multiplies its block.

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> t = golden.quantize(np.array([448.0, -1.0, 2.0 ** -9]), "mxfp8")
    >>> golden.dequantize(t).tolist()
    [448.0, -1.0, 0.001953125]
    >>> [hex(int(c)) for c in golden.dequantize(t, out="bf16")]
    ['0x43e0', '0xbf80', '0x3b00']
    """
    fmt = t.fmt
    v = fmt.element.decode(t.elements) * 2.0 ** fmt.element_exp
    sc = fmt.scale.decode(t.scales)
    with np.errstate(invalid="ignore"):           # inf x 0 (a tensor scale per block): NaN
        if t.tensor_scale is not None:            # exact: at most 4 + 4 + 24 significand bits
            sc = sc * np.asarray(t.tensor_scale, np.float64)
        v = (v.reshape(sc.shape + (fmt.block,)) * sc[..., None]).reshape(t.elements.shape)
    ax = t.axis % len(t.shape)
    n = t.shape[ax]
    v = np.moveaxis(v[..., :n], -1, ax)
    return v if out is None else parse(out).encode(v, rounding=rounding)


# ---------------------------------------------------------------------------------------------
# the block dot product
# ---------------------------------------------------------------------------------------------
def block_dot(a, sa, b, sb, c, fmt, acc="fp32", align=None, rounding="rne", fmt_b=None,
              rnd=None, rnd_bits=None, saturate=False):
    """One k-lane block dot step: round(scale(sa) * scale(sb) * 2^(ea + eb) * sum(a_i * b_i) + c)
    once into ``acc``.

    ``a``, ``b``: element codes (..., k); ``sa``, ``sb``: scale codes (...); ``c``: codes of
    ``acc``. NaN scales or elements give NaN; infinities as in ``golden.dot``. ``align=W``
    truncates the scaled terms (and ``c``) to W fraction bits below the largest, as ``dot``.
    The nv* per-tensor scales are not applied here.

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> f = golden.parse("mxfp4")
    >>> a = f.element.encode(np.array([1.0, 2.0, -0.5]))
    >>> code = golden.block_dot(a, np.uint8(128), a, np.uint8(126), 0, f)   # 2^1 * 2^-1 * 5.25
    >>> float(golden.parse("fp32").decode(code))
    5.25
    """
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    for f in (fa, fb):
        if not isinstance(f, BlockFormat):
            raise FormatError(f"block_dot needs block formats, not {f.name}; accepted: "
                              + ", ".join(BLOCK_NAMES))
    fc = parse(acc)
    if align is not None and (not isinstance(align, (int, np.integer)) or not 0 <= align <= 56):
        raise FormatError(f"align must be an integer 0..56 (fraction bits kept), not {align!r}")
    A = fa.element._checked(a)
    B = fb.element._checked(b)
    if A.ndim == 0 or B.ndim == 0:
        raise FormatError("block_dot needs element operands of shape (..., k)")
    SA, SB = fa.scale._checked(sa), fb.scale._checked(sb)
    C = fc._checked(c)
    lead = np.broadcast_shapes(A.shape[:-1], B.shape[:-1], SA.shape, SB.shape, C.shape)
    k = np.broadcast_shapes(A.shape[-1:], B.shape[-1:])[0]
    A = np.broadcast_to(A, lead + (k,)).reshape(-1, k)
    B = np.broadcast_to(B, lead + (k,)).reshape(-1, k)
    SA, SB, C = (np.broadcast_to(z, lead).reshape(-1) for z in (SA, SB, C))
    rounding, rnd, R = _setup(rounding, rnd, rnd_bits, lead)
    elem = _product(fa.element, fb.element, A, B)
    ss, ms, es, ks = mul_triples(unpack(fa.scale, SA), unpack(fb.scale, SB))
    es = np.where(ms == 0, es, es + fa.element_exp + fb.element_exp)
    terms = mul_triples(elem, (ss[:, None], ms[:, None], es[:, None], ks[:, None]))
    return sum_round(terms, unpack(fc, C), fc, align, rounding, saturate, rnd, R, lead)
