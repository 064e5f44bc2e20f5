"""macforge.progress: tqdm lines on a terminal, plain lines elsewhere, nothing under --quiet."""
import io
import time

import pytest

from macforge import progress
from macforge.cli import main


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def _loud():
    progress.set_quiet(False)
    yield
    progress.set_quiet(False)


def test_bar_draws_on_a_terminal_only():
    tty, log = FakeTTY(), io.StringIO()
    for stream in (tty, log):
        with progress.bar(4, "points", unit="point", stream=stream) as b:
            for _ in range(4):
                b.update(1)
    assert "points: 100%" in tty.getvalue() and "4/4" in tty.getvalue()
    assert log.getvalue() == ""                    # not a TTY: the bar stays silent


def test_task_status_line_and_messages(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    with progress.task("macforge test", delay=0.0):
        progress.say("building fmul_e4m3fn_e4m3fn_rne_s0")
        time.sleep(0.7)                             # one refresh of the status line
    out = tty.getvalue()
    assert "building fmul_e4m3fn_e4m3fn_rne_s0\n" in out
    assert "macforge test: 00:00, building fmul_e4m3fn" in out


def test_plain_lines_without_a_terminal_and_quiet(capsys):
    with progress.task("macforge test", delay=0.0):
        progress.say("one line")
    assert capsys.readouterr().err == "one line\n"
    progress.set_quiet(True)
    progress.say("hidden")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", [["--quiet", "workload", "show", "resnet18"],
                                  ["workload", "show", "resnet18", "-q"]])
