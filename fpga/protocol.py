"""The board harness' UART protocol: one definition for the gateware and every host.

Frames (all multi-byte fields little-endian)::

    request  (host -> board):  A5 | cmd | seq | len | payload[len] | crc8(cmd .. payload)
    response (board -> host):  5A | status | cmd | seq | len | payload[len] | crc8(status .. payload)

``crc8`` is CRC-8 with polynomial x^8 + x^2 + x + 1 (0x07), initial value 0, no reflection: it
detects every single-byte error and every burst of up to 8 bits. The board answers every
complete request, echoing ``cmd`` and ``seq``; a request whose checksum is wrong gets status
``BAD_CRC`` and is not executed, so a byte corrupted on the way to the board is reported, and
a response whose checksum is wrong is reported by the host. A board that sees a valid request
with the same ``seq`` as the last one it executed answers it again without executing it, so a
host may repeat any request whose answer was lost or corrupted (at-most-once execution). A
request left incomplete for 16 byte-times is dropped; the host times out and repeats it.

Commands (``Cmd``): ``INFO`` (the unit: protocol version, input and output bits, latency and
module name), ``LOAD`` (the input vector: every non-clock input port packed LSB-first in
manifest order), ``STEP`` (after ``settle`` cycles, raise the loaded enable and clear bits for
exactly one clock, 0 otherwise; then wait ``latency + 1 + settle`` cycles and capture the
outputs), ``READ`` (the captured
outputs, packed like the inputs), ``EXEC`` (LOAD + STEP + READ in one round trip).

The host side is sans-IO up to :class:`Session`, whose coroutines only await a *link*
(``write(bytes)``, ``read(n)`` returning fewer bytes on timeout, ``drain()``): a pyserial port
(:mod:`fpga.hwtest`) or the cocotb UART model driving the simulated harness
(:mod:`fpga._harness_bench`) run the same code.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from macforge.errors import MacforgeError
from macforge.hw.wrapper import unit_ports

__all__ = ["SYNC_REQ", "SYNC_RSP", "PROTOCOL_VERSION", "Cmd", "Status", "crc8", "crc8_table",
           "PortLayout", "encode_request", "encode_response", "Response", "LinkError",
           "Session", "STROBE_ROLES"]

SYNC_REQ = 0xA5
SYNC_RSP = 0x5A
PROTOCOL_VERSION = 1
CRC_POLY = 0x07
#: The controls the harness' STEP applies for exactly one cycle (``first`` only acts with
#: ``enable``, so it is held like the data inputs).
STROBE_ROLES = ("enable", "clear")
#: The board drops an incomplete request after this many byte-times without a byte.
TIMEOUT_BYTES = 16


class Cmd(enum.IntEnum):
    INFO = 0x49     # 'I'
    LOAD = 0x4C     # 'L'
    STEP = 0x53     # 'S'
    READ = 0x52     # 'R'
    EXEC = 0x58     # 'X'


class Status(enum.IntEnum):
    OK = 0x00
    BAD_CRC = 0x01      # the request's checksum did not match: not executed
    BAD_CMD = 0x02      # unknown command
    BAD_LEN = 0x03      # payload length wrong for the command


def crc8_table() -> list:
    """The 256-entry table of CRC-8/0x07 (the gateware computes it bitwise)."""
    table = []
    for byte in range(256):
        c = byte
        for _ in range(8):
            c = ((c << 1) ^ CRC_POLY) & 0xFF if c & 0x80 else (c << 1) & 0xFF
        table.append(c)
    return table


_TABLE = crc8_table()


def crc8(data: bytes, crc: int = 0) -> int:
    """CRC-8 (poly 0x07, init 0) of ``data``; ``crc8(b"123456789") == 0xF4``."""
    for b in data:
        crc = _TABLE[crc ^ b]
    return crc


@dataclass(frozen=True)
class PortLayout:
    """How a unit's ports map onto the protocol's byte vectors (from its manifest)."""
    module: str
    latency: int
    inputs: tuple        # ((name, width, role), ...) in manifest order, clock/reset excluded
    outputs: tuple

    @classmethod
    def from_manifest(cls, manifest: dict) -> "PortLayout":
        ins, outs = unit_ports(manifest)
        return cls(manifest["module"], int(manifest["latency"]), ins, outs)

    in_bits = property(lambda self: sum(w for _, w, _ in self.inputs))
    out_bits = property(lambda self: sum(w for _, w, _ in self.outputs))
    in_bytes = property(lambda self: (self.in_bits + 7) // 8)
    out_bytes = property(lambda self: (self.out_bits + 7) // 8)

    def info_payload(self) -> bytes:
        """What INFO returns: version, input bits, output bits, latency, module name."""
        name = self.module.encode("ascii")[:255 - 6]
        return (bytes([PROTOCOL_VERSION]) + self.in_bits.to_bytes(2, "little")
                + self.out_bits.to_bytes(2, "little") + bytes([min(self.latency, 255)]) + name)

    def pack_inputs(self, stim: dict) -> list:
        """One LOAD/EXEC payload per vector of ``stim`` (arrays keyed by port name)."""
        n = len(stim[self.inputs[0][0]])
        words = [0] * n
        shift = 0
        for name, width, _ in self.inputs:
            col = np.asarray(stim[name]).astype(np.uint64).tolist()
            mask = (1 << width) - 1
            for i, v in enumerate(col):
                words[i] |= (int(v) & mask) << shift
            shift += width
        return [w.to_bytes(self.in_bytes, "little") for w in words]

    def unpack_outputs(self, payload: bytes) -> dict:
        word = int.from_bytes(payload, "little")
        out, shift = {}, 0
        for name, width, _ in self.outputs:
            out[name] = (word >> shift) & ((1 << width) - 1)
            shift += width
        return out


def encode_request(cmd: int, seq: int, payload: bytes = b"") -> bytes:
    body = bytes([int(cmd), seq & 0xFF, len(payload)]) + bytes(payload)
    return bytes([SYNC_REQ]) + body + bytes([crc8(body)])


def encode_response(status: int, cmd: int, seq: int, payload: bytes = b"") -> bytes:
    """What the board sends (the gateware's reference; used by tests)."""
    body = bytes([int(status), int(cmd), seq & 0xFF, len(payload)]) + bytes(payload)
    return bytes([SYNC_RSP]) + body + bytes([crc8(body)])


def _name(enum_cls, value) -> str:
    try:
        return enum_cls(value).name
    except ValueError:
        return hex(value)


@dataclass
class Response:
    status: int
    cmd: int
    seq: int
    payload: bytes


class LinkError(MacforgeError, RuntimeError):
    """The link failed beyond the retries; the message says what was seen."""


@dataclass
class Session:
    """Host side of the protocol over an async ``link``; counts and describes link errors.

    Every detected error (a board-reported request checksum error, a response checksum
    mismatch, a timeout, a stray byte) is appended to ``events`` as one line and the request
    is repeated (same ``seq``: the board does not execute it twice), up to ``retries`` times.
    """
    link: object
    retries: int = 3
    seq: int = 0
    events: list = field(default_factory=list)

    async def _read_response(self):
        skipped = 0
        while True:
            b = await self.link.read(1)
            if not b:
                return None, "no response (timeout)" + (f" after {skipped} stray bytes"
                                                        if skipped else "")
            if b[0] == SYNC_RSP:
                break
            skipped += 1
        head = await self.link.read(4)
        if len(head) < 4:
            return None, "response truncated (timeout in the header)"
        n = head[3]
        rest = await self.link.read(n + 1)
        if len(rest) < n + 1:
            return None, f"response truncated (timeout: {len(rest)} of {n + 1} bytes)"
        body = head + rest[:n]
        if crc8(body) != rest[n]:
            return None, (f"response checksum mismatch (got {rest[n]:#04x}, computed "
                          f"{crc8(body):#04x}): a byte was corrupted on the way from the board")
        if skipped:
            self.events.append(f"{skipped} stray byte(s) before a response")
        return Response(head[0], head[1], head[2], bytes(rest[:n])), None

    async def request(self, cmd: Cmd, payload: bytes = b"") -> bytes:
        """Send one request, return the OK response's payload (repeating on link errors)."""
        self.seq = (self.seq + 1) & 0xFF
        frame = encode_request(cmd, self.seq, payload)
        for attempt in range(self.retries + 1):
            await self.link.write(frame)
            resp, err = await self._read_response()
            if err is None:
                if resp.status == Status.BAD_CRC:
                    err = ("the board reported a request checksum error: a byte was corrupted "
                           "on the way to the board")
                elif resp.status != Status.OK:
                    raise LinkError(f"the board rejected {cmd.name} seq {self.seq}: "
                                    f"{_name(Status, resp.status)}")
                elif resp.cmd != cmd or resp.seq != self.seq:
                    err = (f"response to {_name(Cmd, resp.cmd)} seq {resp.seq}, expected "
                           f"{cmd.name} seq {self.seq}")
                else:
                    return resp.payload
            self.events.append(f"{cmd.name} seq {self.seq} (attempt {attempt + 1}): {err}")
            await self.link.drain()
        raise LinkError(f"{cmd.name} seq {self.seq} failed {self.retries + 1} times; last: {err}")

    async def info(self) -> dict:
        p = await self.request(Cmd.INFO)
        if len(p) < 6:
            raise LinkError(f"INFO answer too short ({len(p)} bytes)")
        return {"version": p[0], "in_bits": int.from_bytes(p[1:3], "little"),
                "out_bits": int.from_bytes(p[3:5], "little"), "latency": p[5],
                "module": p[6:].decode("ascii", "replace")}

    async def load(self, vector: bytes):
        await self.request(Cmd.LOAD, vector)

    async def step(self):
        await self.request(Cmd.STEP)

    async def read(self) -> bytes:
        return await self.request(Cmd.READ)

    async def exec(self, vector: bytes) -> bytes:
        return await self.request(Cmd.EXEC, vector)

    async def run_vectors(self, layout: PortLayout, stim: dict, progress=None,
                          split_every: int = 0) -> np.ndarray:
        """Step every vector of ``stim`` through the board; return the first output port's
        codes after each step. Every ``split_every``-th vector (if > 0) goes as separate
        LOAD, STEP and READ requests instead of one EXEC, so both paths are exercised."""
        vectors = layout.pack_inputs(stim)
        name = layout.outputs[0][0]
        out = np.zeros(len(vectors), np.uint64)
        for i, v in enumerate(vectors):
            if split_every and i % split_every == split_every - 1:
                await self.load(v)
                await self.step()
                payload = await self.read()
            else:
                payload = await self.exec(v)
            if len(payload) != layout.out_bytes:
                raise LinkError(f"vector {i}: {len(payload)} result bytes, expected "
                                f"{layout.out_bytes}")
            out[i] = layout.unpack_outputs(payload)[name]
            if progress is not None:
                progress(i + 1, len(vectors))
        return out
