"""Stimulus and reference model of the k-lane dot-product units (``dot``: hw.FDot, ``idot``).

A vector is one cycle's command: ``a``, ``b`` as ``(n, lanes)`` element codes, the block
scales ``sa``, ``sb`` (block formats), ``en``/``first``/``clear`` (and ``rnd`` under SR).
The model checks every transition from the accumulator the DUT showed before it, as for the
scalar MACs: ``acc <- round(scale * sum_i a_i b_i + acc)`` (``golden.dot`` /
``golden.block_dot``), ``first`` drops the old accumulator (the sum alone: the additive
identity, -0, or +0 under rdn, as ``c``), ``clear`` gives +0, ``en = 0`` holds.

Stimulus, in order:

1. every element pair once (formats of up to 8 + 8 bits), pair ``j`` in lane ``j mod k``
   with zeros elsewhere, as sequence starts (unit scales): every product's rounding;
2. directed corners, each both as a sequence start and on top of a running sum: all-zero
   blocks (random zero signs), max-magnitude blocks (same and mixed signs; largest, smallest
   and unit scales), exact and near cancellation across lanes, a block that cancels the
   accumulator (the negated previous block), NaN/inf lanes and inf x 0 where the element
   format has them, NaN and zero scales, extreme scales;
3. ``n`` random steps in sums of random length (mean 8 steps = 256 products at k = 32, some
   up to 160 steps = K 5120), random finite elements with corners mixed in, a NaN/inf lane in
   about 0.5 % of steps, idle cycles (1 %) and clears (0.2 %); block scales mostly near 1
   (so sums stay in the accumulator's range) with the whole range and NaN mixed in.
"""
from __future__ import annotations

import numpy as np

from macforge import golden
from macforge.golden import Rounding
from macforge.golden._presets import get_preset, scaled_promotion
from macforge.sim._lanes import pack_result, result_ports, unpack_result

__all__ = ["dot_stimulus", "dot_outputs", "deepseek_outputs", "deepseek_stimulus",
           "element_formats", "identity_code"]

#: Vectors per golden call: a step is ``lanes`` products, so the golden model's (n, lanes)
#: temporaries stay around 100 MB whatever the run length.
MODEL_CHUNK = 1 << 16


def _block(manifest):
    return manifest.get("block") is not None


def element_formats(manifest):
    """(element a, element b, accumulator, scale or None) of a dot unit's manifest."""
    e = manifest["elements"]
    f = manifest["formats"]
    scale = golden.parse(f["scale"]) if "scale" in f else None
    return golden.parse(e["a"]), golden.parse(e["b"]), golden.parse(f["acc"]), scale


def identity_code(acc, rounding) -> int:
    """The accumulator a ``first`` step adds to: the additive identity of the rounding mode
    (-0 leaves every sum unchanged under rne/rna/rtz/rup/sr; under rdn +0 does)."""
    if Rounding.parse(rounding) is Rounding.RDN:
        return 0
    return acc.additive_identity


def _step(manifest, a, b, c, stim_rows):
    """One vectorised golden call: the next accumulator for every row."""
    f = manifest["formats"]
    fo = golden.parse(f["acc"])
    if manifest["rounding"] is None:                 # an integer dot unit: exact, no rounding
        return golden.dot(a, b, c, manifest["elements"]["a"], fo, saturate=manifest["saturate"],
                          fmt_b=manifest["elements"]["b"])
    kw = dict(align=manifest["align"], rounding=manifest["rounding"])
    if manifest["rounding"] == "sr":
        kw.update(rnd=stim_rows["rnd"].astype(np.uint64), rnd_bits=int(manifest["rnd_bits"]))
    if _block(manifest):
        if manifest["saturate"]:
            kw["saturate"] = True
        return golden.block_dot(a, stim_rows["sa"], b, stim_rows["sb"], c, f["a"], acc=fo,
                                fmt_b=f["b"], **kw)
    return golden.dot(a, b, c, f["a"], fo, saturate=manifest["saturate"], fmt_b=f["b"], **kw)


