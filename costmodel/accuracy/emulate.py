"""Bit-exact emulation of a matmul on one unit: golden semantics, and proven fast paths.

:func:`matmul` computes ``Y[m, n] = sum_k A[m, k] * W[n, k]`` as the unit of a
:class:`~costmodel.accuracy.units.UnitSpec` does, from quantised operands
(:class:`~costmodel.accuracy.quant.QTensor`), and returns the float64 value of every output
(the accumulator's decoded value times both scales -- the epilogue).

Two implementations of the accumulation, selected by ``fast``:

* ``fast=False`` -- the golden model call by call: ``golden.mac_step`` over K (MAC units),
  ``golden.dot`` (integers: exact wrapping sum; one-rounding dot; the posit quire),
  ``golden.lns_mac_step`` over K, ``golden.lmul_mac_step`` over K, ``golden.block_dot`` per
  block step.
* ``fast=True`` -- numpy arithmetic that is provably the same, used only where the argument
  holds (otherwise the golden path runs):

  - integers: the exact integer sum in float64 when ``sum |a||w|`` < 2^53 (else int64,
    exact modulo 2^64), wrapped to the ``int<W>`` accumulator;
  - MAC / L-Mul into fp32 under ``rne``: every product (or L-Mul value) of the operand format
    is exactly a float32 (checked over the whole code table), so ``round(p + acc)`` is one
    IEEE float32 addition, and the first step's ``round(p)`` is ``p`` itself;
  - one-rounding dot and the posit quire: the float64 sum is exact when every operand is a
    multiple of its tensor's smallest ulp and ``sum |a||w|`` < 2^53 times the product of those
    ulps (checked per call); then one ``encode`` (or float32 cast) is the single rounding;
  - LNS-Madam: the golden per-product terms (``golden.lns_mac_terms``) summed in int64, which
    is exact modulo 2^64 and so modulo 2^A (wrapping accumulator);
  - block steps: each block's element products and scales multiply exactly in float64 (at
    most 24 significant bits) and the step's sum with the fp32 accumulator is checked exact by
    TwoSum before the float32 cast.

``tests/test_accuracy.py`` proves every fast path bit-identical to the golden path on real
layers of the ``digits`` network.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache

import numpy as np

from macforge import golden

from .quant import QTensor
from .units import Accumulate, UnitSpec

__all__ = ["matmul", "accumulate", "PATHS"]

#: How many matmuls took each path ("fast-int", "golden-mac", ...): lets tests check that a
#: fast path really ran, and the report say which paths were used.
PATHS: Counter = Counter()

_ROWS = 2048          # rows per golden chunk (bounds the (rows, N, K) temporaries)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _values(fmt, codes):
    return fmt.decode(codes)


def _min_ulp(v) -> float:
    """Smallest weight of a set bit over the nonzero finite float64 values ``v`` (1.0 if none)."""
    v = np.abs(v[np.isfinite(v) & (v != 0)])
    if v.size == 0:
        return 1.0
    frac, ex = np.frexp(v)
    m = np.ldexp(frac, 53).astype(np.int64)
    low = m & -m                                    # lowest set bit of the 53-bit significand
    return float(np.min(np.ldexp(low.astype(np.float64), ex - 53)))


def _exact_f64_matmul(av, wv):
    """``av @ wv.T`` in float64 if every partial sum is provably exact, else None."""
    if not (np.isfinite(av).all() and np.isfinite(wv).all()):
        return None
    q = _min_ulp(av) * _min_ulp(wv)
    bound = (np.abs(av) @ np.abs(wv).T).max(initial=0.0)
    if q == 0 or bound >= np.ldexp(q, 53):
        return None
    return av @ wv.T


@lru_cache(maxsize=None)
def _f32_product_table(fmt_name: str, lmul: bool):
    """(2^n, 2^n) float32 products of every code pair, or None if one is not exactly a float32."""
    fmt = golden.parse(fmt_name)
    if fmt.bits > 8:
        return None
    c = np.arange(1 << fmt.bits, dtype=np.uint64).astype(fmt.dtype)
    a, b = np.meshgrid(c, c, indexing="ij")
    if lmul:
        p32 = golden.parse("fp32").decode(golden.lmul(a, b, fmt, out="fp32"))
        with np.errstate(over="ignore"):
            p64 = golden.parse("e11m52").decode(golden.lmul(a, b, fmt, out="e11m52"))
    else:
        v = fmt.decode(c)
        with np.errstate(invalid="ignore", over="ignore"):
            p64 = v[:, None] * v[None, :]           # exact: <= 2 x 4 significand bits
        p32 = p64.astype(np.float32).astype(np.float64)
    fin = np.isfinite(p64)
    if not np.array_equal(p32[fin], p64[fin]):
        return None
    t = p32.astype(np.float32)
    t.setflags(write=False)
    return t


def _chunks(M, per_row):
    """Row slices whose (rows, N, K) golden temporaries stay near 2^22 elements."""
    step = max(1, min(_ROWS, (1 << 22) // max(1, per_row)))
    for lo in range(0, M, step):
        yield slice(lo, min(M, lo + step))


# ---------------------------------------------------------------------------------------------
# accumulation per family: returns the accumulator's float64 value, (M, N)
# ---------------------------------------------------------------------------------------------
def _int(spec, A, W, fast):
    fmt, acc = spec.fmt, golden.parse(spec.acc)
    if not fast:
        PATHS["golden-int"] += 1
        out = np.empty((A.shape[0], W.shape[0]), np.float64)
        for sl in _chunks(A.shape[0], W.shape[0] * A.shape[1]):
            codes = golden.dot(A[sl, None, :], W[None, :, :], acc.additive_identity
                               if hasattr(acc, "additive_identity") else 0, fmt, acc)
            out[sl] = acc.decode(codes)
        return out
    PATHS["fast-int"] += 1
    a, w = fmt.to_int(A), fmt.to_int(W)
    bound = float(np.abs(a).max(initial=0)) * float(np.abs(w).max(initial=0)) * A.shape[1]
    if bound < 2.0 ** 53:
        s = (a.astype(np.float64) @ w.astype(np.float64).T).astype(np.int64)
    else:
        s = a.astype(np.int64) @ w.astype(np.int64).T         # exact modulo 2^64
    mask = (1 << acc.n) - 1
    s = s & mask
    s = np.where(s >= (1 << (acc.n - 1)), s - (1 << acc.n), s)
    return s.astype(np.float64)


def _mac(spec, A, W, fast, lmul=False):
    fmt, acc = spec.fmt, golden.parse(spec.acc)
    table = None
    if fast and spec.acc == "fp32" and spec.rounding == "rne":
        table = _f32_product_table(fmt.name, lmul)
    M, K = A.shape
    N = W.shape[0]
    if table is not None:
        PATHS["fast-lmul" if lmul else "fast-mac"] += 1
        Ai, Wi = A.astype(np.intp), W.astype(np.intp)
        s = table[Ai[:, 0][:, None], Wi[:, 0][None, :]].copy()        # first: round(p) = p
        for k in range(1, K):
            s += table[Ai[:, k][:, None], Wi[:, k][None, :]]           # one float32 rounding
        return s.astype(np.float64)
    PATHS["golden-lmul" if lmul else "golden-mac"] += 1
    state = np.zeros((M, N), acc.dtype)
    for k in range(K):
        a, b = A[:, k][:, None], W[:, k][None, :]
        if lmul:
            state = golden.lmul_mac_step(state, a, b, fmt, acc, first=(k == 0),
                                         rounding=spec.rounding)
        else:
            state = golden.mac_step(state, a, b, fmt, acc, first=(k == 0),
                                    rounding=spec.rounding)
    return acc.decode(state)


def _dot(spec, A, W, fast):
    """One rounding per dot product (golden.dot; the posit quire when the acc is the posit)."""
    fmt, acc = spec.fmt, golden.parse(spec.acc)
    if fast and spec.align is None and spec.rounding == "rne":
        exact = _exact_f64_matmul(fmt.decode(A), fmt.decode(W))
        if exact is not None:
            PATHS[f"fast-{spec.accumulate.value}"] += 1
            return acc.decode(acc.encode(exact))                 # the one rounding
    PATHS[f"golden-{spec.accumulate.value}"] += 1
    out = np.empty((A.shape[0], W.shape[0]), np.float64)
    zero = acc.additive_identity if hasattr(acc, "additive_identity") else 0
    for sl in _chunks(A.shape[0], W.shape[0] * A.shape[1]):
        codes = golden.dot(A[sl, None, :], W[None, :, :], zero, fmt, acc, align=spec.align,
                           rounding=spec.rounding)
        out[sl] = acc.decode(codes)
    return out


def _lns(spec, A, W, fast):
    fmt, P, Abits = spec.fmt, spec.lns_P, int(spec.acc[3:])
    M, K = A.shape
    N = W.shape[0]
    if fast:
        try:
            s = np.zeros((M, N), np.int64)
            with np.errstate(over="ignore"):
                for k in range(K):
                    s += golden.lns_mac_terms(A[:, k][:, None], W[:, k][None, :], fmt, P)
            u = s.astype(np.uint64) & np.uint64((1 << Abits) - 1)
            PATHS["fast-lns"] += 1
            return np.asarray(golden.lns_acc_value(u, P=P, A=Abits), np.float64)
        except golden.FormatError:               # a term wider than 62 bits: golden path
            pass
    PATHS["golden-lns"] += 1
    state = np.zeros((M, N), np.uint64)
    for k in range(K):
        state = golden.lns_mac_step(state, A[:, k][:, None], W[:, k][None, :], fmt, P=P,
                                    A=Abits, first=(k == 0))
    return np.asarray(golden.lns_acc_value(state, P=P, A=Abits), np.float64)


def _block(spec, a_bt, w_bt, fast):
    fmt, acc = spec.fmt, golden.parse(spec.acc)
    k = fmt.block
    ea, sa = np.asarray(a_bt.elements), np.asarray(a_bt.scales)
    ew, sw = np.asarray(w_bt.elements), np.asarray(w_bt.scales)
    M, N, nb = ea.shape[0], ew.shape[0], sa.shape[-1]
    state = np.zeros((M, N), acc.dtype)
    if fast and spec.acc == "fp32" and spec.rounding == "rne" and spec.align is None:
        el = fmt.element
        va = np.ldexp(el.decode(ea), fmt.element_exp)
        vw = np.ldexp(el.decode(ew), fmt.element_exp)
        xa, xw = fmt.scale.decode(sa), fmt.scale.decode(sw)
        s32 = np.zeros((M, N), np.float64)
        ok = np.isfinite(va).all() and np.isfinite(vw).all() and np.isfinite(xa).all() \
            and np.isfinite(xw).all()
        for b in range(nb if ok else 0):
            blk = slice(b * k, (b + 1) * k)
            part = _exact_f64_matmul(va[:, blk], vw[:, blk])   # exact element sum
            if part is None:
                ok = False
                break
            x = part * xa[:, b][:, None] * xw[:, b][None, :]    # <= 24 significant bits
            s = x + s32
            t = s - x                                          # TwoSum: err = 0 <=> exact
            err = (x - (s - t)) + (s32 - t)
            if np.any(err != 0) or not np.isfinite(s).all():
                ok = False
                break
            s32 = s.astype(np.float32).astype(np.float64)      # the step's one rounding
        if ok:
            PATHS["fast-block"] += 1
            return s32
    PATHS["golden-block"] += 1
    for b in range(nb):
        blk = slice(b * k, (b + 1) * k)
        state = golden.block_dot(ea[:, None, blk], sa[:, None, b], ew[None, :, blk],
                                 sw[None, :, b], state, fmt, acc=spec.acc,
                                 align=spec.align, rounding=spec.rounding)
    return acc.decode(state)


def accumulate(spec: UnitSpec, a: QTensor, w: QTensor, fast: bool = True) -> np.ndarray:
    """The accumulator values (float64, (M, N)) of the unit, before the epilogue scales."""
    acc = spec.accumulate
    if acc is Accumulate.BLOCK:
        return _block(spec, a.block, w.block, fast)
    A, W = a.codes, w.codes
    if acc is Accumulate.MAC and isinstance(spec.fmt, golden.Int):
        return _int(spec, A, W, fast)
    if acc is Accumulate.MAC:
        return _mac(spec, A, W, fast)
    if acc is Accumulate.LMUL:
        return _mac(spec, A, W, fast, lmul=True)
    if acc in (Accumulate.DOT, Accumulate.QUIRE):
        return _dot(spec, A, W, fast)
    if acc is Accumulate.LNS:
        return _lns(spec, A, W, fast)
    raise AssertionError(acc)


def matmul(spec: UnitSpec, a: QTensor, w: QTensor, fast: bool = True) -> np.ndarray:
    """``A @ W.T`` on the unit, with the epilogue scales applied (float64, (M, N)).

    For nv* block formats the per-tensor fp32 scales are applied here too (they are not part
    of the block step).
    """
    y = accumulate(spec, a, w, fast)
    if spec.is_block:
        ts = 1.0
        for t in (a.block, w.block):
            if getattr(t, "tensor_scale", None) is not None:
                ts *= float(t.tensor_scale)
        return y * ts
    sa = np.asarray(a.scale, np.float64)
    sw = np.asarray(w.scale, np.float64)
    return y * sa * (sw[None, :] if sw.ndim else sw)
