"""Stimulus for unit benches: exhaustive where the input space allows, else corners + random.

Everything is derived from the unit manifest (ports, roles, formats), so one generator serves
every unit and format family. Stimulus is a dict of numpy arrays keyed by port name, plus
``meta`` describing how it was made (for the summary line and the repro command).
"""
from __future__ import annotations

import numpy as np

from macforge import golden
from macforge.golden import HiF8, Int, Lns, Minifloat, Posit

__all__ = ["EXHAUSTIVE_LIMIT", "corner_codes", "make_stimulus"]

EXHAUSTIVE_LIMIT = 1 << 24      # input spaces up to 2^24 vectors are run exhaustively


def corner_codes(fmt) -> np.ndarray:
    """Directed corner codes of a format, derived from its properties.

    Minifloats: +-0, smallest/largest subnormal, smallest normal, 1 and its neighbours,
    largest finite and its neighbour, inf, NaN codes. Integers: 0, +-1, max, min, min+1.
    Posits: 0, NaR and its neighbours, +-minpos, +-maxpos, +-1 and its neighbours.
    LNS: +-0, +-1 and its neighbours, the smallest and largest L of both signs.
    HiF8: the two smallest and two largest magnitudes of every dot class (0, the denormal and
    dot-class edges, 2^15 and inf), +-1 and its neighbours, both signs, NaN.
    """
    fmt = golden.parse(fmt)
    if isinstance(fmt, HiF8):
        one = int(fmt.encode(1.0)[()])
        mags = {one - 1, one, one + 1, fmt.max_code, fmt.inf_code}
        for d in fmt.dot_classes:
            free = fmt.bits - 1 - len(d.prefix)             # exponent and mantissa bits
            lo = int(d.prefix, 2) << free
            mags |= {lo, lo + 1, lo + (1 << free) - 2, lo + (1 << free) - 1}
        codes = mags | {m | fmt.sign_bit for m in mags}     # 0x80 (the "-0" slot) is NaN
        return np.array(sorted(codes), dtype=np.uint64).astype(fmt.dtype)
    if isinstance(fmt, Lns):
        Ls = {fmt.L_min, fmt.L_min + 1, fmt.L_min + 2, -1, 0, 1, fmt.L_max - 1, fmt.L_max}
        codes = np.concatenate([fmt.pack(False, np.array(sorted(Ls))),
                                fmt.pack(True, np.array(sorted(Ls)))]).astype(np.uint64)
        return np.unique(codes).astype(fmt.dtype)
    if isinstance(fmt, Posit):
        one = int(fmt.encode(1.0)[()])
        mags = {0, fmt.minpos_code, fmt.minpos_code + 1, fmt.maxpos_code, fmt.maxpos_code - 1,
                one, one - 1, one + 1}
        full = (1 << fmt.n) - 1
        codes = {m & full for m in mags} | {(-m) & full for m in mags} | {fmt.nar_code}
        return np.array(sorted(codes), dtype=np.uint64).astype(fmt.dtype)
    if isinstance(fmt, Int):
        vals = {0, 1, fmt.max_int, fmt.max_int - 1, fmt.min_int, fmt.min_int + 1}
        if fmt.signed:
            vals.add(-1)
        return np.unique(fmt.from_int(np.array(sorted(vals), np.int64)))
    assert isinstance(fmt, Minifloat)
    M = fmt.man_bits
    mags = {0, 1, (1 << M) - 1 if M else 0, 1 << M, fmt.max_code, fmt.max_code - 1,
            (1 << M) + 1}
    one = int(fmt.encode(1.0)[()]) if fmt.emin <= 0 <= fmt.emax else 1 << M
    mags |= {one, one + 1, max(one - 1, 0)}
    if fmt.has_inf:
        mags.add(fmt.inf_code)
    codes = set()
    for mag in mags:
        mag &= (1 << (fmt.exp_bits + M)) - 1
        codes.add(mag)
        if fmt.signed:
            codes.add(mag | fmt.sign_bit)
    if fmt.has_nan:
        codes.add(fmt.nan_code)
        if fmt.specials is golden.Specials.IEEE:
            codes.add(fmt.inf_code | 1)                       # a signalling-pattern NaN
            codes.add(fmt.inf_code | ((1 << M) - 1) | fmt.sign_bit)
        elif fmt.specials is golden.Specials.FN:
            codes.add(fmt.nan_code | fmt.sign_bit)
    return np.array(sorted(codes), dtype=np.uint64).astype(fmt.dtype)


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


