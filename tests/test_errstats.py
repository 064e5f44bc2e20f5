"""Error statistics (``golden.error_stats`` and ``macforge error-stats``).

The numbers are checked against an independent computation: every pair of e4m3 codes, the
L-Mul value and the exact product formed in integers from ml_dtypes' decoding, and the
mean / max relative error taken over them.
"""
import json
import math
import re
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from macforge import golden
from macforge.golden import FormatError
from macforge.cli import main


def _e4m3_values():
    codes = np.arange(256, dtype=np.uint8)
    vals = codes.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
    keep = np.isfinite(vals) & (vals != 0)
    return vals[keep]


@pytest.mark.parametrize("variant", ["formula", "intadd"])
def test_exhaustive_lmul_stats_match_integer_reference(variant):
    """Every e4m3 mantissa (subnormals normalised) is a multiple of 1/8: with A, B the mantissas
    in eighths, exact = (8+A)(8+B) and L-Mul = 8(8 + A + B + 1) (formula; l(3) = 3, offset
    1/8) or 16(A + B + 1) once A + B + 1 >= 8 (intadd), all in units of 2^(ea+eb-6)."""
    vals = _e4m3_values()
    frac, _ = np.frexp(np.abs(vals))                      # |v| = frac * 2^e, frac in [0.5, 1)
    M = (frac * 16).astype(np.int64) - 8                  # mantissa in eighths, exact
    assert np.all((M >= 0) & (M < 8)) and np.all(frac * 16 == M + 8)
    A, B = np.repeat(M, M.size), np.tile(M, M.size)
    exact = (8 + A) * (8 + B)
    s = A + B + 1
    approx = 8 * (8 + s) if variant == "formula" else np.where(s < 8, 8 * (8 + s), 16 * s)
    rels = [abs(int(x) - int(y)) / int(y) for x, y in zip(approx, exact)]   # int / int: exact rounding
    want_mean = math.fsum(rels) / len(rels)
    st = golden.error_stats("e4m3", "lmul", variant, dist="exhaustive", out="fp32")
    assert st.samples == st.used == len(rels) == 252 ** 2          # 256 - two zeros - two NaNs
    assert st.overflow == 0 and st.underflow == 0
    assert st.mean == pytest.approx(want_mean, rel=1e-12)
    assert st.max == max(rels)
    assert sum(c for _, c in st.histogram) == st.used


def test_rounded_mul_is_within_half_an_ulp():
    st = golden.error_stats("e4m3", "mul", samples=50_000, dist="gaussian", seed=2)
    assert st.normal_used > 40_000 and st.normal_max <= 2.0 ** -4      # 3 mantissa bits, RNE
    assert st.data_mean > st.normal_mean                               # quantising costs too
    exact = golden.error_stats("e4m3", "mul", samples=50_000, dist="gaussian", seed=2, out="fp32")
    assert exact.max == 0 and exact.mean == 0 and exact.data_mean > 0  # the products are exact


def test_deterministic_and_counts():
    a = golden.error_stats("e5m2", "lmul", "intadd", samples=20_000, dist="uniform", seed=5)
    b = golden.error_stats("e5m2", "lmul", "intadd", samples=20_000, dist="uniform", seed=5)
    assert a == b
    assert a.samples == 20_000 and a.used + a.overflow == a.samples and a.overflow > 0
    assert sum(c for _, c in a.histogram) == a.used
    assert a.percentiles[50.0] <= a.percentiles[90.0] <= a.percentiles[99.0] <= a.max


@pytest.mark.parametrize("fmt", ["posit16", "lns8", "posit8", "bf16"])
def test_other_families(fmt):
    st = golden.error_stats(fmt, "mul", samples=20_000, dist="gaussian", seed=1)
    assert st.used > 19_000 and st.mean < 0.05


def test_lns_mul_is_exact_in_range():
    st = golden.error_stats("lns12f6", "mul", samples=20_000, dist="gaussian", seed=1)
    assert st.percentiles[99.0] < 1e-15                                # only float64 rounding


def test_bad_arguments():
    with pytest.raises(FormatError, match=r"^unknown unit 'fma' for error statistics; accepted: mul, lmul, convert$"):
        golden.error_stats("e4m3", "fma")
    with pytest.raises(FormatError, match=r"^unknown distribution 'cauchy'; accepted: uniform, gaussian, exhaustive$"):
        golden.error_stats("e4m3", dist="cauchy")
    with pytest.raises(FormatError, match=r"^exhaustive error statistics need a format of at most 12 bits"):
        golden.error_stats("fp16", dist="exhaustive")


def test_exhaustive_cast_stats_match_ml_dtypes():
    """Every finite nonzero e4m3 code cast into e2m1 (RNE; FP4 clamps at 6): the results from
    ml_dtypes' own cast, and the mean, max and signed mean (bias) of the relative error taken
    over them in exact integer ratios."""
    vals = _e4m3_values()
    got = vals.astype(ml_dtypes.float4_e2m1fn).astype(np.float64)
    q = [Fraction(float(g)) for g in got]
    x = [Fraction(float(v)) for v in vals]
    signed = [(g - e) / abs(e) for g, e in zip(q, x)]
    st = golden.error_stats("e4m3", "convert", out="e2m1", dist="exhaustive")
    assert st.unit == "convert" and st.samples == st.used == vals.size == 252
    assert st.mean == pytest.approx(float(sum(abs(r) for r in signed) / len(signed)), rel=1e-12)
    assert st.max == float(max(abs(r) for r in signed))
    assert st.bias == pytest.approx(float(sum(signed) / len(signed)), rel=1e-12)
    assert st.underflow == sum(1 for g in q if g == 0) > 0