def dot_outputs(manifest: dict, stim: dict, observed: np.ndarray) -> np.ndarray:
    """Expected accumulator after every command, each from the observed state before it."""
    fo = golden.parse(manifest["formats"]["acc"])
    n = len(stim["a"])
    prev = np.concatenate([np.zeros(1, fo.dtype), np.asarray(observed)[:-1].astype(fo.dtype)])
    first = np.asarray(stim["first"], bool)
    en = np.asarray(stim["en"], bool)
    clear = np.asarray(stim["clear"], bool)
    ident = identity_code(fo, manifest.get("rounding") or "rne")
    c = np.where(first, fo.dtype.type(ident), prev).astype(fo.dtype)
    step = np.empty(n, fo.dtype)
    rows = [k for k in ("sa", "sb", "rnd") if k in stim]
    for lo in range(0, n, MODEL_CHUNK):
        sl = slice(lo, lo + MODEL_CHUNK)
        step[sl] = _step(manifest, stim["a"][sl], stim["b"][sl], c[sl],
                         {k: np.asarray(stim[k])[sl] for k in rows})
    return np.where(clear, fo.dtype.type(0), np.where(en, step, prev)).astype(fo.dtype)


def _core_manifest(manifest):
    """The tensor-core step of a scaled-preset unit (deepseek-fp8) as the FDot manifest the
    dot model reads: the preset's k, align and register (``reg``), rounded as it says."""
    p = get_preset(manifest["preset"])
    f = manifest["formats"]
    return dict(manifest, formats={"a": f["a"], "b": f["b"], "acc": f["reg"]}, block=None,
                rounding=p.register_rounding.value, align=p.align, saturate=False, rnd_bits=None)


def deepseek_outputs(manifest: dict, stim: dict, observed: np.ndarray) -> np.ndarray:
    """Expected ``(reg, acc)`` result rows of a deepseek-fp8 unit (``hw.DeepSeekDot``), every
    transition from the observed state before it: ``reg`` steps as the h100-fp8 dot unit
    (:func:`dot_outputs`); ``acc`` takes, on ``promote``, the preset's promotion of the
    register shown before the edge with this cycle's scales
    (``golden._presets.scaled_promotion``: ``acc + R * fp32(sa * sb)``), holds otherwise, and
    ``clear`` zeroes both."""
    ports = result_ports(manifest)
    obs = unpack_result(observed, ports)
    f = manifest["formats"]
    reg, fc = golden.parse(f["reg"]), golden.parse(f["acc"])
    obs_reg, obs_acc = obs["reg"].astype(reg.dtype), obs["acc"].astype(fc.dtype)
    nxt_reg = dot_outputs(_core_manifest(manifest), stim, obs_reg)
    prev_reg = np.concatenate([np.zeros(1, reg.dtype), obs_reg[:-1]])
    prev_acc = np.concatenate([np.zeros(1, fc.dtype), obs_acc[:-1]])
    promoted = scaled_promotion(prev_reg, stim["sa"], stim["sb"], prev_acc, manifest["preset"])
    promote, clear = np.asarray(stim["promote"], bool), np.asarray(stim["clear"], bool)
    acc = np.where(clear, fc.dtype.type(0), np.where(promote, promoted, prev_acc))
    return pack_result({"reg": nxt_reg, "acc": acc.astype(fc.dtype)}, ports)


# ---------------------------------------------------------------------------------------------
# stimulus
# ---------------------------------------------------------------------------------------------
def _finite_codes(fmt) -> np.ndarray:
    codes = fmt.codes()
    return codes[np.isfinite(fmt.decode(codes))]


def _special_codes(fmt) -> np.ndarray:
    """NaN and inf codes of an element format (empty where it has none)."""
    codes = fmt.codes()
    return codes[~np.isfinite(fmt.decode(codes))]


def _negate(fmt, codes):
    """-x for element codes (the format's own negation: a sign bit, or two's complement)."""
    return fmt.negate(np.asarray(codes))


def _zero_codes(fmt, rng, shape):
    if not fmt.has_negative_zero:
        return np.zeros(shape, fmt.dtype)
    return np.where(rng.random(shape) < 0.5, fmt.sign_bit, 0).astype(fmt.dtype)


def _max_code(fmt):
    return fmt.max_code


