"""``add``: golden.add against the Fraction reference for the adder's format pairs (posits:
the encoding reference of ``_posit_reference``, every mode), the FAdd unit (hw) in process
against golden.add, its Verilog, and the exhaustive e5m2 and posit8 co-simulations
(``slow``: every pair, in the fast harness)."""
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from macforge import golden, hw
from macforge.golden import FormatError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _reference import MODES, ReferenceUndefined, decode, round_val, sum_vals  # noqa: E402
from _posit_reference import posit_decode, posit_round  # noqa: E402
from test_hw_units import assert_lint_clean, check, simulate_stream  # noqa: E402

SEED = 20261203


def _pairs(fmt, n, rng):
    c = fmt.corner_codes().astype(np.uint64)
    ga, gb = np.meshgrid(c, c, indexing="ij")
    a = np.concatenate([ga.ravel(), rng.integers(0, 1 << fmt.bits, n, dtype=np.uint64)])
    b = np.concatenate([gb.ravel(), rng.integers(0, 1 << fmt.bits, n, dtype=np.uint64)])
    return a.astype(fmt.dtype), b.astype(fmt.dtype)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt,out,saturate", [("e5m2", "e5m2", False), ("bf16", "bf16", False),
                                              ("fp16", "e4m3", True), ("e2m1", "e2m1", False)])
def test_golden_add_vs_fraction(fmt, out, saturate, mode):
    rng = np.random.default_rng(SEED)
    f, fo = golden.parse(fmt), golden.parse(out)
    a, b = _pairs(f, 300, rng)
    rnd = rng.integers(0, 256, a.size, dtype=np.uint64) if mode == "sr" else None
    got = golden.add(a, b, f, fo, rounding=mode, saturate=saturate, rnd=rnd,
                     rnd_bits=8 if rnd is not None else None)
    want, ok = [], []
    for i in range(a.size):
        v = sum_vals([decode(f, int(a[i])), decode(f, int(b[i]))], mode)
        try:
            want.append(round_val(fo, v, mode, saturate, None if rnd is None else int(rnd[i]), 8,
                                  inf_saturates=True))
            ok.append(i)
        except ReferenceUndefined:
            pass
    ok = np.array(ok, np.intp)
    assert ok.size > 300
    check(f"add {fmt}->{out} {mode}", got[ok].astype(np.uint64), np.array(want, np.uint64),
          {"a": a[ok], "b": b[ok]})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt,n", [("posit8", 1500), ("posit16es1", 1500), ("posit6es1", 0)])
def test_golden_add_posit_vs_fraction(fmt, n, mode):
    """posit + posit -> posit, one rounding on the encoding, against the Fraction reference:
    corner pairs plus seeded random pairs (posit6es1: every pair)."""
    rng = np.random.default_rng(SEED)
    f = golden.parse(fmt)
    if n:
        a, b = _pairs(f, n, rng)
    else:
        a, b = (g.ravel().astype(f.dtype) for g in np.meshgrid(f.codes(), f.codes()))
    rnd = rng.integers(0, 16, a.size, dtype=np.uint64) if mode == "sr" else None
    got = golden.add(a, b, f, f, rounding=mode, rnd=rnd, rnd_bits=4 if rnd is not None else None)
    want = [posit_round(f, sum_vals([posit_decode(f, int(x)), posit_decode(f, int(y))], mode),
                        mode, None if rnd is None else int(rnd[i]), 4)
            for i, (x, y) in enumerate(zip(a, b))]
    assert a.size > 1000
    check(f"add {fmt} {mode}", got.astype(np.uint64), np.array(want, np.uint64),
          {"a": a, "b": b})


@pytest.mark.parametrize("fmt,out,rounding,saturate,stages,n", [
    ("e5m2", "e5m2", "sr", False, 0, 1500),
    ("e4m3", "fp16", "rne", False, 1, 1500),
    ("e4m3", "e4m3", "rdn", True, 0, 1500),
    ("bf16", "bf16", "rne", False, 0, 1000),
    ("fp16", "e4m3", "rtz", True, 2, 1000),
    ("fp32", "fp32", "rup", False, 0, 600),
    ("hif8", "hif8", "rna", False, 0, 400),
    ("takum8", "takum8", "rne", False, 0, 300),
    ("e2m1", "e2m1", "rne", False, 0, 0),            # every pair
    ("int8", "fp16", "rne", False, 0, 300),
    ("posit8", "posit8", "sr", False, 1, 1200),
    ("posit8", "posit8", "rna", True, 0, 800),       # saturate: a no-op for posits
    ("posit16es1", "posit16es1", "rne", False, 0, 800),
    ("posit16es1", "posit16es1", "rdn", False, 2, 600),
    ("posit8", "fp16", "rtz", False, 0, 600),        # posit operands, a float result
    ("e4m3", "posit8", "rup", False, 0, 600),        # float operands, a posit result
    ("posit5es1", "posit5es1", "rne", False, 0, 0),  # every pair
])
def test_add_unit(fmt, out, rounding, saturate, stages, n):
    """Corner pairs plus seeded random pairs (e2m1: every pair), against golden.add."""
    rng = np.random.default_rng(SEED)
    f, fo = golden.parse(fmt), golden.parse(out)
    unit = hw.make_unit("add", fmt, acc=out, rounding=rounding, saturate=saturate, stages=stages)
    if f.bits <= 5:
        a, b = (g.ravel().astype(f.dtype) for g in np.meshgrid(f.codes(), f.codes()))
    else:
        a, b = _pairs(f, n, rng)
    cols, kw = {"a": a, "b": b}, {}
    if rounding == "sr":
        cols["rnd"] = rng.integers(0, 256, a.size, dtype=np.uint64)
        kw = dict(rnd=cols["rnd"], rnd_bits=8)
    got = simulate_stream(unit, cols)
    check(unit.module_name, got, golden.add(a, b, f, fo, rounding=rounding, saturate=saturate,
                                            **kw), cols)


