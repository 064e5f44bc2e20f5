"""Fast co-simulation (sim.fast; sim.stream over sim.sweeps): bit-identical to the cocotb bench,
and it catches the same bugs.

The cocotb runs here use their own build root (build/test_sim_fast): test_sim_mul/test_sim_mac
may run at the same time on another xdist worker and write into build/test_sim. They get the
generated Verilog as VERILOG= files that are only rewritten when the generator's output changes,
so a warm run re-simulates without recompiling (about 1 min instead of 4 on 2 busy cores).
"""
import functools
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from macforge import hw
from _simutil import simulate
from macforge.sim import continuation, fast, model, sweeps
from macforge.sim.stream import format_rows, stream
from macforge.sim.stimulus import make_stimulus

pytestmark = [pytest.mark.rtl,
              pytest.mark.filterwarnings("ignore:.*created but never used")]  # manifests only

ROOT = Path(__file__).resolve().parent.parent / "build" / "test_sim_fast"


def unit_and_rtl(kind, fmt="e4m3", **kw):
    """(manifest, Verilog path) of a unit; the file is rewritten only when its text changes,
    so the cocotb runs below, given it as VERILOG=, rebuild incrementally."""
    text, manifest = hw.generate(hw.make_unit(kind, fmt, **kw))
    path = ROOT / "rtl" / manifest["module"] / f"{manifest['module']}.v"
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return manifest, path


def cocotb(verilog, top, **kw):
    """Run the cocotb bench on ``verilog``; return (SimResult, result.npz dict, stimulus dict,
    manifest, printed lines)."""
    res, lines = simulate(build_root=str(ROOT), waves=False, verilog=str(verilog), top=top, **kw)
    workdir = Path(res.run_dir)                           # the run's own scratch
    with np.load(workdir / "result.npz") as r:
        result = {k: r[k] for k in r.files}
    with np.load(workdir / "vectors.npz") as v:
        stim = {k: v[k] for k in v.files}
    manifest = json.loads((workdir / "bench.json").read_text())["manifest"]
    return res, result, stim, manifest, lines


def test_mul_exhaustive_equals_cocotb():
    manifest, verilog = unit_and_rtl("mul")
    res, result, stim, manifest, lines = cocotb(verilog, manifest["module"], format="e4m3",
                                                unit="mul", n=0)
    assert res.ok and res.vectors == 65536, "\n".join(lines)
    got = fast.check_fast(manifest, verilog, stim, build_root=ROOT)
    assert got["observed"].size == 65536
    assert np.array_equal(got["observed"].astype(np.uint64), result["observed"])
    assert got["mismatches"].size == 0


@pytest.mark.parametrize("stages", [0, 2])
def test_mac_random_equals_cocotb(stages):
    """20k random MAC steps (sequences, idle cycles, clears) after the 65,536 exhaustive
    sequence starts: the same accumulator trace as cocotb, in both clocking forms."""
    manifest, verilog = unit_and_rtl("mac", acc="fp32", stages=stages)
    res, result, stim, manifest, lines = cocotb(verilog, manifest["module"], format="e4m3",
                                                unit="mac", acc="fp32", stages=stages, n=20_000)
    assert res.ok and res.vectors == 65536 + 20_000, "\n".join(lines)
    assert manifest["latency"] == stages + 1
    got = fast.check_fast(manifest, verilog, stim, build_root=ROOT)
    assert np.array_equal(got["observed"].astype(np.uint64), result["observed"])
    assert got["mismatches"].size == 0
    with fast.FastSim(manifest, verilog, build_root=ROOT, reference_clock=True) as ref:
        assert not ref.one_eval
        assert np.array_equal(ref.run(stim).astype(np.uint64), result["observed"])


