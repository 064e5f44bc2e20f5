"""Block-scaled formats (OCP MX v1.0, NVIDIA NVFP4): quantise, dequantise, block dot product.

A block format stores ``block`` element codes and one shared scale code; a value is
``element * 2^element_exp * scale`` (times one fp32 scale per tensor for the NV formats).

=========  ========  ===========  =====  ======  ============  ===========
name       alias     element      elem   scale   block         tensor scale
=========  ========  ===========  =====  ======  ============  ===========
mxfp8      mxe4m3    e4m3         x1     e8m0    32            -
mxe5m2               e5m2         x1     e8m0    32            -
mxfp6      mxe2m3    e2m3         x1     e8m0    32            -
mxe3m2               e3m2         x1     e8m0    32            -
mxfp4                e2m1         x1     e8m0    32            -
mxint8               int8         x2^-6  e8m0    32            -
nvfp4                e2m1         x1     e4m3    16            fp32
nvint4               int4         x1     e4m3    16            fp32
=========  ========  ===========  =====  ======  ============  ===========

**MX quantisation** (OCP Microscaling Formats (MX) v1.0, section 6.3, "Algorithm 1"; the OCP
reference library microsoft/microxcaling agrees on the special cases): per block,
``shared_exp = floor(log2(max |v_i|)) - emax_elem`` with ``emax_elem`` the exponent of the
element format's largest normal (e4m3 8, e5m2 15, e3m2 4, e2m3 2, e2m1 2, int8 0: int8 x 2^-6
has max 127/64 < 2); the scale is ``X = 2^shared_exp`` and every element is
``quantize(v_i / X)`` into the element format, **clamping** to +-the element max (saturating
conversion; the scale never needs more, since |v_i / X| < 2^(emax_elem + 1)). Special cases:

- ``shared_exp`` is clamped to e8m0's range: below -127 it becomes -127 (code 0x00; the block's
  small values then underflow in the elements), above 127 the scale is NaN (code 0xFF, possible
  only for float64 inputs beyond fp32's range);
- an all-zero block has no log2: it gets the smallest scale 2^-127 (code 0x00) and zero elements
  (microxcaling's ``log2(max + FP32_MIN_NORMAL * (max == 0))`` clamps to the same code);
- a block holding a NaN or an infinity gets the NaN scale 0xFF (OCP MX: a NaN scale makes every
  element of the block NaN, whatever its code) and element codes 0;
- MXINT8 clamps symmetrically to +-127 (x 2^-6 = +-1 63/64, the spec's largest magnitude);
  code 0x80 (-2) is never produced by quantisation but decodes as -2.

**NVFP4 quantisation** (NVIDIA, "Pretraining Large Language Models with NVFP4",
arXiv 2509.25149, section 2 and appendix: the two-level recipe; NVIDIA technical blog
"Introducing NVFP4 for Efficient and Accurate Low-Precision Inference", 2025): with ``Q`` the
element max (6 for e2m1; 7 for nvint4's symmetric int4, Chen et al. arXiv 2510.25602 Table 5),

1. tensor scale ``t = fp32_rne(amax_tensor / (448 * Q))`` (the decode scale; NVIDIA's global
   encode scale is its reciprocal 448*Q/amax): 448 is e4m3's max, so every block scale fits;
2. block scale ``S_b = e4m3_rne_sat(amax_b / (Q * t))`` (a positive e4m3 code);
3. elements ``quantize(v_i / (S_b * t))`` into the element format, clamping to +-Q.

Each rounding here is of the *exact* quotient (computed as an integer quotient with a sticky
remainder, never through a float64 division): NVIDIA's kernels form the reciprocal
``1 / (S_b * t)`` in fp32 and multiply, which can differ from the exact quotient by an fp32 ulp
and so, rarely, land on the other side of an element rounding boundary; ours is the
mathematically defined value. ``amax_tensor`` is taken over the finite values; an all-zero (or
all non-finite) tensor gets ``t = 1``; ``t`` is clamped to fp32's finite nonzero range (only
float64 inputs beyond fp32's range reach it). Blocks with ``S_b = 0`` (negligible against the
tensor max) get zero elements; blocks with a NaN or infinity get the e4m3 NaN scale 0x7F.

**Dequantise** is exact in float64: an element has at most 4 significand bits, an e4m3 scale 4
and the fp32 tensor scale 24, so the product has at most 32 bits and its exponent stays inside
float64's normal range (2^-127 * 2^-9 at the bottom, 2^127 * 57344 at the top).

**Block dot product** (:func:`block_dot`, one step of a k-lane block dot unit): the exact sum
of the element products, times both scales and ``2^(element_exp_a + element_exp_b)``, plus the
accumulator, rounded once into ``acc``; ``align=W`` truncates the scaled terms as
``golden.dot`` does. It runs on the same exact machinery as ``golden.dot``
(:func:`golden._ops.sum_round`: Kulisch limbs or the ``align=W`` sum): each lane's term is the
element product times the product of the two scales, an exact triple. The nv* tensor scales
are not part of the block step (the caller's epilogue multiplies them in).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._exact import ZERO_EXP, bit_length, round_to, unpack
from ._formats import Format, FormatError, Int, Rounding

__all__ = ["BlockFormat", "BlockTensor", "quantize", "dequantize", "block_dot", "BLOCK_NAMES",
           "block_format"]

# name -> (element, element_exp, scale, block, tensor scale); aliases map to the first name
_DEFS = {
    "mxfp8": ("e4m3", 0, "e8m0", 32, False),
    "mxe5m2": ("e5m2", 0, "e8m0", 32, False),
    "mxfp6": ("e2m3", 0, "e8m0", 32, False),
    "mxe3m2": ("e3m2", 0, "e8m0", 32, False),
    "mxfp4": ("e2m1", 0, "e8m0", 32, False),
    "mxint8": ("int8", -6, "e8m0", 32, False),
    "nvfp4": ("e2m1", 0, "e4m3", 16, True),
    "nvint4": ("int4", 0, "e4m3", 16, True),
}
_ALIASES = {"mxe4m3": "mxfp8", "mxe2m3": "mxfp6"}
BLOCK_NAMES = tuple(_DEFS) + tuple(_ALIASES)
_E8M0_BIAS = 127


def block_format(name: str) -> "BlockFormat":
    """The :class:`BlockFormat` of a block-format name (``golden.parse`` calls this)."""
    from ._registry import parse
    key = _ALIASES.get(name, name)
    elem, elem_exp, scale, block, ts = _DEFS[key]
    return BlockFormat(key, parse(elem), elem_exp, parse(scale), block, ts)


@dataclass(frozen=True)
class BlockFormat(Format):
    """A block-scaled format: ``block`` codes of ``element`` (each worth code value x
    2^``element_exp``) sharing one ``scale`` code, plus an fp32 per-tensor scale if
    ``tensor_scale``. Its codes are element codes; ``bits`` is the element width.

    Examples
    --------
    >>> import numpy as np; from macforge import golden
    >>> f = golden.parse("mxfp4")
    >>> f.element.name, f.scale.name, f.block, f.emax_elem
    ('e2m1fn', 'e8m0fnu', 32, 2)
    >>> t = golden.quantize(np.array([6.0, -1.5, 0.25, 0.0]), f)
    >>> int(t.scales[0]) - 127, golden.dequantize(t).tolist()
    (0, [6.0, -1.5, 0.0, 0.0])
    """
    block_name: str
    element: Format
    element_exp: int
    scale: Format
    block: int
    tensor_scale: bool
    family = "block"

    @property
    def name(self) -> str:
        return self.block_name

    @property
    def bits(self) -> int:
        return self.element.bits

    @property
    def is_mx(self) -> bool:
        return not self.tensor_scale

    @cached_property
    def element_max(self) -> float:
        """Largest element magnitude quantisation produces (code value x 2^element_exp)."""
        return float(self._element_max_code_value) * 2.0 ** self.element_exp

    @property
    def _element_max_code_value(self) -> float:
        if isinstance(self.element, Int):
            return float(self.element.max_int)        # symmetric: +-max_int
        return float(self.element.max)

    @cached_property
    def emax_elem(self) -> int:
        """Exponent of the element format's largest value (FORMATS.md "Block scales")."""
        return int(np.floor(np.log2(self.element_max)))

    @cached_property
    def max(self) -> float:
        """Largest block value (without the nv* tensor scale)."""
        return self.element_max * _finite_positive(self.scale).max()

    @cached_property
    def min_positive(self) -> float:
        """Smallest positive block value (without the nv* tensor scale)."""
        return (_finite_positive(self.element).min() * 2.0 ** self.element_exp
                * _finite_positive(self.scale).min())

    @property
    def min(self) -> float:
        return -self.max

    # element-level codes only: no scalar arithmetic on a block format
    def _scalar_error(self):
        return FormatError(f"{self.name} is a block format: use golden.quantize / dequantize / "
                           "block_dot, or its .element format for single elements")

    @property
    def exact_sig_bits(self) -> int:
        raise self._scalar_error()

    def exact_unpack(self, u):
        raise self._scalar_error()

    def exact_round(self, sign, m, e, sticky, kind, rounding, saturate, rnd, R):
        raise self._scalar_error()

    def decode(self, codes):
        raise self._scalar_error()

    def encode(self, x, rounding="rne", saturate=False, rnd=None, rnd_bits=None):
        raise self._scalar_error()

    def describe(self) -> str:
        tensor = " + fp32 per tensor" if self.tensor_scale else ""
        exp = f" x 2^{self.element_exp}" if self.element_exp else ""
        return f"{self.block} x {self.element.name}{exp}, {self.scale.name} scale{tensor}"


