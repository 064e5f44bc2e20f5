"""Tensor-core presets: modelled accumulation pipelines of real matrix units, in one place.

``golden.dot(A, B, c, fmt, "fp32", preset="h100-fp8")`` and ``macforge error-stats --preset``
read the :class:`Preset` objects defined here; hardware generators read the same fields
(``k``, ``align``, ``register``, ``promote_every``).

**h100-fp8** -- the NVIDIA H100 (Hopper) FP8 tensor core as used by DeepSeek-V3's FP8 GEMMs:

1. operands are FP8 (e4m3, or e5m2, mixed allowed);
2. the tensor core takes ``k = 32`` products per step; they and the running accumulator are
   aligned to the largest exponent among them and each is truncated (toward zero) to
   ``align = 13`` fraction bits below it -- DeepSeek ISCA'25 (arXiv 2505.09343) section 3.1.1;
   exactly docs/formats.md's ``dot(..., align=13)`` with the register value as the addend ``c``;
3. the truncated terms are summed exactly and the sum is put back into the FP22 register
   (``e8m13``: 1 sign, 8 exponent, 13 mantissa bits, same section), **truncating** (rtz):
   Fasi, Higham, Mikaitis, Pranesh (PeerJ CS 2021) found V100/T4/A100 tensor cores align and
   normalise with truncation (round toward zero), and Khattak & Mikaitis, "Accurate Models of
   NVIDIA Tensor Cores" (arXiv 2512.07004), model Hopper's FP8 path the same way, with 13
   fraction bits kept in the accumulator (independent GPU probes of ``wgmma`` FP8 on H100
   report 13 bits, round-to-zero, too). DeepSeek-V3's "retains about 14 bits" is those 13
   fraction bits plus the leading one;
4. promotion (DeepSeek-V3, arXiv 2412.19437 section 3.3.2): after every ``N_C = 128`` products
   (4 tensor-core steps) the FP22 partial sum is added into an fp32 accumulator on the CUDA
   cores with an ordinary fp32 addition (round to nearest even), and the register restarts at
   +0. The fp32 accumulator starts at ``c``. Without promotion (``promote=False``, the plain
   tensor-core GEMM) ``c`` enters the register truncated to e8m13 and the register runs over
   all K products; its final value is exact in fp32.

**deepseek-fp8** -- DeepSeek-V3's fine-grained scaled FP8 GEMM (arXiv 2412.19437 section
3.3.2, "Fine-Grained Quantization" and "Increasing Accumulation Precision"; the DeepGEMM
kernels): e4m3 operands with one fp32 scale per 1x128 activation tile and per 128x128 weight
block, i.e. along K one scale per ``scale_block = 128`` elements of each operand, the same
interval as the promotion. The tensor-core steps are h100-fp8's; at each promotion the e8m13
partial sum R of the 128 products is multiplied by the two scales on the CUDA cores:
``s = fp32_rne(sa * sb)``, then ``acc = fp32_rne(R * s + acc)`` in one fused multiply-add
(DeepGEMM's ``final_accum += scale_a * scale_b * accum``, which nvcc contracts into an FFMA;
R is exact in fp32). ``golden.dot(..., preset="deepseek-fp8", scales=(sa, sb))`` takes the
scales as fp32 codes shaped ``(..., ceil(K / 128))``; ``golden.matmul`` takes them per tile
and block, ``sa`` (..., M, ceil(K / 128)) and ``sb`` (..., ceil(K / 128), ceil(N / 128)),
as :func:`fine_grained_quantize` makes them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._exact import round_to, unpack
from ._formats import FormatError, Rounding

__all__ = ["Preset", "PRESETS", "get_preset", "scaled_promotion", "tensor_core_dot",
           "fine_grained_quantize", "PresetStats", "DISTS"]


@dataclass(frozen=True)
class Preset:
    """One modelled accumulation pipeline (see the module docstring for h100-fp8)."""
    name: str
    inputs: tuple             # accepted operand format names
    k: int                    # products aligned together per tensor-core step
    align: int                # fraction bits kept below the step's largest exponent
    register: str             # accumulation register format
    register_rounding: Rounding
    promote_every: int        # N_C: products per promotion into ``acc``
    acc: str                  # promoted accumulator / output format
    acc_rounding: Rounding
    sources: tuple
    scale_block: int | None = None    # elements per fp32 operand scale along K (deepseek-fp8)

    def describe(self) -> str:
        scaled = (f", times fp32 operand scales per {self.scale_block} elements at promotion "
                  f"(scale product rounded, then one fused multiply-add)"
                  if self.scale_block else "")
        return (f"{self.name}: {'/'.join(self.inputs)} inputs, {self.k}-term steps aligned to the "
                f"largest exponent keeping {self.align} fraction bits (truncated), "
                f"{self.register} register ({self.register_rounding.value}), promoted into "
                f"{self.acc} ({self.acc_rounding.value}) every {self.promote_every} terms{scaled}")


PRESETS = {
    "h100-fp8": Preset(
        name="h100-fp8", inputs=("e4m3fn", "e5m2"), k=32, align=13, register="e8m13",
        register_rounding=Rounding.RTZ, promote_every=128, acc="fp32",
        acc_rounding=Rounding.RNE,
        sources=("DeepSeek-V3 technical report, arXiv 2412.19437, sec. 3.3.2",
                 "DeepSeek ISCA'25, arXiv 2505.09343, sec. 3.1.1",
                 "Fasi, Higham, Mikaitis, Pranesh, PeerJ CS 2021 (truncation)",
                 "Khattak & Mikaitis, arXiv 2512.07004 (H100 FP8 model)")),
}
PRESETS["deepseek-fp8"] = Preset(
    name="deepseek-fp8", inputs=("e4m3fn",), k=32, align=13, register="e8m13",
    register_rounding=Rounding.RTZ, promote_every=128, acc="fp32", acc_rounding=Rounding.RNE,
    sources=("DeepSeek-V3 technical report, arXiv 2412.19437, sec. 3.3.2 (fine-grained "
             "quantization, promotion every 128 elements)",
             "DeepGEMM (deepseek-ai), the scaled FP8 GEMM kernels",
             *PRESETS["h100-fp8"].sources[1:]),
    scale_block=128)


def get_preset(preset) -> Preset:
    """The :class:`Preset` named ``preset`` (a Preset passes through); else a one-line error."""
    if isinstance(preset, Preset):
        return preset
    p = PRESETS.get(str(preset).strip().lower())
    if p is None:
        raise FormatError(f"unknown preset {preset!r}; accepted: " + ", ".join(PRESETS))
    return p


def _check(p: Preset, fa, fb, fc):
    from ._registry import parse
    accepted = [parse(n) for n in p.inputs]
    for f in (fa, fb):
        if f not in accepted:
            raise FormatError(f"preset {p.name} takes {' or '.join(p.inputs)} operands, not "
                              f"{f.name}")
    if fc != parse(p.acc):
        raise FormatError(f"preset {p.name} accumulates into {p.acc}, not {fc.name}")


def preset_dot(A, B, c, fa, fb, fc, preset, align, rounding, saturate, scales=None):
    """``golden.dot(..., preset=...)``: validated arguments from ``dot``."""
    p = get_preset(preset)
    if align is not None:
        raise FormatError(f"preset {p.name} sets align={p.align}; do not pass align")
    if rounding is not Rounding.RNE or saturate:
        raise FormatError(f"preset {p.name} fixes its roundings ({p.register_rounding.value} "
                          f"register, {p.acc_rounding.value} {p.acc}); pass neither rounding "
                          "nor saturate")
    return tensor_core_dot(A, B, c, fa, p, fmt_b=fb, acc=fc, scales=scales)


def scaled_promotion(R, sa, sb, acc, preset="deepseek-fp8"):
    """One promotion of a scaled preset: ``acc + R * fp32(sa * sb)`` -- the scale product
    rounded into the accumulator format, then one fused multiply-add of the register value
    ``R`` (codes of ``preset.register``), both with the accumulator's rounding. ``sa``, ``sb``,
    ``acc``: accumulator codes; arrays broadcast."""
    from ._ops import fma, mul
    from ._registry import parse
    p = get_preset(preset)
    fc, reg = parse(p.acc), parse(p.register)
    s_ = mul(sa, sb, fc, fc, rounding=p.acc_rounding)
    return fma(R, s_, acc, reg, fc, rounding=p.acc_rounding, fmt_b=fc)


def tensor_core_dot(A, B, c, fmt, preset="h100-fp8", fmt_b=None, acc=None, promote=True,
                    scales=None):
    """Dot products (..., K) through a preset's accumulation pipeline; ``c``: codes of the
    preset's accumulator. ``promote=False`` keeps one register over all K (no promotion).
    A scaled preset (deepseek-fp8) needs ``scales = (sa, sb)``: fp32 codes shaped
    ``(..., ceil(K / scale_block))``, applied at each promotion."""
    from ._ops import add, dot
    from ._registry import parse
    p = get_preset(preset)
    if (p.scale_block is not None) != (scales is not None):
        raise FormatError(f"preset {p.name} takes scales=(sa, sb) (fp32 codes per "
                          f"{p.scale_block} elements)" if p.scale_block else
                          f"preset {p.name} has no operand scales; use deepseek-fp8")
    if p.scale_block is not None and not promote:
        raise FormatError(f"preset {p.name} applies its scales at promotion; promote=False "
                          "does not apply")
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    fc = parse(acc) if acc is not None else parse(p.acc)
    _check(p, fa, fb, fc)
    reg = parse(p.register)
    A, B = np.broadcast_arrays(fa.check_codes(A), fb.check_codes(B))
    if A.ndim == 0:
        raise FormatError("dot needs operands of shape (..., N)")
    c = fc.check_codes(c)
    lead = np.broadcast_shapes(A.shape[:-1], c.shape)
    K = A.shape[-1]
    A = np.broadcast_to(A, lead + (K,)).reshape(-1, K)
    B = np.broadcast_to(B, lead + (K,)).reshape(-1, K)
    c = np.broadcast_to(c, lead).reshape(-1)

    def steps(R, lo, hi):
        for g in range(lo, hi, p.k):
            R = dot(A[:, g:min(g + p.k, hi)], B[:, g:min(g + p.k, hi)], R, fa, reg,
                    align=p.align, rounding=p.register_rounding, fmt_b=fb)
        return R

    if scales is not None:
        nb = -(-K // p.scale_block)
        sc = [np.broadcast_to(fc.check_codes(s_), lead + (nb,)).reshape(-1, nb) for s_ in scales]
    if promote:
        total = c.astype(fc.dtype)
        zero = np.zeros(total.shape, reg.dtype)
        for lo in range(0, K, p.promote_every):
            R = steps(zero, lo, min(lo + p.promote_every, K))
            if scales is None:
                total = add(total, R, fc, fc, rounding=p.acc_rounding, fmt_y=reg)
            else:
                j = lo // p.scale_block
                total = scaled_promotion(R, sc[0][:, j], sc[1][:, j], total, p)
        return total.reshape(lead)
    s, m, e, kind = unpack(fc, c)                     # c enters the register truncated
    R = round_to(reg, s, m, e, np.zeros(m.shape, bool), kind, p.register_rounding, False)
    R = steps(R, 0, K)
    s, m, e, kind = unpack(reg, R)
    out = round_to(fc, s, m, e, np.zeros(m.shape, bool), kind, p.acc_rounding, False)
    return out.reshape(lead)


# ---------------------------------------------------------------------------------------------
# error statistics of a preset GEMM (macforge error-stats --preset)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PresetStats:
    """Relative error of a K-deep FP8 GEMM through a preset, against the float64 product."""
    preset: str
    fmt: str
    k: int
    m: int
    n: int
    dist: str
    seed: int
    promote: bool
    max_rel: float            # max over outputs of |C - C64| / |C64|
    mean_rel: float
    norm_rel: float           # max|C - C64| / max|C64|
    fp32_max_rel: float       # the same GEMM with exact products summed in fp32 order, RNE

    def as_dict(self) -> dict:
        return {**self.__dict__, "promote_every": get_preset(self.preset).promote_every}

    def report(self) -> str:
        mode = f"promotion every {get_preset(self.preset).promote_every}" if self.promote \
            else "no promotion"
        return (f"{self.preset} ({mode}): {self.m}x{self.k} @ {self.k}x{self.n} {self.fmt} GEMM, "
                f"{self.dist} data, seed {self.seed}, vs float64\n"
                f"  max relative error   {self.max_rel:.3e} ({100 * self.max_rel:.3f} %)\n"
                f"  mean relative error  {self.mean_rel:.3e}\n"
                f"  max |err| / max |C|  {self.norm_rel:.3e}\n"
                f"  (plain fp32 sequential sum of the same products: max relative error "
                f"{self.fp32_max_rel:.3e})")


DISTS = ("uniform", "normal")


def _tile_quantize(f, fp32, x, block, rows):
    """One fp32 scale ``amax / f.max`` per ``rows`` x ``block`` tile of ``x`` (R, K), elements
    ``encode(x / scale)``. Returns (element codes, scale codes (R, ceil(K / block)), one row per
    row of ``x``, dequantised float64 values)."""
    R, K = x.shape
    nb = -(-K // block)
    pad = np.zeros((-(-R // rows) * rows, nb * block))
    pad[:R, :K] = np.abs(x)
    amax = pad.reshape(-1, rows, nb, block).max(axis=(1, 3))         # (R / rows, nb)
    amax = np.repeat(amax, rows, axis=0)[:R]
    sc = fp32.encode(np.where(amax > 0, amax / f.max, 1.0))
    s = fp32.decode(sc)
    s_full = np.repeat(s, block, axis=1)[:, :K]
    codes = f.encode(x / s_full, saturate=True)
    return codes, sc, f.decode(codes) * s_full


def fine_grained_quantize(x, w, fmt="e4m3", preset="deepseek-fp8"):
    """DeepSeek-V3's fine-grained quantisation of activations ``x`` (M, K) and weights ``w``
    (K, N) for a scaled preset: one fp32 scale ``amax / fmt.max`` per 1 x 128 tile of ``x`` and
    per 128 x 128 block of ``w``. Returns ``(a, b, (sa, sb), va, vb)``: element codes, the
    scales in :func:`golden.matmul`'s shapes (``sa`` (M, ceil(K/128)), ``sb`` (ceil(K/128),
    ceil(N/128))) and the dequantised float64 operands."""
    from ._registry import parse
    p = get_preset(preset)
    f, fp32, blk = parse(fmt), parse(p.acc), p.scale_block
    a, sa, va = _tile_quantize(f, fp32, np.asarray(x, float), blk, 1)
    bt, sbt, vbt = _tile_quantize(f, fp32, np.asarray(w, float).T, blk, blk)
    return a, bt.T, (sa, sbt[::blk].T), va, vbt.T