def test_broken_rtl_same_first_mismatch_as_cocotb(tmp_path):
    """The RTZ multiplier passed off as the RNE one (tests/test_sim_mul.py): fast mode finds
    exactly the mismatches the cocotb bench finds, first one included."""
    wrong, verilog = unit_and_rtl("mul", acc="e4m3", rounding="rtz")
    top = wrong["module"]
    res, result, stim, rne, lines = cocotb(verilog, top, format="e4m3", unit="mul", n=0)
    assert not res.ok and res.mismatches > 1000, "\n".join(lines)
    assert rne["rounding"] == "rne" and rne["module"] == "fmul_e4m3fn_e4m3fn_rne_s0"
    got = fast.check_fast(rne, verilog, stim, top=top, build_root=ROOT)
    assert np.array_equal(got["observed"].astype(np.uint64), result["observed"])
    assert np.array_equal(got["mismatches"], result["mismatches"])
    i = int(got["mismatches"][0])
    assert i == int(result["mismatches"][0])
    assert got["expected"][i] == result["expected"][i] != got["observed"][i]
    # the streaming driver reports the same first mismatch, decoded as the runner does
    r = stream(rne, verilog, sweeps.pair_sweep("e4m3"), top=top, build_root=ROOT,
               chunk=1 << 12, progress=tmp_path / "p.json", out=lambda s: None)
    assert r.complete and not r.ok and r.mismatches == got["mismatches"].size
    assert r.first[0]["index"] == i and r.first[0]["got"] == int(got["observed"][i])
    text = format_rows(rne, r.first[:1])
    assert re.fullmatch(rf"  vector {i}: a=0x[0-9a-f]{{2}} \(\S+\) b=0x[0-9a-f]{{2}} \(\S+\)\n"
                        r"      expected 0x[0-9a-f]{2} \(\S+\)   got 0x[0-9a-f]{2} \(\S+\)",
                        text), text


def test_wide_port_must_match_the_rtl():
    """Ports of any width are driven (sim._lanes, tests/test_units_quantize.py); a manifest
    whose port is wider than the RTL's is refused in one line before a build."""
    manifest, verilog = unit_and_rtl("mul")
    wide = json.loads(json.dumps(manifest))
    wide["ports"][0]["width"] = 80
    from macforge.sim._rtl import PortError
    with pytest.raises(PortError, match=r"'a'.*80"):
        fast.run_fast(wide, verilog, {"a": np.zeros(1), "b": np.zeros(1)}, build_root=ROOT)


def test_rtl_without_a_manifest_port_is_refused():
    _, mul_v = unit_and_rtl("mul")
    mac, _ = unit_and_rtl("mac", acc="fp32")
    from macforge.sim._rtl import PortError       # checked before the build, in both modes
    with pytest.raises(PortError, match=r"^the RTL top 'fmul_e4m3fn_e4m3fn_rne_s0' has "
                       r"no port '(en|first|clear|clk|rst)', which the manifest of "
                       r"fmac_e4m3fn_fp32_rne_s0 lists \(input \[0:0\]; the RTL's ports: "
                       r"a, b, y\)$"):
        fast.FastSim(mac, mul_v, top="fmul_e4m3fn_e4m3fn_rne_s0", build_root=ROOT)


class _Interrupting(sweeps.PairSweep):
    """A sweep that raises KeyboardInterrupt when asked for vector ``at`` (a Ctrl-C)."""

    def __init__(self, at):
        super().__init__("e4m3")
        self.at = at

    def _make(self, lo, hi):
        if lo <= self.at < hi:
            raise KeyboardInterrupt
        return super()._make(lo, hi)


def test_stream_interrupt_and_resume(tmp_path):
    manifest, verilog = unit_and_rtl("mul")
    pfile = tmp_path / "progress.json"
    lines = []
    kw = dict(build_root=ROOT, chunk=1 << 12, progress=pfile, out=lines.append)
    r = stream(manifest, verilog, _Interrupting(at=40_000), **kw)
    assert not r.complete and r.vectors == 36_864 and r.mismatches == 0     # 9 chunks done
    assert any(re.fullmatch(r"interrupted: 36,864 of 65,536 vectors done; progress saved in "
                            r"\S+ -- run again to resume", t) for t in lines), lines
    assert json.loads(pfile.read_text())["done"] == [[0, 36_864]]
    r = stream(manifest, verilog, sweeps.pair_sweep("e4m3"), **kw)
    assert r.ok and r.vectors == 65536 and r.session_vectors == 65536 - 36_864
    assert any(t.startswith("resuming pairs_e4m3fn_e4m3fn: 36,864 of 65,536") for t in lines)
    r = stream(manifest, verilog, sweeps.pair_sweep("e4m3"), **kw)     # done: nothing to do
    assert r.ok and r.session_vectors == 0