def _scale_codes(scale, rng, n, *, p_wide=0.03, p_nan=0.003, p_zero=0.005):
    """Block scales: mostly close to 1, sometimes anywhere in range, rarely NaN (or zero)."""
    if scale is None:
        return None
    one = int(scale.encode(1.0)[()])
    finite = _finite_codes(scale)
    finite = finite[scale.decode(finite) > 0] if scale.signed else finite
    if scale.precision == 1:                     # e8m0: exponent codes around 2^0
        near = np.clip(one + rng.integers(-12, 13, n), finite.min(), finite.max())
    else:                                        # e4m3: codes within a few binades of 1
        step = 1 << scale.man_bits
        near = np.clip(one + rng.integers(-3 * step, 3 * step + 1, n), 1, finite.max())
    codes = near.astype(np.uint64)
    pick = rng.random(n)
    codes = np.where(pick < p_wide, rng.choice(finite.astype(np.uint64), n), codes)
    if scale.has_nan:
        codes = np.where(pick > 1 - p_nan, np.uint64(scale.nan_code), codes)
    if scale.has_zero and p_zero:
        codes = np.where((pick > 1 - p_nan - p_zero) & (pick <= 1 - p_nan), np.uint64(0), codes)
    return codes.astype(scale.dtype)


class _Builder:
    """Accumulates commands (rows of a, b, scales, first) and the directed-corner count."""

    def __init__(self, fa, fb, scale, k, rng):
        self.fa, self.fb, self.scale, self.k, self.rng = fa, fb, scale, k, rng
        self.a, self.b, self.sa, self.sb, self.first = [], [], [], [], []
        self.fin_a, self.fin_b = _finite_codes(fa), _finite_codes(fb)
        self.corner_a = fa.corner_codes()
        self.corner_b = fb.corner_codes()
        self.unit_scale = None if scale is None else int(scale.encode(1.0)[()])

    def add(self, a, b, first, sa=None, sb=None):
        n = len(a)
        self.a.append(np.asarray(a).astype(self.fa.dtype))
        self.b.append(np.asarray(b).astype(self.fb.dtype))
        self.first.append(np.broadcast_to(np.asarray(first, bool), (n,)))
        if self.scale is not None:
            u = self.unit_scale
            self.sa.append(np.broadcast_to(np.asarray(u if sa is None else sa), (n,))
                           .astype(self.scale.dtype))
            self.sb.append(np.broadcast_to(np.asarray(u if sb is None else sb), (n,))
                           .astype(self.scale.dtype))

    def random_lanes(self, n, fmt=None, p_corner=0.05):
        """(n, k) random finite codes of ``fmt`` (default a's) with corners mixed in."""
        fmt = fmt or self.fa
        fin = self.fin_a if fmt is self.fa else self.fin_b
        corners = self.corner_a if fmt is self.fa else self.corner_b
        corners = corners[np.isin(corners, fin)]
        x = self.rng.choice(fin.astype(np.uint64), (n, self.k))
        if corners.size:
            pick = self.rng.random((n, self.k)) < p_corner
            x[pick] = self.rng.choice(corners.astype(np.uint64), int(pick.sum()))
        return x.astype(fmt.dtype)

    @property
    def count(self):
        return int(sum(len(x) for x in self.a))


def _pairs(bld):
    """Every element pair once, pair j in lane j mod k, zeros elsewhere, as sequence starts."""
    fa, fb, k = bld.fa, bld.fb, bld.k
    ga, gb = np.meshgrid(fa.codes(), fb.codes(), indexing="ij")
    ga, gb = ga.ravel(), gb.ravel()
    n = ga.size
    a = _zero_codes(fa, bld.rng, (n, k))
    b = _zero_codes(fb, bld.rng, (n, k))
    lane = np.arange(n) % k
    a[np.arange(n), lane] = ga
    b[np.arange(n), lane] = gb
    bld.add(a, b, True)
    return n


