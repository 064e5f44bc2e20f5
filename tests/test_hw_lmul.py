"""L-Mul units (hw.LMul, hw.LMulMac): amaranth.sim against golden.lmul / golden.lmul_mac_step,
one cocotb + Verilator run each, lint, naming, and the absence of a multiplier array."""
import re

import numpy as np
import pytest

from macforge import golden
from macforge.hw import LMul, LMulMac, generate, make_unit, write
from _simutil import simulate
from test_hw_units import (SEED, elaborated, assert_lint_clean, check, mac_commands, pairs, simulate_mac,
                           simulate_stream)


def lmul_mac_reference(cols, fmt, acc_fmt, **kw):
    """Accumulator after each command, stepping golden.lmul_mac_step from the reset value 0."""
    fc = golden.parse(acc_fmt)
    state, states = fc.dtype.type(0), []
    for k in range(len(cols["a"])):
        if cols["clear"][k] or cols["en"][k]:
            state = golden.lmul_mac_step(state, cols["a"][k], cols["b"][k], fmt, fc,
                                         first=bool(cols["first"][k]),
                                         clear=bool(cols["clear"][k]), **kw)[()]
        states.append(int(state))
    return np.array(states, dtype=np.uint64)


@pytest.mark.parametrize("fmt,out,variant,rounding", [
    ("e4m3", None, "formula", "rne"),
    ("e4m3", None, "intadd", "rne"),
    ("e5m2", None, "formula", "rtz"),
    ("e5m2", None, "intadd", "rup"),
    ("e3m4", "fp16", "formula", "rna"),
    ("e2m3", None, "formula", "rdn"),         # OCP FP6: no inf, no NaN
    ("e4m3", "e5m2", "intadd", "sr"),
    ("bf16", None, "formula", "rne"),         # M = 7: l = 4; intadd's offset > 2 ulp
    ("bf16", "fp32", "intadd", "rne"),
])
def test_lmul(fmt, out, variant, rounding):
    rng = np.random.default_rng([SEED, 300])
    f = golden.parse(fmt)
    a, b = pairs(rng, f, f, 1500)
    dut = LMul(fmt=fmt, out=out, variant=variant, rounding=rounding)
    cols = {"a": a, "b": b}
    kw = dict(rounding=rounding)
    if rounding == "sr":
        cols["rnd"] = rng.integers(0, 256, a.size, dtype=np.uint64)
        kw.update(rnd=cols["rnd"], rnd_bits=8)
    got = simulate_stream(dut, cols)
    n = check(f"lmul {fmt} -> {out} {variant} {rounding}", got,
              golden.lmul(a, b, f, out, variant=variant, **kw), cols)
    assert n > 1500


def test_lmul_pipelined_saturating():
    rng = np.random.default_rng([SEED, 301])
    a, b = pairs(rng, golden.parse("e5m2"), golden.parse("e5m2"), 800)
    dut = LMul(fmt="e5m2", saturate=True, stages=3)
    assert dut.latency == 3
    got = simulate_stream(dut, {"a": a, "b": b})
    check("lmul e5m2 sat s3", got, golden.lmul(a, b, "e5m2", saturate=True), {"a": a, "b": b})


@pytest.mark.parametrize("fmt,acc,variant,rounding,stages", [
    ("e4m3", "fp32", "formula", "rne", 0),
    ("e4m3", "bf16", "formula", "rne", 2),
    ("e5m2", "bf16", "intadd", "rup", 1),
    ("e4m3", "fp16", "intadd", "rtz", 0),
])
def test_lmulmac(fmt, acc, variant, rounding, stages):
    rng = np.random.default_rng([SEED, 302])
    cols = mac_commands(rng, golden.parse(fmt), 500, p_clear=0.03)
    dut = LMulMac(fmt=fmt, acc=acc, variant=variant, rounding=rounding, stages=stages)
    assert dut.latency == stages + 1
    seen = simulate_mac(dut, cols)
    lat = dut.latency
    expected = lmul_mac_reference(cols, fmt, acc, variant=variant, rounding=rounding)
    assert not seen[:lat - 1].any()
    assert check(f"lmulmac {fmt} -> {acc} {variant} {rounding} s{stages}",
                 seen[lat - 1:lat - 1 + len(expected)], expected, cols) == 500


def test_lmulmac_first_zero_product_rdn():
    """first loads the L-Mul value rounded once (mul semantics): +0 stays +0 under rdn."""
    f = golden.parse("e5m2")
    cols = {"a": np.array([0, 0x3b], np.uint64), "b": np.array([0x3b, 0], np.uint64),
            "en": np.ones(2, np.uint64), "first": np.ones(2, np.uint64),
            "clear": np.zeros(2, np.uint64)}
    seen = simulate_mac(LMulMac(fmt=f, acc="bf16", rounding="rdn"), cols)
    expected = lmul_mac_reference(cols, f, "bf16", rounding="rdn")
    check("lmulmac first +0 product rdn", seen[:2], expected, cols)


def test_names_manifest_and_make_unit():
    assert elaborated(LMul(fmt="e4m3")).module_name == "lmul_e4m3fn_e4m3fn_rne_s0"
    assert elaborated(LMul(fmt="e5m2", variant="intadd", stages=1)).module_name == "lmul_e5m2_e5m2_rne_intadd_s1"
    assert elaborated(LMulMac(fmt="e4m3", acc="bf16")).module_name == "lmulmac_e4m3fn_bf16_rne_s0"
    man = elaborated(LMulMac(fmt="e4m3", variant="intadd")).manifest()
    assert man["unit"] == "lmulmac" and man["variant"] == "intadd" and man["latency"] == 1
    assert man["multiplier"] is None and man["formats"] == {"a": "e4m3fn", "b": "e4m3fn",
                                                           "acc": "fp32"}
    assert elaborated(make_unit("lmul", "e4m3")).module_name == "lmul_e4m3fn_e4m3fn_rne_s0"
    assert elaborated(make_unit("lmulmac", "e4m3", acc="bf16", variant="intadd")).module_name == \
        "lmulmac_e4m3fn_bf16_rne_intadd_s0"
    with pytest.raises(golden.FormatError, match=r"^unit 'lmul' takes two operands of one minifloat"):
        make_unit("lmul", "e4m3", fmt_b="e5m2")
    with pytest.raises(ValueError, match=r"^the L-Mul MAC rounds deterministically"):
        LMulMac(fmt="e4m3", rounding="sr")


def test_no_multiplier_array():
    """The L-Mul datapath has adders only: no `*` cell anywhere in the generated Verilog,
    while the exact multiplier has one."""
    for unit in (LMul(fmt="e4m3"), LMulMac(fmt="e4m3", acc="fp32")):
        text, _ = generate(unit)
        assert not re.search(r"\w \* \w", text), unit.module_name
    assert re.search(r"\w \* \w", generate(make_unit("mul", "e4m3"))[0])


def test_deterministic_and_lint_clean(tmp_path):
    for build in (lambda: LMul(fmt="e4m3", variant="intadd", stages=2),
                  lambda: LMulMac(fmt="e4m3", acc="bf16", stages=1)):
        assert_lint_clean(build, tmp_path)


@pytest.mark.rtl
def test_cocotb_lmul_e4m3_exhaustive():
    res, lines = simulate(format="e4m3", unit="lmul", n=0)
    assert res.vectors == 65536 and res.ok, "\n".join(lines)


@pytest.mark.rtl
def test_cocotb_lmulmac_e4m3():
    res, lines = simulate(format="e4m3", unit="lmulmac", n=5000)
    assert res.vectors == 65536 + 5000 and res.ok, "\n".join(lines)
