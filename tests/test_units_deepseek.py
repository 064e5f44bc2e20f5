"""The deepseek-fp8 preset: DeepSeek-V3's fine-grained scaled FP8 GEMM in golden.dot, against
a scalar reference composed from the Fraction rounder (tests/_reference.py) and the h100-fp8
steps (golden.dot(align=13) into e8m13, tested in tests/test_golden_presets.py); the
error-stats path; the hardware (hw.DeepSeekDot, built by make_unit("dot", preset="deepseek-fp8"))
in process and on Verilator through the bench (macforge sim), a broken model's report; what
it refuses."""
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

pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")

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
    from macforge.golden._presetstats import preset_stats
    s = preset_stats("deepseek-fp8", k=512, m=4, n=4, dist="uniform", seed=1)
    assert s.promote and 0 < s.max_rel < 2e-3           # the h100-fp8 register's truncation


@pytest.mark.parametrize("call,msg", [
    (lambda: golden.dot(np.zeros(4, np.uint8), np.zeros(4, np.uint8), 0, "e4m3", "fp32",
                        preset="deepseek-fp8"),
     "preset deepseek-fp8 takes scales=(sa, sb) (fp32 codes per 128 elements)"),
    (lambda: golden.dot(np.zeros(4, np.uint8), np.zeros(4, np.uint8), 0, "e4m3", "fp32",
                        scales=(0, 0)),
     "scales apply to a scaled preset (preset='deepseek-fp8')"),
    (lambda: hw.FDot("e4m3", preset="deepseek-fp8"),
     "preset deepseek-fp8 scales and promotes into fp32: it is the unit make_unit('dot', "
     "preset='deepseek-fp8') builds (hw._deepseek.DeepSeekDot), not an FDot option; FDot takes "
     "presets without scales (h100-fp8)"),
    (lambda: hw.make_unit("dot", "e4m3", preset="deepseek-fp8", stages=2),
     "preset deepseek-fp8 fixes stages = 0, not 2"),
    (lambda: hw.make_unit("dot", "e4m3", preset="deepseek-fp8", acc="bf16"),
     "preset deepseek-fp8 fixes acc = fp32, not bf16"),
    (lambda: hw.make_unit("dot", "e4m3", preset="deepseek-fp8", rounding="rtz"),
     "preset deepseek-fp8 fixes rounding = rne, not rtz"),
    (lambda: hw.make_unit("dot", "e5m2", preset="deepseek-fp8"),
     "preset deepseek-fp8 takes e4m3fn elements, not e5m2"),
])
def test_deepseek_errors(call, msg):
    with pytest.raises(FormatError, match="^" + re.escape(msg) + "$"):
        call()


def _run_deepseek_unit(a, b, sa, sb, K, preset="deepseek-fp8"):
    """hw._deepseek.DeepSeekDot in process: 32-product steps (first on each chunk's first),
    promote with that chunk's scales on the next chunk's first step, a last promote alone."""
    from amaranth.sim import Simulator
    from macforge.hw._deepseek import DeepSeekDot
    u = DeepSeekDot(preset=preset)
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


@pytest.mark.parametrize("field,mode", [("acc_rounding", "rtz"), ("acc_rounding", "rup"),
                                        ("register_rounding", "rne")])