def _directed(bld):
    """The corner blocks of the module docstring, each as a start and after a random step."""
    fa, fb, k, rng, scale = bld.fa, bld.fb, bld.k, bld.rng, bld.scale
    blocks = []                                       # (a, b, sa, sb) of one step each

    def block(a, b, sa=None, sb=None):
        blocks.append((np.asarray(a).reshape(1, k), np.asarray(b).reshape(1, k), sa, sb))

    for _ in range(4):                                # all-zero blocks, random zero signs
        block(_zero_codes(fa, rng, k), _zero_codes(fb, rng, k))
        block(_zero_codes(fa, rng, k), bld.random_lanes(1, fb)[0])
    ma, mb = _max_code(fa), _max_code(fb)
    full_a, full_b = np.full(k, ma, fa.dtype), np.full(k, mb, fb.dtype)
    scales = [None]
    if scale is not None:
        fin = _finite_codes(scale)
        fin = fin[scale.decode(fin) > 0] if scale.signed else fin
        scales = [None, int(fin.max()), int(fin.min())]
    for s in scales:                                  # max-magnitude blocks
        block(full_a, full_b, s, s)
        block(_negate(fa, full_a), full_b, s, s)
        mixed = np.where(rng.random(k) < 0.5, full_a, _negate(fa, full_a))
        block(mixed, full_b, s, s)
        if s is not None:
            block(full_a, full_b, s, bld.unit_scale)
    for _ in range(6):                                # exact cancellation across lanes
        half = k // 2
        x = bld.random_lanes(1)[0]
        y = bld.random_lanes(1, fb)[0]
        x[half:2 * half] = _negate(fa, x[:half])
        y[half:2 * half] = y[:half]
        block(x, y)
        z = x.copy()                                  # near cancellation: one lane nudged
        j = int(rng.integers(0, k))
        z[j] = bld.random_lanes(1)[0][j]
        block(z, y)
    specials = _special_codes(fa)
    if specials.size:
        for code in specials[:4].tolist() + specials[-4:].tolist():
            x, y = bld.random_lanes(1)[0], bld.random_lanes(1, fb)[0]
            x[int(rng.integers(0, k))] = code
            block(x, y)
        if fa.has_inf:                                # +inf and -inf lanes; inf x 0
            x, y = bld.random_lanes(1)[0], bld.random_lanes(1, fb)[0]
            inf = fa.inf_code
            x[0], x[k - 1] = inf, inf | fa.sign_bit
            block(x, y)
            x, y = bld.random_lanes(1)[0], bld.random_lanes(1, fb)[0]
            x[0], y[0] = inf, 0
            block(x, y)
    if scale is not None:                             # NaN and zero scales
        if scale.has_nan:
            block(bld.random_lanes(1)[0], bld.random_lanes(1, fb)[0], scale.nan_code, None)
            block(_zero_codes(fa, rng, k), _zero_codes(fb, rng, k), None, scale.nan_code)
        if scale.has_zero:
            block(bld.random_lanes(1)[0], bld.random_lanes(1, fb)[0], 0, None)
            block(_zero_codes(fa, rng, k), bld.random_lanes(1, fb)[0], None, 0)
    count = 0
    for a, b, sa, sb in blocks:
        bld.add(a, b, True, sa, sb)                   # as a sequence start
        bld.add(bld.random_lanes(1), bld.random_lanes(1, fb), True)   # on a running sum
        bld.add(a, b, False, sa, sb)
        count += 3
    for _ in range(8):                                # a block cancelling the accumulator
        x, y = bld.random_lanes(1), bld.random_lanes(1, fb)
        bld.add(x, y, True)
        bld.add(_negate(fa, x), y, False)
        count += 2
    return count


def dot_stimulus(manifest: dict, n_random: int, seed: int, pairs: bool = True) -> dict:
    """Stimulus for a ``dot``/``idot`` manifest (see the module docstring); ``pairs=False``
    leaves out part 1 (for short in-process simulations)."""
    if manifest.get("scale_block") is not None:
        return deepseek_stimulus(manifest, n_random, seed, pairs)
    rng = np.random.default_rng(seed)
    fa, fb, fo, scale = element_formats(manifest)
    k = int(manifest["lanes"])
    bld = _Builder(fa, fb, scale, k, rng)
    meta = {"exhaustive": 0, "corner": 0, "random": 0, "seed": seed}
    if pairs and fa.bits + fb.bits <= 16:
        meta["exhaustive"] = _pairs(bld)
    meta["corner"] = _directed(bld)

    # random sums: geometric lengths (mean 8 steps), a few long ones (K up to 5120)
    if n_random:
        a, b = bld.random_lanes(n_random), bld.random_lanes(n_random, fb)
        specials_a, specials_b = _special_codes(fa), _special_codes(fb)
        for x, sp in ((a, specials_a), (b, specials_b)):
            if sp.size:
                hit = np.flatnonzero(rng.random(n_random) < 0.005)
                x[hit, rng.integers(0, k, hit.size)] = rng.choice(sp, hit.size)
        starts = np.zeros(n_random, bool)
        pos, starts[0] = 0, True
        while pos < n_random:
            pos += int(rng.geometric(1 / 8)) if rng.random() > 0.02 else int(rng.integers(64, 160))
            if pos < n_random:
                starts[pos] = True
        bld.add(a, b, starts, _scale_codes(scale, rng, n_random),
                _scale_codes(scale, rng, n_random))
        meta["random"] = n_random

    stim = {"a": np.concatenate(bld.a), "b": np.concatenate(bld.b)}
    if scale is not None:
        stim["sa"], stim["sb"] = np.concatenate(bld.sa), np.concatenate(bld.sb)
    stim["first"] = np.concatenate(bld.first)
    total = len(stim["a"])
    en = np.ones(total, bool)
    clear = np.zeros(total, bool)
    tail = slice(total - n_random, total)
    en[tail] = rng.random(n_random) > 0.01            # idle cycles: the register holds
    clear[tail] = rng.random(n_random) < 0.002        # rare clears, even mid-sum
    stim["en"], stim["clear"] = en, clear
    if manifest.get("rounding") == "sr":
        stim["rnd"] = rng.integers(0, 1 << int(manifest["rnd_bits"]), size=total,
                                   dtype=np.uint64).astype(np.uint32)
    meta["total"] = int(total)
    stim["meta"] = meta
    return stim


