"""HiF8 in hardware (hw._hif8): the dot-code unpacker for all 256 codes and the tapered rounder
on every tie in-process (amaranth.sim), the multiplier exhaustively and a MAC and an FMA under
the fast co-simulation (the same Verilated RTL as `make sim`), lint, names and errors; all
against golden (``golden.HiF8``). Slow: every rounding mode of the multiplier, FMA and MAC
into hif8, and what `make sim FORMAT=hif8` runs."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from macforge import golden
from macforge.golden import FormatError
from macforge.hw import FFma, FMac, FMul, make_unit
from macforge.hw._families import decoder
from _simutil import simulate
from test_hw_units import ROUNDINGS, assert_lint_clean, check, elaborated, simulate_stream

HIF8 = golden.parse("hif8")


def test_decode_every_code():
    """decoder(hif8) gives golden's fields for all 256 codes: sign, E, 1.M (padded to 4 bits),
    and the zero / inf / NaN flags."""
    dut = decoder(HIF8)
    got = []

    async def bench(ctx):
        for code in range(256):
            ctx.set(dut.code, code)
            r = dut.raw
            got.append([ctx.get(v) for v in (r.sign, r.exp, r.sig, r.sticky, r.is_zero,
                                              r.is_inf, r.is_nan)])

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    sign, exp, sig, sticky, zero, inf, nan = np.array(got, dtype=np.int64).T
    codes = np.arange(256, dtype=np.uint8)
    g_sign, g_E, g_m, g_kind = HIF8.fields(codes)
    value = HIF8.decode(codes)
    assert (nan == np.isnan(value)).all() and nan.sum() == 1
    assert (inf == np.isinf(value)).all() and inf.sum() == 2
    assert (zero == (np.abs(np.nan_to_num(value)) == 0) | (nan == 1)).all()
    assert not sticky.any()
    finite = np.isfinite(value) & (value != 0)
    assert finite.sum() == 252                      # 253 finite values, one of them zero
    width = np.array([int(m).bit_length() for m in g_m])
    expected_sig = np.where(g_m > 0, g_m.astype(np.int64) << np.maximum(4 - width, 0), 0)
    assert (sign[finite] == g_sign[finite]).all()
    assert (exp[finite] == g_E[finite]).all()
    assert (sig[finite] == expected_sig[finite]).all()
    assert (sig[zero == 1] == 0).all()
    # the record's value is the code's value: sig * 2^(exp - 3)
    rebuilt = np.where(sign == 1, -1.0, 1.0) * sig * np.exp2(exp - 3.0)
    assert (rebuilt[finite] == value[finite]).all()


def _tie_vectors():
    """fp16 codes around every hif8 tie: each positive hif8 value, each midpoint between
    neighbours (and 0 / 2^-22, 2^15 / the inf slot), and one fp16 ulp either side; both signs.
    fp16 holds them all exactly (5 significant bits, 2^-24 .. 2^15 * 1.5)."""
    fp16 = golden.parse("fp16")
    pos = np.unique(HIF8.decode(np.arange(1, 0x80, dtype=np.uint8)))
    pos = pos[np.isfinite(pos)]
    grid = np.concatenate([[0.0], pos, [1.5 * HIF8.max]])
    mids = (grid[:-1] + grid[1:]) / 2
    x = fp16.encode(np.concatenate([pos, mids])).astype(np.int64)
    assert (fp16.decode(x) == np.concatenate([pos, mids])).all()
    codes = np.unique(np.concatenate([x, x - 1, x + 1]))
    codes = np.concatenate([codes, codes | 0x8000, [0x7C00, 0xFC00, 0x7E00]])
    return codes.astype(np.uint64)


TIE_CASES = [("rne", False), ("rne", True), ("rna", False), ("rtz", False), ("rup", True),
             ("rdn", False), ("sr", False)]


@pytest.mark.parametrize("rounding,saturate", [
    *TIE_CASES,
    *(pytest.param(r, s, marks=pytest.mark.slow)
      for r in ROUNDINGS for s in (False, True) if (r, s) not in TIE_CASES)])
def test_round_every_tie(rounding, saturate):
    """x * 1.0 from fp16 into hif8 around every tie, the denormal binades' even-code ties
    (1.5 * 2^-21 goes down to 2^-21, 1.5 * 2^-22 up), below 2^-22, and the 40960 overflow."""
    a = _tie_vectors()
    b = np.full(a.size, 0x3C00, np.uint64)                     # fp16 1.0
    cols = {"a": a, "b": b}
    kw = {"rounding": rounding, "saturate": saturate}
    if rounding == "sr":
        rnd = np.random.default_rng([20260523, 88]).integers(0, 256, a.size, dtype=np.uint64)
        cols["rnd"], kw["rnd"], kw["rnd_bits"] = rnd, rnd, 8
    dut = FMul(fmt="fp16", out=HIF8, rounding=rounding, saturate=saturate)
    got = simulate_stream(dut, cols)
    expected = golden.mul(a, b, "fp16", HIF8, **kw)
    assert check(f"fp16 -> hif8 {rounding}", got, expected, cols) == a.size > 700


@pytest.mark.rtl
def test_fmul_exhaustive():
    res, lines = simulate(format="hif8", unit="mul", n=0, mode="fast")
    assert res.vectors == 65536 and res.ok, "\n".join(lines)


@pytest.mark.rtl
def test_fmac_fp32():
    res, lines = simulate(format="hif8", unit="mac", n=20_000, mode="fast")
    assert res.vectors == 65536 + 20_000 and res.ok, "\n".join(lines)


def test_ffma_into_hif8_sample():
    """hif8 x hif8 + hif8 -> hif8 (the tapered rounder behind the fused adder), stochastic
    rounding, on random triples and on addends that cancel the product (c = -round(a*b));
    the whole 2^24 space runs in the slow set."""
    rng = np.random.default_rng([20260523, 89])
    n = 1500
    a, b, c = (rng.integers(0, 256, n, dtype=np.uint64) for _ in range(3))
    cancel = rng.random(n) < 0.3
    c[cancel] = golden.mul(a[cancel], b[cancel], HIF8, HIF8) ^ np.uint64(0x80)
    c[c == 0x80] = 0                                  # -0 is NaN's slot: cancel with +0
    rnd = rng.integers(0, 256, n, dtype=np.uint64)
    cols = {"a": a, "b": b, "c": c, "rnd": rnd}
    got = simulate_stream(FFma(fmt=HIF8, acc=HIF8, rounding="sr"), cols)
    expected = golden.fma(a, b, c, HIF8, HIF8, rounding="sr", rnd=rnd, rnd_bits=8)
    assert check("ffma hif8 -> hif8 sr", got, expected, cols) == n


def test_names_manifest_and_errors():
    assert elaborated(make_unit("mul", "hif8")).module_name == "fmul_hif8_hif8_rne_s0"
    assert elaborated(make_unit("mac", "hif8")).module_name == "fmac_hif8_fp32_rne_s0"
    assert elaborated(make_unit("fma", "hif8", acc="hif8", rounding="rna",
                                saturate=True)).module_name == "ffma_hif8_hif8_rna_sat_s0"
    assert elaborated(make_unit("lmul", "e4m3", acc="hif8")).module_name == \
        "lmul_e4m3fn_hif8_rne_s0"
    man = elaborated(make_unit("mac", "hif8", fmt_b="e4m3", acc="hif8", stages=1)).manifest()
    assert man["formats"] == {"a": "hif8", "b": "e4m3fn", "acc": "hif8"}
    assert [(p["name"], p["width"]) for p in man["ports"]][2:4] == [("a", 8), ("b", 8)]
    assert man["ports"][-1] == {"name": "acc", "dir": "out", "width": 8, "role": "accumulator"}
    with pytest.raises(FormatError, match=r"^unit 'lmul' takes two operands of one minifloat "
                                          r"format, not hif8 x hif8; accepted for hif8 \(hif8 "
                                          r"format\): mul .*\(--unit mul, make UNIT=mul\)$"):
        make_unit("lmul", "hif8")
    with pytest.raises(FormatError, match=r"^an integer accumulator \(int32\) needs integer "
                                          r"operands, not hif8 x hif8; accepted: .*$"):
        make_unit("mac", "hif8", acc="int32")
    with pytest.raises(FormatError, match=r"^e2m1fn has no NaN, so it cannot hold the NaN "
                                          r"results that hif8 operands produce$"):
        FMul(fmt="hif8", out="e2m1")


@pytest.mark.parametrize("build", [
    lambda: FFma(fmt="hif8", acc="hif8", rounding="sr", stages=3),
    lambda: FMac(fmt="hif8", acc="hif8", fused=False, saturate=True, stages=2),
], ids=["ffma_sr_s3", "fmac_nf_sat_s2"])
def test_deterministic_and_lint_clean(tmp_path, build):
    assert_lint_clean(build, tmp_path)


# -- slow: the full sweeps -------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_fmul_exhaustive_every_mode(rounding, saturate):
    res, lines = simulate(format="hif8", unit="mul", rounding=rounding, saturate=saturate,
                          n=0, mode="fast")
    assert res.vectors == 65536 and res.ok, "\n".join(lines)


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("rounding", ["rne", "rna", "rdn"])
def test_ffma_into_hif8_exhaustive(rounding):
    res, lines = simulate(format="hif8", unit="fma", acc="hif8", rounding=rounding, n=0,
                          mode="fast")
    assert res.vectors == 1 << 24 and res.ok, "\n".join(lines)


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("kw", [dict(acc="hif8"), dict(acc="hif8", fused=False, rounding="sr"),
                                dict(acc="fp16", rounding="rup", stages=2)],
                         ids=["hif8", "hif8_nf_sr", "fp16_rup_s2"])
def test_fmac_other_accumulators(kw):
    res, lines = simulate(format="hif8", unit="mac", n=200_000, mode="fast", **kw)
    assert res.ok, "\n".join(lines)


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("unit", ["mac", "fma"])
def test_make_sim_defaults(unit):
    """What `make sim FORMAT=hif8 [UNIT=fma]` runs: 1M random vectors after the exhaustive
    pairs (mac) or the corner cross-product (fma)."""
    res, lines = simulate(format="hif8", unit=unit, mode="auto")
    assert res.ok and res.vectors >= 1_000_000, "\n".join(lines)
