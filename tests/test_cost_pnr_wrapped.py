"""``macforge cost --pnr``: the unit is placed and routed inside the scan wrapper on the flow's
device (iCE40 UP5K SG48, ECP5-85F), whatever its width, with the bare unit's cell counts; a
design without a manifest is a one-line error before anything runs; stale keys are not reused.

CI: the e4m3 MAC with fp32 accumulator (51 data port bits, more than the UP5K SG48's 39 pins)
on iCE40, and one sweep point; ECP5 is marked slow.
"""
import re

import pytest

from macforge import hw
from macforge.costmodel import Cache, Design, fpga_cost
from macforge.costmodel.cache import key
from macforge.costmodel.designs import IntMul
from macforge.costmodel.sweep import parse_spec
from macforge.costmodel.sweep._point import evaluate
from macforge.costmodel.synth import synth_fpga
from macforge.toolchain.errors import SynthError
from macforge.toolchain.nextpnr import DEVICES
from macforge.toolchain.versions import tool_versions
from macforge.toolchain.yosys import fpga_script
from macforge.fpga.protocol import PortLayout
from macforge.cli import main

_NEEDS_UNIT = (r"--pnr needs a macforge unit: place and route runs it inside the scan wrapper, "
               r"which reads the port roles from the unit's manifest, and imul_s8 has none; "
               r"cost it without --pnr")


def _check_wrapped(res, bare, target):
    assert res["device"] == DEVICES[target].name
    assert res["fmax_mhz"] > 0
    cp = res["pnr"]["critical_path"]
    # Fmax is the register-to-register path nextpnr reports, through the unit
    assert abs(1000 / cp["delay_ns"] - res["fmax_mhz"]) / res["fmax_mhz"] < 0.02
    assert "unit." in cp["from"] + cp["to"]
    # utilisation is the bare unit's, not the wrapper's flip-flops added
    for k in ("lut", "carry", "ff", "cells"):
        assert res[k] == bare[k], k
    assert res["dsp_blocks"] == bare["dsp_blocks"]
    # ... and the unit inside the wrapper is the same unit: same flip-flops and DSPs, LUTs
    # within 1 % (ABC's mapping may differ by a few LUTs in another context: ECP5 e4m3 959 vs 956)
    wrapped = res["pnr"]["unit"]
    assert (wrapped["ff"], wrapped["dsp"]) == (bare["ff"], bare["dsp_blocks"])
    assert abs(wrapped["lut"] - bare["lut"]) <= 0.01 * bare["lut"]
    assert res["pnr"]["wrapper_cells"]["ff"] > 0


def test_wide_unit_placed_on_the_up5k_in_the_wrapper(tmp_path):
    unit = hw.make_unit("mac", "e4m3", acc="fp32")
    design = Design.from_unit(unit)
    L = PortLayout.from_manifest(design.manifest)
    assert L.in_bits + L.out_bits > 39             # does not fit the SG48 one pin per bit
    cache = Cache(str(tmp_path / "c.sqlite"))
    # a stale entry under the old key (per-bit pins, another device) must not be reused
    old = key("fpga", "ice40", True, True, design.digest(), fpga_script("ice40", design.top),
              tool_versions())
    cache.put(old, "fpga", {"lut": -1, "fmax_mhz": 999.0, "device": "--hx8k --package ct256"})
    res = fpga_cost(design, "ice40", pnr=True, cache=cache)
    assert not res["cached"] and res["fmax_mhz"] != 999.0
    _check_wrapped(res, synth_fpga(design, "ice40"), "ice40")
    assert "UP5K" in res["device"]
    again = fpga_cost(design, "ice40", pnr=True, cache=cache)
    assert again["cached"] and again["fmax_mhz"] == res["fmax_mhz"] and again["key"] == res["key"]


def test_design_without_manifest_is_one_line_error_before_synthesis(tmp_path, capsys,
                                                                     monkeypatch):
    from macforge.costmodel import synth as synth

    def no_yosys(*a, **k):
        raise AssertionError("synthesis ran")
    monkeypatch.setattr(synth, "run_script", no_yosys)
    design = Design.from_amaranth(IntMul(8), "imul_s8")
    with pytest.raises(SynthError, match=rf"^{_NEEDS_UNIT}$"):
        fpga_cost(design, "ice40", pnr=True, cache=False)
    v = tmp_path / "imul.v"
    v.write_text(design.verilog)
    assert main(["cost", "--verilog", str(v), "--top", "imul_s8", "--target", "ecp5", "--pnr",
                 "--no-cache"]) == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(rf"macforge: error: {_NEEDS_UNIT}", err.splitlines()[-1]), err


def test_sweep_point_reports_wrapped_fmax(tmp_path, monkeypatch):
    monkeypatch.setenv("MACFORGE_CACHE", str(tmp_path / "cache"))
    spec = parse_spec("axes:\n  unit: mul\n  format: e2m1\n"
                      "measure:\n  fpga: {targets: [ice40], pnr: true}\n")
    assert len(spec.points) == 1
    p = spec.points[0]
    r = evaluate({"kwargs": p.kwargs, "axes": p.axes, "measure": spec.measure})
    assert r["status"] == "ok", r["error"]
    m = r["metrics"]
    assert m["fmax_mhz_ice40"] > 0 and m["lut_ice40"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["e4m3", "int8"])
def test_ecp5_placed_on_the_85f_in_the_wrapper(fmt):
    design = Design.from_unit(hw.make_unit("mac", fmt))
    res = fpga_cost(design, "ecp5", pnr=True, cache=False)
    _check_wrapped(res, synth_fpga(design, "ecp5"), "ecp5")
    assert "85F" in res["device"]