# ---------------------------------------------------------------------------------------------
# deepseek-fp8 (hw.DeepSeekDot): chunked K with scaled promotions
# ---------------------------------------------------------------------------------------------
def _fp32_scales(fc, rng, n):
    """``n`` scale codes of ``fc`` (fp32): mostly what per-tile quantisation gives (amax / 448
    for data of any magnitude: 2^U(-40, 8) with random significand bits), with corners mixed
    in: exact powers of two over the whole exponent range, pairs whose product is subnormal
    or underflows (2^-60 .. 2^-90 each), large scales whose product or FMA overflows
    (2^60 .. 2^127), the largest and smallest finite codes, subnormal scales, negative
    scales, signed zeros, and rarely inf and NaN."""
    sig_bits = fc.man_bits
    e = rng.integers(-40, 9, n)
    codes = fc.encode(np.exp2(e.astype(np.float64))).astype(np.uint64)
    codes |= rng.integers(0, 1 << sig_bits, n, dtype=np.uint64)      # random significand
    pick = rng.random(n)
    pow2 = fc.encode(np.exp2(rng.integers(fc.emin, fc.emax + 1, n).astype(np.float64)))
    tiny = fc.encode(np.exp2(-rng.uniform(60, 90, n)))
    huge = fc.encode(np.exp2(rng.uniform(60, 127, n)))
    sub = rng.integers(1, 1 << sig_bits, n, dtype=np.uint64)          # subnormal codes
    corner = [(0.04, pow2), (0.03, tiny), (0.02, huge), (0.01, sub),
              (0.005, np.full(n, fc.max_code)), (0.005, np.full(n, 1)),
              (0.02, codes | np.uint64(fc.sign_bit)),
              (0.004, np.where(rng.random(n) < 0.5, 0, fc.sign_bit)),
              (0.001, np.full(n, fc.inf_code)), (0.001, np.full(n, fc.nan_code))]
    lo = 0.0
    for p, alt in corner:
        hit = (pick >= lo) & (pick < lo + p)
        codes = np.where(hit, np.asarray(alt).astype(np.uint64), codes)
        lo += p
    return codes.astype(fc.dtype)