def test_deepseek_unit_takes_the_preset_rounding(field, mode):
    """The promotion's two roundings are the preset's acc_rounding and the tensor-core
    register's its register_rounding, in hw as in golden: a deepseek-fp8 variant with another
    rounding is bit-exact to golden.dot with the same preset object, and differs from
    deepseek-fp8 itself on some of the sums."""
    from dataclasses import replace
    from macforge.golden import Rounding
    from macforge.golden._presets import PRESETS
    p = replace(PRESETS["deepseek-fp8"], **{field: Rounding.parse(mode)})
    rng = np.random.default_rng(SEED + 2)
    e4m3, fp32 = golden.parse("e4m3"), golden.parse("fp32")
    differ = 0
    for K in (256, 272, 384):
        a = e4m3.encode(rng.normal(size=K) * 40)
        b = e4m3.encode(rng.normal(size=K) * 40)
        nb = -(-K // 128)
        sa = fp32.encode(np.exp2(rng.integers(-12, 4, nb)) * rng.random(nb))
        sb = fp32.encode(np.exp2(rng.integers(-12, 4, nb)) * rng.random(nb))
        want = int(golden.dot(a, b, 0, e4m3, "fp32", preset=p, scales=(sa, sb)))
        rne = int(golden.dot(a, b, 0, e4m3, "fp32", preset="deepseek-fp8", scales=(sa, sb)))
        assert _run_deepseek_unit(a, b, sa, sb, K, preset=p) == want, K
        differ += want != rne
    assert differ >= 1                  # the variant's rounding changed a result


# ---------------------------------------------------------------------------------------------
# make_unit, the bench's model and stimulus, macforge sim, a broken model's report
# ---------------------------------------------------------------------------------------------
BUILD_ROOT = Path(__file__).resolve().parent.parent / "build" / "test_sim_fast"


def test_make_unit_builds_deepseek_dot():
    from macforge.hw._deepseek import DeepSeekDot
    from macforge.hw.build import regenerate
    u = hw.make_unit("dot", "e4m3", preset="deepseek-fp8")
    assert isinstance(u, DeepSeekDot) and u.module_name == "dsdot_e4m3fn_x32_fp32_s0"
    m = u.manifest()
    assert (m["model"], m["state"], m["scale_block"], m["promote_every"]) == \
        ("deepseek_dot", "observed", 128, 128)
    assert [(p["name"], p["width"], p.get("lanes")) for p in m["ports"] if p["name"] in "ab"] \
        == [("a", 256, 32), ("b", 256, 32)]
    assert regenerate(m)[0] == "macforge verilog --unit dot --format e4m3fn --preset deepseek-fp8"
    # the CLI default rounding (rne) and the preset's own values are accepted
    assert hw.make_unit("dot", "e4m3fn", preset="deepseek-fp8", lanes=32, align=13,
                        acc="fp32").module_name == u.module_name


@pytest.mark.slow
def test_deepseek_stimulus_and_model_in_process():
    """The bench's stimulus through hw.DeepSeekDot in amaranth.sim: every transition (reg
    and acc) equals the model's (the h100-fp8 dot step and golden's scaled promotion); the
    stimulus has chunks, promotions on first steps and alone, and scale corners."""
    from amaranth.sim import Simulator
    from macforge.sim._dotstim import dot_stimulus
    from macforge.sim._lanes import pack_ints
    from macforge.sim.model import compare
    u = hw.make_unit("dot", "e4m3", preset="deepseek-fp8")
    man = u.manifest()
    stim = dot_stimulus(man, 150, SEED, pairs=False)
    meta = stim.pop("meta")
    promote, first, en = stim["promote"], stim["first"], stim["en"]
    assert meta["random"] >= 150 and (promote & first).any() and (promote & ~en).any()
    ins = [p for p in man["ports"] if p["dir"] == "in" and p["role"] not in ("clock", "reset")]
    cols = {p["name"]: pack_ints(stim[p["name"]], p) for p in ins}
    n, seen = len(stim["a"]), []

    def port(name):
        v = getattr(u, name)
        return v.as_value() if hasattr(v, "as_value") else v

    async def bench(ctx):
        for i in range(n):
            for name, col in cols.items():
                ctx.set(port(name), int(col[i]))
            await ctx.tick()
            seen.append(ctx.get(u.reg) | (ctx.get(u.acc) << 22))

    sim = Simulator(u)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    got = np.array(seen, np.uint64).reshape(-1, 1)
    exp, bad = compare(man, stim, got)
    assert bad.size == 0, f"{bad.size} of {n} mismatch, first at {bad[:5].tolist()}"
    acc = (got[:, 0] >> np.uint64(22)).astype(np.uint32)
    assert np.unique(acc).size > 10                    # the promotions did change acc
    # and the check can fail: the same outputs against scales off by one ulp (8 of the
    # promotions here change: the others promote a zero or special register)
    wrong = dict(stim, sa=stim["sa"] ^ np.uint32(1))
    assert compare(man, wrong, got)[1].size >= 5


def _sim(n, mode, **kw):
    from macforge.sim.runner import SimSpec, run
    lines = []
    res = run(SimSpec(format="e4m3", unit="dot", preset="deepseek-fp8", n=n, mode=mode,
                      quiet=True, build_root=str(BUILD_ROOT), **kw), out=lines.append)
    return res, lines


@pytest.mark.rtl
@pytest.mark.slow                 # the 32-lane Verilator build alone is minutes on 2 cores
def test_deepseek_sim_fast_and_a_broken_model(monkeypatch, tmp_path):
    """macforge sim --preset deepseek-fp8 in fast mode: 0 mismatches; then a model whose
    promotion is one ulp high on negative results must fail with one line per class naming
    the differing field, a CSV row per mismatch."""
    res, lines = _sim(3000, "fast")
    assert res.ok and res.vectors > 3000, "\n".join(lines)
    from macforge.sim import _dotstim
    real = _dotstim.scaled_promotion

    def broken(*args):
        out = np.asarray(real(*args))
        neg = (out >> np.uint32(31)).astype(bool) & (out != np.uint32(0x80000000)) \
            & ((out & np.uint32(0x7F800000)) != np.uint32(0x7F800000))
        return np.where(neg, out + np.uint32(1), out).astype(out.dtype)
    monkeypatch.setattr(_dotstim, "scaled_promotion", broken)
    csv_path = tmp_path / "bad.csv"
    res, lines = _sim(3000, "fast", csv=str(csv_path))
    text = "\n".join(lines)
    assert not res.ok and res.mismatches > 10, text
    diag = next(ln for ln in lines if ln.startswith("diagnosis: "))
    assert re.fullmatch(r"diagnosis: [a-z-]+ [\d,]+(; [a-z-]+ [\d,]+)*", diag), text
    assert re.search(r"^  ulp \([\d,]+\): off by k units in the last place; k: 1: [\d,]+.* "
                     r"\(first differing field: acc [\d,]+\)$", text, re.M), text
    assert re.search(r"expected reg=0x[0-9a-f]{6} \(.*\) acc=0x[0-9a-f]{8} \(.*\)   got reg=",
                     text), text
    rows = csv_path.read_text().splitlines()
    assert rows[0].split(",")[-6:] == ["got", "field", "expected_value", "got_value", "class",
                                       "ulp"]
    assert len(rows) == res.mismatches + 1


@pytest.mark.rtl
@pytest.mark.slow
def test_deepseek_sim_cocotb():
    res, lines = _sim(1000, "cocotb")
    assert res.ok and res.vectors > 1000, "\n".join(lines)