def test_mac_stream_in_chunks_checks_every_transition(tmp_path):
    """Chunks of a MAC stream start from the accumulator the DUT holds, not from reset."""
    manifest, verilog = unit_and_rtl("mac", acc="fp32", stages=2)
    stim = make_stimulus(manifest, 50_000, seed=3)
    stim.pop("meta")
    whole = fast.check_fast(manifest, verilog, stim, build_root=ROOT)
    assert whole["mismatches"].size == 0
    r = stream(manifest, verilog, sweeps.ArraySweep(stim, "mac_seed3"), build_root=ROOT,
               chunk=10_007, progress=tmp_path / "p.json", out=lambda s: None)
    assert r.ok and r.vectors == whole["observed"].size
    # on two worker processes (macforge.jobs): each chunk from its own model's accumulator
    lines = []
    r = stream(manifest, verilog, sweeps.ArraySweep(stim, "mac_seed3"), build_root=ROOT,
               chunk=10_007, progress=tmp_path / "p2.json", jobs=2, out=lines.append)
    assert r.ok and r.vectors == whole["observed"].size, lines
    assert "on 2 worker processes" in lines[0]
    # a chunk checked from the wrong state fails at its first step that depends on it
    lo = 70_000
    part = {k: v[lo:lo + 100] for k, v in stim.items()}
    obs = whole["observed"][lo:lo + 100]
    assert continuation.compare_from(manifest, part, obs, whole["observed"][lo - 1])[1].size == 0
    if not part["first"][0] and part["en"][0] and not part["clear"][0]:
        assert continuation.compare_from(manifest, part, obs, 0)[1][:1].tolist() == [0]


@pytest.mark.parametrize("kind,fmt,acc", [("mac", "e4m3", "fp32"), ("pmac", "posit8", "posit8")])
def test_chunked_check_equals_whole_check(kind, fmt, acc):
    """Checking a run in pieces gives the whole-run verdict, wrong outputs included: a MAC
    piece starts from the observed accumulator, a posit MAC piece replays the open sum."""
    manifest, verilog = unit_and_rtl(kind, fmt, acc=acc)
    stim = make_stimulus(manifest, 30_000, seed=9)
    stim.pop("meta")
    observed = fast.run_fast(manifest, verilog, stim, build_root=ROOT)
    observed[[70_000, 70_001, 80_500, 95_000]] ^= 1              # four wrong outputs
    whole = model.compare(manifest, stim, observed)
    pieces = continuation.compare_chunked(manifest, stim, observed, chunk=4_999)
    assert np.array_equal(whole[0], pieces[0])
    assert whole[1].tolist() == pieces[1].tolist() and whole[1].size >= 4


def test_stratified_fp32_addends():
    codes = sweeps.stratified_codes("fp32", 4096)
    assert codes.size == 4096 and np.unique(codes).size == 4096
    exps = (codes.astype(np.uint64) >> 23) & 0xFF
    assert np.bincount(exps.astype(np.intp), minlength=256).tolist() == [16] * 256  # 8 per sign
    assert {0x0000_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x0000_0001} <= set(codes.tolist())


# -- the exhaustive sweeps of `make test-full` -----------------------------------------------------
# Progress is kept in build/sweeps: an interrupted sweep resumes, and a finished one is not
# re-run while the RTL, golden model, harness and tools are unchanged (MACFORGE_SWEEP_FRESH=1
# re-runs it). MACFORGE_SWEEP_JOBS=N checks chunks on N worker processes.
_JOBS = int(os.environ.get("MACFORGE_SWEEP_JOBS", "1"))
_FRESH = os.environ.get("MACFORGE_SWEEP_FRESH") == "1"
_SWEEPS = Path(__file__).resolve().parent.parent / "build" / "sweeps"


def _sweep(kind, fmt, sweep, **kw):
    manifest, verilog = unit_and_rtl(kind, fmt, **kw)
    r = stream(manifest, verilog, sweep, build_root=_SWEEPS, jobs=_JOBS, resume=not _FRESH,
               out=functools.partial(print, flush=True))
    assert r.complete, f"interrupted; resume with the same command ({r.progress_file})"
    assert r.vectors == sweep.total > 0
    assert r.mismatches == 0, (f"{r.mismatches:,} of {r.total:,} vectors mismatch; first:\n"
                               + format_rows(manifest, r.first))


