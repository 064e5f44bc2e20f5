"""Block formats (MX, NVFP4, NVINT4) against a per-element reference written here from the specs.

Reference (scalar Python, ``Fraction``; rounding of single values by tests/_reference.py, which
is itself independent of golden): OCP MX v1.0 Algorithm 1 -- ``shared_exp = floor(log2(max
|v|)) - emax_elem`` with the emax_elem table of docs/formats.md, clamped to e8m0's [-127, 127]
(below: -127; above: NaN scale), all-zero block -> 2^-127, NaN/inf in a block -> NaN scale and
zero elements, elements ``v / 2^shared_exp`` rounded and clamped to the element max (MXINT8:
int8 x 2^-6, symmetric +-127); NVIDIA's NVFP4 recipe -- ``t = fp32(amax / (448 * 6))``,
``S = e4m3(amax_b / (6 t))``, elements ``e2m1(v / (S t))`` clamped (NVINT4: 7 and int4).
Checked: quantize of random tensors with blocks spread over the whole scale range, zero
blocks, max-magnitude blocks, exact ties, NaN/inf blocks, both rne and rna; dequantize exactly
and its error bound; block_dot and align=W against exact Fraction sums.
"""
import math
from fractions import Fraction

import numpy as np
import pytest

import _reference as R
from macforge import golden
from macforge.golden import FormatError

# docs/formats.md "Block scales": emax_elem per element type; the element/scale of each format
EMAX_ELEM = {"mxfp8": 8, "mxe5m2": 15, "mxe3m2": 4, "mxfp6": 2, "mxfp4": 2, "mxint8": 0}
ELEM = {"mxfp8": "e4m3", "mxe5m2": "e5m2", "mxfp6": "e2m3", "mxe3m2": "e3m2", "mxfp4": "e2m1",
        "mxint8": "int8", "nvfp4": "e2m1", "nvint4": "int4"}
NV_Q = {"nvfp4": 6, "nvint4": 7}
MX = list(EMAX_ELEM)
NV = list(NV_Q)


def pow2(k):
    return Fraction(2) ** k


def floor_log2(x: Fraction) -> int:
    e = x.numerator.bit_length() - x.denominator.bit_length()
    return e if pow2(e) <= x else e - 1


def val(v: float, scale: Fraction) -> R.Val:
    """v / scale as a reference value, keeping the sign of zero."""
    return R.Val("num", math.copysign(1.0, v) < 0, abs(Fraction(v)) / scale)


def ref_element(name, v, scale, mode):
    ef = golden.parse(ELEM[name])
    if isinstance(ef, golden.Int):
        code = R.round_val(ef, val(v, scale), mode, saturate=True)
        lowest = 1 << (ef.n - 1)                 # -2^(n-1): symmetric formats never use it
        return lowest + 1 if code == lowest else code
    return R.round_val(ef, val(v, scale), mode, saturate=True)


def ref_mx_block(name, vals, mode):
    """(scale code, element codes) of one MX block, from the spec text."""
    if not all(math.isfinite(v) for v in vals):
        return 0xFF, [0] * len(vals)
    amax = max(abs(Fraction(v)) for v in vals)
    s = -127 if amax == 0 else max(floor_log2(amax) - EMAX_ELEM[name], -127)
    if s > 127:
        return 0xFF, [0] * len(vals)
    X = pow2(s) * (pow2(-6) if name == "mxint8" else 1)     # MXINT8 elements are int8 x 2^-6
    return s + 127, [ref_element(name, v, X, mode) for v in vals]


def ref_nv(name, x2d, mode):
    """(tensor scale, scale codes per row/block, element codes) of an NV tensor (rows x 16k)."""
    Q = NV_Q[name]
    e4m3, fp32 = golden.parse("e4m3"), golden.parse("fp32")
    fin = [abs(Fraction(v)) for v in x2d.ravel() if math.isfinite(v)]
    amax = max(fin) if fin else Fraction(0)
    if amax == 0:
        t = Fraction(1)
    else:
        t = R.decode(fp32, R.round_val(fp32, R.Val.num(amax / (448 * Q)), "rne", True)).mag
    scales, elems = [], []
    for row in x2d:
        srow, erow = [], []
        for j in range(0, len(row), 16):
            blk = [float(v) for v in row[j:j + 16]]
            if not all(math.isfinite(v) for v in blk):
                srow.append(0x7F)
                erow += [0] * 16
                continue
            amax_b = max(abs(Fraction(v)) for v in blk)
            sc = R.round_val(e4m3, R.Val.num(amax_b / (Q * t)), "rne", True)
            S = R.decode(e4m3, sc).mag
            srow.append(sc)
            erow += [0] * 16 if S == 0 else [ref_element(name, v, S * t, mode) for v in blk]
        scales.append(srow)
        elems.append(erow)
    return t, np.array(scales), np.array(elems)