def _finite_positive(fmt: Format) -> np.ndarray:
    v = fmt.decode(fmt.codes())
    return v[np.isfinite(v) & (v > 0)]


@dataclass
class BlockTensor:
    """A quantised tensor: ``elements`` (codes; blocks along the last axis, padded with zero
    codes to a multiple of ``fmt.block``), ``scales`` (codes, shape ``elements.shape[:-1] +
    (nblocks,)``), ``tensor_scale`` (the fp32 value for nv* formats, else None), ``shape``
    (the original shape) and ``axis`` (the original axis that was blocked; it was moved last)."""
    fmt: BlockFormat
    elements: np.ndarray
    scales: np.ndarray
    tensor_scale: float | None
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


def quantize(x, fmt, axis=-1, rounding="rne") -> BlockTensor:
    """Quantise a float array into blocks of ``fmt`` along ``axis`` (see the module docstring).

    ``rounding`` applies to the elements (the scales follow their definitions: MX exponents
    from the block max, NV scales rounded to nearest even). Returns a :class:`BlockTensor`.
    """
    from ._registry import parse
    fmt = parse(fmt)
    if not isinstance(fmt, BlockFormat):
        raise FormatError(f"quantize needs a block format, not {fmt.name}; accepted: "
                          + ", ".join(BLOCK_NAMES))
    rounding = Rounding.parse(rounding)
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
        t = _tensor_scale(fmt, clean)
        tM, tE = _odd(*_split(np.float64(t))[1:])
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
        tensor_scale = float(t)
    elems = _elements(fmt, np.where(bad[..., None], 0.0, clean), dM, dE, rounding)
    elems = elems.reshape(v.shape)
    return BlockTensor(fmt, elems, scales.astype(fmt.scale.dtype), tensor_scale, shape, ax)


