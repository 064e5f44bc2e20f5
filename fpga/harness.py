"""Board harness: any unit behind a UART command interface (:mod:`fpga.protocol`).

:class:`HarnessCore` is the board-independent part (``rx``/``tx`` and two status bits); it
instantiates the unit's generated Verilog module by name (``Instance``), so the bitstream and
the simulation run exactly the RTL that ``macforge verilog`` writes and ``macforge sim``
verifies. :class:`BoardTop` puts it on a board from ``amaranth-boards`` (:data:`BOARDS`).

The command engine, one request at a time::

    IDLE -> CMD -> SEQ -> LEN -> PAYLOAD* -> CRC -> EXECUTE -> [STEP -> WAIT] -> RESPOND -> IDLE

Payload bytes shift into a staging register; only a valid LOAD/EXEC copies it to the operand
register that drives the unit's data inputs (and ``first``). STEP waits ``settle`` cycles, then
drives the strobes (enable, clear) from the operand register for exactly one cycle (0
otherwise), waits ``latency + 1 + settle`` cycles and captures every output into the result
register that READ returns.
"""

from amaranth import Array, C, Cat, Const, Module, Mux, Signal
from amaranth.lib import io, wiring
from amaranth.lib.wiring import In, Out

from macforge.hw.wrapper import add_unit

from .protocol import (STROBE_ROLES, SYNC_REQ, SYNC_RSP, TIMEOUT_BYTES, Cmd, PortLayout,
                       Status, crc8_table)
from .uart import UartRx, UartTx

__all__ = ["HarnessCore", "BoardTop", "BOARDS", "Board", "crc8_step"]


def crc8_step(crc, byte):
    """Amaranth expression: CRC-8/0x07 of ``crc`` updated by one byte.

    The table step ``T[crc ^ byte]`` is linear over GF(2) (initial value 0), so output bit j
    is the XOR of the bits i of ``crc ^ byte`` whose basis image ``T[1 << i]`` has bit j set:
    eight flat XOR trees, derived from :func:`fpga.protocol.crc8_table`."""
    table = crc8_table()
    x = crc ^ byte
    bits = []
    for j in range(8):
        terms = [x[i] for i in range(8) if table[1 << i] >> j & 1]
        acc = terms[0]
        for t in terms[1:]:
            acc = acc ^ t
        bits.append(acc)
    return Cat(*bits)


