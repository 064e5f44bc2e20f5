"""The deepseek-fp8 preset: DeepSeek-V3's fine-grained scaled FP8 GEMM in golden.dot, against
a scalar reference composed from the Fraction rounder (tests/_reference.py) and the h100-fp8
steps (golden.dot(align=13) into e8m13, tested in tests/test_golden_presets.py); the
error-stats path; what the hardware refuses."""
import re
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from macforge import golden, hw
from macforge.golden import FormatError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _reference import Val, decode, round_val  # noqa: E402

SEED = 20261205


def _reference(a, b, sa, sb, K):
    """One output: per 128-chunk, the e8m13 register after the 32-product steps (golden.dot,
    rtz), then s = fp32(sa * sb) and acc = fp32(R * s + acc), each rounding by round_val."""
    e4m3, reg, fp32 = golden.parse("e4m3"), golden.parse("e8m13"), golden.parse("fp32")
    acc = Fraction(0)
    acc_neg = False
    for j, lo in enumerate(range(0, K, 128)):
        R = np.zeros((), reg.dtype)
        for g in range(lo, min(lo + 128, K), 32):
            R = golden.dot(a[g:min(g + 32, lo + 128)], b[g:min(g + 32, lo + 128)], R, e4m3, reg,
                           align=13, rounding="rtz")
        r = decode(reg, int(R))
        s = decode(fp32, round_val(fp32, _mul(decode(fp32, int(sa[j])), decode(fp32, int(sb[j])))))
        exact = r.signed_value * s.signed_value + (-acc if acc_neg else acc)
        code = round_val(fp32, Val("num", exact < 0, abs(exact)))
        v = decode(fp32, code)
        acc, acc_neg = v.mag, v.neg
    return code


def _mul(x, y):
    p = x.signed_value * y.signed_value
    return Val("num", p < 0, abs(p))


def test_deepseek_dot_vs_reference():
    rng = np.random.default_rng(SEED)
    e4m3, fp32 = golden.parse("e4m3"), golden.parse("fp32")
    K, rows = 320, 24                                   # three chunks, the last one short
    a = e4m3.encode(rng.normal(size=(rows, K)) * 40)
    b = e4m3.encode(rng.normal(size=(rows, K)) * 40)
    nb = -(-K // 128)
    sa = fp32.encode(np.exp2(rng.integers(-12, 4, (rows, nb))) * rng.random((rows, nb)))
    sb = fp32.encode(np.exp2(rng.integers(-12, 4, (rows, nb))) * rng.random((rows, nb)))
    got = golden.dot(a, b, 0, e4m3, "fp32", preset="deepseek-fp8", scales=(sa, sb))
    want = [_reference(a[i], b[i], sa[i], sb[i], K) for i in range(rows)]
    assert got.shape == (rows,)
    assert [int(g) for g in got] == want


def test_deepseek_preset_stats():
    from macforge.golden._presets import preset_stats
    s = preset_stats("deepseek-fp8", k=512, m=4, n=4, dist="uniform", seed=1)
    assert s.promote and 0 < s.max_rel < 2e-3           # the h100-fp8 register's truncation


@pytest.mark.parametrize("call,msg", [
    (lambda: golden.dot(np.zeros(4, np.uint8), np.zeros(4, np.uint8), 0, "e4m3", "fp32",
                        preset="deepseek-fp8"),
     "preset deepseek-fp8 takes scales=(sa, sb) (fp32 codes per 128 elements)"),
    (lambda: golden.dot(np.zeros(4, np.uint8), np.zeros(4, np.uint8), 0, "e4m3", "fp32",
                        scales=(0, 0)),
     "scales apply to a scaled preset (preset='deepseek-fp8')"),
    (lambda: hw.make_unit("dot", "e4m3", preset="deepseek-fp8"),
     "preset deepseek-fp8: its tensor-core step is the h100-fp8 dot unit (preset h100-fp8); the "
     "scaled promotion into fp32 is not a dot-unit option yet"),
])
def test_deepseek_errors(call, msg):
    with pytest.raises(FormatError, match="^" + re.escape(msg) + "$"):
        call()


def _run_deepseek_unit(a, b, sa, sb, K):
    """hw._deepseek.DeepSeekDot in process: 32-product steps (first on each chunk's first),
    promote with that chunk's scales on the next chunk's first step, a last promote alone."""
    from amaranth.sim import Simulator
    from macforge.hw._deepseek import DeepSeekDot
    u = DeepSeekDot()
    out = {}

    def word(codes):
        return sum(int(c) << (8 * i) for i, c in enumerate(codes))

    async def bench(ctx):
        prev = None
        for j, lo in enumerate(range(0, K, 128)):
            for g in range(lo, min(lo + 128, K), 32):
                hi = min(g + 32, lo + 128, K)
                ctx.set(u.a.as_value(), word(a[g:hi]))
                ctx.set(u.b.as_value(), word(b[g:hi]))
                ctx.set(u.en, 1)
                ctx.set(u.first, int(g == lo))
                ctx.set(u.promote, int(prev is not None and g == lo))
                if prev is not None and g == lo:
                    ctx.set(u.sa, int(sa[prev]))
                    ctx.set(u.sb, int(sb[prev]))
                await ctx.tick()
            prev = j
        ctx.set(u.en, 0)
        ctx.set(u.first, 0)
        ctx.set(u.promote, 1)
        ctx.set(u.sa, int(sa[prev]))
        ctx.set(u.sb, int(sb[prev]))
        await ctx.tick()
        out["acc"] = ctx.get(u.acc)

    sim = Simulator(u)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out["acc"]


def test_deepseek_unit_vs_golden():
    """The hw promotion datapath (h100-fp8 FDot + fp32 FMul + e8m13 x fp32 FFma) is bit-exact
    to golden's deepseek-fp8 preset, including a short last chunk."""
    rng = np.random.default_rng(SEED + 1)
    e4m3, fp32 = golden.parse("e4m3"), golden.parse("fp32")
    for K in (128, 320, 272, 320):
        a = e4m3.encode(rng.normal(size=K) * 40)
        b = e4m3.encode(rng.normal(size=K) * rng.choice([0.5, 40, 400]))
        nb = -(-K // 128)
        sa = fp32.encode(np.exp2(rng.integers(-12, 4, nb)) * rng.random(nb))
        sb = fp32.encode(np.exp2(rng.integers(-12, 4, nb)) * rng.random(nb))
        want = int(golden.dot(a, b, 0, e4m3, "fp32", preset="deepseek-fp8", scales=(sa, sb)))
        assert _run_deepseek_unit(a, b, sa, sb, K) == want, K
