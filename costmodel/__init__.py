"""macforge cost model: what one unit costs, measured by synthesis and simulation.

* :mod:`costmodel.synth` -- Yosys (pyosys, native ABC): ASIC mapping to the project's
  Liberty library ``cells/macforge45.lib`` (Nangate 45 nm X1 areas) and FPGA synthesis for
  iCE40, ECP5 and Xilinx 7-series, with nextpnr Fmax on request.
* :mod:`costmodel.netlist` -- the mapped gate netlist, bit-parallel simulation (numpy uint64,
  64 vectors per word), static timing with the library's delays.
* :mod:`costmodel.energy` -- toggle-count energy per operation, one constant calibrated to
  Horowitz's int8 multiply (0.2 pJ, 45 nm).
* :mod:`costmodel.calibrate` -- the Horowitz table, predicted vs published.
* :mod:`costmodel.reproduce` -- published format-vs-format comparisons, ours vs theirs.
* :mod:`costmodel.cache` -- SQLite result cache (``$MACFORGE_CACHE`` or ~/.cache/macforge).

Examples
--------
>>> from macforge.costmodel import Design, asic_cost
>>> from macforge.costmodel.designs import IntMul
>>> r = asic_cost(Design.from_amaranth(IntMul(8), "imul_s8"))     # doctest: +SKIP
>>> r["ge"], r["energy_pj"]                                        # doctest: +SKIP
(554.3, 0.2)
"""
from .api import asic_cost, cost, fpga_cost, get_calibration
from .cache import Cache
from macforge.toolchain.errors import SynthError, YosysError

from .synth import Design, TARGETS

__all__ = ["Design", "asic_cost", "fpga_cost", "cost", "get_calibration", "Cache", "TARGETS",
           "SynthError", "YosysError"]