class HarnessCore(wiring.Component):
    """UART command interface around one unit.

    Parameters
    ----------
    manifest : dict
        The unit's manifest (``hw`` units' ``manifest()``).
    divisor : int
        Clock cycles per UART bit (clock / baud rate).
    settle : int
        Cycles between loading the operands and the one-cycle enable of STEP (and again before
        the result is captured). The unit's data inputs (and ``first``) are then stable for
        ``settle + 1`` cycles when its registers take them, and its accumulator changes only on
        the enable, so every path through the unit is a ``settle + 1``-cycle path: a unit
        whose Fmax is below the board clock (the unpipelined fp32-accumulating MACs on the
        iCE40) still runs correctly, which the build report checks.
    """
    rx: In(1, init=1)
    tx: Out(1, init=1)
    status: Out(2)          # [0] toggles per executed request, [1] toggles per rejected one

    def __init__(self, manifest: dict, divisor: int, settle: int = 15):
        if not isinstance(settle, int) or settle < 0:
            raise ValueError(f"settle must be a non-negative integer, not {settle!r}")
        self._settle = settle
        self._manifest = manifest
        self._layout = PortLayout.from_manifest(manifest)
        self._divisor = divisor
        if self._layout.in_bytes > 255 or self._layout.out_bytes > 255:
            raise ValueError(f"{self._layout.module} has more than 255 bytes of ports")
        super().__init__()

    @property
    def top_name(self) -> str:
        return f"harness_{self._layout.module}"

    @property
    def settle(self) -> int:
        return self._settle

    def elaborate(self, platform):
        m = Module()
        L = self._layout
        m.submodules.urx = urx = UartRx(self._divisor)
        m.submodules.utx = utx = UartTx(self._divisor)
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx)]

        # unit ports: data (and ``first``) from the operand register, the strobes (enable,
        # clear) for the one STEP cycle only
        operands = Signal(L.in_bits)
        step = Signal()
        outs = add_unit(m, self._manifest, operands, step, STROBE_ROLES)
        result = Signal(L.out_bytes * 8)

        staging = Signal(L.in_bytes * 8)
        cmd, seq, length, count = Signal(8), Signal(8), Signal(8), Signal(8)
        crc, tx_crc = Signal(8), Signal(8)
        last_seq, last_valid = Signal(8), Signal()
        rsp_status, rsp_len, rsp_src = Signal(8), Signal(8), Signal(2)   # src 0 none 1 info 2 result
        idx = Signal(9)
        wait = Signal(range(L.latency + self._settle + 3))
        timeout = 10 * self._divisor * TIMEOUT_BYTES
        idle = Signal(range(timeout + 1))
        info = L.info_payload()
        info_rom = Array(Const(b, 8) for b in info)

        byte = urx.data
        got = urx.valid
        # an incomplete request is dropped after TIMEOUT_BYTES byte-times without a byte
        with m.If(idle != timeout):
            m.d.sync += idle.eq(idle + 1)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(got & (byte == SYNC_REQ)):
                    m.d.sync += [crc.eq(0), idle.eq(0)]
                    m.next = "CMD"
            for state, target, nxt in (("CMD", cmd, "SEQ"), ("SEQ", seq, "LEN")):
                with m.State(state):
                    with m.If(got):
                        m.d.sync += [target.eq(byte), crc.eq(crc8_step(crc, byte)), idle.eq(0)]
                        m.next = nxt
                    with m.Elif(idle == timeout):
                        m.next = "IDLE"
            with m.State("LEN"):
                with m.If(got):
                    m.d.sync += [length.eq(byte), count.eq(byte), crc.eq(crc8_step(crc, byte)),
                                 idle.eq(0)]
                    m.next = "PAYLOAD"
                    with m.If(byte == 0):
                        m.next = "CRC"
                with m.Elif(idle == timeout):
                    m.next = "IDLE"
            with m.State("PAYLOAD"):
                with m.If(got):
                    m.d.sync += [staging.eq(Cat(staging[8:], byte)), count.eq(count - 1),
                                 crc.eq(crc8_step(crc, byte)), idle.eq(0)]
                    with m.If(count == 1):
                        m.next = "CRC"
                with m.Elif(idle == timeout):
                    m.next = "IDLE"
            with m.State("CRC"):
                with m.If(got):
                    m.d.sync += [rsp_len.eq(0), rsp_src.eq(0), idle.eq(0)]
                    with m.If(byte == crc):
                        m.next = "EXECUTE"
                    with m.Else():
                        m.d.sync += rsp_status.eq(Status.BAD_CRC)
                        m.next = "RESPOND"
                with m.Elif(idle == timeout):
                    m.next = "IDLE"
            with m.State("EXECUTE"):
                dup = last_valid & (seq == last_seq)
                ok_len = Signal()
                m.d.comb += ok_len.eq(Mux((cmd == Cmd.LOAD) | (cmd == Cmd.EXEC),
                                          length == L.in_bytes, length == 0))
                known = Signal()
                m.d.comb += known.eq((cmd == Cmd.INFO) | (cmd == Cmd.LOAD) | (cmd == Cmd.STEP)
                                     | (cmd == Cmd.READ) | (cmd == Cmd.EXEC))
                m.next = "RESPOND"
                with m.If(~known):
                    m.d.sync += rsp_status.eq(Status.BAD_CMD)
                with m.Elif(~ok_len):
                    m.d.sync += rsp_status.eq(Status.BAD_LEN)
                with m.Else():
                    m.d.sync += [rsp_status.eq(Status.OK), last_seq.eq(seq), last_valid.eq(1)]
                    with m.If(cmd == Cmd.INFO):
                        m.d.sync += [rsp_len.eq(len(info)), rsp_src.eq(1)]
                    with m.If((cmd == Cmd.READ) | (cmd == Cmd.EXEC)):
                        m.d.sync += [rsp_len.eq(L.out_bytes), rsp_src.eq(2)]
                    with m.If(((cmd == Cmd.LOAD) | (cmd == Cmd.EXEC)) & ~dup):
                        m.d.sync += operands.eq(staging[:L.in_bits])
                    with m.If(((cmd == Cmd.STEP) | (cmd == Cmd.EXEC)) & ~dup):
                        m.d.sync += wait.eq(self._settle)
                        m.next = "SETTLE"
            with m.State("SETTLE"):
                with m.If(wait == 0):
                    m.next = "STEP"
                with m.Else():
                    m.d.sync += wait.eq(wait - 1)
            with m.State("STEP"):
                m.d.comb += step.eq(1)
                m.d.sync += wait.eq(L.latency + 1 + self._settle)
                m.next = "WAIT"
            with m.State("WAIT"):
                with m.If(wait == 0):
                    m.d.sync += result.eq(Cat(*outs.values()))
                    m.next = "RESPOND"
                with m.Else():
                    m.d.sync += wait.eq(wait - 1)
            with m.State("RESPOND"):
                # bytes: 5A status cmd seq len payload[len] crc
                header = Array([C(SYNC_RSP, 8), rsp_status, cmd, seq, rsp_len])
                pidx = (idx - 5)[:8]
                payload = Mux(rsp_src == 1, info_rom[pidx],
                              result.word_select(pidx[:max(1, (L.out_bytes - 1).bit_length())], 8)
                              if L.out_bytes > 1 else result[:8])
                last = idx == rsp_len + 5
                out_byte = Mux(idx < 5, header[idx[:3]], Mux(last, tx_crc, payload))
                m.d.comb += [utx.data.eq(out_byte), utx.valid.eq(1)]
                with m.If(utx.ready):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(idx == 0):
                        m.d.sync += tx_crc.eq(0)
                    with m.Elif(~last):
                        m.d.sync += tx_crc.eq(crc8_step(tx_crc, out_byte))
                    with m.If(last):
                        m.d.sync += [idx.eq(0),
                                     self.status.eq(self.status ^ Mux(rsp_status == Status.OK,
                                                                      0b01, 0b10))]
                        m.next = "IDLE"
        return m


