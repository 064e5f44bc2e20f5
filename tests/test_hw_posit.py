"""Posit units (hw.PMul, hw.PMac): amaranth.sim against golden.mul and golden.quire_step /
quire_read, one cocotb + Verilator run each, lint and names; and posits on the shared fused
multiply-add (hw.FFma through hw._posit's decoder and packer) against golden.fma. The shared
add and convert on posits are tested in test_units_add.py / test_units_convert.py."""

import numpy as np
import pytest

from macforge import golden
from macforge.hw import PMac, PMul, generate, make_unit, write
from _simutil import simulate
from test_hw_units import SEED, elaborated, assert_lint_clean, check, simulate_mac, simulate_stream


def all_pairs(fmt):
    codes = np.arange(1 << fmt.n, dtype=np.uint64)
    a, b = np.meshgrid(codes, codes, indexing="ij")
    return a.ravel(), b.ravel()


@pytest.mark.parametrize("fmt", ["posit3", "posit4es1", "posit5es0", "posit6", "posit7es3"])
def test_pmul_small_exhaustive(fmt):
    f = golden.parse(fmt)
    a, b = all_pairs(f)
    got = simulate_stream(PMul(fmt=f), {"a": a, "b": b})
    assert check(f"pmul {fmt}", got, golden.mul(a, b, f, f), {"a": a, "b": b}) == a.size


@pytest.mark.parametrize("fmt", ["posit8", "posit8es0", "posit16es1", "posit32"])
def test_pmul_random(fmt):
    f = golden.parse(fmt)
    rng = np.random.default_rng([SEED, 400])
    n = 3000
    a = rng.integers(0, 1 << f.n, n, dtype=np.uint64)
    b = rng.integers(0, 1 << f.n, n, dtype=np.uint64)
    special = np.array([0, 1, f.nar_code, f.maxpos_code, (1 << f.n) - 1, f.nar_code + 1,
                        int(f.encode(1.0)), int(f.encode(-1.0))], np.uint64)
    ga, gb = np.meshgrid(special, special, indexing="ij")
    a, b = np.concatenate([ga.ravel(), a]), np.concatenate([gb.ravel(), b])
    dut = PMul(fmt=f, stages=1)
    got = simulate_stream(dut, {"a": a, "b": b})
    check(f"pmul {fmt}", got, golden.mul(a, b, f, f), {"a": a, "b": b})


def quire_reference(cols, fmt):
    """Rounded quire after each command, stepping golden.quire_step from a cleared quire."""
    f = golden.parse(fmt)
    q, out = golden.quire_zero(f), []
    for k in range(len(cols["a"])):
        if cols["clear"][k] or cols["en"][k]:
            q = golden.quire_step(q, cols["a"][k], cols["b"][k], f,
                                  first=bool(cols["first"][k]), clear=bool(cols["clear"][k]))
        out.append(int(golden.quire_read(q, f)))
    return np.array(out, dtype=np.uint64)


@pytest.mark.parametrize("fmt,stages", [("posit8", 0), ("posit8es0", 1), ("posit4es1", 0),
                                        ("posit16es1", 2)])
def test_pmac(fmt, stages):
    f = golden.parse(fmt)
    rng = np.random.default_rng([SEED, 401])
    n = 600
    a = rng.integers(0, 1 << f.n, n, dtype=np.uint64)
    b = rng.integers(0, 1 << f.n, n, dtype=np.uint64)
    rare_nar = rng.random(n) < 0.01                      # NaR sticks until first/clear
    a[rare_nar] = f.nar_code
    big = rng.random(n) < 0.1                            # maxpos^2: the carry guard works
    a[big], b[big] = f.maxpos_code, f.maxpos_code
    cols = {"a": a, "b": b, "en": (rng.random(n) > 0.1).astype(np.uint64),
            "first": (rng.random(n) < 0.05).astype(np.uint64),
            "clear": (rng.random(n) < 0.02).astype(np.uint64)}
    dut = PMac(fmt=f, stages=stages)
    assert dut.latency == stages + 1
    seen = simulate_mac(dut, cols)
    lat = dut.latency
    expected = quire_reference(cols, f)
    assert check(f"pmac {fmt} s{stages}", seen[lat - 1:lat - 1 + n], expected, cols) == n


