"""FPGA builds (fpga.flow): synthesis, place and route, bitstreams, reports, Xilinx script.

CI builds the e4m3 MAC on iCE40 and the int8 MAC on ECP5 (both targets, both units); the other
two pairings, Xilinx, the board harness bitstreams and the stage sweep are marked slow.
"""
import json
import re
from pathlib import Path

import pytest

from macforge import hw
from macforge.fpga.flow import build, build_board, parse_stages, sweep
from macforge.toolchain.nextpnr import DEVICES
from macforge.fpga.protocol import PortLayout
from macforge.cli import main

# sync words: iCE40 bitstreams (SiliconBlue) and ECP5 bitstreams (preamble)
_SYNC = {"ice40": b"\x7e\xaa\x99\x7e", "ecp5": b"\xff\xff\xbd\xb3"}


def _check_build(rep, unit, target):
    man = unit.manifest()
    L = PortLayout.from_manifest(man)
    bit = rep["files"]["bitstream"]
    assert bit.endswith(DEVICES[target].bitstream)
    data = Path(bit).read_bytes()
    assert len(data) > 50_000 and _SYNC[target] in data
    u, w = rep["synth"]["unit"], rep["synth"]["wrapper"]
    assert u["lut"] > 0 and u["ff"] >= 32            # the 32-bit accumulator register
    # the wrapper holds exactly: operand chain, capture and shift-out registers, 4 control FFs
    assert w["ff"] == L.in_bits + 2 * L.out_bits + 4
    util = rep["utilisation"]
    for key in ("lut", "ff", "io"):
        assert 0 < util[key]["used"] < util[key]["available"], (key, util[key])
        assert 0 < util[key]["percent"] < 100
    assert util["io"]["used"] == 5                      # clk rst sin shift sout
    assert util["lut"]["used"] >= u["lut"]              # placed cells hold every unit LUT
    assert rep["fmax_mhz"] > 0 and rep["critical_path"]["delay_ns"] > 0
    assert abs(1000 / rep["critical_path"]["delay_ns"] - rep["fmax_mhz"]) / rep["fmax_mhz"] < 0.02
    text = Path(rep["files"]["report"]).with_suffix(".txt").read_text()
    assert f"Fmax {rep['fmax_mhz']:.2f} MHz" in text and "seed 1" in text
    assert json.loads(Path(rep["files"]["report"]).read_text())["fmax_mhz"] == rep["fmax_mhz"]


@pytest.mark.parametrize("fmt,target", [("e4m3", "ice40"), ("int8", "ecp5")])
def test_build_bitstream_report(tmp_path, fmt, target):
    unit = hw.make_unit("mac", fmt)
    rep = build(unit, target, root=str(tmp_path))
    _check_build(rep, unit, target)
    cap = {"ice40": 5280, "ecp5": 83640}[target]
    assert rep["utilisation"]["lut"]["available"] == cap       # nextpnr's device, not typed
    if fmt == "int8" and target == "ecp5":
        assert rep["synth"]["unit"]["dsp"] == 1               # the 8x8 product in a MULT18X18D


@pytest.mark.slow
@pytest.mark.parametrize("fmt,target", [("e4m3", "ecp5"), ("int8", "ice40")])
def test_build_bitstream_report_other_pairs(tmp_path, fmt, target):
    unit = hw.make_unit("mac", fmt)
    _check_build(build(unit, target, root=str(tmp_path)), unit, target)


@pytest.mark.slow
def test_unit_cells_match_cost_model(tmp_path):
    """The unit kept as its own hierarchy level in the wrapper synthesises to the same cells
    as the bare unit through `macforge cost` (nothing folded into or out of the wrapper)."""
    from macforge.costmodel.synth import Design, synth_fpga
    unit = hw.make_unit("mac", "e4m3")
    rep = build(unit, "ice40", root=str(tmp_path))
    bare = synth_fpga(Design.from_unit(unit), "ice40")
    for k in ("lut", "carry", "ff"):
        assert rep["synth"]["unit"][k] == bare[k], k


@pytest.mark.slow
def test_xilinx_utilisation_and_vivado_script(tmp_path):
    unit = hw.make_unit("mac", "int8")
    rep = build(unit, "xilinx", root=str(tmp_path))
    assert rep["synth"]["unit"]["dsp"] >= 1 and rep["synth_nodsp"]["unit"]["dsp"] == 0
    assert rep["synth_nodsp"]["unit"]["lut"] > rep["synth"]["unit"]["lut"]
    assert 0 < rep["utilisation"]["lut"]["percent"] < 100
    tcl = Path(rep["files"]["vivado_tcl"]).read_text()
    for cmd in ("synth_design -top scan_imac_int8_int32_wrap_s0 -part xc7a35tcsg324-1",
                "route_design", "report_timing_summary", "write_bitstream"):
        assert cmd in tcl


@pytest.mark.slow
@pytest.mark.parametrize("board", ["icebreaker", "ulx3s"])
def test_board_harness_bitstream(tmp_path, board):
    unit = hw.make_unit("mac", "e4m3")
    rep = build_board(unit, board, root=str(tmp_path))
    target = {"icebreaker": "ice40", "ulx3s": "ecp5"}[board]
    data = Path(rep["files"]["bitstream"]).read_bytes()
    assert _SYNC[target] in data
    assert rep["timing_met"], rep["fmax_mhz"]
    assert rep["utilisation"]["io"]["used"] >= 4            # clk, rx, tx, 2 LEDs


