"""Error statistics of a multiplier against the exact product, or of a cast against the exact
source value (``macforge error-stats``).

Operands (a cast's one source, a multiplier's pairs) come from one of three stated
distributions:

- ``uniform``: codes drawn uniformly (with replacement) from the finite nonzero codes of the
  format: every representable magnitude equally likely, so range effects (overflow, results
  in the subnormal range) weigh as much as they do across the code space;
- ``exhaustive``: every ordered pair of finite nonzero codes, once (formats of at most 12
  bits; a cast: every finite nonzero code of a source of at most 24 bits; ``samples`` is
  ignored): the uniform distribution without sampling noise;
- ``gaussian``: standard normal data (sigma = 1; |x| for unsigned formats) quantised to the
  format with ``encode`` (round to nearest, saturating); pairs with a zero operand are
  dropped. Besides the error against the exact product of the *quantised* operands (the unit's
  own error), the error against the product of the unquantised data is reported (what a model
  sees end to end, as the L-Mul paper measures it).

The reference product is ``decode(a) * decode(b)`` in float64: exact for formats whose
significands have at most 26 bits (every minifloat up to fp32, posits up to 32 bits); for LNS
the decoded values are themselves correctly rounded, so the reference is within 2^-52. A cast's
reference is ``decode(a)``, exact in float64 for every source but an LNS or fp64-wide one.
``bias`` is the mean *signed* relative error (result - exact) / |exact|: what a long
accumulation of the results inherits (stochastic rounding is unbiased, so its bias is sampling
noise of size rms / sqrt(used); round-to-nearest's is the data's).

A result that is NaN, NaR or infinite while the exact product is finite counts as an overflow
and is left out of the error statistics; a result of 0 counts as an underflow (relative error
1, included). Relative error is |result - exact| / |exact|.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._formats import FormatError, Rounding
from ._minifloat import Minifloat
from ._registry import parse
from ._convert import convert
from ._lmul import LmulVariant, lmul
from ._ops import mul

__all__ = ["ErrorStats", "error_stats", "UNITS", "DISTRIBUTIONS"]

UNITS = ("mul", "lmul", "convert")
DISTRIBUTIONS = ("uniform", "gaussian", "exhaustive")
PERCENTILES = (50.0, 90.0, 99.0, 99.9)
# histogram of relative errors by binade: (2^-k-1, 2^-k] for k = 20..0, plus exact and > 1
_HIST_LOW = -20


@dataclass(frozen=True)
class ErrorStats:
    """Relative-error statistics of one unit on one operand distribution."""
    format: str
    out: str
    unit: str
    variant: str | None
    dist: str
    seed: int
    samples: int                 # operand pairs (a cast: source codes) drawn
    used: int                    # pairs with a finite result (the statistics below)
    overflow: int                # results NaN/NaR/inf for a finite exact product
    underflow: int               # results 0 for a nonzero exact product (counted in ``used``)
    mean: float
    rms: float
    max: float
    percentiles: dict = field(default_factory=dict)
    histogram: tuple = ()        # ((label, count), ...): exact, binades, above 1
    normal_mean: float | None = None   # over exact products in the output's normal range
    normal_max: float | None = None
    normal_used: int = 0
    data_mean: float | None = None     # gaussian: against the unquantised product x * y
    data_max: float | None = None
    bias: float = math.nan             # mean signed relative error (result - exact) / |exact|

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["percentiles"] = {f"p{k:g}": v for k, v in self.percentiles.items()}
        d["histogram"] = [list(h) for h in self.histogram]
        return d

    def report(self) -> str:
        """Human-readable report (the ``macforge error-stats`` output)."""
        unit = self.unit + (f" ({self.variant})" if self.variant else "")
        dist = {"uniform": "uniform over the finite nonzero codes",
                "exhaustive": "every pair of finite nonzero codes",
                "gaussian": "N(0, 1) data quantised to the format (rne, saturating)"}[self.dist]
        cast = self.unit == "convert"
        if cast:
            dist = dist.replace("every pair of finite nonzero codes", "every finite nonzero code")
        pct = lambda n: f"{100.0 * n / max(self.samples, 1):.2f}%"   # noqa: E731
        lines = [
            f"{unit} on {self.format} -> {self.out}: {self.samples} "
            f"{'source codes' if cast else 'operand pairs'}, {dist}, seed {self.seed}",
            "  reference       " + ("exact source value" if cast
                                    else "exact product of the operand values"),
            f"  results         {self.used} finite ({pct(self.used)}), overflow {self.overflow} "
            f"({pct(self.overflow)}), of the finite: underflow to 0 {self.underflow} ({pct(self.underflow)})",
            f"  relative error  mean {self.mean:.4g}  rms {self.rms:.4g}  max {self.max:.4g}",
            "  percentiles     " + "  ".join(f"p{k:g} {v:.4g}" for k, v in self.percentiles.items()),
        ]
        if cast:
            lines.append(f"  bias            {self.bias:+.4g}  (mean signed relative error: what "
                         "a long sum of the results inherits)")
        if self.normal_mean is not None:
            what = "values" if cast else "products"
            lines.append(f"  normal range    mean {self.normal_mean:.4g}  max {self.normal_max:.4g}"
                         f"  ({self.normal_used} {what} within the output's normal range)")
        if self.data_mean is not None:
            lines.append(f"  vs data {'x  ' if cast else 'x*y'}     mean {self.data_mean:.4g}  "
                         f"max {self.data_max:.4g}  (includes quantising the "
                         f"{'source' if cast else 'operands'})")
        lines.append("  histogram of relative error")
        total = max(self.used, 1)
        for label, count in self.histogram:
            if count:
                bar = "#" * max(1, round(40 * count / total))
                lines.append(f"    {label:<18} {count:>9}  {100.0 * count / total:6.2f}%  {bar}")
        return "\n".join(lines)


def _finite_nonzero_pool(fmt):
    """Every finite nonzero code of ``fmt`` (a format of at most 24 bits)."""
    codes = fmt.codes()
    vals = fmt.decode(codes)
    return codes[np.isfinite(vals) & (vals != 0)]


def _finite_nonzero_codes(fmt, rng, count):
    """``count`` codes drawn uniformly from the finite nonzero codes of ``fmt``."""
    if fmt.bits <= 20:
        pool = _finite_nonzero_pool(fmt)
        if pool.size == 0:
            raise FormatError(f"{fmt.name} has no finite nonzero codes")
        return pool[rng.integers(0, pool.size, count)]
    out = np.empty(0, fmt.dtype)
    while out.size < count:                              # rejection sampling on wide formats
        c = rng.integers(0, 1 << fmt.bits, 2 * count, dtype=np.uint64).astype(fmt.dtype)
        v = fmt.decode(c)
        out = np.concatenate([out, c[np.isfinite(v) & (v != 0)]])
    return out[:count]


def _stats(rel):
    if rel.size == 0:
        return math.nan, math.nan, math.nan, {p: math.nan for p in PERCENTILES}
    return (float(rel.mean()), float(np.sqrt(np.mean(rel * rel))), float(rel.max()),
            {p: float(v) for p, v in zip(PERCENTILES, np.percentile(rel, PERCENTILES))})


def _histogram(rel):
    exact = int(np.count_nonzero(rel == 0))
    nz = rel[rel > 0]
    k = np.ceil(np.log2(nz)).astype(np.int64)           # rel in (2^(k-1), 2^k]
    rows = [("0 (exact)", exact),
            (f"(0, 2^{_HIST_LOW}]", int(np.count_nonzero(k <= _HIST_LOW)))]
    for j in range(_HIST_LOW + 1, 1):
        rows.append((f"(2^{j - 1}, 2^{j}]", int(np.count_nonzero(k == j))))
    rows.append(("> 1", int(np.count_nonzero(k > 0))))
    return tuple(rows)


def error_stats(fmt, unit="mul", variant="formula", samples=100_000, dist="uniform", seed=0,
                out=None, rounding="rne", saturate=False, rnd_bits=8) -> ErrorStats:
    """Relative error of ``unit`` (``mul`` or ``lmul``) on ``fmt`` against the exact product,
    or of the cast ``convert`` of ``fmt`` codes into ``out`` against the exact source value.

    ``out`` is the result format (default ``fmt``; a cast needs it); ``variant`` applies to
    ``lmul``;
    ``rounding`` and ``saturate`` are the unit's (``sr`` draws ``rnd_bits``-bit random
    integers from the same seeded generator, after the operands).
    See the module docstring for the distributions and the reference.

    Examples
    --------
    >>> from macforge import golden
    >>> s = golden.error_stats("e4m3", "mul", samples=20000, dist="gaussian", seed=1)
    >>> s.normal_max <= 2**-4                            # RNE: at most half an ulp of 3 bits
    True
    >>> c = golden.error_stats("bf16", "convert", out="e4m3", dist="gaussian", seed=1)
    >>> c.normal_max <= 2**-4 and c.data_max > c.normal_max    # bf16's own rounding too
    True
    """
    if unit not in UNITS:
        raise FormatError(f"unknown unit {unit!r} for error statistics; accepted: {', '.join(UNITS)}")
    f = parse(fmt)
    cast = unit == "convert"
    if cast and out is None:
        raise FormatError("error statistics of a cast need its result format (out=, --acc), "
                          "e.g. out='e4m3'")
    fo = parse(out) if out is not None else f
    if dist not in DISTRIBUTIONS:
        raise FormatError(f"unknown distribution {dist!r}; accepted: {', '.join(DISTRIBUTIONS)}")
    if not isinstance(samples, (int, np.integer)) or samples < 1:
        raise FormatError(f"samples must be a positive integer, not {samples!r}")
    if unit == "lmul":
        variant = LmulVariant.parse(variant).value
        if not isinstance(f, Minifloat):
            raise FormatError(f"L-Mul is defined on minifloats (e<E>m<M>, fp16, bf16, ...), not {f.name}")
    else:
        variant = None
    rng = np.random.default_rng(seed)
    data = None
    if cast:
        a, data = _cast_sources(f, dist, samples, rng)
        b = None
    elif dist == "uniform":
        a = _finite_nonzero_codes(f, rng, samples)
        b = _finite_nonzero_codes(f, rng, samples)
    elif dist == "exhaustive":
        if f.bits > 12:
            raise FormatError(f"exhaustive error statistics need a format of at most 12 bits "
                              f"(2^24 pairs), not {f.name} ({f.bits} bits)")
        pool = _finite_nonzero_pool(f)
        a, b = np.repeat(pool, pool.size), np.tile(pool, pool.size)
    else:
        x, codes = _quantised_normal(f, rng, (2, samples))
        keep = (f.decode(codes[0]) != 0) & (f.decode(codes[1]) != 0)
        a, b = codes[0][keep], codes[1][keep]
        data = (x[0] * x[1])[keep]
    rnd = rng.integers(0, 1 << rnd_bits, a.size) if Rounding.parse(rounding) is Rounding.SR \
        else None
    rkw = dict(rounding=rounding, saturate=saturate, rnd=rnd,
               rnd_bits=None if rnd is None else rnd_bits)
    if cast:
        res = convert(a, f, fo, **rkw)
    elif unit == "mul":
        res = mul(a, b, f, fo, **rkw)
    else:
        res = lmul(a, b, f, fo, variant=variant, **rkw)
    with np.errstate(all="ignore"):
        exact = f.decode(a) if cast else f.decode(a) * f.decode(b)
        got = fo.decode(res)
        finite = np.isfinite(got)
        signed_all = (got - exact) / np.abs(exact)
        rel_all = np.abs(signed_all)
    rel = rel_all[finite]
    mean, rms, mx, pct = _stats(rel)
    normal_mean = normal_max = None
    normal_used = 0
    if isinstance(fo, Minifloat) and fo.subnormals:
        inside = finite & (np.abs(exact) >= fo.min_normal) & (np.abs(exact) <= fo.max)
        normal_used = int(inside.sum())
        if normal_used:
            normal_mean, _, normal_max, _ = _stats(rel_all[inside])
    data_mean = data_max = None
    if data is not None and finite.any():
        with np.errstate(all="ignore"):
            drel = np.abs(got - data)[finite] / np.abs(data[finite])
        data_mean, data_max = float(drel.mean()), float(drel.max())
    return ErrorStats(format=f.name, out=fo.name, unit=unit, variant=variant, dist=dist,
                      seed=int(seed), samples=int(a.size), used=int(rel.size),
                      overflow=int(np.count_nonzero(~finite)),
                      underflow=int(np.count_nonzero(finite & (got == 0))),
                      mean=mean, rms=rms, max=mx, percentiles=pct, histogram=_histogram(rel),
                      normal_mean=normal_mean, normal_max=normal_max, normal_used=normal_used,
                      data_mean=data_mean, data_max=data_max,
                      bias=float(signed_all[finite].mean()) if rel.size else math.nan)


def _cast_sources(f, dist, samples, rng):
    """A cast's source codes of ``f`` and, for ``gaussian``, the unquantised data they stand
    for (every finite nonzero code for ``exhaustive``)."""
    if dist == "uniform":
        return _finite_nonzero_codes(f, rng, samples), None
    if dist == "exhaustive":
        if f.bits > 24:
            raise FormatError(f"exhaustive error statistics of a cast need a source of at most "
                              f"24 bits, not {f.name} ({f.bits} bits)")
        return _finite_nonzero_pool(f), None
    x, codes = _quantised_normal(f, rng, samples)
    keep = f.decode(codes) != 0
    return codes[keep], x[keep]


def _quantised_normal(f, rng, shape):
    """N(0, 1) data of ``shape`` (|x| for unsigned formats) and its codes in ``f`` (rne,
    saturating): the ``gaussian`` distribution."""
    x = rng.standard_normal(shape)
    if not getattr(f, "signed", True):
        x = np.abs(x)
    return x, f.encode(x, saturate=True)
