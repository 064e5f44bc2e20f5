"""Multi-lane ports: ``k`` element codes per vector packed into one wide port.

A dot-product unit's ``a`` and ``b`` ports carry ``lanes`` element codes each, lane ``i`` at
bits ``[i * lane_bits, (i + 1) * lane_bits)`` (the manifest's port entry has ``lanes`` and
``lane_bits``). Stimulus keeps them as ``(n, lanes)`` arrays of element codes; this module
packs them for the two drivers: Python integers for cocotb (any width), and for the fast
harness a ``uint64`` column (ports up to 64 bits) or ``(n, words)`` little-endian ``uint32``
words (wider ports: Verilator's ``VlWide`` layout).
"""
from __future__ import annotations

import numpy as np

__all__ = ["is_lane_port", "words_of", "pack_words", "pack_uint64", "pack_ints",
           "harness_column", "random_column", "format_lanes"]


def is_lane_port(port: dict) -> bool:
    return "lanes" in port


def words_of(width: int) -> int:
    """32-bit words of a port wider than 64 bits (Verilator's ``VlWide<words>``)."""
    return (width + 31) // 32


def _lanes_2d(values, port) -> np.ndarray:
    v = np.asarray(values)
    k = port["lanes"]
    if v.ndim != 2 or v.shape[1] != k:
        raise ValueError(f"port {port['name']!r} takes (n, {k}) lane codes, not shape {v.shape}")
    return v.astype(np.uint64)


def pack_words(values, port) -> np.ndarray:
    """``(n, words)`` uint32: lane ``i`` at bit ``i * lane_bits`` of the port."""
    v = _lanes_2d(values, port)
    bits, width = port["lane_bits"], port["width"]
    out = np.zeros((v.shape[0], words_of(width)), np.uint64)
    mask = np.uint64((1 << bits) - 1)
    for i in range(v.shape[1]):
        pos = i * bits
        w, off = divmod(pos, 32)
        code = v[:, i] & mask
        out[:, w] |= code << np.uint64(off)
        if off + bits > 32:
            out[:, w + 1] |= code >> np.uint64(32 - off)
    return (out & np.uint64(0xFFFF_FFFF)).astype(np.uint32)


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
    """Python integers (one per vector) for cocotb, any width."""
    words = pack_words(values, port).astype(object)
    total = np.zeros(words.shape[0], dtype=object)
    for w in range(words.shape[1]):
        total = total + (words[:, w] << (32 * w))
    return total.tolist()


def harness_column(values, port, dtype) -> np.ndarray:
    """The contiguous array the fast harness reads for ``port`` (see the module docstring)."""
    if is_lane_port(port):
        col = pack_words(values, port) if port["width"] > 64 else pack_uint64(values, port)
    else:
        col = np.asarray(values)
        if col.dtype == np.bool_:
            col = col.view(np.uint8)
        col = col.reshape(-1)
    return np.ascontiguousarray(col, dtype=dtype)


def random_column(rng, port, n: int) -> np.ndarray:
    """``n`` random values for ``port``: ``(n, lanes)`` codes for lane ports."""
    if is_lane_port(port):
        return rng.integers(0, 1 << port["lane_bits"], (n, port["lanes"]), dtype=np.uint64)
    return rng.integers(0, 1 << min(port["width"], 63), n, dtype=np.uint64)


def format_lanes(codes, bits: int, limit: int = 8) -> str:
    """``[k lanes: 0x3c 0x40 ...]``: a row of lane codes in hex, the first ``limit`` shown."""
    codes = [int(c) for c in np.asarray(codes).reshape(-1)]
    width = (bits + 3) // 4
    shown = " ".join(f"0x{c:0{width}x}" for c in codes[:limit])
    more = f" ... ({len(codes) - limit} more)" if len(codes) > limit else ""
    return f"[{len(codes)} lanes: {shown}{more}]"
