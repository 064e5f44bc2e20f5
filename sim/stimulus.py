"""Stimulus for unit benches: exhaustive where the input space allows, else corners + random.

Everything is derived from the unit manifest (ports, roles, formats), so one generator serves
every unit and format family. Stimulus is a dict of numpy arrays keyed by port name, plus
``meta`` describing how it was made (for the summary line and the repro command).
"""
from __future__ import annotations

import numpy as np

from macforge import golden
from macforge.sim._dotstim import dot_stimulus

__all__ = ["EXHAUSTIVE_LIMIT", "make_stimulus", "exhaustive_bits", "corner_vectors",
           "random_vectors", "block_vectors", "nv_boundary_blocks", "nv_tensor_scales",
           "dequantize_vectors"]

EXHAUSTIVE_LIMIT = 1 << 24      # input spaces up to 2^24 vectors are run exhaustively


def _random_codes(rng, fmt, n, corners, p_corner=0.15):
    """Uniform random codes with a share of directed corners mixed in."""
    x = rng.integers(0, 1 << fmt.bits, size=n, dtype=np.uint64)
    pick = rng.random(n) < p_corner
    x[pick] = rng.choice(corners.astype(np.uint64), size=int(pick.sum()))
    return x.astype(fmt.dtype)


def _cancelling_addends(fa, fb, facc, a, b):
    """Addends c = -round(a*b) in the accumulator: a*b + c is then the rounding error of the
    product (massive cancellation, tiny or exactly zero results, zero-sign rules)."""
    with np.errstate(all="ignore"):
        p = fa.decode(a) * fb.decode(b)          # exact: products of <= 26-bit significands
    p = np.where(np.isfinite(p), p, 0.0)
    return facc.encode(-p)


def _formats(manifest):
    f = manifest["formats"]
    names = {p["name"] for p in manifest["ports"]}
    return (golden.parse(f["a"]), golden.parse(f["b"]) if "b" in names else None,
            golden.parse(f.get("out") or f.get("acc")))


def _inputs(manifest):
    """A stateless unit's input ports and their formats, in stimulus order: the operands
    (``a``, and ``b`` unless it is a one-operand unit such as a cast), an addend ``c`` in the
    output format, a power-of-two ``scale`` (casts)."""
    fa, fb, fo = _formats(manifest)
    roles = {p["role"] for p in manifest["ports"]}
    names = {p["name"] for p in manifest["ports"]}
    ins = [("a", fa)] + ([("b", fb)] if fb is not None else [])
    if "addend" in roles:
        ins.append(("c", fo))
    if "scale" in names:
        ins.append(("scale", golden.parse(manifest["formats"]["scale"])))
    return ins


def exhaustive_bits(manifest: dict) -> int:
    """Bits of a stateless unit's input space (operands, an addend c, a scale)."""
    return sum(fmt.bits for _, fmt in _inputs(manifest))


def corner_vectors(manifest: dict) -> dict:
    """The cross-product of the input formats' ``corner_codes()`` (a stateless unit's
    directed vectors when its space is too large to run whole)."""
    ins = _inputs(manifest)
    grids = np.meshgrid(*[fmt.corner_codes() for _, fmt in ins], indexing="ij")
    return {name: g.ravel().astype(fmt.dtype) for (name, fmt), g in zip(ins, grids)}


def random_vectors(manifest: dict, rng, n: int) -> dict:
    """``n`` seeded random vectors of a stateless unit: uniform codes with corners mixed in;
    a quarter of the FMA addends cancel the product (cancellation, tiny results)."""
    fa, fb, fo = _formats(manifest)
    out = {name: _random_codes(rng, fmt, n, fmt.corner_codes()) for name, fmt in _inputs(manifest)}
    if "c" in out:
        sel = rng.random(n) < 0.25
        out["c"][sel] = _cancelling_addends(fa, fb, fo, out["a"][sel],
                                            out["b"][sel]).astype(fo.dtype)
    return out


