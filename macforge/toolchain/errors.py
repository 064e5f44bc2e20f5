"""The toolchain's typed errors; each message is one line a user can act on."""

from macforge.errors import MacforgeError

__all__ = ["ToolError", "YosysError", "SynthError"]


class ToolError(RuntimeError, MacforgeError):
    """A required external tool is missing; the message says how to install it."""


class YosysError(RuntimeError, MacforgeError):
    """Yosys (or nextpnr, a packer) failed on a design: the message is the tool's ERROR line."""


class SynthError(ValueError, MacforgeError):
    """A bad synthesis request (unknown target, no such top module, ...)."""
