"""Yosys (pyosys: native Yosys + ABC): scripts in a fresh subprocess each, the FPGA scripts.

Yosys keeps global state (the design, the log, ABC temp dirs), so each run gets its own
interpreter: runs are isolated, can time out, and a crash (ABC segfaults on bad libraries)
becomes one error line instead of killing the caller.

The FPGA part: :func:`fpga_script` (``synth_ice40``/``synth_ecp5``/``synth_xilinx``, with or
without DSP blocks, optionally keeping modules as their own hierarchy level),
:func:`fpga_summary` (LUTs, carries, DSPs, flip-flops, BRAMs of a cell histogram) and
:func:`synth_fpga_hier`, which runs such a script and counts a kept module's cells apart from
its parent's -- retrying without DSP blocks when Yosys 0.70's ``ice40_dsp`` crashes.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from .errors import SynthError, ToolError, YosysError
from .names import yosys_id

__all__ = ["run_script", "yosys_version", "version_from_stat", "FPGA_FAMILIES", "fpga_script",
           "fpga_summary", "stat_modules", "synth_fpga_hier", "yosys_path"]

# characters that end, quote or comment a Yosys command word
_UNSAFE_IN_WORD = re.compile(r"[\s;\"'#]")


def yosys_path(path) -> str:
    """``path`` (made absolute) as one word of a Yosys command; SynthError if it has white
    space, ``;``, quotes or ``#``, which Yosys' command language would interpret."""
    text = os.path.abspath(os.fspath(path))
    if _UNSAFE_IN_WORD.search(text):
        raise SynthError(f"path {text!r} has white space, ';', a quote or '#', which Yosys "
                         "commands cannot carry; move the file to a plain path")
    return text

_DRIVER = r"""
import json, sys
try:                    # our own session: die, with yosys-abc, when the caller dies
    from macforge.jobs import die_with_parent
    die_with_parent()
except ImportError:
    pass
try:
    from pyosys import libyosys as ys
except ImportError as e:
    print("MACFORGE_NO_PYOSYS", e, flush=True)
    sys.exit(3)
cmds = json.load(sys.stdin)
d = ys.Design()
for c in cmds:
    ys.run_pass(c, d)
"""


