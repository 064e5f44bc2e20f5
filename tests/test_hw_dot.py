"""k-lane dot-product units (hw.dot): RTL against the golden model.

In-process ``amaranth.sim`` runs of small units (few lanes, few hundred commands: the
directed corners of :mod:`sim._dotstim` plus random sums) and fast-mode co-simulation of the
shipped configurations on Verilator (mxfp4 x32, nvfp4 x16: ports wider than 64 bits),
checked step by step against ``golden.dot`` / ``golden.block_dot`` as the MAC benches are.
Also: a deliberately wrong expectation must be caught, the cocotb bench and the fast harness
see the same outputs on a wide-port unit, Verilator lint and determinism, names, manifests and
one-line errors.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from amaranth.sim import Simulator

from macforge import golden
from macforge import hw
from macforge.golden import FormatError
from macforge.hw.dot import FDot, IDot, default_lanes
from macforge.sim._dotstim import dot_outputs, dot_stimulus
from macforge.sim._lanes import is_lane_port, pack_ints
from test_hw_units import assert_lint_clean, elaborated

pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")

SEED = 20260523
BUILD_ROOT = Path(__file__).resolve().parent.parent / "build" / "test_sim"


def simulate_dot(unit, stim):
    """Clock ``unit`` with one command per cycle (all its input ports from ``stim``); return
    the accumulator after each command (``latency`` cycles later)."""
    man = unit.manifest()
    ins = [p for p in man["ports"] if p["dir"] == "in" and p["role"] not in ("clock", "reset")]
    cols = {p["name"]: (pack_ints(stim[p["name"]], p) if is_lane_port(p)
                        else np.asarray(stim[p["name"]]).astype(np.uint64).tolist())
            for p in ins}
    n = len(stim["a"])
    seen = []
    sim = Simulator(unit)

    def port(name):
        v = getattr(unit, name)
        return v.as_value() if hasattr(v, "as_value") else v

    async def bench(ctx):
        for i in range(n + unit.latency - 1):
            for name, col in cols.items():
                ctx.set(port(name), col[i] if i < n else 0)
            await ctx.tick()
            if i >= unit.latency - 1:
                seen.append(ctx.get(port("acc")))

    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(seen, dtype=np.uint64)


def check_dot(unit, n_random=150, seed=SEED):
    """Directed corners + ``n_random`` random commands through ``unit``; every transition
    against the golden model. Returns the number of commands checked."""
    man = unit.manifest()
    stim = dot_stimulus(man, n_random, seed, pairs=False)
    stim.pop("meta")
    got = simulate_dot(unit, stim)
    want = dot_outputs(man, stim, got)
    bad = np.flatnonzero(want != got.astype(want.dtype))
    rows = [f"step {i}: a={stim['a'][i].tolist()} b={stim['b'][i].tolist()} "
            + (f"sa={int(stim['sa'][i])} sb={int(stim['sb'][i])} " if "sa" in stim else "")
            + f"first={int(stim['first'][i])} en={int(stim['en'][i])} "
            f"clear={int(stim['clear'][i])} acc_before={int(got[i - 1]) if i else 0:#x} "
            f"expected {int(want[i]):#x} got {int(got[i]):#x}" for i in bad[:5]]
    assert bad.size == 0, f"{man['module']}: {bad.size} of {got.size} mismatch\n" + "\n".join(rows)
    assert got.size > 100
    return man, stim, got


@pytest.mark.parametrize("fmt,kw", [
    ("e4m3", dict(lanes=4, align=13, acc="e8m13", rounding="rtz")),
    ("int8", dict(lanes=4, acc="fp32")),
    ("mxfp4", dict(lanes=4)),
    ("nvfp4", dict(lanes=4)),
], ids=["e4m3_a13_e8m13_rtz", "int8_fp32", "mxfp4", "nvfp4"])
def test_fdot_against_golden(fmt, kw):
    check_dot(hw.make_unit("dot", fmt, **kw), n_random=100)


def test_fdot_exact_e4m3_and_a_wrong_model_is_caught():
    """e4m3 exact; and the check can fail: the same outputs disagree with the align=2 model."""
    man, stim, got = check_dot(hw.make_unit("dot", "e4m3", lanes=4), n_random=100)
    wrong = dot_outputs(dict(man, align=2), stim, got)
    assert np.count_nonzero(wrong != got.astype(wrong.dtype)) > 10
    # the fast mode's chunked check (each piece from the observed state) gives the same verdict
    from macforge.sim import continuation, model
    bad = got.copy()
    bad[[20, 21, 150]] ^= 1
    whole = model.compare(man, stim, bad)
    pieces = continuation.compare_chunked(man, stim, bad, chunk=37)
    assert np.array_equal(whole[0], pieces[0]) and whole[1].tolist() == pieces[1].tolist()
    assert whole[1].size >= 3


def test_idot_against_golden():
    check_dot(hw.make_unit("dot", "int8", lanes=4))
    check_dot(hw.make_unit("dot", "int4", lanes=5, acc="int8", saturate=True), n_random=100)


@pytest.mark.slow
@pytest.mark.parametrize("fmt,kw", [
    ("e4m3", dict(lanes=3, align=5, acc="fp16", rounding="rdn", stages=1)),
    ("e5m2", dict(lanes=4, acc="bf16", rounding="rup")),
    ("e5m2", dict(lanes=4, acc="fp16", align=3, rounding="rna", stages=2)),
    ("e2m1", dict(lanes=5, acc="fp16", rounding="sr", rnd_bits=5)),
    ("mxfp8", dict(lanes=4, align=13)),
    ("mxe5m2", dict(lanes=4)),
    ("mxfp6", dict(lanes=3, acc="bf16")),
    ("mxe3m2", dict(lanes=3, align=4, acc="e8m13")),
    ("mxint8", dict(lanes=3, align=9)),
    ("nvint4", dict(lanes=4, align=6, acc="fp16", rounding="rdn")),
    ("nvfp4", dict(lanes=4, align=3, acc="e8m13", rounding="rtz", saturate=True)),
])
def test_fdot_more_configurations(fmt, kw):
    check_dot(hw.make_unit("dot", fmt, **kw), n_random=300)


# ---------------------------------------------------------------------------------------------
# Verilator: the shipped block configurations in fast mode, cocotb == fast on wide ports
# ---------------------------------------------------------------------------------------------
@pytest.mark.rtl
@pytest.mark.parametrize("fmt", ["mxfp4", pytest.param("nvfp4", marks=pytest.mark.slow)])
def test_block_units_fast_cosim(fmt):
    """The shipped configurations (mxfp4: 128-bit lane ports as 32-bit words; nvfp4: 64-bit
    ports as one column) on Verilator in fast mode, every element pair plus corners and sums."""
    from macforge.sim.runner import SimSpec, run
    lines = []
    # test_sim_fast's build root: the compiled Verilator runtime is shared with its tests
    root = BUILD_ROOT.parent / "test_sim_fast"
    res = run(SimSpec(format=fmt, unit="dot", n=3000, mode="fast", quiet=True,
                      build_root=str(root)), out=lines.append)
    assert res.ok, "\n".join(lines)
    assert res.vectors > 3000 and "0 mismatches" in lines[-1]


@pytest.mark.rtl
@pytest.mark.slow
def test_cocotb_equals_fast_on_wide_ports():
    """The cocotb bench drives the same 128-bit lane ports as the fast harness: same outputs."""
    from _simutil import BUILD, simulate
    from macforge.sim import fast
    res, lines = simulate(format="mxfp4", unit="dot", lanes=32, n=500, waves=False)
    assert res.ok, "\n".join(lines)
    work = Path(res.run_dir)
    with np.load(work / "result.npz") as r:
        observed = r["observed"]
    with np.load(work / "vectors.npz") as v:
        stim = {k: v[k] for k in v.files}
    man = json.loads((work / "bench.json").read_text())["manifest"]
    got = fast.check_fast(man, BUILD / res.module / "rtl" / f"{res.module}.v", stim,
                          build_root=BUILD)
    assert np.array_equal(got["observed"].astype(np.uint64), observed)
    assert got["mismatches"].size == 0


# ---------------------------------------------------------------------------------------------
# Verilog, lint, names, manifest, errors
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [
    lambda: FDot("e4m3", lanes=2, align=13, acc="e8m13", stages=1),
    lambda: FDot("nvfp4", lanes=2, rounding="sr", rnd_bits=4),
    lambda: FDot("mxint8", lanes=2, align=5),
    lambda: IDot("int8", lanes=3, saturate=True),
], ids=["fdot_a13", "fdot_nvfp4_sr", "fdot_mxint8_a5", "idot_sat"])
def test_lint_and_determinism(tmp_path, build):
    text = assert_lint_clean(build, tmp_path)
    assert "lanes" in text.splitlines()[3] or "lanes" in text.splitlines()[4]


def test_names_and_manifest():
    u = elaborated(hw.make_unit("dot", "mxfp4", align=13))
    assert u.module_name == "fdot_mxfp4_x32_fp32_rne_a13_s0"
    man = u.manifest()
    assert man["formats"] == {"a": "mxfp4", "b": "mxfp4", "acc": "fp32", "scale": "e8m0fnu"}
    assert (man["unit"], man["lanes"], man["align"], man["block"], man["scale"]) == \
        ("dot", 32, 13, 32, "e8m0fnu")
    assert man["elements"] == {"a": "e2m1fn", "b": "e2m1fn"} and man["latency"] == 1
    ports = {p["name"]: p for p in man["ports"]}
    assert ports["a"]["width"] == 128 and ports["a"]["lanes"] == 32 and ports["a"]["lane_bits"] == 4
    assert ports["sa"]["role"] == "scale" and ports["sa"]["width"] == 8
    json.dumps(man)
    assert elaborated(hw.make_unit("dot", "nvfp4", lanes=2)).module_name == \
        "fdot_nvfp4_x2_fp32_rne_s0"
    assert default_lanes("nvfp4") == 16 and default_lanes("mxfp8") == 32
    assert default_lanes("e4m3") == 32
    assert elaborated(hw.make_unit("dot", "mxint8", lanes=2)).manifest()["element_exp"] == -12
    assert elaborated(hw.make_unit("dot", "int8")).module_name == "idot_int8_x32_int32_wrap_s0"
    assert elaborated(hw.make_unit("dot", "e4m3", fmt_b="e5m2", lanes=2, stages=2)).module_name \
        == "fdot_e4m3fn_e5m2_x2_fp32_rne_s2"
    h100 = elaborated(hw.make_unit("dot", "e4m3", lanes=32, preset="h100-fp8"))
    assert h100.module_name == "fdot_e4m3fn_x32_e8m13_rtz_a13_s0"
    assert h100.manifest()["preset"] == "h100-fp8"


@pytest.mark.parametrize("kw,message", [
    (dict(fmt="e4m3", preset="h100-fp8", lanes=16), r"^preset h100-fp8 fixes lanes = 32, not 16$"),
    (dict(fmt="e4m3", preset="h100-fp8", acc="fp32"),
     r"^preset h100-fp8 fixes acc = e8m13, not fp32$"),
    (dict(fmt="int8", preset="h100-fp8"),
     r"^preset h100-fp8 takes e4m3fn or e5m2 elements, not int8$"),
    (dict(fmt="int8", align=3), r"^align and preset apply to floating-point accumulators, "
                                r"not int32$"),
    (dict(fmt="bf16", preset="h100-fp8"),
     r"^preset h100-fp8 takes e4m3fn or e5m2 elements, not bf16$"),
    (dict(fmt="e4m3", preset="b300"), r"^unknown preset 'b300'; accepted: h100-fp8, deepseek-fp8$"),
    (dict(fmt="e4m3", lanes=0), r"^lanes must be an integer 1\.\.256 \(products per step of a "
                                r"dot unit\), not 0$"),
    (dict(fmt="e4m3", align=57), r"^align must be an integer 0\.\.56 \(fraction bits a "
                                 r"tensor-core dot keeps below the largest exponent\), not 57$"),
    (dict(fmt="mxfp4", fmt_b="nvfp4"), r"^a block dot product needs two block formats with the "
                                       r"same block and scale format, not mxfp4 x nvfp4$"),
    (dict(fmt="e4m3", acc="int32"),
     r"^an integer accumulator \(int32\) needs integer elements, not e4m3fn x e4m3fn$"),
    (dict(fmt="posit8"), r"^posit8 operands take unit pmul, pmac, fma, add or convert, not 'dot'; "
                         r"accepted for posit8 "),
], ids=["lanes", "acc", "int_preset", "int_align", "bf16_preset", "unknown_preset", "lanes0", "align57",
        "mixed_blocks", "int_acc", "posit"])
def test_one_line_errors(kw, message):
    fmt = kw.pop("fmt")
    with pytest.raises(FormatError, match=message):
        hw.make_unit("dot", fmt, **kw)
    with pytest.raises(FormatError, match=r"^lanes, align and preset apply to unit 'dot', not "
                                          r"'mac'$"):
        hw.make_unit("mac", "e4m3", lanes=4)