@pytest.mark.slow
def test_stage_sweep(tmp_path):
    """Pipelining moves the int8 MAC's critical path off the multiplier (Fmax rises); the
    e4m3 MAC's stages leave the fp32 accumulation loop (acc -> align/add/round -> acc) as
    the critical path, so from one stage on its path runs from the accumulator to itself."""
    rows = sweep(lambda s: hw.make_unit("mac", "int8", stages=s), [0, 1], ["ice40"],
                 root=str(tmp_path))
    assert [r["stages"] for r in rows] == [0, 1]
    assert rows[1]["fmax_mhz"] > rows[0]["fmax_mhz"]
    rep = build(hw.make_unit("mac", "e4m3", stages=1), "ice40", root=str(tmp_path))
    cp = rep["critical_path"]
    assert cp["from"].startswith("unit.acc") and cp["to"].startswith("unit.acc"), cp


def test_loop_stage_sweep_raises_fmax(tmp_path, capsys):
    """The e4m3 -> fp32 MAC's rounding loop bounds Fmax whatever STAGES is; registers inside
    the loop (a C-slow MAC, hw.FMac loop_stages) lift it: on the ECP5 from ~23 to ~59 MHz."""
    argv = ["fpga", "--format", "e4m3", "--acc", "fp32", "--target", "ecp5", "--sweep-stages",
            "1", "--sweep-loop-stages", "0,3", "--output", str(tmp_path), "--json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["stages"], r["loop_stages"], r["interleave"], r["latency"]) for r in rows] == [
        (1, 0, 1, 2), (1, 3, 4, 5)]
    assert [r["module"] for r in rows] == ["fmac_e4m3fn_fp32_rne_s1",
                                           "fmac_e4m3fn_fp32_rne_l3_s1"]
    assert rows[1]["fmax_mhz"] > 2 * rows[0]["fmax_mhz"], rows
    table = (tmp_path / "sweep_fmac_e4m3fn_fp32_rne_loops_ecp5.md").read_text()
    assert "| stages | loop |" in table and "interleaves L + 1 accumulators" in table
    # the loop-free unit's path still runs from the accumulator back into itself
    rep = json.loads((tmp_path / rows[0]["module"] / "ecp5" / "report.json").read_text())
    cp = rep["critical_path"]
    assert cp["from"].startswith("unit.acc") and cp["to"].startswith("unit.acc"), cp


def test_parse_stages():
    assert parse_stages("0..4") == [0, 1, 2, 3, 4]
    assert parse_stages("0,2,4") == [0, 2, 4]
    for bad in ("4..x", "", "-1..2"):
        with pytest.raises(ValueError, match=r"^--sweep-stages takes a range like 0\.\.4"):
            parse_stages(bad)


@pytest.mark.parametrize("argv,msg", [
    (["fpga", "--target", "foo"],
     r"argument --target/-t: unknown target 'foo'; accepted: ice40, ecp5, xilinx \(or a comma list\)"),
    (["fpga", "--sweep-stages", "1..x"],
     r"--sweep-stages takes a range like 0\.\.4 or a list like 0,2,4 of non-negative integers, not '1\.\.x'"),
    (["fpga", "--sweep-stages", "0..1", "--target", "xilinx"],
     r"--sweep-stages measures Fmax with nextpnr: give --target ice40 and/or ecp5"),
    (["hwtest", "--port", "/dev/ttyMACFORGE9", "-n", "3"],
     r"serial port /dev/ttyMACFORGE9 does not exist \(is the icebreaker plugged in\? "
     r"`python -m serial.tools.list_ports` lists the ports\)"),
    (["hwtest", "--corrupt-to-board", "3"],
     r"--corrupt-to-board/--corrupt-from-board apply to --sim only"),
    (["fpga", "--sweep-stages", "1", "--sweep-loop-stages", "0..x"],
     r"--sweep-loop-stages takes a range like 0\.\.4 or a list like 0,2,4 of non-negative "
     r"integers, not '0\.\.x'"),
    (["fpga", "--loop-stages", "1", "--board", "icebreaker"],
     r"the UART harness steps the unit once per frame, at no fixed cycle, so it cannot drive a "
     r"C-slow MAC \(loop-stages > 0\); leave out --board or --loop-stages"),
    (["fpga", "--sweep-loop-stages", "0..2"],
     r"--sweep-loop-stages goes with --sweep-stages \(e\.g\. --sweep-stages 1 "
     r"--sweep-loop-stages 0\.\.4\)"),
    (["hwtest", "--sim", "--loop-stages", "2"],
     r"hwtest steps the unit once per UART frame, at no fixed cycle, so it cannot drive a "
     r"C-slow MAC \(loop-stages > 0: the command of cycle t steps accumulator t mod S\); "
     r"verify it with make sim LOOP_STAGES=n"),
])
def test_cli_errors(capsys, argv, msg):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(r"macforge: error: " + msg, err), err
