"""Sweeps: deterministic, indexable stimulus spaces for long co-simulation runs.

A :class:`Sweep` numbers its vectors ``0 .. total-1`` and makes any slice on demand, so
:func:`sim.stream.stream` can check it in chunks, resume it after Ctrl-C and hand chunks to
worker processes. :func:`pair_sweep` is every operand pair, :func:`fma_sweep` every pair fused
into a set of addends (such as :func:`stratified_codes`), :class:`ArraySweep` a stimulus
already in memory.

Examples
--------
>>> from macforge.sim import sweeps
>>> s = sweeps.pair_sweep("e4m3")
>>> s
<PairSweep pairs_e4m3fn_e4m3fn: 65,536 vectors>
>>> s.chunk(256, 259)["a"].tolist(), s.chunk(256, 259)["b"].tolist()
([1, 1, 1], [0, 1, 2])
>>> sweeps.stratified_codes("fp32", 4096).size
4096
"""
from __future__ import annotations

import hashlib

import numpy as np

from macforge import golden
from macforge.sim._fast_harness import FastSimError
from macforge.sim.stimulus import corner_vectors, random_vectors

__all__ = ["Sweep", "PairSweep", "FmaSweep", "ArraySweep", "StimulusSweep", "pair_sweep",
           "fma_sweep", "stratified_codes"]


class Sweep:
    """Vectors ``0 .. total-1`` of a stimulus space; ``chunk(lo, hi)`` makes any slice.

    Chunks are pure functions of their index range, which is what makes
    :func:`sim.stream.stream` resumable (a restarted run regenerates exactly the vectors it has
    not checked) and parallel (worker processes get index ranges; sweeps are plain picklable
    objects).
    Subclasses set ``name``, ``total`` and ``describe`` and implement ``_make(lo, hi)``.
    """
    name: str
    total: int
    describe: str = ""

    def chunk(self, lo: int, hi: int) -> dict:
        lo, hi = max(0, lo), min(self.total, hi)
        return self._make(lo, hi)

    def _make(self, lo: int, hi: int) -> dict:
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}: {self.total:,} vectors>"


def _index_range(lo, hi):
    return np.arange(lo, hi, dtype=np.uint64)


class PairSweep(Sweep):
    """Every operand pair ``(a, b)``: vector ``i`` is ``a = i >> bits_b``, ``b = i & mask``."""

    def __init__(self, fmt, fmt_b=None):
        self.fa = golden.parse(fmt)
        self.fb = golden.parse(fmt_b) if fmt_b is not None else self.fa
        self.total = 1 << (self.fa.bits + self.fb.bits)
        self.name = f"pairs_{self.fa.name}_{self.fb.name}"
        self.describe = f"every {self.fa.name} x {self.fb.name} pair ({self.total:,})"

    def _make(self, lo, hi):
        i = _index_range(lo, hi)
        nb = np.uint64(self.fb.bits)
        return {"a": (i >> nb).astype(self.fa.dtype),
                "b": (i & np.uint64((1 << self.fb.bits) - 1)).astype(self.fb.dtype)}


class FmaSweep(Sweep):
    """Every operand pair fused into each addend of ``c_codes``, addend-major: vector ``i``
    uses addend ``i >> (bits_a + bits_b)`` and the pair ``i & (2^(bits_a + bits_b) - 1)``."""

    def __init__(self, fmt, acc, c_codes, fmt_b=None, name=None):
        self.fa = golden.parse(fmt)
        self.fb = golden.parse(fmt_b) if fmt_b is not None else self.fa
        self.fc = golden.parse(acc)
        self.c_codes = np.asarray(c_codes).astype(self.fc.dtype)
        self.total = self.c_codes.size << (self.fa.bits + self.fb.bits)
        digest = hashlib.sha256(self.c_codes.tobytes()).hexdigest()[:8]
        self.name = name or (f"fma_{self.fa.name}_{self.fb.name}_{self.fc.name}_"
                             f"{self.c_codes.size}c_{digest}")
        self.describe = (f"every {self.fa.name} x {self.fb.name} pair fused into "
                         f"{self.c_codes.size:,} {self.fc.name} addends ({self.total:,})")

    def _make(self, lo, hi):
        i = _index_range(lo, hi)
        nb, nab = self.fb.bits, self.fa.bits + self.fb.bits
        a = (i >> np.uint64(nb)) & np.uint64((1 << self.fa.bits) - 1)
        return {"a": a.astype(self.fa.dtype),
                "b": (i & np.uint64((1 << nb) - 1)).astype(self.fb.dtype),
                "c": self.c_codes[(i >> np.uint64(nab)).astype(np.intp)]}


class ArraySweep(Sweep):
    """A stimulus already in memory (e.g. from :func:`sim.stimulus.make_stimulus`), streamed
    in chunks; ``name`` should say how it was made (it keys the progress file)."""

    def __init__(self, stim: dict, name: str):
        self.stim = {k: np.asarray(v) for k, v in stim.items() if k != "meta"}
        sizes = {v.shape[0] for v in self.stim.values()}
        if len(sizes) != 1:
            raise FastSimError(f"stimulus columns differ in length: {sorted(sizes)}")
        self.total = sizes.pop()
        digest = hashlib.sha256(b"".join(np.ascontiguousarray(v).tobytes()
                                         for v in self.stim.values())).hexdigest()[:8]
        self.name = f"{name}_{digest}"
        self.describe = f"{name} ({self.total:,} vectors)"

    def _make(self, lo, hi):
        return {k: v[lo:hi] for k, v in self.stim.items()}


