"""Multi-lane ports: ``k`` element codes per vector packed into one wide port.

A dot-product unit's ``a`` and ``b`` ports carry ``lanes`` element codes each, lane ``i`` at
bits ``[i * lane_bits, (i + 1) * lane_bits)`` (the manifest's port entry has ``lanes`` and
``lane_bits``). Stimulus keeps them as ``(n, lanes)`` arrays of element codes; this module
packs them for the two drivers: Python integers for cocotb (any width), and for the fast
harness a ``uint64`` column (ports up to 64 bits) or ``(n, words64)`` little-endian
``uint64`` words (wider ports; on a little-endian host their bytes are Verilator's ``VlWide``
32-bit words).

**Wide ports, one mechanism for every unit.** A port of any width travels as Python integers
(cocotb) or as ``(n, words64)`` ``uint64`` rows (fast harness, numpy), bit ``j`` of the port at
bit ``j % 64`` of word ``j // 64``. The same holds for a unit's *result*: its output ports
other than the handshake ones (:func:`result_ports`), concatenated in manifest order (the first
port at bit 0). One output port of at most 64 bits stays a plain ``(n,)`` column (every scalar
unit); anything else (the block quantiser's 256-bit ``y`` and its 8-bit ``scale``, ...) is
``(n, words64)`` ``uint64`` (:func:`result_words`, :func:`pack_result`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["is_lane_port", "words_of", "words64_of", "wide_rows", "pack_uint64", "pack_ints",
           "harness_column", "random_column", "format_lanes", "result_ports", "result_words",
           "pack_result", "ints_to_words", "words_to_ints", "HANDSHAKE_OUT"]

#: Output roles that pace a run (user RTL handshakes), not results.
HANDSHAKE_OUT = ("valid_out", "ready_in")


def is_lane_port(port: dict) -> bool:
    return "lanes" in port


def words_of(width: int) -> int:
    """32-bit words of a port wider than 64 bits (Verilator's ``VlWide<words>``)."""
    return (width + 31) // 32


def words64_of(width: int) -> int:
    """64-bit words of a port (or result) of ``width`` bits."""
    return (width + 63) // 64


def _put(out, off: int, codes, bits: int) -> None:
    """OR ``codes`` (uint64, at most 64 bits used) in at bit ``off`` of the rows ``out``."""
    if bits <= 0:
        return
    codes = np.asarray(codes, np.uint64)
    if bits < 64:
        codes = codes & np.uint64((1 << bits) - 1)
    w, r = divmod(off, 64)
    out[:, w] |= codes << np.uint64(r)
    if r and r + bits > 64:
        out[:, w + 1] |= codes >> np.uint64(64 - r)


def ints_to_words(values, width: int) -> np.ndarray:
    """Python integers (or anything ``int()`` takes) -> ``(n, words64)`` uint64 rows."""
    vals = [int(v) for v in np.asarray(values, dtype=object).reshape(-1)]
    words = words64_of(width)
    mask = (1 << 64) - 1
    return np.array([[(v >> (64 * j)) & mask for j in range(words)] for v in vals],
                    np.uint64).reshape(len(vals), words)


def words_to_ints(rows) -> list:
    """``(n, words64)`` uint64 rows -> Python integers."""
    rows = np.asarray(rows, np.uint64)
    if rows.ndim == 1:
        return [int(v) for v in rows]
    out = np.zeros(rows.shape[0], dtype=object)
    for j in range(rows.shape[1]):
        out = out + (rows[:, j].astype(object) << (64 * j))
    return out.tolist()


def wide_rows(values, port) -> np.ndarray:
    """A port's values as ``(n, words64)`` uint64 rows: lane codes packed, Python integers
    split, rows passed through."""
    width = port["width"]
    words = words64_of(width)
    if is_lane_port(port):
        v = _lanes_2d(values, port)
        out = np.zeros((v.shape[0], words), np.uint64)
        for i in range(v.shape[1]):
            _put(out, i * port["lane_bits"], v[:, i], port["lane_bits"])
        return out
    v = np.asarray(values)
    if v.dtype == object:
        return ints_to_words(v, width)
    if v.ndim == 2 and v.shape[1] == words:
        return v.astype(np.uint64)
    if v.ndim == 1:
        out = np.zeros((v.shape[0], words), np.uint64)
        out[:, 0] = v.astype(np.uint64)
        return out
    raise ValueError(f"port {port['name']!r} ({width} bits) takes (n, {words}) uint64 words "
                     f"or Python integers, not shape {v.shape}")


def result_ports(manifest: dict) -> list:
    """The output ports whose values are checked (all but the handshake ones), manifest order."""
    return [p for p in manifest["ports"] if p["dir"] == "out" and p["role"] not in HANDSHAKE_OUT]


def result_words(ports) -> int | None:
    """None when the result is one port of at most 64 bits (a plain column), else the
    ``uint64`` words of the concatenated result ports."""
    if len(ports) == 1 and ports[0]["width"] <= 64:
        return None
    return words64_of(sum(p["width"] for p in ports))


def pack_result(values: dict, ports) -> np.ndarray:
    """The concatenated result rows ``(n, words64)`` from per-port values (lane codes
    ``(n, lanes)``, columns, rows or Python integers), the first port at bit 0."""
    total = sum(p["width"] for p in ports)
    rows = [wide_rows(values[p["name"]], p) for p in ports]
    out = np.zeros((rows[0].shape[0], words64_of(total)), np.uint64)
    off = 0
    for p, r in zip(ports, rows):
        for j in range(r.shape[1]):
            _put(out, off + 64 * j, r[:, j], min(64, p["width"] - 64 * j))
        off += p["width"]
    return out


def _lanes_2d(values, port) -> np.ndarray:
    v = np.asarray(values)
    k = port["lanes"]
    if v.ndim != 2 or v.shape[1] != k:
        raise ValueError(f"port {port['name']!r} takes (n, {k}) lane codes, not shape {v.shape}")
    return v.astype(np.uint64)


def pack_uint64(values, port) -> np.ndarray:
    """``(n,)`` uint64 for a lane port of at most 64 bits."""
    v = _lanes_2d(values, port)
    bits = port["lane_bits"]
    mask = np.uint64((1 << bits) - 1)
    out = np.zeros(v.shape[0], np.uint64)
    for i in range(v.shape[1]):
        out |= (v[:, i] & mask) << np.uint64(i * bits)
    return out


def pack_ints(values, port) -> list:
    """Python integers (one per vector) for cocotb, any width: lane codes packed, ``uint64``
    word rows joined, columns as they are."""
    if not is_lane_port(port) and port["width"] <= 64 and np.asarray(values).ndim == 1:
        return np.asarray(values).astype(np.uint64).tolist()
    return words_to_ints(wide_rows(values, port))


def harness_column(values, port, dtype) -> np.ndarray:
    """The contiguous array the fast harness reads for ``port`` (see the module docstring)."""
    if port["width"] > 64:
        col = wide_rows(values, port)
    elif is_lane_port(port):
        col = pack_uint64(values, port)
    else:
        col = np.asarray(values)
        if col.dtype == np.bool_:
            col = col.view(np.uint8)
        col = col.reshape(-1)
    return np.ascontiguousarray(col, dtype=dtype)


def random_column(rng, port, n: int) -> np.ndarray:
    """``n`` random values for ``port`` (every bit uniform, bit 63 of a word too):
    ``(n, lanes)`` codes for lane ports, ``(n, words64)`` rows above 64 bits."""
    if is_lane_port(port):
        return rng.integers(0, 1 << port["lane_bits"], (n, port["lanes"]), dtype=np.uint64)
    if port["width"] > 64:
        out = rng.integers(0, 1 << 64, (n, words64_of(port["width"])), dtype=np.uint64)
        top = port["width"] - 64 * (out.shape[1] - 1)
        if top < 64:
            out[:, -1] &= np.uint64((1 << top) - 1)
        return out
    return rng.integers(0, 1 << port["width"], n, dtype=np.uint64)


def format_lanes(codes, bits: int, limit: int = 8) -> str:
    """``[k lanes: 0x3c 0x40 ...]``: a row of lane codes in hex, the first ``limit`` shown."""
    codes = [int(c) for c in np.asarray(codes).reshape(-1)]
    width = (bits + 3) // 4
    shown = " ".join(f"0x{c:0{width}x}" for c in codes[:limit])
    more = f" ... ({len(codes) - limit} more)" if len(codes) > limit else ""
    return f"[{len(codes)} lanes: {shown}{more}]"