def test_stochastic_cast_is_unbiased_where_rne_is_not():
    """SR's expected result is the exact value: its bias is sampling noise (a few rms/sqrt(n)).
    RNE on positive data just above each binade's bottom rounds down more than up."""
    n = 200_000
    sr = golden.error_stats("bf16", "convert", out="e4m3", rounding="sr", dist="gaussian",
                            samples=n, seed=4)
    assert abs(sr.bias) < 4 * sr.rms / math.sqrt(sr.used)
    assert sr.normal_max < 2.0 ** -3 and sr.normal_max > 2.0 ** -4    # up to an ulp, not half
    rne = golden.error_stats("bf16", "convert", out="e4m3", dist="gaussian", samples=n, seed=4)
    assert rne.normal_max <= 2.0 ** -4 and rne.mean < sr.mean
    pos = golden.error_stats("uint8", "convert", out="e2m1", dist="exhaustive")
    assert pos.bias < 0        # 1..255 into {0.5, 1, ..., 6}: every value above 6 clamps down


def test_cast_stats_need_a_result_format(capsys):
    with pytest.raises(FormatError, match=r"^error statistics of a cast need its result format"):
        golden.error_stats("bf16", "convert")
    assert main(["error-stats", "--unit", "convert", "--format", "bf16"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "need its result format" in err[0], err
    assert main(["error-stats", "--unit", "convert", "-f", "fp16", "--acc", "e5m2", "-n",
                 "3000", "--rounding", "sr"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^convert on fp16 -> e5m2: 3000 source codes, uniform", out, re.M)
    assert re.search(r"^  bias            [-+]\S+  \(mean signed relative error", out, re.M)
    assert re.search(r"^  vs data x  ", out, re.M)


def test_cli_report(capsys):
    assert main(["error-stats", "--format", "e4m3", "--unit", "lmul", "--samples", "5000", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^lmul \(formula\) on e4m3fn -> e4m3fn: 5000 operand pairs, uniform", out, re.M)
    assert re.search(r"^lmul \(formula\) on e4m3fn -> e4m3fn: \d+ operand pairs, N\(0, 1\) data", out, re.M)
    assert re.search(r"^  relative error  mean \S+  rms \S+  max \S+$", out, re.M)
    assert re.search(r"^  percentiles     p50 \S+  p90 \S+  p99 \S+  p99\.9 \S+$", out, re.M)
    assert re.search(r"^  vs data x\*y ", out, re.M)
    assert "histogram of relative error" in out


def test_cli_json(capsys):
    assert main(["error-stats", "-f", "e5m2", "--dist", "exhaustive", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert len(rows) == 1 and rows[0]["dist"] == "exhaustive" and rows[0]["samples"] == 246 ** 2
    assert rows[0]["max"] <= 1.0 and set(rows[0]["percentiles"]) == {"p50", "p90", "p99", "p99.9"}


@pytest.mark.parametrize("args,pattern", [
    (["error-stats", "--format", "posit8", "--unit", "lmul"],
     r"^macforge: error: L-Mul is defined on minifloats \(e<E>m<M>, fp16, bf16, \.\.\.\), not posit8$"),
    (["error-stats", "--format", "e4m3", "--variant", "mitchell"],
     r"^macforge: error: argument --variant: invalid choice: 'mitchell' .*$"),
    (["error-stats", "--format", "e4m3", "--samples", "0"],
     r"^macforge: error: argument --samples/-n: samples must be an integer 1\.\.10000000 "
     r"\(operand pairs of error-stats\), not 0$"),
    (["error-stats", "--format", "posit9x"], r"^macforge: error: unknown format 'posit9x'; accepted: .*$"),
])
def test_cli_errors_are_one_line(capsys, args, pattern):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.match(pattern, err[0]), err


def test_formats_lists_the_new_families(capsys):
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    for name, canonical, mx in [("posit8", "posit8", "1.67772e+07"), ("posit16es1", "posit16es1", "2.68435e+08"),
                                ("lns8", "lns8f3", "234.753"), ("lns12f6", "lns12f6", "64830")]:
        assert re.search(rf"^{name}\s+{canonical}\s+\d+\s+\S+\s+{re.escape(mx)}\s+-\s", out, re.M), name
    assert main(["formats", "posit8es0", "lns6f2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["formats"]
    assert [r["canonical"] for r in rows] == ["posit8es0", "lns6f2"]
    assert rows[0]["max"] == {"value": 64.0, "hex": "0x1p+6", "fraction": "64"}
    assert rows[0]["min_positive"]["fraction"] == "1/64" and rows[0]["es"] == 0
    assert rows[1]["frac"] == 2 and rows[1]["max"]["exact"] is False
