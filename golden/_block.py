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

from ._formats import Format, FormatError
from ._int import Int
from ._minifloat import minifloat

__all__ = ["BlockFormat", "BLOCK_NAMES", "BLOCK_ALIASES", "block_format"]

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
BLOCK_ALIASES = {"mxe4m3": "mxfp8", "mxe2m3": "mxfp6"}
BLOCK_NAMES = tuple(_DEFS) + tuple(BLOCK_ALIASES)
_E8M0_BIAS = 127


def _element(name):
    return Int(int(name[3:])) if name.startswith("int") else minifloat(name)


def block_format(name: str) -> "BlockFormat":
    """The :class:`BlockFormat` of a block-format name or alias."""
    key = BLOCK_ALIASES.get(name, name)
    if key not in _DEFS:
        raise FormatError(f"unknown block format {name!r}; accepted: " + ", ".join(_DEFS))
    elem, elem_exp, scale, block, ts = _DEFS[key]
    return BlockFormat(key, _element(elem), elem_exp, minifloat(scale), block, ts)


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

    @classmethod
    def from_name(cls, groups: dict, literal: bool = False) -> "BlockFormat":
        return block_format(groups["block_name"])

    def corner_codes(self) -> np.ndarray:
        """The element format's corner codes (a block's codes are element codes)."""
        return self.element.corner_codes()

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
        """Exponent of the element format's largest value (docs/formats.md "Block scales")."""
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

    @cached_property
    def tensor_scale_format(self) -> Format | None:
        """The format of the per-tensor scale (the nv* formats: fp32, NVIDIA's two-level
        recipe), or None (MX: no tensor scale). The one place it is named: golden's
        quantisation, the hw ``tscale`` port and the stimulus ask for it here."""
        return minifloat("fp32") if self.tensor_scale else None

    def describe(self) -> str:
        tensor = f" + {self.tensor_scale_format.name} per tensor" if self.tensor_scale else ""
        exp = f" x 2^{self.element_exp}" if self.element_exp else ""
        return f"{self.block} x {self.element.name}{exp}, {self.scale.name} scale{tensor}"


def _finite_positive(fmt: Format) -> np.ndarray:
    v = fmt.decode(fmt.codes())
    return v[np.isfinite(v) & (v > 0)]
