"""Verifying anyone's RTL (issue #16): file lists, include directories, packages, defines; cache
keys on every file the tools read; ports checked before any vector; per-run scratch (#15).

Each design is built here from a correct macforge unit (or one with a deliberate flaw) inside
small hand-written wrappers, so the verdict is known: the golden model is the reference.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from macforge import hw
from macforge.cli import main
from macforge.toolchain.sources import RtlSources, RtlSourcesError
from _simutil import simulate

pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")   # manifests only

ROOT = Path(__file__).resolve().parent.parent / "build" / "test_sim_rtl"
MUL = "fmul_e4m3fn_e4m3fn_rne_s0"


def unit_text(rounding="rne", **kw):
    """The e4m3 multiplier's Verilog, its modules renamed to the RNE unit's names (so a
    flawed variant drops into the place of the correct one)."""
    unit = hw.make_unit("mul", "e4m3", rounding=rounding, **kw)
    text, man = hw.generate(unit)
    return text.replace(man["module"], MUL)


# -- sources and file lists (no tools) --------------------------------------------------------
def test_filelist_resolves_relative_to_the_list(tmp_path):
    (tmp_path / "rtl" / "inc").mkdir(parents=True)
    (tmp_path / "rtl" / "sub").mkdir()
    for f in ("pkg.sv", "top.sv", "sub/leaf.v"):
        (tmp_path / "rtl" / f).write_text("// x\n")
    (tmp_path / "rtl" / "sub.f").write_text("sub/leaf.v  # nested\n")
    (tmp_path / "rtl" / "design.f").write_text(
        "// a comment\n/* a block\n comment */\n+incdir+inc\n-I inc\n+define+W=8+FAST\n"
        "-DSEED=3\npkg.sv\ntop.sv\n-F sub.f\n")
    src = RtlSources.from_options(filelist=[str(tmp_path / "rtl" / "design.f")],
                                  define=["X"], cwd=tmp_path)
    r = (tmp_path / "rtl").resolve()
    assert src.files == (r / "pkg.sv", r / "top.sv", r / "sub" / "leaf.v")
    assert src.include_dirs == (r / "inc",)
    assert src.defines == (("W", "8"), ("FAST", None), ("SEED", "3"), ("X", None))
    args = src.verilator_args()
    assert args[:3] == [f"-I{r / 'inc'}", f"-I{r}", f"-I{r / 'sub'}"]
    assert args[-3:] == [str(f) for f in src.files] and "-DW=8" in args and "-DX" in args


@pytest.mark.parametrize("text, msg", [
    ("-y lib\n", r"design\.f:1: option '-y' is not accepted in a file list; accepted: files, "
                 r"-I DIR, \+incdir\+DIR, -D NAME\[=VAL\], \+define\+NAME\[=VAL\], -f/-F LIST$"),
    ("nofile.v\n", r"design\.f:1: source file 'nofile\.v' does not exist$"),
    ("+incdir+nodir\n", r"design\.f:1: include directory 'nodir' does not exist$"),
    ("-D 9x=1\n", r"design\.f:1: define '9x=1' is not NAME or NAME=VALUE"),
])
def test_filelist_errors_are_one_line(tmp_path, text, msg):
    (tmp_path / "design.f").write_text(text)
    with pytest.raises(RtlSourcesError, match=msg):
        RtlSources.from_options(filelist=[str(tmp_path / "design.f")], cwd=tmp_path)


def test_cli_refuses_bad_sources(tmp_path, capsys):
    assert main(["sim", "--verilog", str(tmp_path)]) == 2
    assert re.search(r"^macforge: error: --verilog file '.*' is a directory, not a file$",
                     capsys.readouterr().err, re.M)
    assert main(["sim", "--include", "x"]) == 2
    assert "apply to your RTL; give --verilog FILE... or --filelist LIST.f too" in capsys.readouterr().err


# -- with Verilator ---------------------------------------------------------------------------
def _design_with_include(d: Path, rounding: str):
    (d / "inc").mkdir(parents=True, exist_ok=True)
    (d / "inc" / "impl.vh").write_text(unit_text(rounding))
    (d / "top.v").write_text('`include "impl.vh"\n')
    return d / "top.v", d / "inc"


@pytest.mark.rtl
@pytest.mark.parametrize("mode", ["fast", pytest.param("cocotb", marks=pytest.mark.slow)])
def test_editing_an_included_file_rebuilds(tmp_path, mode):
    """The false PASS of #16: the top `include`s its implementation; after the included file
    is edited (an RTZ multiplier in place of the RNE one), the rerun must fail."""
    top, inc = _design_with_include(tmp_path, "rne")
    kw = dict(format="e4m3", unit="mul", n=0, mode=mode, waves=False, build_root=str(ROOT),
              verilog=(str(top),), include=(str(inc),))
    res, lines = simulate(**kw)
    assert res.ok and res.vectors == 65536, "\n".join(lines)
    _design_with_include(tmp_path, "rtz")
    res, lines = simulate(**kw)
    assert not res.ok and res.mismatches > 1000, "\n".join(lines)


def sv_design(d: Path, width_b: int = 8) -> Path:
    """A multi-file SystemVerilog design as users bring it: a package, an include directory
    with a macro header, the implementation and a wrapper top, named by a file list in its
    own directory (the docs/verifying-rtl.md example)."""
    (d / "rtl" / "include").mkdir(parents=True, exist_ok=True)
    (d / "rtl" / "mf_pkg.sv").write_text(
        "package mf_pkg;\n  localparam int W = 8;\n  typedef logic [W-1:0] code_t;\nendpackage\n")
    (d / "rtl" / "include" / "mf_defs.svh").write_text(
        "`ifndef MF_DEFS_SVH\n`define MF_DEFS_SVH\n`define MF_WB (`MF_B_BITS)\n`endif\n")
    (d / "rtl" / "impl.v").write_text(unit_text())
    (d / "rtl" / "user_mul.sv").write_text(
        '`include "mf_defs.svh"\n'
        "module user_mul import mf_pkg::*; (\n  input  code_t a,\n"
        "  input  logic [`MF_WB-1:0] b,\n  output code_t y\n);\n"
        f"  {MUL} u_core (.a(a), .b(b[W-1:0]), .y(y));\nendmodule\n")
    (d / "rtl" / "design.f").write_text(
        "// the user's file list: paths relative to this file\n+incdir+include\n"
        f"+define+MF_B_BITS={width_b}\nmf_pkg.sv\nimpl.v\nuser_mul.sv\n")
    return d / "rtl" / "design.f"


@pytest.mark.rtl
@pytest.mark.parametrize("mode", ["fast", pytest.param("cocotb", marks=pytest.mark.slow)])
def test_multifile_sv_with_package_and_include_dir(tmp_path, mode):
    flist = sv_design(tmp_path)
    res, lines = simulate(format="e4m3", unit="mul", n=0, mode=mode, waves=False,
                          build_root=str(ROOT), filelist=(str(flist),), top="user_mul")
    assert res.ok and res.vectors == 65536, "\n".join(lines)
    assert "user RTL mf_pkg.sv + 2 more files, top user_mul" in lines[0]


@pytest.mark.rtl
def test_port_width_mismatch_is_one_line_in_cocotb_mode(tmp_path, capsys):
    """Ports are checked against the manifest before anything is built or driven (#16 item 3:
    cocotb mode used to say "no result" or report 64,777 mismatches)."""
    flist = sv_design(tmp_path, width_b=14)
    rc = main(["sim", "--format", "e4m3", "--unit", "mul", "--mode", "cocotb",
               "--build-dir", str(ROOT), "--filelist", str(flist), "--top", "user_mul"])
    err = capsys.readouterr().err
    assert rc == 2
    assert re.fullmatch(r"macforge: error: port 'b' of the RTL top 'user_mul' is input \[13:0\] "
                        r"\(14 bits\); the manifest of fmul_e4m3fn_e4m3fn_rne_s0 says input "
                        r"\[7:0\] \(8 bits\)\n", err), err
    rc = main(["sim", "--format", "e4m3", "--unit", "mul", "--mode", "cocotb", "--build-dir",
               str(ROOT), "--filelist", str(flist), "--top", "user_mul", "-D", "MF_B_BITS=8",
               "--unit", "fma"])
    err = capsys.readouterr().err
    assert rc == 2 and re.fullmatch(r"macforge: error: the RTL top 'user_mul' has no port 'c', "
                                    r"which the manifest of \S+ lists \(input \[\d+:0\]; the "
                                    r"RTL's ports: a, b, y\)\n", err), err
    # a top that is not there: looked up in what Verilator read, with the list's defines
    rc = main(["sim", "--format", "e4m3", "--unit", "mul", "--build-dir", str(ROOT),
               "--filelist", str(flist), "--top", "nosuch"])
    err = capsys.readouterr().err
    assert rc == 2 and re.fullmatch(r"macforge: error: no module nosuch in \S+mf_pkg\.sv, "
                                    r"\S+impl\.v, \S+user_mul\.sv \(modules: "
                                    r"fmul_e4m3fn_e4m3fn_rne_s0, .*, user_mul\)\n", err), err


@pytest.mark.rtl
@pytest.mark.slow
def test_parallel_cocotb_runs_check_their_own_vectors(tmp_path):
    """#15 item 2: two different cocotb runs of one unit at once each check exactly their own
    vectors (they shared build/sim/<module>/vectors.npz before: one printed the other's count)."""
    cmd = [sys.executable, "-m", "macforge", "sim", "--format", "e4m3", "--unit", "mac",
           "--mode", "cocotb", "--no-waves", "--build-dir", str(tmp_path)]
    procs = [subprocess.Popen(cmd + ["-n", n, "--seed", seed], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for n, seed in (("2000", "1"), ("50000", "2"))]
    outs = [p.communicate(timeout=1800)[0] for p in procs]
    for out, count in zip(outs, ("67,536", "115,536")):
        assert re.search(rf"^PASS fmac_e4m3fn_fp32_rne_s0: {count} vectors, 0 mismatches",
                         out, re.M), out
    runs = list((tmp_path / "fmac_e4m3fn_fp32_rne_s0" / "runs").iterdir())
    assert len(runs) == 2 and all((r / "result.npz").exists() for r in runs)


# -- diagnosis (#16 item 4) -------------------------------------------------------------------
FLAWED = f"""\
// the e4m3 multiplier with four deliberate flaws, each on its own class of results
module fmul_flawed (input [7:0] a, input [7:0] b, output [7:0] y);
  wire [7:0] r;
  {MUL} u_core (.a(a), .b(b), .y(r));
  wire nan  = r[6:0] == 7'h7f;                       // NaN: the sign bit set (0xff)
  wire sub  = r[6:3] == 4'd0 && r[2:0] != 3'd0;      // subnormal results flushed to zero
  wire nz   = r == 8'h80;                            // -0 becomes +0
  wire bump = a[0] & b[0] & (r[6:3] != 4'd0) & (r[6:0] < 7'h7d);   // one ulp too large
  assign y = nan ? 8'hff : sub ? {{r[7], 7'd0}} : nz ? 8'h00 : bump ? r + 8'd1 : r;
endmodule
"""


@pytest.mark.rtl
def test_diagnosis_classes_each_flaw(tmp_path):
    """Each flaw lands in its class, with exactly the count the golden model predicts for that
    rule; the CSV holds every mismatch with its class; --nan any drops the NaN class."""
    import csv as csvmod
    import numpy as np
    from macforge import golden
    (tmp_path / "impl.v").write_text(unit_text())
    (tmp_path / "flawed.v").write_text(FLAWED)
    fmt = golden.parse("e4m3")
    a, b = (c.ravel() for c in np.meshgrid(np.arange(256), np.arange(256), indexing="ij"))
    r = golden.mul(a.astype(np.uint8), b.astype(np.uint8), fmt, fmt).astype(int)
    nan = (r & 0x7f) == 0x7f
    sub = ((r >> 3) & 0xf == 0) & (r & 7 != 0)
    nz = r == 0x80
    bump = (a & b & 1).astype(bool) & ((r >> 3) & 0xf != 0) & ((r & 0x7f) < 0x7d)
    want = {"nan-encoding": int(nan.sum()), "zero-sign": int(nz.sum()),
            "underflow-flushed": int(sub.sum()), "ulp": int(bump.sum())}
    assert all(want.values())
    csv_path = tmp_path / "bad.csv"
    kw = dict(format="e4m3", unit="mul", n=0, mode="fast", waves=False, build_root=str(ROOT),
              verilog=(str(tmp_path / "impl.v"), str(tmp_path / "flawed.v")), top="fmul_flawed")
    res, lines = simulate(csv=str(csv_path), **kw)
    text = "\n".join(lines)
    assert res.mismatches == sum(want.values()), text
    assert re.search(r"^diagnosis: nan-encoding {:,}; zero-sign {:,}; underflow-flushed {:,}; "
                     r"ulp {:,}$".format(*want.values()), text, re.M), text
    assert re.search(r"^  nan-encoding .*the canonical NaN is 0x7f, see `macforge formats "
                     r"e4m3fn`", text, re.M), text
    assert re.search(r"^  ulp \([\d,]+\): off by k units in the last place; k: 1: "
                     + f"{want['ulp']:,}$", text, re.M), text
    assert len(re.findall(r"^    vector \d+: a=", text, re.M)) == 4 * 3    # 3 rows a class
    with open(csv_path) as fh:
        assert fh.readline().startswith("# macforge ")      # provenance, then the header
        rows = list(csvmod.DictReader(fh))
    assert len(rows) == res.mismatches
    assert {c: sum(r["class"] == c for r in rows) for c in want} == want
    row = next(r for r in rows if r["class"] == "nan-encoding")
    assert row["expected"] == "0x7f" and row["got"] == "0xff" and row["got_value"] == "nan"
    assert f"all {res.mismatches:,} mismatches" in text and str(csv_path) in text
    res, lines = simulate(nan="any", **kw)
    assert res.mismatches == sum(want.values()) - want["nan-encoding"], "\n".join(lines)


SLOW = """\
// the 1-stage multiplier behind one more register, with its own clock and active-low reset
module slow_mul (input clock, input rst_n, input [7:0] a, input [7:0] b, output reg [7:0] y);
  wire [7:0] r;
  fmul_e4m3fn_e4m3fn_rne_s1 u_core (.clk(clock), .rst(~rst_n), .a(a), .b(b), .y(r));
  always @(posedge clock) y <= r;
endmodule
"""


@pytest.mark.rtl
def test_latency_error_is_diagnosed_and_auto_finds_it(tmp_path):
    (tmp_path / "impl.v").write_text(hw.generate(hw.make_unit("mul", "e4m3", stages=1))[0])
    (tmp_path / "slow.v").write_text(SLOW)
    kw = dict(format="e4m3", unit="mul", stages=1, n=0, mode="fast", waves=False,
              build_root=str(ROOT), verilog=(str(tmp_path / "impl.v"), str(tmp_path / "slow.v")),
              top="slow_mul", clock="clock", reset="rst_n", reset_active="low")
    res, lines = simulate(**kw)
    text = "\n".join(lines)
    assert not res.ok and re.search(
        r"^  latency \([\d,]+\): the outputs equal the golden model's read 1 cycle later: the "
        r"unit's latency is 2, not 1 \(rerun with --latency 2\)$", text, re.M), text
    res, lines = simulate(latency="auto", **kw)
    text = "\n".join(lines)
    assert "--latency auto: 2 (probe of the first 2,048 vectors: 0 mismatches" in text, text
    assert res.ok and res.vectors == 65536, text


HANDSHAKE = f"""\
// one multiplication at a time, 1..4 cycles each (from the operand bits): variable latency,
// backpressure through in_ready, results flagged by out_valid
module hs_mul (input clk, input rst, input in_valid, output in_ready,
               input [7:0] a, input [7:0] b, output reg [7:0] y, output reg out_valid);
  reg busy;
  reg [1:0] wait_n;
  reg [7:0] ra, rb;
  wire [7:0] r;
  {MUL} u_core (.a(ra), .b(rb), .y(r));
  assign in_ready = !busy;
  always @(posedge clk) begin
    out_valid <= 1'b0;
    if (rst) begin
      busy <= 1'b0;
    end else if (!busy && in_valid) begin
      ra <= a; rb <= b; busy <= 1'b1; wait_n <= a[1:0] ^ b[1:0];
    end else if (busy) begin
      if (wait_n == 2'd0) begin busy <= 1'b0; y <= r; out_valid <= 1'b1; end
      else wait_n <= wait_n - 2'd1;
    end
  end
endmodule
"""


@pytest.mark.rtl
@pytest.mark.slow                          # one more harness build: kept out of the CI minutes
@pytest.mark.parametrize("mode", ["fast", "cocotb"])
def test_handshake_unit_with_variable_latency(tmp_path, mode):
    (tmp_path / "impl.v").write_text(unit_text())
    (tmp_path / "hs.v").write_text(HANDSHAKE)
    res, lines = simulate(format="e4m3", unit="mul", stages=1, n=0 if mode == "fast" else 2000,
                          mode=mode, waves=False, build_root=str(ROOT),
                          verilog=(str(tmp_path / "impl.v"), str(tmp_path / "hs.v")),
                          top="hs_mul", valid_in="in_valid", valid_out="out_valid",
                          ready_in="in_ready")
    assert res.ok, "\n".join(lines)


# -- streaming (#15 item 3) -------------------------------------------------------------------
@pytest.mark.rtl
def test_streamed_run_resumes_after_ctrl_c(monkeypatch):
    """A fast-mode run above STREAM_FROM vectors streams in chunks (no vectors file), prints
    progress with rate and ETA, and after Ctrl-C a rerun resumes from the finished chunks."""
    from macforge.sim import runner
    monkeypatch.setattr(runner, "STREAM_FROM", 10_000)
    monkeypatch.setattr(runner, "STREAM_CHUNK", 8192)
    calls = []
    real = runner._ChunkReport.__call__

    def interrupting(self, lo, *a):
        calls.append(lo)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, lo, *a)
    monkeypatch.setattr(runner._ChunkReport, "__call__", interrupting)
    kw = dict(format="fp16", unit="mul", n=60_000, seed=7, mode="fast", waves=False,
              build_root=str(ROOT))
    for old in (ROOT / "fmul_fp16_fp16_rne_s0" / "fast").glob("stim_*_n60000_s7_*.progress.json"):
        old.unlink()                       # a finished run from before would not resume
    progress = []
    res, lines = simulate(progress=progress.append, **kw)
    text = "\n".join(lines + progress)
    assert not res.ok and re.search(r"^INCOMPLETE fmul_fp16_fp16_rne_s0: 16,384 of ", text,
                                    re.M), text
    assert not (Path(res.run_dir) / "vectors.npz").exists()
    monkeypatch.setattr(runner._ChunkReport, "__call__", real)
    progress.clear()
    res, lines = simulate(progress=progress.append, **kw)
    text = "\n".join(lines + progress)
    assert re.search(r"^resuming stim_fmul_fp16\S+: 16,384 of 6\d,\d{3} vectors done", text,
                     re.M), text
    assert re.search(r"M vectors/s  0 mismatches  ETA \d", text), text
    corners = runner.StimulusSweep(hw.make_unit("mul", "fp16").manifest(), 1, 7).n_corner
    assert res.ok and res.vectors == 60_000 + corners, text


def test_run_dirs_are_fresh_and_pruned(tmp_path):
    import os
    import time
    from macforge.sim._rtl import KEEP_RUNS, run_dir
    base = tmp_path / "top" / "runs"
    base.mkdir(parents=True)
    old = time.time() - 7200
    for i in range(KEEP_RUNS + 5):
        d = base / f"20200101T0000{i:02d}-1-x"
        d.mkdir()
        os.utime(d, (old, old))
    recent = base / "20200101T000099-1-y"         # touched now: may still be running
    recent.mkdir()
    a, b = run_dir(tmp_path, "top"), run_dir(tmp_path, "top")
    assert a != b and a.is_dir() and b.is_dir()
    left = sorted(d.name for d in base.iterdir())
    assert len(left) == KEEP_RUNS and recent.name in left and a.name in left


def test_stimulus_sweep_chunks_are_pure():
    """Any chunk of a StimulusSweep is the same slice of the whole run, whatever was drawn
    before (corners first, then random blocks seeded per block)."""
    import numpy as np
    from macforge.sim.sweeps import StimulusSweep
    man = hw.make_unit("fma", "fp32").manifest()
    whole = StimulusSweep(man, 5000, 3, block=700).chunk(0, 10**9)
    s = StimulusSweep(man, 5000, 3, block=700)
    assert whole["a"].size == s.total == s.n_corner + 5000
    rng = np.random.default_rng(0)
    for lo, hi in [(0, 10), (s.n_corner - 3, s.n_corner + 800), (s.total - 5, s.total)] + [
            tuple(sorted(rng.integers(0, s.total, 2))) for _ in range(20)]:
        part = s.chunk(int(lo), int(hi))
        assert all(np.array_equal(part[k], whole[k][lo:hi]) for k in whole)
    assert not np.array_equal(whole["a"][-5000:], StimulusSweep(man, 5000, 4).chunk(
        s.n_corner, s.total)["a"])                       # another seed, other vectors