def run_script(commands, cwd, timeout=1800.0, log_name="yosys.log", keep_log_in=None):
    """Run Yosys ``commands`` (a list of pass invocations) in ``cwd``; return the log text.

    ``keep_log_in``: a directory that outlives ``cwd`` (a scratch directory); the log of a
    failed run is copied there and the error names the copy.

    Raises
    ------
    ToolError
        pyosys is not installed (one line with the install hint).
    YosysError
        Yosys reported an error, crashed or timed out.
    """
    # own process group: on a timeout (or Ctrl-C) Yosys' yosys-abc children die with it
    # instead of running on as orphans
    proc = subprocess.Popen([sys.executable, "-c", _DRIVER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(json.dumps(list(commands)), timeout=timeout)
    except BaseException as exc:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise YosysError(f"yosys timed out after {timeout:.0f} s") from None
        raise
    log = out + err
    with open(os.path.join(cwd, log_name), "w") as f:
        f.write(log)
    if "MACFORGE_NO_PYOSYS" in out:
        raise ToolError("pyosys (native Yosys with ABC) not found; install it with "
                        "`pip install pyosys`")
    if proc.returncode != 0:
        m = re.search(r"^ERROR: (.*)$", log, re.M)
        what = m.group(1) if m else f"exit status {proc.returncode}"
        kept = os.path.join(cwd, log_name)
        if keep_log_in is not None:
            os.makedirs(keep_log_in, exist_ok=True)
            digest = hashlib.sha256(json.dumps(list(commands)).encode()).hexdigest()[:12]
            stamp = time.strftime("%Y%m%d-%H%M%S")
            kept = os.path.join(keep_log_in, f"yosys-{stamp}-{digest}-{os.getpid()}.log")
            with open(kept, "w") as f:
                f.write(log)
        raise YosysError(f"yosys failed: {what} (log: {kept})")
    return log


_VERSION = None


def version_from_stat(stat: dict) -> str:
    """'Yosys 0.70 (git sha1 28ba3cb92)' from a ``stat -json`` report's creator field."""
    m = re.search(r"(Yosys \S+ \(git sha1 [0-9a-f]+)", stat.get("creator", ""))
    return (m.group(1) + ")") if m else stat.get("creator", "unknown")


def yosys_version() -> str:
    """The Yosys version string of the installed pyosys, e.g. 'Yosys 0.70 (git sha1 28ba3cb92)'."""
    global _VERSION
    if _VERSION is None:
        with tempfile.TemporaryDirectory() as d:
            run_script(["tee -q -o v.json stat -json"], d)
            with open(os.path.join(d, "v.json")) as f:
                _VERSION = version_from_stat(json.load(f))
    return _VERSION


# -- FPGA synthesis ----------------------------------------------------------------------
#: Yosys command, DSP switch and how to summarise the cells, per FPGA family.
FPGA_FAMILIES = {
    "ice40": {"synth": "synth_ice40 -top {top}", "dsp_on": " -dsp", "dsp_off": "",
              "lut": ("SB_LUT4",), "carry": ("SB_CARRY",), "dsp": ("SB_MAC16",),
              "ff": ("SB_DFF",), "bram": ("SB_RAM40_4K",)},
    "ecp5": {"synth": "synth_ecp5 -top {top}", "dsp_on": "", "dsp_off": " -nodsp",
             "lut": ("LUT4",), "carry": ("CCU2C",), "dsp": ("MULT18X18D", "ALU54B"),
             "ff": ("TRELLIS_FF",), "bram": ("DP16KD",)},
    "xilinx": {"synth": "synth_xilinx -flatten -family xc7 -top {top}", "dsp_on": "",
               "dsp_off": " -nodsp",
               "lut": ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"), "carry": ("CARRY4",),
               "dsp": ("DSP48E1",), "ff": ("FDRE", "FDSE", "FDCE", "FDPE"),
               "bram": ("RAMB18E1", "RAMB36E1")},
}


def fpga_script(target: str, top: str, dsp: bool = True, reads=("read_verilog -sv design.v",),
                keep=()) -> list:
    """The Yosys commands for an FPGA family (``dsp=False`` forbids DSP blocks).

    ``reads``: the commands that read the design; ``keep``: modules kept as their own level
    of hierarchy (not flattened into their parent), so ``stat`` counts them separately."""
    if target not in FPGA_FAMILIES:
        raise SynthError(f"unknown FPGA target {target!r}; accepted: " + ", ".join(FPGA_FAMILIES))
    f = FPGA_FAMILIES[target]
    top = yosys_id(top)
    cmd = f["synth"].format(top=top) + (f["dsp_on"] if dsp else f["dsp_off"])
    return [*reads, f"hierarchy -check -top {top}",
            *(f"setattr -mod -set keep_hierarchy 1 {yosys_id(m)}" for m in keep), cmd,
            "delete t:$scopeinfo", "tee -q -o stat.json stat -json", "write_json netlist.json"]


def fpga_summary(target, cells):
    """LUTs, carries, DSP blocks and flip-flops in a ``stat`` cell histogram of ``target``."""
    f = FPGA_FAMILIES[target]
    def count(prefixes):
        return sum(n for t, n in cells.items() if any(t == p or t.startswith(p) for p in prefixes))
    return {"lut": count(f["lut"]), "carry": count(f["carry"]), "dsp": count(f["dsp"]),
            "ff": count(f["ff"]), "bram": count(f["bram"])}


def stat_modules(stat: dict) -> dict:
    """The modules of a ``stat -json`` report by name (Yosys' escaping backslash removed)."""
    return {name.lstrip("\\"): m for name, m in stat.get("modules", {}).items()}


def _counts(target, cells):
    s = fpga_summary(target, cells)
    s["cells"] = dict(sorted(cells.items()))
    return s


def synth_fpga_hier(target, wd, reads, top, keep, dsp=True, timeout=3600.0, notes=None):
    """Run :func:`fpga_script` in ``wd``; return (kept module's counts, the rest's, total).

    Yosys 0.70's ``ice40_dsp`` pass crashes (SIGSEGV) on some pipelined multipliers (the
    int8 MAC with 2 or more stages); the build then retries without DSP blocks and says so
    in ``notes``."""
    script = fpga_script(target, top, dsp=dsp, reads=reads, keep=keep)
    try:
        run_script(script, wd, timeout=timeout)
    except YosysError as exc:
        if not (dsp and target == "ice40" and "exit status -11" in str(exc)):
            raise
        if notes is not None:
            notes.append("Yosys crashed (SIGSEGV) in synth_ice40 -dsp; synthesised without "
                         "SB_MAC16 DSP blocks instead")
        run_script(fpga_script(target, top, dsp=False, reads=reads, keep=keep), wd,
                   timeout=timeout)
    with open(os.path.join(wd, "stat.json")) as f:
        mods = stat_modules(json.load(f))
    unit_cells = mods.get(keep[0], {}).get("num_cells_by_type", {}) if keep else {}
    top_cells = {k: v for k, v in mods[top].get("num_cells_by_type", {}).items()
                 if k not in keep}
    total = dict(top_cells)
    for k, v in unit_cells.items():
        total[k] = total.get(k, 0) + v
    return _counts(target, unit_cells), _counts(target, top_cells), _counts(target, total)