class Board:
    """A supported board: its ``amaranth-boards`` platform, FPGA target and UART."""

    def __init__(self, name, module, platform, target, clock_hz, description, port):
        self.name, self.module, self.platform_name = name, module, platform
        self.target, self.clock_hz, self.description, self.port = (target, clock_hz,
                                                                   description, port)

    def platform(self):
        import importlib
        return getattr(importlib.import_module(self.module), self.platform_name)()

    def divisor(self, baud: int) -> int:
        """Clock cycles per bit; the rate error must stay under 2 % for 8N1."""
        d = round(self.clock_hz / baud)
        if d < 4 or abs(self.clock_hz / d - baud) / baud > 0.02:
            raise ValueError(f"baud rate {baud} is not reachable from the {self.name}'s "
                             f"{self.clock_hz / 1e6:g} MHz clock within 2 %")
        return d


#: Boards the harness is built for (``make fpga BOARD=...``, ``macforge hwtest --board``).
BOARDS = {
    "icebreaker": Board("icebreaker", "amaranth_boards.icebreaker", "ICEBreakerPlatform",
                        "ice40", 12e6, "iCEBreaker (iCE40 UP5K, SG48), FTDI channel B",
                        "/dev/ttyUSB1"),
    "ulx3s": Board("ulx3s", "amaranth_boards.ulx3s", "ULX3S_85F_Platform", "ecp5", 25e6,
                   "ULX3S 85F (ECP5 LFE5U-85F, CABGA381), FTDI US1", "/dev/ttyUSB0"),
}

DEFAULT_BAUD = 115_200


class BoardTop(wiring.Component):
    """:class:`HarnessCore` on a board: the board's UART, its first two LEDs show activity
    (toggles per executed request) and rejected requests (toggles per error response)."""

    def __init__(self, manifest: dict, board: Board, baud: int = DEFAULT_BAUD, settle: int = 15):
        self._manifest, self._board, self._baud, self._settle = manifest, board, baud, settle
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = HarnessCore(self._manifest, self._board.divisor(self._baud),
                                              self._settle)
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx_buf = rx = io.Buffer("i", uart.rx)
        m.submodules.tx_buf = tx = io.Buffer("o", uart.tx)
        m.d.comb += [core.rx.eq(rx.i), tx.o.eq(core.tx)]
        for i in range(2):
            m.submodules[f"led{i}"] = led = io.Buffer("o", platform.request("led", i, dir="-"))
            m.d.comb += led.o.eq(core.status[i])
        return m
