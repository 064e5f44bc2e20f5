"""8N1 UART receiver and transmitter (Amaranth), ``divisor`` clock cycles per bit.

The receiver synchronises ``rx`` through two flip-flops, confirms the start bit at its middle
and samples every bit at its middle; a byte whose stop bit is low (a framing error) is dropped,
so a glitch cannot complete a frame. The transmitter takes a byte on ``valid & ready``.
"""

from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["UartRx", "UartTx"]


class _Uart(wiring.Component):
    def __init__(self, divisor: int):
        if not isinstance(divisor, int) or divisor < 4:
            raise ValueError(f"divisor must be an integer >= 4 (clock cycles per bit), not "
                             f"{divisor!r}")
        self._divisor = divisor
        super().__init__()


class UartRx(_Uart):
    """``data`` is valid for the one cycle ``valid`` is high."""
    rx: In(1, init=1)
    data: Out(8)
    valid: Out(1)

    def elaborate(self, platform):
        m = Module()
        d = self._divisor
        sync = Signal(2, init=0b11)
        m.d.sync += sync.eq(Cat(self.rx, sync[0]))
        line = sync[1]
        timer = Signal(range(d + d // 2 + 1))
        bits = Signal(range(10))
        shreg = Signal(8)
        m.d.sync += self.valid.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(d // 2 - 1)
                    m.next = "START"
            with m.State("START"):                     # middle of the start bit
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):
                    m.next = "IDLE"                      # a glitch, not a start bit
                with m.Else():
                    m.d.sync += [timer.eq(d - 1), bits.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):                      # middle of each data bit, LSB first
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [shreg.eq(Cat(shreg[1:], line)), timer.eq(d - 1),
                                 bits.eq(bits + 1)]
                    with m.If(bits == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    with m.If(line):                   # stop bit high: a good byte
                        m.d.sync += [self.data.eq(shreg), self.valid.eq(1)]
                    m.next = "IDLE"
        return m


class UartTx(_Uart):
    """Sends ``data`` when ``valid & ready``; ``ready`` is high while idle."""
    tx: Out(1, init=1)
    data: In(8)
    valid: In(1)
    ready: Out(1)

    def elaborate(self, platform):
        m = Module()
        d = self._divisor
        timer = Signal(range(d))
        shreg = Signal(10, init=0x3FF)
        bits = Signal(range(11))
        m.d.comb += [self.tx.eq(shreg[0]), self.ready.eq(bits == 0)]
        with m.If(bits == 0):
            with m.If(self.valid):
                m.d.sync += [shreg.eq(Cat(0, self.data, 1)), bits.eq(10), timer.eq(d - 1)]
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.Else():
            m.d.sync += [shreg.eq(Cat(shreg[1:], 1)), bits.eq(bits - 1), timer.eq(d - 1)]
        return m