def block_vectors(fi, k: int, n: int, rng) -> np.ndarray:
    """``(6 + n, k)`` source codes of a block quantiser: the OCP MX v1.0 corner blocks, then
    ``n`` random ones.

    Directed: all +0 and all -0 (the zero block: scale 2^-127, code 0x00), every lane at a
    magnitude below e8m0's smallest scale's reach (the source's smallest subnormal, or 2^-140:
    the clamped scale, elements underflow), a NaN lane and a -inf lane (the NaN scale, zero
    elements), the source's largest magnitudes. Random: N(0, 1) times 2^U(-30, 30) per block,
    a tenth of the lanes exact zeros, a twentieth the source's corner codes (NaN, inf,
    subnormals, max).
    """
    x = rng.standard_normal((n, k)) * np.exp2(rng.integers(-30, 30, (n, 1)))
    x[rng.random((n, k)) < 0.1] = 0.0
    a = fi.encode(x)
    corners = fi.corner_codes()
    pick = rng.random((n, k)) < 0.05
    a[pick] = rng.choice(corners, int(pick.sum()))
    directed = np.zeros((6, k), a.dtype)               # all zero (+0), then -0s
    directed[1] = fi.encode(np.full(k, -0.0))
    tiny = 2.0 ** -140 if fi.min_subnormal < 2.0 ** -140 else fi.min_subnormal
    directed[2] = fi.encode(np.full(k, tiny))
    directed[3, 0] = fi.nan_code                       # a NaN lane
    directed[4] = fi.encode(np.linspace(-fi.max, fi.max, k))   # the largest magnitudes
    directed[5, k // 2] = fi.encode(np.array([-np.inf]))[0]
    return np.concatenate([directed, a])


def nv_boundary_blocks(fi, blk, k: int, rng) -> np.ndarray:
    """Directed NV blocks (source codes, ``(rows, k)``) to run with the tensor scales
    :func:`nv_tensor_scales` gives them (2^-4, 1 or 8, in turn): lane 0 is the block max at
    Q * t * m for every rounding boundary m of the e4m3 scale (the midpoints between its
    values, half its smallest subnormal: a tie to zero, and the saturation boundaries 464 and
    480), and at the source codes just above and below it; the other lanes sit at the
    element format's midpoints times the rounded scale (element ties), at most the max."""
    e4 = blk.scale
    pos = e4.decode(e4.codes())
    pos = np.unique(pos[np.isfinite(pos) & (pos > 0)])
    mids = np.concatenate([[pos[0] / 2], (pos[:-1] + pos[1:]) / 2, [464.0, 480.0]])
    Q = float(blk._element_max_code_value)
    ev = blk.element.decode(blk.element.codes()) * 2.0 ** blk.element_exp
    ev = np.unique(np.abs(ev[np.isfinite(ev)]))
    emids = (ev[:-1] + ev[1:]) / 2
    t = _NV_T[np.arange(mids.size) % len(_NV_T)]
    amax = fi.encode(Q * t * mids)
    rows = np.stack([amax, amax + 1, amax - 1], axis=1).reshape(-1)       # magnitude codes
    t3 = np.repeat(t, 3)
    amax_v = np.abs(fi.decode(rows))
    S = e4.decode(e4.encode(amax_v / (Q * t3), saturate=True))
    lanes = S[:, None] * t3[:, None] * emids[np.arange(k - 1) % emids.size][None, :]
    lanes = np.minimum(lanes, amax_v[:, None]) * rng.choice([-1.0, 1.0], lanes.shape)
    a = np.concatenate([rows[:, None].astype(fi.dtype), fi.encode(lanes)], axis=1)
    return a[:, :k]


_NV_T = np.array([2.0 ** -4, 1.0, 8.0])     # tensor scales of nv_boundary_blocks, in turn


def nv_tensor_scales(fi, blk, a, n_lead: int, n_boundary: int, rng, span=(-12, 10),
                     corners: float = 0.05) -> np.ndarray:
    """Tensor-scale codes (``blk.tensor_scale_format``, fp32) for the NV quantiser's blocks
    ``a``: 1 for the ``n_lead`` corner blocks, :data:`_NV_T` in turn for the next ``n_boundary``
    (:func:`nv_boundary_blocks`), and for the random blocks amax / (Q * 2^U(span)); the
    default span makes block scales cover e4m3's subnormals, zero and saturation. A fraction
    ``corners`` of them are its corner codes (NaN, infinities, zeros, negative, subnormal: an
    invalid tensor scale is a NaN block scale). The cost model's activity asks for in-range
    block scales and no corners (a tensor scale as a quantising accelerator sets it)."""
    ts = blk.tensor_scale_format
    x = fi.decode(a)
    amax = np.where(np.isfinite(x), np.abs(x), 0.0).max(axis=1)
    Q = float(blk._element_max_code_value)
    target = 2.0 ** rng.uniform(span[0], span[1], a.shape[0])
    t = np.where(amax > 0, amax / (Q * target), 2.0 ** rng.integers(-20, 20, a.shape[0]))
    codes = ts.encode(t)
    codes[ts.decode(codes) == 0] = 1                   # underflow: the smallest subnormal
    codes[:n_lead] = ts.encode(np.array(1.0))
    codes[n_lead:n_lead + n_boundary] = ts.encode(_NV_T[np.arange(n_boundary) // 3
                                                         % len(_NV_T)])
    tail = np.arange(n_lead + n_boundary, a.shape[0])
    pick = tail[rng.random(tail.size) < corners]
    codes[pick] = rng.choice(ts.corner_codes().astype(codes.dtype), pick.size)
    return codes


def dequantize_vectors(blk, k: int, n: int, rng) -> tuple:
    """``(stim, n_exhaustive)`` of a block dequantiser: every (scale code, element code) pair
    (each scale code with rows of k lanes running through all element codes; for nv* formats
    with the tensor scale 1 and then each of its corner codes), then ``n`` random blocks:
    uniform element and scale codes and, for nv*, tensor scales 2^U(-20, 20) x a random
    significand or, a fifth of them, uniform tensor-scale codes with corners mixed in."""
    ec, sc = blk.element.codes(), blk.scale.codes()
    per = -(-ec.size // k)
    row = np.resize(ec, per * k).reshape(per, k)
    a = np.tile(row, (sc.size, 1))
    scale = np.repeat(sc, per)
    stim = {}
    if blk.tensor_scale:
        ts = blk.tensor_scale_format
        tc = np.concatenate([ts.encode(np.array([1.0])), ts.corner_codes()])
        m = a.shape[0]
        a, scale = np.tile(a, (tc.size, 1)), np.tile(scale, tc.size)
        tscale = np.repeat(tc, m)
        rt = ts.encode(rng.uniform(1, 2, n) * 2.0 ** rng.integers(-20, 20, n))
        wild = rng.random(n) < 0.2
        rt[wild] = _random_codes(rng, ts, int(wild.sum()), ts.corner_codes())
        stim["tscale"] = np.concatenate([tscale, rt]).astype(ts.dtype)
    n_ex = a.shape[0]
    ra = rng.integers(0, 1 << blk.element.bits, (n, k))
    rs = rng.integers(0, 1 << blk.scale.bits, n)
    stim["a"] = np.concatenate([a, ra]).astype(blk.element.dtype)
    stim["scale"] = np.concatenate([scale, rs]).astype(blk.scale.dtype)
    return stim, n_ex


def make_stimulus(manifest: dict, n_random: int, seed: int) -> dict:
    """Build the stimulus for ``manifest``'s unit, from its ports and its state trait.

    The block quantiser gets :func:`block_vectors` (``n_random`` random blocks after the
    corner blocks; NV formats: :func:`nv_boundary_blocks` after the corners and a tensor
    scale per block, :func:`nv_tensor_scales`); the dequantiser :func:`dequantize_vectors`. Units with lane ports (the k-lane dot units) get :func:`sim._dotstim.dot_stimulus`.
    Stateless units (manifest ``state`` "none": multipliers, FMAs) get every input combination
    of their operand ports (``a``, ``b`` and an ``addend`` ``c`` in the output format) if the
    space is at most 2^24, else corner cross-products plus ``n_random`` random vectors (corners
    mixed in; a quarter of the random FMA addends cancel the product). Accumulating units get
    every (a, b) pair as a sequence-starting step when the pair space allows (else the corner
    pairs), then ``n_random`` steps in random-length sequences (each begins with ``first``),
    with occasional ``clear`` and idle (``en`` = 0) cycles. An ``rnd`` port gets uniform
    random integers of its width, except on a one-operand unit (a cast: ``a`` and no scale)
    whose inputs and rnd values together are at most 2^24: it gets every rnd value for every
    input (bf16 -> e4m3 with R = 8: 2^24 vectors). A ``scale`` port (casts) is one more input
    axis, exhaustive with the others where the space allows.
    """
    if manifest.get("model") == "quantize":           # k source lanes -> one block
        f = manifest["formats"]
        fi, k = golden.parse(f["a"]), int(manifest["lanes"])
        rng = np.random.default_rng(seed)
        a = block_vectors(fi, k, n_random, rng)
        stim, corner = {}, 6
        if "tscale" in f:                              # nv*: a tensor scale per block
            blk = golden.parse(f["out"])
            d = nv_boundary_blocks(fi, blk, k, rng)
            a = np.concatenate([a[:6], d, a[6:]])
            stim["tscale"] = nv_tensor_scales(fi, blk, a, 6, d.shape[0], rng)
            corner += d.shape[0]
        stim["a"] = a
        stim["meta"] = {"exhaustive": 0, "corner": corner, "random": n_random, "seed": seed,
                        "total": int(a.shape[0])}
        return stim
    if manifest.get("model") == "dequantize":         # one block -> k element values
        blk = golden.parse(manifest["formats"]["a"])
        stim, n_ex = dequantize_vectors(blk, int(manifest["lanes"]), n_random,
                                        np.random.default_rng(seed))
        stim["meta"] = {"exhaustive": n_ex, "corner": 0, "random": n_random, "seed": seed,
                        "total": int(stim["a"].shape[0])}
        return stim
    if any("lanes" in p for p in manifest["ports"]):
        return dot_stimulus(manifest, n_random, seed)
    rng = np.random.default_rng(seed)
    roles = {p["role"]: p["name"] for p in manifest["ports"]}
    names = {p["name"] for p in manifest["ports"]}
    f = manifest["formats"]
    fa = golden.parse(f["a"])
    fb = golden.parse(f["b"]) if "b" in names else None      # one-operand units: a only
    fo = golden.parse(f.get("out") or f.get("acc"))
    stim: dict = {}
    meta = {"exhaustive": 0, "corner": 0, "random": 0, "seed": seed}
    ca = fa.corner_codes()
    cb = fb.corner_codes() if fb is not None else None

    if manifest["state"] == "none":
        # the input ports and their formats: operands, an addend (in the output format), a
        # power-of-two scale (casts)
        ins = _inputs(manifest)
        space_bits = sum(fmt.bits for _, fmt in ins)
        rnd_bits = int(manifest["rnd_bits"]) if "random" in roles else 0
        # a one-operand unit (a cast) gets every rnd value for every input where that fits
        with_rnd = rnd_bits and len(ins) == 1 and space_bits + rnd_bits <= 24
        if space_bits <= 24:
            axes = [fmt.codes() for _, fmt in ins]
            if with_rnd:
                axes.append(np.arange(1 << rnd_bits, dtype=np.uint32))
            grids = [g.ravel() for g in np.meshgrid(*axes, indexing="ij")]
            for (name, fmt), g in zip(ins, grids):
                stim[name] = g.astype(fmt.dtype)
            if with_rnd:
                stim["rnd"] = grids[-1]
            meta["exhaustive"] = grids[0].size
        else:
            corners = corner_vectors(manifest)
            meta["corner"] = corners["a"].size
            rand = random_vectors(manifest, rng, n_random)
            meta["random"] = n_random
            for name, fmt in ins:
                stim[name] = np.concatenate([corners[name], rand[name]]).astype(fmt.dtype)
    else:
        seqs_a, seqs_b, first = [], [], []
        if fa.bits + fb.bits <= 24:
            ga, gb = np.meshgrid(fa.codes(), fb.codes(), indexing="ij")
            meta["exhaustive"] = ga.size
        else:
            ga, gb = np.meshgrid(ca, cb, indexing="ij")
            meta["corner"] = ga.size
        seqs_a.append(ga.ravel()); seqs_b.append(gb.ravel())
        first.append(np.ones(ga.size, bool))
        ra = _random_codes(rng, fa, n_random, ca, p_corner=0.05)
        rb = _random_codes(rng, fb, n_random, cb, p_corner=0.05)
        # sequences of geometric length (mean 48, like a K=32..64 dot product), some long
        starts = np.zeros(n_random, bool)
        if n_random:
            pos, starts[0] = 0, True
            while pos < n_random:
                pos += int(rng.geometric(1 / 48)) if rng.random() > 0.02 else int(rng.integers(256, 2048))
                if pos < n_random:
                    starts[pos] = True
        seqs_a.append(ra); seqs_b.append(rb); first.append(starts)
        meta["random"] = n_random
        stim["a"] = np.concatenate(seqs_a).astype(fa.dtype)
        stim["b"] = np.concatenate(seqs_b).astype(fb.dtype)
        stim["first"] = np.concatenate(first)
        total = stim["a"].size
        en = np.ones(total, bool)
        clear = np.zeros(total, bool)
        tail = slice(total - n_random, total)
        en[tail] = rng.random(n_random) > 0.01            # 1 % idle cycles: the register holds
        clear[tail] = rng.random(n_random) < 0.002        # rare clears, even mid-sequence
        stim["en"], stim["clear"] = en, clear
    total = stim["a"].size
    if "random" in roles and "rnd" not in stim:
        rnd_bits = int(manifest["rnd_bits"])
        stim["rnd"] = rng.integers(0, 1 << rnd_bits, size=total, dtype=np.uint64).astype(np.uint32)
    meta["total"] = int(total)
    stim["meta"] = meta
    return stim
