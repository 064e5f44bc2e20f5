"""Tensor-core presets (golden/_presets.py) against a scalar Fraction model of the same text.

The h100-fp8 reference below is written from the preset's definition (DeepSeek-V3 3.3.2,
DeepSeek ISCA'25 3.1.1): 32 products and the FP22 register aligned to the largest exponent,
each truncated toward zero to 13 fraction bits below it, summed exactly, truncated into e8m13;
every 128 products the register is added into the fp32 accumulator (round to nearest even) and
restarts at 0. Rounding of single values comes from tests/_reference.py.
"""
from fractions import Fraction

import numpy as np
import pytest

import _reference as R
from macforge import golden
from macforge.golden import FormatError
from macforge.golden._presets import get_preset, tensor_core_dot
from macforge.golden._presetstats import preset_stats
from macforge.cli import main

E4M3, E5M2, FP32, REG = (golden.parse(n) for n in ("e4m3", "e5m2", "fp32", "e8m13"))


def floor_log2(x: Fraction) -> int:
    e = x.numerator.bit_length() - x.denominator.bit_length()
    return e if Fraction(2) ** e <= x else e - 1


def ref_step(prods, r: Fraction) -> Fraction:
    terms = list(prods) + [r]
    nz = [abs(t) for t in terms if t != 0]
    if not nz:
        return Fraction(0)
    unit = Fraction(2) ** (max(floor_log2(t) for t in nz) - 13)
    s = sum((abs(t) // unit) * unit * (1 if t > 0 else -1) for t in terms)
    return R.decode(REG, R.round_val(REG, R.Val.num(s), "rtz")).signed_value


def ref_h100(a_vals, b_vals, c: Fraction, promote=True) -> int:
    prods = [x * y for x, y in zip(a_vals, b_vals)]
    if not promote:
        r = R.decode(REG, R.round_val(REG, R.Val.num(c), "rtz")).signed_value
        for g in range(0, len(prods), 32):
            r = ref_step(prods[g:g + 32], r)
        return R.round_val(FP32, R.Val.num(r))
    acc = R.decode(FP32, R.round_val(FP32, R.Val.num(c))).signed_value
    code = R.round_val(FP32, R.Val.num(acc))
    for lo in range(0, len(prods), 128):
        r = Fraction(0)
        for g in range(lo, min(lo + 128, len(prods)), 32):
            r = ref_step(prods[g:g + 32], r)
        code = R.round_val(FP32, R.Val.num(acc + r))
        acc = R.decode(FP32, code).signed_value
    return code


@pytest.mark.parametrize("promote", [True, False])
def test_h100_fp8_matches_reference(promote):
    rng = np.random.default_rng(21)
    rows, K = 24, 300                                   # K not a multiple of 32 or 128
    a = E4M3.encode(rng.random((rows, K)) * rng.choice([1, -1, 40], (rows, 1)))
    b = E5M2.encode(rng.normal(size=(rows, K)) * 4)
    b[:4] = E5M2.encode(np.abs(rng.normal(size=(4, K))))   # positive rows: the sum grows
    c = FP32.encode(rng.normal(size=rows) * 1000)
    if promote:
        got = golden.dot(a, b, c, "e4m3", "fp32", preset="h100-fp8", fmt_b="e5m2")
    else:
        got = tensor_core_dot(a, b, c, "e4m3", "h100-fp8", fmt_b="e5m2", promote=False)
    want = []
    for i in range(rows):
        av = [Fraction(float(v)) for v in E4M3.decode(a[i])]
        bv = [Fraction(float(v)) for v in E5M2.decode(b[i])]
        want.append(ref_h100(av, bv, Fraction(float(FP32.decode(c[i]))), promote))
    R.check_codes(FP32, got, np.array(want, np.uint32), {"row": np.arange(rows)},
                  f"h100-fp8 promote={promote}")
    # the model is not exact: truncation must show on the growing positive rows
    exact = [R.round_val(FP32, R.Val.num(sum(Fraction(float(x)) * Fraction(float(y)) for x, y in
                                              zip(E4M3.decode(a[i]), E5M2.decode(b[i])))
                                         + Fraction(float(FP32.decode(c[i]))))) for i in range(4)]
    assert list(got[:4]) != exact


def test_preset_errors():
    a = E4M3.encode(np.ones(64))
    with pytest.raises(FormatError,
                       match=r"^unknown preset 'a100'; accepted: h100-fp8, deepseek-fp8$"):
        golden.dot(a, a, 0, "e4m3", "fp32", preset="a100")
    with pytest.raises(FormatError, match=r"^preset h100-fp8 sets align=13; do not pass align$"):
        golden.dot(a, a, 0, "e4m3", "fp32", preset="h100-fp8", align=10)
    with pytest.raises(FormatError, match=r"^preset h100-fp8 accumulates into fp32, not bf16$"):
        golden.dot(a, a, 0, "e4m3", "bf16", preset="h100-fp8")
    with pytest.raises(FormatError, match=r"^preset h100-fp8 takes e4m3fn or e5m2 operands, not fp16"):
        golden.dot(np.zeros(4, np.uint16), np.zeros(4, np.uint16), 0, "fp16", "fp32",
                   preset="h100-fp8")
    p = get_preset("H100-FP8")
    assert (p.k, p.align, p.register, p.promote_every, p.acc) == (32, 13, "e8m13", 128, "fp32")


def test_deepseek_observation_k4096():
    """K = 4096: without promotion the register's truncation costs percent-level relative error
    (DeepSeek-V3: "nearly 2 %"); promotion every 128 terms brings it down by over 10x."""
    off = preset_stats(k=4096, promote=False, m=6, n=6, dist="uniform")
    on = preset_stats(k=4096, promote=True, m=6, n=6, dist="uniform")
    assert off.max_rel > 0.01 and on.max_rel < off.max_rel / 10, (off, on)
    assert on.fp32_max_rel < 1e-5


def test_error_stats_cli(capsys):
    assert main(["error-stats", "--preset", "h100-fp8", "--k", "256", "--size", "4",
                 "--dist", "uniform", "--no-promote"]) == 0
    out = capsys.readouterr().out
    assert "h100-fp8 (no promotion): 4x256 @ 256x4 e4m3fn GEMM, uniform data" in out
    assert "max relative error" in out and "promotion every" not in out.split("sources")[1]
    assert main(["error-stats", "--preset", "nope"]) == 2
    assert capsys.readouterr().err.strip() == \
        "macforge: error: unknown preset 'nope'; accepted: h100-fp8, deepseek-fp8"


# ---------------------------------------------------------------------------------------------
# golden.matmul with the deepseek-fp8 preset: tile and block scales
# ---------------------------------------------------------------------------------------------
def _deepseek_operands(rng, M, K, N, batch=()):
    nb, nn = -(-K // 128), -(-N // 128)
    a = E4M3.encode(rng.normal(size=batch + (M, K)) * 40)
    b = E4M3.encode(rng.normal(size=batch + (K, N)) * 40)
    # scales spread over 2^-8 .. 2^8: a tile or block picked wrongly is far off the bound
    sa = FP32.encode(rng.uniform(1, 2, batch + (M, nb)) * 2.0 ** rng.integers(-8, 9, (M, nb)))
    sb = FP32.encode(rng.uniform(1, 2, batch + (nb, nn)) * 2.0 ** rng.integers(-8, 9, (nb, nn)))
    return a, b, sa, sb


@pytest.mark.parametrize("M,K,N", [(1, 128, 1), (2, 272, 3), (3, 320, 2), (2, 272, 130),
                                   (1, 320, 130)])
def test_deepseek_matmul_is_dot_per_element(M, K, N):
    rng = np.random.default_rng(M * 1000 + K + N)
    a, b, sa, sb = _deepseek_operands(rng, M, K, N)
    got = golden.matmul(a, b, "e4m3", "fp32", preset="deepseek-fp8", scales=(sa, sb))
    assert got.shape == (M, N) and got.dtype == FP32.dtype
    want = np.array([[golden.dot(a[i], b[:, j], 0, "e4m3", "fp32", preset="deepseek-fp8",
                                 scales=(sa[i], sb[:, j // 128])) for j in range(N)]
                     for i in range(M)])
    i, j = np.divmod(np.arange(M * N), N)
    R.check_codes(FP32, got.ravel(), want.ravel(), {"i": i, "j": j},
                  f"deepseek-fp8 matmul {M}x{K} @ {K}x{N}")
    # float64 sanity: within the docs' bound 2^-5 * sum_k |a_ik b_kj| of the dequantised product
    # (docs/formats.md; register truncation <= 4 steps x 34 x 2^-13 per 128-block, < 1.7 %)
    s = lambda codes, blk, axis: np.repeat(FP32.decode(codes), blk, axis=axis)
    va = E4M3.decode(a) * s(sa, 128, -1)[:, :K]
    vb = E4M3.decode(b) * s(np.repeat(sb, 128, axis=-1)[:, :N], 128, 0)[:K]
    err = np.abs(FP32.decode(got) - va @ vb)
    assert np.all(err <= 2.0 ** -5 * (np.abs(va) @ np.abs(vb))), err.max()


def test_deepseek_matmul_batched_and_c():
    rng = np.random.default_rng(5)
    a, b, sa, sb = _deepseek_operands(rng, 2, 200, 3, batch=(2,))
    c = FP32.encode(rng.normal(size=(2, 2, 3)) * 100)
    got = golden.matmul(a, b, "e4m3", "fp32", c=c, preset="deepseek-fp8", scales=(sa, sb))
    for n in range(2):
        assert np.array_equal(got[n], golden.matmul(a[n], b[n], "e4m3", "fp32", c=c[n],
                                                    preset="deepseek-fp8",
                                                    scales=(sa[n], sb[n])))
    # a weight shared over the batch: sb without the batch axis broadcasts
    shared = golden.matmul(a, b[0], "e4m3", "fp32", preset="deepseek-fp8", scales=(sa, sb[0]))
    assert np.array_equal(shared[1], golden.matmul(a[1], b[0], "e4m3", "fp32",
                                                   preset="deepseek-fp8", scales=(sa[1], sb[0])))


def test_deepseek_matmul_errors():
    rng = np.random.default_rng(1)
    a, b, sa, sb = _deepseek_operands(rng, 2, 272, 130)
    want = (r"takes sa \(\.\.\., M, ceil\(K/128\)\) = \(\.\.\., 2, 3\) and "
            r"sb \(\.\.\., ceil\(K/128\), ceil\(N/128\)\) = \(\.\.\., 3, 2\)$")
    mm = lambda **kw: golden.matmul(a, b, "e4m3", "fp32", **kw)
    with pytest.raises(FormatError, match=r"^scales shaped \(2, 2\) and \(3, 2\); A \(2, 272\) "
                                          r"@ B \(272, 130\) " + want):
        mm(preset="deepseek-fp8", scales=(sa[:, :2], sb))
    with pytest.raises(FormatError, match=r"^scales shaped \(2, 3\) and \(3, 1\);.*" + want):
        mm(preset="deepseek-fp8", scales=(sa, sb[:, :1]))
    with pytest.raises(FormatError, match=r"^scales shaped \(3,\) and \(3, 2\);"):
        mm(preset="deepseek-fp8", scales=(sa[0].reshape(-1)[:3], sb))
    with pytest.raises(FormatError, match=r"^scales shaped \(4, 2, 3\) and \(3, 2\);"):
        mm(preset="deepseek-fp8", scales=(np.stack([sa] * 4), sb))     # batch A and B lack
    with pytest.raises(FormatError, match=r"^scales must be a pair \(sa, sb\): fp32 codes, sa"):
        mm(preset="deepseek-fp8", scales=sa)
    with pytest.raises(FormatError, match=r"^preset deepseek-fp8 takes scales=\(sa, sb\): fp32 "
                                          r"codes, sa \(\.\.\., M, ceil\(K/128\)\)"):
        mm(preset="deepseek-fp8")
    with pytest.raises(FormatError,
                       match=r"^scales apply to a scaled preset \(preset='deepseek-fp8'\)$"):
        mm(scales=(sa, sb))
    with pytest.raises(FormatError, match=r"^preset h100-fp8 has no operand scales; use "
                                          r"deepseek-fp8$"):
        mm(preset="h100-fp8", scales=(sa, sb))
    with pytest.raises(FormatError, match=r"^fp32: codes must be integers"):
        mm(preset="deepseek-fp8", scales=(FP32.decode(sa), sb))


def test_fine_grained_quantize_tiles_and_blocks():
    """error-stats' DeepSeek-V3 quantisation: activations per 1 x 128 tile (every row its own
    scale), weights per 128 x 128 block (128 rows of K share one); scales in matmul's shapes."""
    from macforge.golden._presets import fine_grained_quantize
    rng = np.random.default_rng(3)
    M, K, N = 3, 272, 130
    x = rng.normal(size=(M, K)) * 10.0 ** np.arange(M)[:, None]        # rows far apart
    w = rng.normal(size=(K, N)) * 10.0 ** (np.arange(N) % 3)[None, :]
    a, b, (sa, sb), va, vb = fine_grained_quantize(x, w)
    assert sa.shape == (M, 3) and sb.shape == (3, 2) and a.shape == (M, K) and b.shape == (K, N)
    for i in range(M):
        for t in range(3):
            tile = np.abs(x[i, t * 128:(t + 1) * 128]).max()
            assert sa[i, t] == FP32.encode(tile / 448)
    for t in range(3):
        for u in range(2):
            block = np.abs(w[t * 128:(t + 1) * 128, u * 128:(u + 1) * 128]).max()
            assert sb[t, u] == FP32.encode(block / 448)
    assert np.array_equal(va, E4M3.decode(a) * np.repeat(FP32.decode(sa), 128, 1)[:, :K])
    golden.matmul(a, b, "e4m3", "fp32", preset="deepseek-fp8", scales=(sa, sb))   # shapes fit