def _fma_triples(rng, f, n):
    """Corner triples, random triples, and addends cancelling round(a*b) to within 3 codes."""
    cc = f.corner_codes().astype(np.uint64)
    cube = np.stack([g.ravel() for g in np.meshgrid(cc, cc, cc, indexing="ij")])
    ga, gb, gc = cube[:, rng.choice(cube.shape[1], min(500, cube.shape[1]), replace=False)]
    a, b, c = (rng.integers(0, 1 << f.n, n, dtype=np.uint64) for _ in range(3))
    k = n // 2
    p = golden.mul(a[:k], b[:k], f, f).astype(np.int64)
    near = (-(p + rng.integers(-3, 4, k))) & f.mask
    c[:k] = np.where(p == f.nar_code, c[:k], near.astype(np.uint64))
    return np.concatenate([ga, a]), np.concatenate([gb, b]), np.concatenate([gc, c])


@pytest.mark.parametrize("fmt,rounding,stages", [("posit8", "rne", 0), ("posit8", "sr", 1),
                                                 ("posit8es0", "rtz", 0),
                                                 ("posit16es1", "rna", 2),
                                                 ("posit16es1", "rup", 0)])
def test_ffma_posit(fmt, rounding, stages):
    """a x b + c rounded once into the posit (make_unit "fma"), against golden.fma."""
    f = golden.parse(fmt)
    rng = np.random.default_rng([SEED, 402])
    a, b, c = _fma_triples(rng, f, 700)
    cols, kw = {"a": a, "b": b, "c": c}, {}
    if rounding == "sr":
        cols["rnd"] = rng.integers(0, 256, a.size, dtype=np.uint64)
        kw = dict(rnd=cols["rnd"], rnd_bits=8)
    dut = make_unit("fma", f, rounding=rounding, stages=stages)
    got = simulate_stream(dut, cols)
    want = golden.fma(a, b, c, f, f, rounding=rounding, **kw)
    assert (want == 0).sum() > 8                         # the cancelling addends did cancel
    assert check(dut.module_name, got, want, cols) == a.size


def test_names_manifest_and_errors():
    assert elaborated(PMul(fmt="posit8es0")).module_name == "pmul_posit8es0_posit8es0_rne_s0"
    man = elaborated(PMac(fmt="posit8")).manifest()
    assert man["module"] == "pmac_posit8_posit8_rne_s0" and man["unit"] == "pmac"
    assert man["quire_bits"] == 128 and man["latency"] == 1
    assert elaborated(make_unit("pmul", "posit4es1")).module_name == "pmul_posit4es1_posit4es1_rne_s0"
    with pytest.raises(golden.FormatError, match=r"^posit units round as the standard does"):
        PMul(fmt="posit8", rounding="rtz")
    assert elaborated(make_unit("mac", "posit8")).module_name == "pmac_posit8_posit8_rne_s0"
    assert elaborated(make_unit("fma", "posit8")).module_name == "ffma_posit8_posit8_rne_s0"
    assert elaborated(make_unit("add", "posit8", acc="fp16")).module_name == \
        "fadd_posit8_fp16_rne_s0"
    with pytest.raises(golden.FormatError, match=r"^posit8 operands take unit pmul, pmac, fma, "
                                                 r"add or convert, not 'lmul'; accepted for "
                                                 r"posit8 \(posit format\): mul \(pmul: posit "
                                                 r"multiplier, rounding on the encoding\), mac "
                                                 r"\(pmac: .*\), fma \(.*\), add \(.*\), "
                                                 r"convert \(.*\) \(--unit mul, make UNIT=mul\)$"):
        make_unit("lmul", "posit8")


def test_deterministic_and_lint_clean(tmp_path):
    for build in (lambda: PMul(fmt="posit8", stages=1), lambda: PMac(fmt="posit8es0"),
                  lambda: PMul(fmt="posit4es1")):
        assert_lint_clean(build, tmp_path)


@pytest.mark.rtl
def test_cocotb_pmul_posit8_exhaustive():
    res, lines = simulate(format="posit8", unit="pmul", n=0)
    assert res.vectors == 65536 and res.ok, "\n".join(lines)


@pytest.mark.rtl
def test_cocotb_pmac_posit8():
    res, lines = simulate(format="posit8", unit="pmac", n=5000)
    assert res.vectors == 65536 + 5000 and res.ok, "\n".join(lines)