def _tensor_scale(fmt: BlockFormat, clean) -> float:
    from ._registry import parse
    fp32 = parse("fp32")
    amax = float(np.abs(clean).max()) if clean.size else 0.0
    if amax == 0.0:
        return 1.0
    Q = int(fmt._element_max_code_value)
    dM, dE = _odd(np.uint64(448 * Q), np.int64(0))        # 448: e4m3's max
    code = _round_quotient(fp32, np.float64(amax), dM, dE, Rounding.RNE, True)
    t = float(fp32.decode(code))
    return t if t > 0 else 2.0 ** -149


def dequantize(t: BlockTensor) -> np.ndarray:
    """Exact float64 values of a :class:`BlockTensor`, in its original shape."""
    fmt = t.fmt
    v = fmt.element.decode(t.elements) * 2.0 ** fmt.element_exp
    sc = fmt.scale.decode(t.scales)
    v = (v.reshape(sc.shape + (fmt.block,)) * sc[..., None]).reshape(t.elements.shape)
    if t.tensor_scale is not None:
        v = v * t.tensor_scale
    ax = t.axis % len(t.shape)
    n = t.shape[ax]
    v = v[..., :n]
    return np.moveaxis(v, -1, ax)


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
    from ._ops import _product, _setup, mul_triples, sum_round
    from ._registry import parse
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
