"""Run Yosys (pyosys: native Yosys + ABC) in a fresh subprocess per script.

Yosys keeps global state (the design, the log, ABC temp dirs), so each run gets its own
interpreter: runs are isolated, can time out, and a crash (ABC segfaults on bad libraries)
becomes one error line instead of killing the caller.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile

from macforge.sim.tools import ToolError

__all__ = ["run_script", "yosys_version", "version_from_stat", "YosysError", "ToolError"]

_DRIVER = r"""
import json, sys
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


class YosysError(RuntimeError):
    """Yosys failed on a design: the message is Yosys' ERROR line."""


def run_script(commands, cwd, timeout=1800.0, log_name="yosys.log"):
    """Run Yosys ``commands`` (a list of pass invocations) in ``cwd``; return the log text.

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
        raise YosysError(f"yosys failed: {what} (log: {os.path.join(cwd, log_name)})")
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