def spread_tensor(rng, rows, nblocks, block, lo=-160, hi=150):
    """Blocks of N(0,1) data, each scaled by its own 2^k (k in [lo, hi]), plus blocks of few-bit
    dyadic values (exact ties after scaling)."""
    x = rng.normal(size=(rows, nblocks, block))
    k = rng.integers(lo, hi, size=(rows, nblocks, 1))
    dy = rng.integers(-64, 65, size=(rows, nblocks, block)) * 2.0 ** rng.integers(-8, 4, size=(rows, nblocks, 1))
    pick = rng.random((rows, nblocks, 1)) < 0.3
    x = np.where(pick, dy, x) * 2.0 ** k
    return x.reshape(rows, nblocks * block)


def corner_blocks(block, emax):
    """Zero block, -0 block, one nonzero, max-magnitude blocks, NaN/inf blocks."""
    z = np.zeros(block)
    one = z.copy()
    one[3] = -3.0
    maxb = np.full(block, 2.0 ** (emax + 1) * (1 - 2.0 ** -30))       # just below the next binade
    maxb[::2] *= -1
    nan = np.linspace(-1, 1, block)
    nan[5] = np.nan
    inf = np.linspace(-1, 1, block)
    inf[7] = -np.inf
    return [z, -z, one, maxb, nan, inf, np.full(block, 2.0 ** -140), np.full(block, 2.0 ** 140)]


def check(got, want, what, x=None):
    got, want = np.asarray(got).astype(np.int64), np.asarray(want).astype(np.int64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    assert want.size > 0
    bad = np.argwhere(got != want)
    if bad.size:
        rows = []
        for idx in bad[:12]:
            i = tuple(idx)
            xi = "" if x is None else f" x={x[i]!r}"
            rows.append(f"  at {i}:{xi} want={want[i]:#x} got={got[i]:#x}")
        raise AssertionError(f"{what}: {len(bad)} mismatches\n" + "\n".join(rows))
    return want.size


# ---------------------------------------------------------------------------------------------
# quantize against the reference
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MX)
@pytest.mark.parametrize("mode", ["rne", "rna"])
def test_mx_quantize_matches_reference(name, mode):
    rng = np.random.default_rng(hash((name, mode)) % 2**32)
    x = spread_tensor(rng, 6, 4, 32)
    corners = np.stack(corner_blocks(32, EMAX_ELEM[name]))
    x = np.concatenate([x, corners.reshape(2, -1)], axis=0)          # rows of 4 blocks
    t = golden.quantize(x, name, rounding=mode)
    assert t.tensor_scale is None and t.shape == x.shape
    want_s, want_e = [], []
    for row in x:
        rs, re_ = [], []
        for j in range(0, row.size, 32):
            s, e = ref_mx_block(name, [float(v) for v in row[j:j + 32]], mode)
            rs.append(s)
            re_ += e
        want_s.append(rs)
        want_e.append(re_)
    n = check(t.scales, want_s, f"{name} {mode} scales")
    n += check(t.elements, want_e, f"{name} {mode} elements", x)
    assert n > 1000


@pytest.mark.parametrize("name", NV)
@pytest.mark.parametrize("mode", ["rne", "rna"])
def test_nv_quantize_matches_reference(name, mode):
    rng = np.random.default_rng(hash((name, mode, 1)) % 2**32)
    for x in (spread_tensor(rng, 6, 6, 16, -12, 12),                # blocks over e4m3's range
              spread_tensor(rng, 4, 4, 16, -3, 3),
              np.concatenate([spread_tensor(rng, 2, 6, 16, 0, 1),
                              np.stack(corner_blocks(16, 2)[:6]).reshape(1, 96)])):
        t = golden.quantize(x, name, rounding=mode)
        tr, sr, er = ref_nv(name, x, mode)
        assert Fraction(t.tensor_scale) == tr
        check(t.scales, sr, f"{name} {mode} scales")
        check(t.elements, er, f"{name} {mode} elements", x)
    # an all-zero tensor: t = 1, zero scales and elements
    z = golden.quantize(np.zeros((2, 16)), name)
    assert z.tensor_scale == 1.0 and not z.scales.any() and not z.elements.any()