def test_cli_quiet_before_or_after_the_subcommand(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "conv1" in out.out and out.err == ""
    assert progress.is_quiet()


# -- every command family: progress on a terminal, nothing under --quiet, no \r off a TTY ------
# The expensive inner calls (Verilator, Yosys, nextpnr, the activity simulations) are replaced
# by fakes that report progress the way the real ones do, so each test runs in well under 10 s;
# what is tested is the wiring: the CLI hands the library a progress callable or meter, the
# library calls it, and macforge.progress draws it (or not).

import functools
import json

import numpy as np

from macforge.progress import status

RESULT = {"module": None, "area_um2": 100.0, "ge": 125.3, "energy_pj": 0.2, "static_pj": 0.25,
          "delay_ps": 500.0, "fmax_mhz": 2000.0, "flops": 0, "cached": False, "n_cells": 9,
          "cells": {"NAND2_X1": 9}, "depth": 3, "generic_ge": 120.0, "clock_ps": None,
          "activity": {"cap_ff_per_op": 10.0, "logic_ff_per_op": 10.0, "clock_ff_per_op": 0.0,
                       "toggles_per_op": 5.0, "ops": 1000, "toggle_rate": 0.1},
          "calibration": {"k_pj_per_ff": 0.02, "ref_cap_ff_per_op": 10.0, "ref_area_um2": 100.0,
                          "source": "fake"}}
CALIB = {"k_pj_per_ff": 0.02, "ref_pj": 0.2, "ref_cap_ff_per_op": 10.0, "ref_area_um2": 100.0,
         "k_over_half_cv2": 0.5, "source": "fake"}


def _fake_asic_cost(design, n_ops=100_000, progress=None, **kw):
    """What api.asic_cost reports: the synthesis on the status line, the simulation's
    (done, total) to ``progress``."""
    status(f"synthesising {design.top} for asic (yosys)")
    for done in (n_ops // 2, n_ops):
        if progress:
            progress(done, n_ops)
    return dict(RESULT, module=design.top)


class _FakeDesign:
    """What the fake costing reads of a Design (the real one writes the unit's Verilog)."""

    def __init__(self, top):
        self.top = top

    @classmethod
    def from_unit(cls, unit):
        unit._MustUse__silence = True
        return cls(unit.module_name)

    @classmethod
    def from_amaranth(cls, elaboratable, top, description=""):
        for obj in (elaboratable, *vars(elaboratable).values()):   # and its sub-units
            if hasattr(obj, "_MustUse__silence"):
                obj._MustUse__silence = True
        return cls(top)


@pytest.fixture
def costing(monkeypatch):
    # imported before the patch: a module first imported under it would bind the fake
    # Design for good (``from .synth import Design``) and leak it into later tests
    import macforge.costmodel.calibrate, macforge.costmodel.pipelining  # noqa: F401,E401
    import macforge.costmodel.reproduce  # noqa: F401
    monkeypatch.setattr("macforge.costmodel.api.asic_cost", _fake_asic_cost)
    monkeypatch.setattr("macforge.costmodel.synth.Design", _FakeDesign)
    monkeypatch.setattr("macforge.costmodel.api.get_calibration", lambda *a, **k: dict(CALIB))


@pytest.fixture
def sim_fakes(monkeypatch, tmp_path):
    """runner.run with the Verilator steps replaced: the check reports (done, total)."""
    import macforge.sim.runner as runner

    class Info:
        mdir = tmp_path / "mdir"

    def fake_check(manifest, sources, stim, progress=None, **kw):
        n = len(next(iter(v for k, v in stim.items() if k != "meta")))
        for done in (n // 2, n):
            if progress:
                progress(done, n)
        expected, _ = runner.compare(manifest, stim, np.zeros(n, np.uint64))
        return {"observed": expected, "expected": expected, "mismatches": np.array([], int),
                "seconds": {"build": 0.0, "sim": 0.1, "check": 0.1}, "library": "fake"}
    rtl = tmp_path / "u.v"
    rtl.write_text("module u; endmodule\n")
    monkeypatch.setattr(runner, "ensure_verilator_on_path", lambda: None)
    def generated_rtl(unit, root):
        unit._MustUse__silence = True            # never elaborated here
        return rtl
    monkeypatch.setattr(runner, "_generated_rtl", generated_rtl)
    monkeypatch.setattr(runner, "inspect_rtl", lambda *a, **k: Info())
    monkeypatch.setattr("macforge.sim.fast.check_fast", fake_check)


@pytest.fixture
def fpga_fakes(monkeypatch):
    import macforge.fpga.flow as flow

    def fake_build(unit, target, root=None, seed=None, progress=None, **kw):
        unit._MustUse__silence = True            # never elaborated here
        say = progress or (lambda m: None)
        say("  synthesising the wrapper (pyosys)")
        say("  placing and routing with nextpnr")
        m = unit.manifest()
        return {"module": m["module"], "unit": {"latency": m["latency"]}, "fmax_mhz": 50.0,
                "synth": {"unit": {"lut": 10, "ff": 0, "carry": 1, "dsp": 0}}, "notes": []}
    monkeypatch.setattr(flow, "build", fake_build)


def _families(tmp_path):
    return {
        "sim": (["sim", "--format", "e4m3", "--unit", "mul", "--mode", "fast",
                 "--build-dir", str(tmp_path / "sim")],
                ["building fmul_e4m3fn_e4m3fn_rne_s0 with Verilator"], "checking vs golden"),
        "cost": (["cost", "--format", "e4m3", "--unit", "mul", "-n", "4000", "--json",
                  "--timed-samples", "0"],
                 ["costing fmul_e4m3fn_e4m3fn_rne_s0 on asic",
                  "synthesising fmul_e4m3fn_e4m3fn_rne_s0 for asic"], "simulating"),
        "fpga": (["fpga", "--format", "e4m3", "--unit", "mul", "--target", "ice40",
                  "--sweep-stages", "0,1", "--output", str(tmp_path / "fpga")],
                 ["fmul_e4m3fn_e4m3fn_rne_s0 on ice40", "fmul_e4m3fn_e4m3fn_rne_s1 on ice40",
                  "placing and routing"], "fpga sweep"),
        "calibrate": (["calibrate", "--timed-samples", "0", "--json", "--no-cache"],
                      ["calibration against Horowitz", "int8 mult: ", "costing"], "calibrate"),
        "reproduce": (["reproduce", "int-vs-fp", "--json", "--no-cache", "--timed-samples", "0"],
                      ["reproducing int-vs-fp", "costing"], "int-vs-fp"),
    }


FAMILIES = ["sim", "cost", "fpga", "calibrate", "reproduce"]
# the fake Design never elaborates the units the real flows would (Amaranth's warning)
pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")


@pytest.fixture
def family(request, monkeypatch, tmp_path, costing, sim_fakes, fpga_fakes):
    monkeypatch.setattr(progress, "task", functools.partial(progress.task, delay=0.0))
    return _families(tmp_path)[request.param]


@pytest.mark.parametrize("family", FAMILIES, indirect=True)
def test_progress_on_a_terminal(family, monkeypatch, capsys):
    argv, lines, bar = family
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    assert main(argv) == 0
    err = tty.getvalue()
    for text in lines:
        assert text in err, (text, err[-2000:])
    if bar:
        assert f"{bar}: 100%" in err and "\r" in err
    out = capsys.readouterr().out
    if "--json" in argv:
        assert json.loads(out)["macforge"]["command"].startswith("macforge " + argv[0])


@pytest.mark.parametrize("family", FAMILIES, indirect=True)
def test_quiet_writes_nothing_to_stderr(family, monkeypatch, capsys):
    argv, _, _ = family
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    assert main([*argv, "--quiet"]) == 0
    assert tty.getvalue() == ""
    assert capsys.readouterr().out


@pytest.mark.parametrize("family", FAMILIES, indirect=True)
def test_plain_lines_off_a_terminal(family, capsys):
    argv, lines, bar = family
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err
    assert lines[0] in err                   # the phase lines stay, as plain lines
    if bar == "simulating":                  # cost's contract: a plain line every 2 s and at the end
        assert "  simulating: 4000/4000\n" in err


def test_meter_redraws_for_a_new_total_and_closes():
    tty = FakeTTY()
    import sys
    real, sys.stderr = sys.stderr, tty
    try:
        m = progress.meter("simulating", "op")
        m(50, 100), m(100, 100), m(10, 20), m(20, 20)
    finally:
        sys.stderr = real
    out = tty.getvalue()
    assert "100/100" in out and "20/20" in out


def test_status_shows_on_the_status_line_only(monkeypatch, capsys):
    status("outside any task: nothing")          # a Python caller sees nothing
    assert capsys.readouterr().err == ""
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    with progress.task("macforge test", delay=0.0):
        status("synthesising fmul for asic (yosys)")
    assert "macforge test: 00:00, synthesising fmul for asic (yosys)" in tty.getvalue()


def test_synthesis_and_emulation_name_themselves(monkeypatch):
    """The real library sites: synth_asic's entry and an emulated matmul of the accuracy
    model (a two-layer fake network), on the status line of a terminal."""
    from macforge import hw
    from macforge.costmodel import synth
    from macforge.costmodel.accuracy.run import EmulatedMatmul, layer_specs
    from macforge.toolchain.errors import SynthError

    def stop(*a, **k):
        raise SynthError("stopped by the test")
    monkeypatch.setattr(synth, "_run_on", stop)
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    with progress.task("macforge test", delay=0.0):
        with pytest.raises(SynthError):
            synth.synth_asic(synth.Design.from_unit(hw.make_unit("mul", "e4m3")))
        specs = layer_specs("e4m3", ["fc0", "fc1"])
        mm = EmulatedMatmul(specs, {s.calibration: {"fc0": 1.0, "fc1": 1.0}
                                    for s in specs.values()})
        y = mm("fc0", np.ones((2, 4)), np.ones((3, 4)))
    assert y.shape == (2, 3) and mm.calls == 1
    err = tty.getvalue()
    assert "synthesising fmul_e4m3fn_e4m3fn_rne_s0 for asic (yosys)" in err
    assert "emulating fc0 on e4m3" in err


def test_the_chunked_golden_check_reports_each_piece():
    """sim.continuation.compare_chunked (the fast sim's check) tells (checked, total) per
    piece; the verdict is the whole-run one."""
    from macforge import hw
    from macforge.sim import continuation, model
    from macforge.sim.stimulus import make_stimulus
    unit = hw.make_unit("mul", "e4m3")
    unit._MustUse__silence = True
    manifest = unit.manifest()
    stim = make_stimulus(manifest, 0, seed=1)
    stim.pop("meta")
    expected, _ = model.compare(manifest, stim, np.zeros(65536, np.uint64))
    seen = []
    got, bad = continuation.compare_chunked(manifest, stim, expected, chunk=20_000,
                                            progress=lambda d, t: seen.append((d, t)))
    assert seen == [(20_000, 65536), (40_000, 65536), (60_000, 65536), (65536, 65536)]
    assert bad.size == 0 and np.array_equal(got, expected)


def test_meter_off_a_terminal_says_plain_lines_only_with_every(capsys):
    quiet_meter, lines = progress.meter("checking"), progress.meter("simulating", every=3600)
    for done in (10, 20):
        quiet_meter(done, 20)
        lines(done, 20)
    assert capsys.readouterr().err == "  simulating: 10/20\n  simulating: 20/20\n"


def test_a_streamed_sim_draws_the_checked_bar(sim_fakes, monkeypatch, tmp_path):
    """More than STREAM_FROM vectors of a stateless unit stream in chunks (sim.stream): the
    runner's chunk hook tells ``checked`` where each chunk ends (stream faked: two chunks)."""
    import macforge.sim.runner as runner
    from macforge.sim.stream import StreamResult

    def fake_stream(manifest, sources, sweep, on_chunk=None, **kw):
        for lo in (0, sweep.total - 8):
            stim = sweep.chunk(lo, lo + 8)
            expected, _ = runner.compare(manifest, stim, np.zeros(8, np.uint64))
            on_chunk(lo, stim, expected, expected, np.array([], int))
        return StreamResult(sweep.name, manifest["module"], sweep.total, sweep.total, 0, [],
                            True, 1.0, sweep.total, {"build": 0.0}, None)
    monkeypatch.setattr("macforge.sim.stream.stream", fake_stream)
    seen = []
    spec = runner.SimSpec(format="fp16", unit="mul", n=runner.STREAM_FROM + 1, mode="fast",
                          build_root=str(tmp_path / "sim"))
    res = runner.run(spec, checked=lambda d, t: seen.append((d, t)))
    total = seen[-1][1]
    assert res.ok and total > runner.STREAM_FROM
    assert seen == [(8, total), (total, total)]
