"""FPGA flows and the board harness.

- :mod:`fpga.flow`: a unit in the scan wrapper (:mod:`fpga.wrapper`) through synthesis (pyosys,
  :mod:`costmodel.synth`), place and route (nextpnr, seed fixed) and bitstream packing for the
  iCE40 UP5K and the ECP5-85F; Xilinx utilisation and a Vivado script; stage sweeps;
  ``make fpga`` / ``macforge fpga``.
- :mod:`fpga.protocol`, :mod:`fpga.uart`, :mod:`fpga.harness`: the UART command interface
  around any unit, for the iCEBreaker and the ULX3S; :mod:`fpga.hwtest` streams vectors through
  it (a serial port, or the harness simulated in Verilator) and checks them against golden.

Submodules are imported on use (Amaranth, cocotb and pyserial are not needed to import this).
"""
__all__: list[str] = []
