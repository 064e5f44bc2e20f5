"""The RTL under test, checked against the manifest before any vector runs; the build cache.

Both simulation modes start here: :func:`inspect` verilates the design once
(:meth:`macforge.toolchain.sources.RtlSources.inspect`: every file Verilator read, the top's
elaborated ports) and checks every port of the manifest -- name, direction, width -- so a wrong
port is one line naming it and both widths, in cocotb and fast mode alike, before a build.

:func:`cached_build` is the one build cache of both modes: a build is keyed by the content of
every file the tools read (plus arguments, tool versions, harness), made in a temporary
directory under a lock and renamed into place, and from then on only read. Runs never write into
it (their scratch is :func:`run_dir`), so two runs of one unit cannot see each other's files.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

from macforge import golden
from macforge.toolchain.sources import RtlInfo, RtlSources

__all__ = ["PortError", "VERILATE_ARGS", "as_sources", "inspect", "check_ports",
           "cached_build", "run_dir"]

#: The fast harness' Verilator options; :func:`inspect` uses them too, so the fast build can
#: compile the model it verilated instead of verilating again.
VERILATE_ARGS = ("-O3", "-Wno-fatal")


class PortError(golden.FormatError):
    """The RTL's ports do not match the manifest (one line: the port, both shapes)."""


def as_sources(verilog) -> RtlSources:
    """An :class:`RtlSources` from one path (or an RtlSources, returned as it is)."""
    return verilog if isinstance(verilog, RtlSources) else RtlSources.single(verilog)


def expected_ports(manifest: dict) -> list[tuple[str, str, int]]:
    """(name, dir, width) of every port the RTL must have: the manifest's (its clock and
    reset under the names the manifest gives them)."""
    return [(p["name"], p["dir"], int(p["width"])) for p in manifest["ports"]]


def check_ports(manifest: dict, info: RtlInfo) -> None:
    """Every manifest port exists in the RTL top with its direction and width.

    Raises
    ------
    PortError
        One line naming the port, its width (and direction) in the RTL and in the manifest.
    """
    have = info.ports
    for name, d, w in expected_ports(manifest):
        if name not in have:
            raise PortError(f"the RTL top {info.top!r} has no port {name!r}, which the manifest "
                            f"of {manifest['module']} lists ({d}put [{w - 1}:0]; the RTL's "
                            f"ports: {', '.join(sorted(have)) or 'none'})")
        hd, hw = have[name]
        if hd != d or hw != w:
            raise PortError(f"port {name!r} of the RTL top {info.top!r} is {hd}put [{hw - 1}:0] "
                            f"({hw} bits); the manifest of {manifest['module']} says {d}put "
                            f"[{w - 1}:0] ({w} bits)")


def inspect(manifest: dict, verilog, top: str, scratch: Path) -> RtlInfo:
    """Verilate ``top`` of ``verilog`` into ``scratch``/verilated and check its ports."""
    info = as_sources(verilog).inspect(top, Path(scratch) / "verilated",
                                       extra_args=VERILATE_ARGS)
    check_ports(manifest, info)
    return info


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def cached_build(parent: Path, key: str, make) -> tuple[Path, bool]:
    """``parent/key``, made by ``make(tmpdir)`` unless it exists; return (dir, was_cached).

    ``make`` fills a fresh temporary directory next to the final one; it is renamed into
    place when ``make`` returns, under an exclusive lock on ``parent/.lock`` (a second process
    waits and then finds the build), so nobody ever sees a half-built directory and nothing
    writes into a finished one.
    """
    parent = Path(parent)
    final = parent / key
    if final.is_dir():
        return final, True
    with _locked(parent / ".lock"):
        if final.is_dir():
            return final, True
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=parent))
        try:
            make(tmp)
            os.rename(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return final, False


#: Run directories kept per top (the newest); older ones are removed when a run starts, unless
#: touched within the last hour (a run that long may still be going).
KEEP_RUNS = 20


def run_dir(root, top: str) -> Path:
    """A fresh scratch directory of one run: ``<root>/<top>/runs/<UTC time>-<pid>-<rand>``."""
    base = Path(root).resolve() / top / "runs"
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    new = Path(tempfile.mkdtemp(prefix=f"{stamp}-{os.getpid()}-", dir=base))
    old = sorted((d for d in base.iterdir() if d.is_dir() and d != new), key=lambda d: d.name)
    for d in old[:max(0, len(old) - (KEEP_RUNS - 1))]:
        try:
            if time.time() - d.stat().st_mtime > 3600:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass
    return new
