"""macforge: multiply / MAC / FMA datapaths for many number formats, as RTL proven bit-exact.

The packages: ``golden`` (numpy bit-exact models), ``hw`` (Amaranth generators), ``sim``
(cocotb + Verilator co-simulation), ``costmodel`` and ``fpga``; ``macforge.cli`` is the
command line.
"""
from macforge.provenance import version as _version

__version__ = _version()     # pyproject.toml is the one place the version is written
__all__ = ["__version__"]