def deepseek_stimulus(manifest: dict, n_random: int, seed: int, pairs: bool = True) -> dict:
    """Stimulus for a scaled-preset unit (deepseek-fp8, ``hw.DeepSeekDot``).

    1. every element pair once and the directed corner blocks of :func:`dot_stimulus` (the
       tensor-core register's steps; no promotion);
    2. dot products of ``K`` elements as DeepGEMM runs them: chunks of ``promote_every``
       (128) products, ``promote_every / lanes`` steps each with ``first`` on the chunk's first
       step, the chunk promoted with its two fp32 scales (:func:`_fp32_scales`) on the next
       chunk's ``first`` step (or, one time in four, in a cycle of its own) and after the
       last chunk; ``K`` is 128 times a geometric number (mean 4; 2 % up to 56, K = 7168),
       plus a short last chunk (16 .. 112 elements, zero lanes after K) in a third of them.
       A dot product ends with a ``clear`` cycle half the time (else the next one adds to
       ``acc``). Steps are random finite elements with corners mixed in, 3 % all-zero blocks
       (random zero signs), 2 % all-max blocks, 2 % the previous step negated (cancellation
       in the register), a NaN lane in 0.3 %; 1 % idle cycles, clears in 0.1 % mid-sum.
    """
    rng = np.random.default_rng(seed)
    fa, fb, _, _ = element_formats(manifest)
    fc = golden.parse(manifest["formats"]["scale"])
    k = int(manifest["lanes"])
    chunk = int(manifest["promote_every"]) // k
    bld = _Builder(fa, fb, None, k, rng)
    meta = {"exhaustive": 0, "corner": 0, "random": 0, "seed": seed}
    if pairs and fa.bits + fb.bits <= 16:
        meta["exhaustive"] = _pairs(bld)
    meta["corner"] = _directed(bld)
    head = bld.count

    # the schedule of part 2: one row per cycle (en, first, promote, clear, lanes used)
    en, first, promote, clear, used = [], [], [], [], []
    def cycle(e, f_, p_, c_, u):
        en.append(e); first.append(f_); promote.append(p_); clear.append(c_); used.append(u)
    while len(en) < n_random:
        full = int(rng.geometric(1 / 4)) if rng.random() > 0.02 else int(rng.integers(8, 57))
        tail = int(rng.integers(1, 8)) * 16 if rng.random() < 1 / 3 else 0
        sizes = [chunk * k] * full + ([tail] if tail else [])
        pending = False
        for size in sizes:
            steps = -(-size // k)
            for j in range(steps):
                if pending and j == 0 and rng.random() < 0.25:
                    cycle(False, False, True, False, 0)        # the promotion alone
                    pending = False
                cycle(True, j == 0, pending and j == 0, False, min(k, size - j * k))
                if j == 0:
                    pending = False
                if rng.random() < 0.01:
                    cycle(False, False, False, False, 0)       # idle: both registers hold
            pending = True
        cycle(False, False, True, False, 0)                    # the last chunk's promotion
        if rng.random() < 0.5:
            cycle(False, False, False, True, 0)                # next dot product from +0
    n = len(en)
    en, first, promote, clear = (np.array(x, bool) for x in (en, first, promote, clear))
    used = np.array(used)
    clear |= rng.random(n) < 0.001                             # clears mid-sum
    a, b = bld.random_lanes(n), bld.random_lanes(n, fb)
    kind = rng.random(n)
    zero = kind < 0.03
    nz = int(zero.sum())
    a[zero], b[zero] = _zero_codes(fa, rng, (nz, k)), bld.random_lanes(nz, fb)
    big = (kind >= 0.03) & (kind < 0.05)
    a[big] = np.where(rng.random((int(big.sum()), k)) < 0.5, _max_code(fa),
                      _negate(fa, np.full(k, _max_code(fa), fa.dtype)))
    b[big] = _max_code(fb)
    neg = np.flatnonzero((kind >= 0.05) & (kind < 0.07))
    neg = neg[neg > 0]
    a[neg], b[neg] = _negate(fa, a[neg - 1]), b[neg - 1]
    specials = _special_codes(fa)
    if specials.size:
        hit = np.flatnonzero(rng.random(n) < 0.003)
        a[hit, rng.integers(0, k, hit.size)] = rng.choice(specials, hit.size)
    lane = np.arange(k)[None, :]
    a = np.where(lane < used[:, None], a, _zero_codes(fa, rng, (n, k))).astype(fa.dtype)
    b = np.where(lane < used[:, None], b, _zero_codes(fb, rng, (n, k))).astype(fb.dtype)
    en &= rng.random(n) > 0.01
    meta["random"] = n

    one = fc.dtype.type(fc.encode(1.0)[()])
    stim = {"a": np.concatenate(bld.a + [a]), "b": np.concatenate(bld.b + [b])}
    stim["sa"] = np.concatenate([np.full(head, one), _fp32_scales(fc, rng, n)])
    stim["sb"] = np.concatenate([np.full(head, one), _fp32_scales(fc, rng, n)])
    stim["en"] = np.concatenate([np.ones(head, bool), en])
    stim["first"] = np.concatenate(bld.first + [first])
    stim["clear"] = np.concatenate([np.zeros(head, bool), clear])
    stim["promote"] = np.concatenate([np.zeros(head, bool), promote])
    meta["total"] = int(len(stim["a"]))
    stim["meta"] = meta
    return stim
