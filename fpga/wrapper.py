"""Scan wrapper: a unit between two register ranks, on five pins whatever its width.

A unit with 19 input and 32 output bits does not fit the iCE40 UP5K's 39 I/O pins one pin per
bit, and a unit whose ports are left unconnected is optimised away. The wrapper gives every
port bit a flip-flop that is observable and controllable from pins, without putting logic
between those flip-flops and the unit:

- ``sin``/``shift``: a serial-in, parallel-out operand register (every unit input bit); it
  shifts while ``shift`` is high and feeds the unit's inputs directly;
- a step pulse (the cycle after ``shift`` falls) drives the control inputs (enable, first,
  clear) for exactly one cycle, as the UART harness' STEP does;
- a capture register takes every unit output bit each cycle (the timed endpoint), and a
  parallel-in, serial-out register loads it while ``shift`` is low and shifts it to ``sout``.

So the timed paths are operand flip-flop -> unit -> capture flip-flop, plus the unit's own
internal registers: nextpnr's Fmax is the unit's, as it would be between registers inside a
datapath, and utilisation counts all of the unit's logic (plus the wrapper's flip-flops, shown
separately in the report). Pins: ``clk``, ``rst``, ``sin``, ``shift``, ``sout``.
"""
from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .harness import add_unit
from .protocol import CONTROL_ROLES, PortLayout

__all__ = ["ScanWrapper", "wrapper_verilog"]


def wrapper_verilog(manifest: dict) -> tuple:
    """``(top, Verilog text)`` of the scan wrapper around the unit of ``manifest``: what
    ``make fpga`` writes and ``macforge cost --pnr`` places (one generator for both)."""
    from amaranth.back import verilog
    w = ScanWrapper(manifest)
    return w.top_name, verilog.convert(w, name=w.top_name, emit_src=False)


class ScanWrapper(wiring.Component):
    sin: In(1)
    shift: In(1)
    sout: Out(1)

    def __init__(self, manifest: dict):
        self._manifest = manifest
        self._layout = PortLayout.from_manifest(manifest)
        super().__init__()

    @property
    def top_name(self) -> str:
        return f"scan_{self._layout.module}"

    def elaborate(self, platform):
        m = Module()
        L = self._layout
        sin_r, shift_r, shift_rr, step = Signal(), Signal(), Signal(), Signal()
        m.d.sync += [sin_r.eq(self.sin), shift_r.eq(self.shift), shift_rr.eq(shift_r),
                     step.eq(shift_rr & ~shift_r)]
        operands = Signal(L.in_bits)
        with m.If(shift_r):
            m.d.sync += operands.eq(Cat(operands[1:], sin_r))
        outs = add_unit(m, self._manifest, operands, step, CONTROL_ROLES)
        capture = Signal(L.out_bits)
        piso = Signal(L.out_bits)
        m.d.sync += capture.eq(Cat(*outs.values()))
        with m.If(shift_r):
            m.d.sync += piso.eq(piso >> 1)
        with m.Else():
            m.d.sync += piso.eq(capture)
        m.d.comb += self.sout.eq(piso[0])
        return m