def test_scale_range_edges():
    """Shared exponents at e8m0's ends: clamped below, NaN above (float64 inputs only)."""
    x = np.array([2.0 ** -140, 2.0 ** -130, 2.0 ** 134, 2.0 ** 136])
    codes = []
    for v in x:
        codes.append(int(golden.quantize(np.full(32, v), "mxfp8").scales[0]))
    assert codes == [0, 0, 134 - 8 + 127, 0xFF]
    t = golden.quantize(np.full(32, 2.0 ** -140), "mxfp8")
    assert not t.elements.any()                       # 2^-140 / 2^-127 underflows e4m3: +0


def test_padding_axis_and_shape():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 50, 5))
    t = golden.quantize(x, "mxfp6", axis=1)
    assert t.elements.shape == (3, 5, 64) and t.scales.shape == (3, 5, 2)
    y = golden.dequantize(t)
    assert y.shape == x.shape
    t2 = golden.quantize(np.moveaxis(x, 1, -1), "mxfp6")
    assert np.array_equal(np.moveaxis(golden.dequantize(t2), -1, 1), y)
    with pytest.raises(FormatError, match=r"^axis 3 does not exist in an array of 3 dimension"):
        golden.quantize(x, "mxfp6", axis=3)
    with pytest.raises(FormatError, match=r"^quantize needs a block format, not e4m3fn; accepted"):
        golden.quantize(x, "e4m3")


# ---------------------------------------------------------------------------------------------
# dequantize: exact values and error bounds
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MX + NV)
def test_dequantize_exact_and_error_bound(name):
    f = golden.parse(name)
    rng = np.random.default_rng(7)
    x = spread_tensor(rng, 8, 4, f.block, -20, 20) if f.is_mx else rng.normal(size=(8, 64)) * 3
    t = golden.quantize(x, f)
    y = golden.dequantize(t)
    ef = f.element
    # exact: element value x 2^element_exp x scale (x tensor scale), in Fractions
    sc = t.scales.reshape(-1)
    el = t.elements.reshape(len(sc), f.block)
    ts = Fraction(1) if t.tensor_scale is None else Fraction(t.tensor_scale)
    flat = y.reshape(len(sc), f.block)
    for i in range(0, len(sc), 3):
        S = R.decode(f.scale, int(sc[i])).mag
        for j in range(f.block):
            ev = R.decode(ef, int(el[i, j])).signed_value * pow2(f.element_exp)
            assert Fraction(flat[i, j]) == ev * S * ts, (name, i, j)
    # error bound: half an element ulp (relative 2^-(p+1) in the normal range, else half the
    # smallest step), or the clamp: |x| <= amax, dequantised to +-element max x scale
    if isinstance(ef, golden.Int):
        rel, step = 0.0, 1.0
    else:
        rel, step = 2.0 ** -(ef.man_bits + 1), ef.min_subnormal
    scale_val = (f.scale.decode(t.scales) * (t.tensor_scale or 1.0) * 2.0 ** f.element_exp)
    X = np.repeat(scale_val, f.block, axis=-1)[..., :x.shape[-1]]
    emax_val = f.element_max * np.repeat(f.scale.decode(t.scales) * (t.tensor_scale or 1.0),
                                         f.block, axis=-1)[..., :x.shape[-1]]
    err = np.abs(y - x)
    bound = np.maximum(rel * np.abs(x), step * X / 2)
    clamped = np.abs(x) > emax_val
    assert (err[~clamped] <= bound[~clamped]).all(), name
    assert (np.abs(y[clamped]) == emax_val[clamped]).all()


