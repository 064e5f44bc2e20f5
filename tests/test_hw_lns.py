"""LNS units (hw.LnsMul, hw.LnsMac): amaranth.sim against golden.mul and golden.lns_mac_step,
one cocotb + Verilator run each, lint and names."""
import re

import numpy as np
import pytest

from macforge import golden
from macforge.hw import LnsMac, LnsMul, generate, make_unit, write
from _simutil import simulate
from test_hw_units import SEED, assert_lint_clean, check, elaborated, simulate_mac, simulate_stream


@pytest.mark.parametrize("fmt", ["lns6f2", "lns8", "lns5f0"])
def test_lnsmul_exhaustive(fmt):
    f = golden.parse(fmt)
    codes = np.arange(1 << f.n, dtype=np.uint64)
    a, b = (x.ravel() for x in np.meshgrid(codes, codes, indexing="ij"))
    got = simulate_stream(LnsMul(fmt=f), {"a": a, "b": b})
    assert check(f"lnsmul {fmt}", got, golden.mul(a, b, f, f), {"a": a, "b": b}) == a.size


def test_lnsmul_lns12f6_pipelined():
    f = golden.parse("lns12f6")
    rng = np.random.default_rng([SEED, 500])
    a = rng.integers(0, 1 << f.n, 3000, dtype=np.uint64)
    b = rng.integers(0, 1 << f.n, 3000, dtype=np.uint64)
    got = simulate_stream(LnsMul(fmt=f, stages=2), {"a": a, "b": b})
    check("lnsmul lns12f6 s2", got, golden.mul(a, b, f, f), {"a": a, "b": b})


def lns_mac_reference(cols, fmt, **kw):
    state, out = np.uint64(0), []
    for k in range(len(cols["a"])):
        if cols["clear"][k] or cols["en"][k]:
            state = golden.lns_mac_step(np.uint64(state), cols["a"][k], cols["b"][k], fmt,
                                        first=bool(cols["first"][k]),
                                        clear=bool(cols["clear"][k]), **kw)[()]
        out.append(int(state))
    return np.array(out, dtype=np.uint64)


@pytest.mark.parametrize("fmt,P,A,saturate,stages", [
    ("lns8", 8, 24, False, 0),
    ("lns8", 8, 14, False, 1),          # wraps often
    ("lns8", 6, 14, True, 0),           # clamps often
    ("lns6f2", 4, 10, True, 2),
    ("lns12f6", 10, 32, False, 0),
    ("lns5f0", 3, 8, True, 0),
])
def test_lnsmac(fmt, P, A, saturate, stages):
    f = golden.parse(fmt)
    rng = np.random.default_rng([SEED, 501])
    n = 600
    cols = {"a": rng.integers(0, 1 << f.n, n, dtype=np.uint64),
            "b": rng.integers(0, 1 << f.n, n, dtype=np.uint64),
            "en": (rng.random(n) > 0.1).astype(np.uint64),
            "first": (rng.random(n) < 0.05).astype(np.uint64),
            "clear": (rng.random(n) < 0.02).astype(np.uint64)}
    dut = LnsMac(fmt=f, P=P, A=A, saturate=saturate, stages=stages)
    assert dut.latency == stages + 1
    seen = simulate_mac(dut, cols)
    lat = dut.latency
    expected = lns_mac_reference(cols, f, P=P, A=A, saturate=saturate)
    assert check(f"lnsmac {fmt} P={P} A={A} sat={saturate}", seen[lat - 1:lat - 1 + n],
                 expected, cols) == n


def test_names_manifest_and_errors():
    man = elaborated(LnsMac(fmt="lns8", P=8, A=24)).manifest()
    assert man["module"] == "lnsmac_lns8f3_int24_wrap_p8_s0" and man["unit"] == "lnsmac"
    assert (man["P"], man["A"]) == (8, 24) and man["formats"]["acc"] == "int24"
    assert man["table"] == golden.lns_mac_table("lns8", 8).tolist()
    assert elaborated(make_unit("mac", "lns8")).module_name == "lnsmac_lns8f3_int24_wrap_p8_s0"
    assert elaborated(make_unit("mul", "lns8")).module_name == "lnsmul_lns8f3_lns8f3_rne_s0"
    assert elaborated(make_unit("lnsmac", "lns6f2", acc="int16", saturate=True, P=4)).module_name == \
        "lnsmac_lns6f2_int16_sat_p4_s0"
    with pytest.raises(TypeError, match=r"^A must be an integer 2\.\.32, not 40$"):
        LnsMac(fmt="lns8", A=40)
    with pytest.raises(golden.FormatError, match=r"^unit 'lnsmac' accumulates into a signed int<A>"):
        make_unit("lnsmac", "lns8", acc="fp32")


def test_no_multiplier_and_lint_clean(tmp_path):
    for build in (lambda: LnsMul(fmt="lns8", stages=1), lambda: LnsMac(fmt="lns8"),
                  lambda: LnsMac(fmt="lns6f2", saturate=True, A=10, P=4)):
        text = assert_lint_clean(build, tmp_path)
        assert not re.search(r"\w \* \w", text)


@pytest.mark.rtl
def test_cocotb_lnsmul_lns8_exhaustive():
    res, lines = simulate(format="lns8", unit="lnsmul", n=0)
    assert res.vectors == 65536 and res.ok, "\n".join(lines)


@pytest.mark.rtl
def test_cocotb_lnsmac_lns8():
    res, lines = simulate(format="lns8", unit="lnsmac", n=5000)
    assert res.vectors == 65536 + 5000 and res.ok, "\n".join(lines)