@pytest.mark.slow
def test_ffma_e4m3_every_product_into_4096_stratified_fp32_addends():
    """268,435,456 fused multiply-adds: every e4m3 x e4m3 product into each of 4,096 fp32
    addends covering every sign and binade (zeros, subnormals, inf, NaN included)."""
    _sweep("fma", "e4m3", sweeps.fma_sweep("e4m3", "fp32", sweeps.stratified_codes("fp32", 4096)),
           acc="fp32")


@pytest.mark.slow
def test_bf16_every_product():
    """All 2^32 bf16 x bf16 -> bf16 products."""
    _sweep("mul", "bf16", sweeps.pair_sweep("bf16"))


_TOY = {
    # one rising-edge register: the one-eval cycle applies
    "posedge": "always @(posedge clk) if (rst) y <= 8'd0; else y <= a + 8'd1;",
    # a falling-edge register: every cycle needs its falling edge
    "negedge": "reg [7:0] r; always @(posedge clk) r <= a; always @(negedge clk) y <= r;",
    # logic that reads the clock's level
    "level": "reg [7:0] r; always @(posedge clk) r <= a; always @(*) y = clk ? r : 8'hff;",
}


@pytest.mark.parametrize("kind", sorted(_TOY))
def test_one_eval_cycle_only_where_safe(kind, tmp_path):
    """The one-eval() clock cycle is used only for designs whose sole edge is the clock's
    rising edge and that never read the clock's level; otherwise the reference cycle."""
    top = f"toy_{kind}"
    src = tmp_path / f"{top}.v"
    src.write_text(f"module {top}(input clk, input rst, input [7:0] a, output reg [7:0] y);\n"
                   f"  {_TOY[kind]}\nendmodule\n")
    manifest = {"module": top, "unit": "mul", "latency": 1, "clock": "clk", "reset": "rst",
                "state": "none", "interleave": 1,
                "ports": [{"name": "clk", "dir": "in", "width": 1, "role": "clock"},
                          {"name": "rst", "dir": "in", "width": 1, "role": "reset"},
                          {"name": "a", "dir": "in", "width": 8, "role": "operand"},
                          {"name": "y", "dir": "out", "width": 8, "role": "result"}]}
    a = np.arange(300, dtype=np.uint64) * 7 % 256
    with fast.FastSim(manifest, src, build_root=ROOT) as dut:
        assert dut.one_eval == (kind == "posedge")
        y = dut.run({"a": a})
    with fast.FastSim(manifest, src, build_root=ROOT, reference_clock=True) as ref:
        assert np.array_equal(ref.run({"a": a}), y)
    if kind == "posedge":
        assert np.array_equal(y, (a + 1) % 256)


@pytest.mark.slow
def test_posit16es1_every_product():
    """All 2^32 posit16es1 x posit16es1 -> posit16es1 products."""
    _sweep("pmul", "posit16es1", sweeps.pair_sweep("posit16es1"), acc="posit16es1")


def test_chunk_states_of_a_multi_word_result():
    """A unit whose result is uint64 word rows (the deepseek dot's reg + acc) carries rows
    between chunks: the last row (the last S rows of a C-slow unit), and the state before a
    step is a row (it was int(row): a TypeError past the first chunk)."""
    from macforge.sim import continuation as c
    obs = np.arange(12, dtype=np.uint64).reshape(6, 2)
    one = {"state": "observed", "interleave": 1}
    st = c._last_states(one, 0, obs)
    assert st.tolist() == [[10, 11]]
    assert c._states(one, st, (2,)).tolist() == [[10, 11]]
    assert c.state_before(one, obs, st, 0).tolist() == [10, 11]
    assert c.state_before(one, obs, 0, 0).tolist() == [0, 0]
    assert c.state_before(one, obs, 0, 3).tolist() == [4, 5]
    three = {"state": "observed", "interleave": 3}
    st = c._last_states(three, 0, obs[:2])
    assert st.tolist() == [[0, 0], [0, 1], [2, 3]]
    assert c._last_states(three, st, obs[2:]).tolist() == [[6, 7], [8, 9], [10, 11]]
    assert c._last_states(three, 0, np.arange(5, dtype=np.uint64)) == (2, 3, 4)
    with pytest.raises(c.FastSimError):
        c._states(one, 7, (2,))