# ---------------------------------------------------------------------------------------------
# the block dot product against exact sums
# ---------------------------------------------------------------------------------------------
def ref_block_dot(fa, fb, a, sa, b, sb, acc, c, align, mode):
    Sa, Sb = R.decode(fa.scale, int(sa)), R.decode(fb.scale, int(sb))
    if Sa.kind == "nan" or Sb.kind == "nan":
        return R.round_val(acc, R.NAN, mode)
    k = Sa.mag * Sb.mag * pow2(fa.element_exp + fb.element_exp)
    terms = [R.mul_val(R.decode(fa.element, int(x)), R.decode(fb.element, int(y)))
             for x, y in zip(a, b)]
    terms = [R.Val(t.kind, t.neg, t.mag * k) if t.kind == "num" else t for t in terms]
    terms.append(R.decode(acc, int(c)))
    if align is not None and all(t.kind == "num" for t in terms):
        nz = [t.mag for t in terms if t.mag != 0]
        if nz:
            unit = pow2(max(floor_log2(m) for m in nz) - align)
            terms = [R.Val("num", t.neg, (t.mag // unit) * unit) for t in terms]
    return R.round_val(acc, R.sum_vals(terms, mode), mode)


def _codes(fmt, rng, shape):
    c = rng.integers(0, 1 << fmt.bits, size=shape, dtype=np.uint64)
    if fmt.has_nan:                                  # NaN codes rarely: replace most of them
        keep = rng.random(shape) < 0.02
        c = np.where(fmt.is_nan(c) & ~keep, 0, c)
    return c.astype(fmt.dtype)


@pytest.mark.parametrize("name,align,acc", [("mxfp8", None, "fp32"), ("mxfp4", None, "bf16"),
                                            ("mxint8", None, "fp32"), ("mxe5m2", 13, "fp32"),
                                            ("nvfp4", None, "fp32"), ("nvint4", 8, "fp16"),
                                            ("mxfp6", 4, "fp32")])
def test_block_dot_vs_exact(name, align, acc):
    f = golden.parse(name)
    fc = golden.parse(acc)
    rng = np.random.default_rng(11)
    n, k = 300, f.block
    a, b = _codes(f.element, rng, (n, k)), _codes(f.element, rng, (n, k))
    if f.is_mx:
        sa = rng.integers(100, 150, n).astype(np.uint8)
        sb = rng.integers(100, 150, n).astype(np.uint8)
        sa[:3] = [0xFF, 0, 254]
    else:
        sa, sb = _codes(f.scale, rng, n) & np.uint8(0x7F), _codes(f.scale, rng, n) & np.uint8(0x7F)
        sa[:2] = [0x7F, 0]
    c = fc.encode(rng.normal(0, 4, n))
    c[5] = fc.encode(np.inf) if fc.has_inf else c[5]
    a[6] = 0
    a[7, :] = a[8, :]
    b[7, :] = b[8, :]
    sa[7], sb[7] = sa[8], sb[8]
    c[7] = fc.encode(-float(fc.decode(golden.block_dot(a[8], sa[8], b[8], sb[8], 0, f, acc))))
    for mode in ("rne", "rtz"):
        got = golden.block_dot(a, sa, b, sb, c, f, acc, align=align, rounding=mode)
        want = [ref_block_dot(f, f, a[i], sa[i], b[i], sb[i], fc, c[i], align, mode)
                for i in range(n)]
        R.check_codes(fc, got, np.array(want, np.uint64).astype(fc.dtype),
                      {"a": a, "sa": sa, "b": b, "sb": sb, "c": c}, f"{name} block_dot {mode}")


def test_block_dot_of_quantized_equals_exact_dot_of_dequantized():
    rng = np.random.default_rng(12)
    x, w = rng.normal(size=(64, 32)), rng.normal(size=(64, 32)) * 1e-3
    fp32 = golden.parse("fp32")
    for name in ("mxfp8", "mxfp4", "mxint8"):
        tx, tw = golden.quantize(x, name), golden.quantize(w, name)
        got = golden.block_dot(tx.elements, tx.scales[:, 0], tw.elements, tw.scales[:, 0], 0,
                               name, "fp32")
        dx, dw = golden.dequantize(tx), golden.dequantize(tw)
        want = [R.round_val(fp32, R.Val.num(sum(Fraction(p) * Fraction(q)
                                                 for p, q in zip(r, s)))) for r, s in zip(dx, dw)]
        check(got, want, f"{name} block_dot vs dequantised dot")


def test_block_dot_mixed_and_errors():
    f8, f5 = golden.parse("mxfp8"), golden.parse("mxe5m2")
    one8, one5 = f8.element.encode(np.ones(32)), f5.element.encode(np.ones(32))
    got = golden.block_dot(one8, np.uint8(127), one5, np.uint8(128), 0, f8, "fp32", fmt_b=f5)
    assert float(golden.parse("fp32").decode(got)) == 64.0
    with pytest.raises(FormatError, match=r"^block_dot needs block formats, not e4m3fn; accepted"):
        golden.block_dot(one8, 127, one8, 127, 0, "e4m3")
