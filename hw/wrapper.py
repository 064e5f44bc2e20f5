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
from amaranth import Cat, ClockSignal, Instance, Module, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["ScanWrapper", "wrapper_verilog", "unit_ports", "unit_instance", "add_unit",
           "CONTROL_ROLES"]

#: Control input roles (idle 0 outside a step, as the bench's Driver does).
CONTROL_ROLES = ("enable", "first", "clear")


def unit_ports(manifest: dict) -> tuple:
    """``(inputs, outputs)`` of a unit's data ports: ``((name, width, role), ...)`` in manifest
    order, clock and reset left out; the order in which wrappers and harnesses pack them."""
    skip = {manifest.get("clock"), manifest.get("reset")}
    ins = tuple((p["name"], int(p["width"]), p["role"]) for p in manifest["ports"]
                if p["dir"] == "in" and p["name"] not in skip)
    outs = tuple((p["name"], int(p["width"]), p["role"]) for p in manifest["ports"]
                 if p["dir"] == "out")
    return ins, outs


def unit_instance(manifest: dict, inputs: dict, outputs: dict) -> Instance:
    """``Instance`` of the unit's Verilog module, ports wired from ``inputs``/``outputs``
    (signals keyed by port name); clock and reset go to the ``sync`` domain."""
    kw = {}
    if manifest.get("clock"):
        kw[f"i_{manifest['clock']}"] = ClockSignal()
    if manifest.get("reset"):
        kw[f"i_{manifest['reset']}"] = ResetSignal(allow_reset_less=True)
    for name, sig in inputs.items():
        kw[f"i_{name}"] = sig
    for name, sig in outputs.items():
        kw[f"o_{name}"] = sig
    return Instance(manifest["module"], **kw)


def add_unit(m, manifest: dict, operands, step, strobe_roles) -> dict:
    """Instantiate the unit in module ``m``: its input ports are slices of ``operands``
    (manifest order, LSB first: :func:`unit_ports`), those
    whose role is in ``strobe_roles`` ANDed with ``step``; return the output signals by name."""
    inputs, outputs = unit_ports(manifest)
    ins, pos = {}, 0
    for name, width, role in inputs:
        s = Signal(width, name=f"u_{name}")
        value = operands[pos:pos + width]
        m.d.comb += s.eq(value & step.replicate(width) if role in strobe_roles else value)
        ins[name], pos = s, pos + width
    outs = {name: Signal(width, name=f"u_{name}") for name, width, _ in outputs}
    m.submodules.unit = unit_instance(manifest, ins, outs)
    return outs




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
        ins, outs = unit_ports(manifest)
        self._in_bits = sum(w for _, w, _ in ins)
        self._out_bits = sum(w for _, w, _ in outs)
        super().__init__()

    @property
    def top_name(self) -> str:
        return f"scan_{self._manifest['module']}"

    def elaborate(self, platform):
        m = Module()
        sin_r, shift_r, shift_rr, step = Signal(), Signal(), Signal(), Signal()
        m.d.sync += [sin_r.eq(self.sin), shift_r.eq(self.shift), shift_rr.eq(shift_r),
                     step.eq(shift_rr & ~shift_r)]
        operands = Signal(self._in_bits)
        with m.If(shift_r):
            m.d.sync += operands.eq(Cat(operands[1:], sin_r))
        outs = add_unit(m, self._manifest, operands, step, CONTROL_ROLES)
        capture = Signal(self._out_bits)
        piso = Signal(self._out_bits)
        m.d.sync += capture.eq(Cat(*outs.values()))
        with m.If(shift_r):
            m.d.sync += piso.eq(piso >> 1)
        with m.Else():
            m.d.sync += piso.eq(capture)
        m.d.comb += self.sout.eq(piso[0])
        return m