@pytest.mark.parametrize("fmt,stages,n", [("lns6f2", 0, 0), ("lns8", 1, 3000), ("lns12f6", 2, 2000)])
def test_lns_add_unit(fmt, stages, n):
    """The Gaussian-logarithm adder (make_unit "add" on LNS: lnsadd) against golden.lns_add
    (every pair for lns6f2; else corner pairs plus seeded random pairs)."""
    f = golden.parse(fmt)
    unit = hw.make_unit("add", fmt, stages=stages)
    assert unit.module_name == f"lnsadd_{f.name}_{f.name}_rne_s{stages}"
    if n:
        a, b = _pairs(f, n, np.random.default_rng(SEED))
    else:
        a, b = (g.ravel().astype(f.dtype) for g in np.meshgrid(f.codes(), f.codes()))
    got = simulate_stream(unit, {"a": a, "b": b})
    assert check(unit.module_name, got, golden.lns_add(a, b, f), {"a": a, "b": b}) == a.size


def test_lns_add_verilog_lint(tmp_path):
    assert_lint_clean(lambda: hw.make_unit("add", "lns8", stages=1), tmp_path)


def test_add_verilog_lint(tmp_path):
    text = assert_lint_clean(lambda: hw.make_unit("add", "bf16", rounding="sr", stages=2),
                             tmp_path)
    assert "unit add" in text.splitlines()[3]


def test_add_posit_verilog_lint(tmp_path):
    text = assert_lint_clean(lambda: hw.make_unit("add", "posit16es1", rounding="sr", stages=2),
                             tmp_path)
    assert text.startswith("// fadd_posit16es1_posit16es1_sr_r8_s2:")


@pytest.mark.parametrize("kw,msg", [
    (dict(fmt="e4m3", fmt_b="e5m2"), "unit 'add' adds two operands of one format, not e4m3fn + "
                                     "e5m2; "),
    (dict(fmt="e4m3", acc="int8"), "unit 'add' gives a "),
    (dict(fmt="e4m3", acc="e2m1"), "e2m1fn has no NaN, so it cannot hold the NaN results that "
                                   "e4m3fn operands produce"),
    (dict(fmt="lns8", acc="fp16"), "unit 'lnsadd' returns lns8f3 (always saturating), not fp16"),
    (dict(fmt="lns8", rounding="sr"), "the LNS add gives the nearest log code of the sum "
                                      "(Gaussian-logarithm tables); only rounding 'rne' applies"),
])
def test_add_errors(kw, msg):
    with pytest.raises(FormatError, match="^" + re.escape(msg)):
        hw.make_unit("add", **kw)


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("rounding,saturate", [("rne", False), ("sr", False), ("rtz", True)])
def test_add_e5m2_exhaustive_cosim(tmp_path, rounding, saturate):
    from macforge.sim.runner import SimSpec, run
    res = run(SimSpec(format="e5m2", unit="add", rounding=rounding, saturate=saturate,
                      mode="fast", build_root=str(tmp_path), quiet=True))
    assert res.ok and res.vectors == 1 << 16, res.summary


@pytest.mark.slow
@pytest.mark.rtl
def test_add_lns8_exhaustive_cosim(tmp_path):
    from macforge.sim.runner import SimSpec, run
    res = run(SimSpec(format="lns8", unit="add", mode="fast", build_root=str(tmp_path),
                      quiet=True))
    assert res.ok and res.vectors == 1 << 16, res.summary


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("rounding", MODES)
def test_add_posit8_exhaustive_cosim(tmp_path, rounding):
    """Every posit8 pair (sr: one sampled rnd per pair) in the generated Verilog."""
    from macforge.sim.runner import SimSpec, run
    res = run(SimSpec(format="posit8", unit="add", rounding=rounding, mode="fast",
                      build_root=str(tmp_path), quiet=True))
    assert res.ok and res.vectors == 1 << 16, res.summary
