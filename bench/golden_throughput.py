"""Golden-model throughput against ml_dtypes, measured in the same run (`make bench`).

Baselines (what a user would write with ml_dtypes):
- multiply: decode both e4m3 operands to float32, multiply, cast back to float8_e4m3fn;
- FMA into fp32: decode to float64, a*b + c, cast to float32 (double rounding: not even
  correct, but the obvious thing to write).
Both sides run on the same operand codes; results of the multiply are checked equal.
Target (issue #2): golden >= 2x the ml_dtypes baseline for 8-bit formats.
"""
import sys
import time

import ml_dtypes
import numpy as np

from macforge import golden

N = 4_000_000
REPEAT = 5


def rate(fn):
    fn()                                       # warm-up: tables, caches
    best = float("inf")
    for _ in range(REPEAT):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return N / best


def main():
    rng = np.random.default_rng(0)
    e4m3 = golden.parse("e4m3")
    fp32 = golden.parse("fp32")
    a = rng.integers(0, 256, N, dtype=np.uint8)
    b = rng.integers(0, 256, N, dtype=np.uint8)
    c = fp32.encode(rng.standard_normal(N)).astype(np.uint32)
    dt = ml_dtypes.float8_e4m3fn

    def ml_mul():
        return (a.view(dt).astype(np.float32) * b.view(dt).astype(np.float32)).astype(dt)

    def gd_mul():
        return golden.mul(a, b, e4m3, e4m3)

    def ml_fma():
        with np.errstate(invalid="ignore"):
            return (a.view(dt).astype(np.float64) * b.view(dt).astype(np.float64)
                    + c.view(np.float32).astype(np.float64)).astype(np.float32)

    def gd_fma():
        return golden.fma(a, b, c, e4m3, fp32)

    with np.errstate(invalid="ignore", over="ignore"):
        ref = ml_mul().view(np.uint8)
    got = gd_mul()
    nan_ok = e4m3.is_nan(ref) & e4m3.is_nan(got)
    assert np.all((ref == got) | nan_ok), "golden and ml_dtypes disagree on e4m3 products"
    rows = []
    with np.errstate(invalid="ignore", over="ignore"):
        for what, base, ours in (("e4m3 x e4m3 -> e4m3 multiply", ml_mul, gd_mul),
                                 ("e4m3 x e4m3 + fp32 -> fp32 FMA", ml_fma, gd_fma)):
            rb, rg = rate(base), rate(ours)
            rows.append((what, rg, rb, rg / rb))
    print(f"golden throughput, {N:,} vectors, best of {REPEAT} (baseline: ml_dtypes {ml_dtypes.__version__}, same run)")
    print(f"{'operation':34s} {'golden':>14s} {'ml_dtypes':>14s} {'ratio':>7s}")
    for what, rg, rb, ratio in rows:
        print(f"{what:34s} {rg/1e6:10.1f} M/s {rb/1e6:10.1f} M/s {ratio:6.2f}x")
    ok = rows[0][3] >= 2.0
    print(f"target >= 2x ml_dtypes for the 8-bit multiply: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