def make_stimulus(manifest: dict, n_random: int, seed: int) -> dict:
    """Build the stimulus for ``manifest``'s unit.

    ``mul`` / ``fma`` / ``lmul`` / ``pmul`` / ``lnsmul``: every input combination if the space is at most 2^24, else corner
    cross-products plus ``n_random`` random vectors (corners mixed in). ``mac`` / ``imac`` /
    ``lmulmac`` / ``pmac`` / ``lnsmac``:
    every (a, b) pair as a sequence-starting step when the pair space allows, then
    ``n_random`` steps in random-length sequences (each begins with ``first``), with
    occasional ``clear`` and idle (``en`` = 0) cycles.
    """
    if manifest["unit"] in ("dot", "idot"):         # k-lane dot units: sim._dotstim
        from macforge.sim._dotstim import dot_stimulus
        return dot_stimulus(manifest, n_random, seed)
    rng = np.random.default_rng(seed)
    unit = manifest["unit"]
    f = manifest["formats"]
    fa, fb = golden.parse(f["a"]), golden.parse(f["b"])
    fo = golden.parse(f.get("out") or f.get("acc"))
    rnd_bits = manifest.get("rnd_bits") or 0
    sr = manifest["rounding"] == "sr"
    stim: dict = {}
    meta = {"exhaustive": 0, "corner": 0, "random": 0, "seed": seed}
    ca, cb = corner_codes(fa), corner_codes(fb)

    if unit in ("mul", "fma", "lmul", "pmul", "lnsmul"):
        space_bits = fa.bits + fb.bits + (fo.bits if unit == "fma" else 0)
        if space_bits <= 24:
            grids = np.meshgrid(*([fa.codes(), fb.codes()] + ([fo.codes()] if unit == "fma" else [])),
                                indexing="ij")
            a, b = grids[0].ravel(), grids[1].ravel()
            c = grids[2].ravel() if unit == "fma" else None
            meta["exhaustive"] = a.size
        else:
            parts_a, parts_b, parts_c = [], [], []
            if unit == "fma":
                cc = corner_codes(fo)
                ga, gb, gc = np.meshgrid(ca, cb, cc, indexing="ij")
                parts_a.append(ga.ravel()); parts_b.append(gb.ravel()); parts_c.append(gc.ravel())
            else:
                ga, gb = np.meshgrid(ca, cb, indexing="ij")
                parts_a.append(ga.ravel()); parts_b.append(gb.ravel())
            meta["corner"] = parts_a[0].size
            ra = _random_codes(rng, fa, n_random, ca)
            rb = _random_codes(rng, fb, n_random, cb)
            parts_a.append(ra); parts_b.append(rb)
            if unit == "fma":
                rc = _random_codes(rng, fo, n_random, corner_codes(fo))
                # a quarter of the random addends cancel the product (cancellation, tiny results)
                sel = rng.random(n_random) < 0.25
                rc[sel] = _cancelling_addends(fa, fb, fo, ra[sel], rb[sel]).astype(fo.dtype)
                parts_c.append(rc)
            meta["random"] = n_random
            a = np.concatenate([p.astype(fa.dtype) for p in parts_a])
            b = np.concatenate([p.astype(fb.dtype) for p in parts_b])
            c = np.concatenate([p.astype(fo.dtype) for p in parts_c]) if unit == "fma" else None
        stim["a"], stim["b"] = a.astype(fa.dtype), b.astype(fb.dtype)
        if c is not None:
            stim["c"] = c.astype(fo.dtype)
    elif unit in ("mac", "imac", "lmulmac", "pmac", "lnsmac"):
        seqs_a, seqs_b, first = [], [], []
        if fa.bits + fb.bits <= 24:
            ga, gb = np.meshgrid(fa.codes(), fb.codes(), indexing="ij")
            seqs_a.append(ga.ravel()); seqs_b.append(gb.ravel())
            first.append(np.ones(ga.size, bool))
            meta["exhaustive"] = ga.size
        else:
            ga, gb = np.meshgrid(ca, cb, indexing="ij")
            seqs_a.append(ga.ravel()); seqs_b.append(gb.ravel())
            first.append(np.ones(ga.size, bool))
            meta["corner"] = ga.size
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
    else:
        raise golden.FormatError(f"no stimulus generator for unit {unit!r}; accepted: mul, fma, mac, imac, lmul, lmulmac, pmul, pmac, lnsmul, lnsmac, dot, idot")
    total = stim["a"].size
    if sr:
        stim["rnd"] = rng.integers(0, 1 << rnd_bits, size=total, dtype=np.uint64).astype(np.uint32)
    meta["total"] = int(total)
    stim["meta"] = meta
    return stim
