"""Bias and spread of a long running sum rounded every step: RNE against SR
(``macforge error-stats --unit running-sum``).

``trials`` independent sums ``s_{t+1} = round(s_t + x_t)`` in ``fmt`` (the ``add`` unit, or a
cast of the fp32 sum back into ``fmt`` after every step: the same value), with addends ``x_t``
drawn i.i.d. uniform on [0, 1) and quantised to ``fmt`` (rne), so the addends are exact in
``fmt`` and the only error is the accumulation's. The reference is the exact sum of the same
quantised addends (float64 cumulative sums: the addends are multiples of 2^-24 for fp16, and of
their own ulp >= 2^-40 for bf16 samples, with sums below 2^20, so every partial sum is exact in
float64's 53 bits; ``_exact_check`` verifies this on the data). Under RNE a sum stalls once its
half ulp exceeds the addends (fp16: near 2^11 * mean x = 2048 * 0.5, bf16: near 2^8 * 0.5 = 128
... 256): every later addend rounds away and the relative error grows toward -1 (Higham, "The
accuracy of floating point summation", 1993; Connolly, Higham & Mary, "Stochastic rounding and
its probabilistic backward error analysis", SIAM J. Sci. Comput. 43, 2021). SR rounds up with
probability equal to the discarded fraction, so each step is unbiased: E[round(v)] = v, the
sum's expected error is 0 and only its spread grows (about sqrt(t) ulps).

Reported at checkpoints t: the mean signed relative error over the trials (the bias), its
standard deviation across trials, and the standard error of the mean (std / sqrt(trials)), so
"unbiased" can be read as |bias| below a few standard errors.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._formats import FormatError, Rounding
from ._ops import add
from ._registry import parse

__all__ = ["SumStats", "running_sum_stats"]


@dataclass(frozen=True)
class SumStats:
    """Running-sum error of one rounding mode: per checkpoint t, the bias (mean signed
    relative error over ``trials``), its spread (std) and the standard error of the bias."""
    format: str
    rounding: str
    rnd_bits: int | None
    trials: int
    steps: int
    seed: int
    checkpoints: tuple            # (t, exact mean sum, bias, std, stderr) per checkpoint

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["checkpoints"] = [dict(zip(("t", "exact_mean", "bias", "std", "stderr"), c))
                            for c in self.checkpoints]
        return d

    def report(self) -> str:
        mode = self.rounding + (f" (R = {self.rnd_bits})" if self.rnd_bits else "")
        lines = [f"running sum in {self.format}, {mode}: {self.trials} sums of {self.steps} "
                 f"addends uniform on [0, 1) quantised to {self.format}, seed {self.seed}",
                 "  reference: the exact sum of the same addends; relative error = "
                 "(sum - exact) / exact",
                 f"  {'t':>7}  {'exact sum':>10}  {'bias':>11}  {'std':>10}  {'stderr':>10}"]
        for t, ex, bias, std, se in self.checkpoints:
            lines.append(f"  {t:>7}  {ex:>10.1f}  {bias:>+11.3e}  {std:>10.3e}  {se:>10.3e}")
        return "\n".join(lines)


def _exact_check(x, exact, precision):
    """The float64 cumulative sums are exact: every partial sum is a multiple of the finest
    addend ulp (at most 2^(floor(log2 x) - (p - 1)) for p significand bits) and below 2^53 of
    them."""
    nz = x[x != 0]
    if nz.size == 0:
        return
    ulp = np.ldexp(1.0, int(np.frexp(np.abs(nz))[1].min()) - precision)
    if float(np.abs(exact).max()) / ulp >= 2.0 ** 53:
        raise FormatError("running-sum reference would not be exact in float64 (addends too "
                          "fine for the sum's size); lower steps")


def running_sum_stats(fmt, rounding="rne", steps=16384, trials=1000, seed=0, rnd_bits=8,
                      checkpoints=None) -> SumStats:
    """Bias and spread of ``trials`` running sums of ``steps`` addends rounded into ``fmt``.

    Parameters
    ----------
    fmt : format or name
        The sum's format (fp16, bf16, any minifloat; the add unit's).
    rounding : str or Rounding
        Every step's rounding; ``sr`` draws ``rnd_bits``-bit integers from the same seeded
        generator (after the addends).
    steps, trials : int
    checkpoints : sequence of int, optional
        Steps at which to report (default: powers of 4 from 64 up to ``steps``, and ``steps``).

    Examples
    --------
    >>> from macforge import golden
    >>> rne = golden.running_sum_stats("bf16", "rne", steps=1024, trials=32, seed=1)
    >>> sr = golden.running_sum_stats("bf16", "sr", steps=1024, trials=32, seed=1, rnd_bits=16)
    >>> rne.checkpoints[-1][2] < -0.4 < sr.checkpoints[-1][2]    # RNE stalls at 256 of ~512
    True
    """
    f = parse(fmt)
    if f.family != "minifloat":          # the add unit's sums: a rounding minifloat
        raise FormatError(f"a running sum rounds into a minifloat format (e4m3, bf16, fp16, "
                          f"...), not {f.name} ({f.family} format)")
    rounding = Rounding.parse(rounding)
    for name, v in (("steps", steps), ("trials", trials)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise FormatError(f"{name} must be a positive integer, not {v!r}")
    if checkpoints is None:
        checkpoints = sorted({4 ** k for k in range(3, 20) if 4 ** k < steps} | {steps})
    checkpoints = [int(c) for c in checkpoints if 1 <= int(c) <= steps]
    rng = np.random.default_rng(seed)
    xcodes = f.encode(rng.random((steps, trials)))
    x = f.decode(xcodes)
    exact = np.cumsum(x, axis=0)
    _exact_check(x, exact, f.precision)
    sr = rounding is Rounding.SR
    rnd = rng.integers(0, 1 << rnd_bits, (steps, trials), dtype=np.uint64) if sr else None
    s = np.zeros(trials, f.dtype)
    rows, want = [], set(checkpoints)
    for t in range(steps):
        s = add(s, xcodes[t], f, f, rounding=rounding, rnd=None if rnd is None else rnd[t],
                rnd_bits=rnd_bits if sr else None)
        if t + 1 in want:
            ex = exact[t]
            rel = (f.decode(s) - ex) / ex
            std = float(rel.std(ddof=1)) if trials > 1 else 0.0
            rows.append((t + 1, float(ex.mean()), float(rel.mean()), std,
                         std / math.sqrt(trials)))
    return SumStats(format=f.name, rounding=rounding.value, rnd_bits=rnd_bits if sr else None,
                    trials=int(trials), steps=int(steps), seed=int(seed), checkpoints=tuple(rows))