class StimulusSweep(Sweep):
    """A stateless unit's corners-plus-random stimulus, made block by block.

    Vectors ``0 .. corners-1`` are the corner cross-product (:func:`sim.stimulus.corner_vectors`),
    then ``n_random`` random vectors (:func:`sim.stimulus.random_vectors`) in blocks of
    ``block``, block ``j`` drawn from ``default_rng([seed, j])``: any chunk is a pure function of
    its range, so a run of 10^8 vectors streams in bounded memory and resumes after Ctrl-C.
    (The in-memory :func:`sim.stimulus.make_stimulus` draws from one generator instead: the same
    kind of vectors, other values.)
    """

    def __init__(self, manifest: dict, n_random: int, seed: int, block: int = 1 << 20):
        if manifest.get("state", "none") != "none" or any("lanes" in p for p in manifest["ports"]):
            raise FastSimError(f"{manifest['module']}: a StimulusSweep takes a stateless "
                               "unit without lane ports")
        self.manifest, self.seed, self.block = manifest, int(seed), int(block)
        self.corners = corner_vectors(manifest)
        self.n_corner = int(self.corners["a"].size)
        self.n_random = int(n_random)
        self.total = self.n_corner + self.n_random
        self.name = f"stim_{manifest['module']}_n{self.n_random}_s{self.seed}_b{self.block}"
        self.describe = (f"{self.n_corner:,} corner and {self.n_random:,} random vectors "
                         f"(seed {self.seed})")

    def _block(self, j: int) -> dict:
        # consecutive chunks share a block (the corners shift them off the block grid): the
        # last one is kept, so each block is drawn once in a streamed run
        cached = getattr(self, "_last", None)
        if cached is not None and cached[0] == j:
            return cached[1]
        size = min(self.block, self.n_random - j * self.block)
        blk = random_vectors(self.manifest, np.random.default_rng([self.seed, j]), size)
        self._last = (j, blk)
        return blk

    def __getstate__(self):                  # workers get the sweep, not its cached block
        return {k: v for k, v in self.__dict__.items() if k != "_last"}

    def _make(self, lo, hi):
        parts = []
        if lo < self.n_corner:
            parts.append({k: v[lo:min(hi, self.n_corner)] for k, v in self.corners.items()})
        r0, r1 = max(lo, self.n_corner) - self.n_corner, hi - self.n_corner
        for j in range(r0 // self.block, -(-r1 // self.block) if r1 > 0 else 0):
            blk = self._block(j)
            b0 = j * self.block
            parts.append({k: v[max(r0, b0) - b0:min(r1, b0 + self.block) - b0]
                          for k, v in blk.items()})
        if not parts:
            return {k: v[:0] for k, v in self.corners.items()}
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def pair_sweep(fmt, fmt_b=None) -> PairSweep:
    """Every operand pair: all 2^32 bf16 x bf16 products are ``pair_sweep("bf16")``."""
    return PairSweep(fmt, fmt_b)


def fma_sweep(fmt, acc, c_codes, fmt_b=None, name=None) -> FmaSweep:
    """Every operand pair fused into each addend code of ``c_codes`` (see :class:`FmaSweep`)."""
    return FmaSweep(fmt, acc, c_codes, fmt_b, name)


def stratified_codes(fmt, n: int = 4096, seed: int = 1) -> np.ndarray:
    """``n`` codes of a minifloat spread evenly over its sign/exponent strata.

    Every (sign, biased exponent) stratum -- zeros and subnormals, every binade, inf and the
    NaNs -- gets ``n / 2^(1+E)`` codes (at least one), always including the stratum's edge
    mantissas (0, 1, the halfway pattern, all ones) so carries, ties and sticky bits meet the
    fused products, the rest seeded random. For fp32 and n = 4096: 512 strata x 8 mantissas.
    """
    f = golden.parse(fmt)
    if not isinstance(f, golden.Minifloat) or not f.signed:
        raise golden.FormatError(f"stratified_codes takes a signed minifloat, not {f.name}")
    M = f.man_bits
    strata = 1 << (1 + f.exp_bits)
    per = max(1, n // strata)
    rng = np.random.default_rng(seed)
    edges = [0, 1, (1 << M) >> 1, (1 << M) - 1, ((1 << M) >> 1) - 1, ((1 << M) >> 1) + 1]
    edges = list(dict.fromkeys(e for e in edges if 0 <= e < (1 << M)))
    out = []
    for s in range(strata):
        sign, exp = s >> f.exp_bits, s & ((1 << f.exp_bits) - 1)
        mans = edges[:per]
        while len(mans) < per:
            m = int(rng.integers(0, 1 << M))
            if m not in mans:
                mans.append(m)
        base = (sign << (f.exp_bits + M)) | (exp << M)
        out += [base | m for m in mans]
    return np.array(out, dtype=np.uint64).astype(f.dtype)
