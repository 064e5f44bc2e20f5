"""macforge: multiply / MAC / FMA datapaths for many number formats, as RTL proven bit-exact.

The packages: ``golden`` (numpy bit-exact models), ``hw`` (Amaranth generators), ``sim``
(cocotb + Verilator co-simulation), ``costmodel`` and ``fpga``; ``macforge.cli`` is the
command line.
"""
__version__ = "0.1.0"
__all__ = ["__version__"]
