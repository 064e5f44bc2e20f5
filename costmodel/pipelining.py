"""Frequency-directed pipelining: the unit with the fewest registers that meets a clock.

:func:`unit_at_clock` takes a unit *spec* -- the keyword arguments of :func:`hw.make_unit`
(``unit``, ``fmt``, ``acc``, ...) -- a clock in MHz and a target, and searches the unit's
pipeline: ``stages`` (register banks on the datapath cuts, :mod:`hw._pipeline`) and, for a MAC
with a float accumulator, ``loop_stages`` (registers inside the accumulate loop; the unit then
interleaves ``loop_stages + 1`` accumulators, :class:`hw.FMac`). Every candidate is measured:

* ``asic``: mapped timing-driven for the clock period (``abc -D``, :func:`costmodel.synth
  .asic_script`) and timed by :func:`costmodel.sta.critical_path` with the library's NLDM
  tables; the area is the area at that clock.
* ``ice40`` / ``ecp5``: placed and routed by nextpnr inside the scan wrapper
  (:func:`costmodel.api.fpga_cost` with ``pnr``), DSP blocks allowed; its Fmax.

Candidates are tried in order of register banks (``stages + loop_stages`` = 0, 1, 2, ...);
at the first count where some candidate meets the clock, the one with the fewest flip-flops
wins. Two banks in a row that do not shorten the measured path end the search along
``stages`` for that ``loop_stages``: a bank beyond the unit's cuts only delays the output, but
one bank alone may buy nothing where the unit's first cut sits before its long phase (an
adder's after decode: its second cut, after align and add, is the one that lifts it). If
nothing meets the clock, the result says so and carries the fastest candidate measured (of
those within 0.1 % of the fastest, the one with the fewest registers: an output bank that buys
0.1 MHz is mapping noise, not a pipeline). Every synthesis is cached (:mod:`costmodel.cache`),
so asking again is immediate.

Examples
--------
>>> r = unit_at_clock({"unit": "mac", "fmt": "e4m3", "acc": "fp32"}, 500)  # doctest: +SKIP
>>> r["met"], r["stages"], r["loop_stages"], r["registers"]                 # doctest: +SKIP
(True, 0, 3, 283)
"""
from __future__ import annotations

import gc
import warnings

from macforge import hw
from macforge.errors import MacforgeError, UsageError
from macforge.golden import FormatError

from .api import asic_cost, fpga_cost, resolve_cache
from .synth import Design

__all__ = ["unit_at_clock", "choose_design", "unit_cost", "check_clock", "PIPELINE_TARGETS",
           "MAX_STAGES", "ClockError"]

#: Targets the search measures on.
PIPELINE_TARGETS = ("asic", "ice40", "ecp5")
#: Largest ``stages`` tried (the units have at most three datapath cuts, :mod:`hw._pipeline`).
MAX_STAGES = 3


#: A bank whose frequency is within this factor of the best before it bought nothing (mapping
#: noise); within it of the fastest, an unreachable clock takes the fewest registers.
NOISE = 1.001


class ClockError(MacforgeError, ValueError):
    """A clock or target the pipeline search cannot use."""


def check_clock(clock_mhz, target) -> float:
    """``clock_mhz`` as a float in (0, 10000] and ``target`` one of :data:`PIPELINE_TARGETS`,
    else a one-line :class:`UsageError` naming what is accepted (``--clock-mhz``/``--target``)."""
    if target not in PIPELINE_TARGETS:
        raise UsageError(f"--target {target!r} cannot choose a pipeline; accepted: "
                         + ", ".join(PIPELINE_TARGETS))
    try:
        f = float(clock_mhz)
    except (TypeError, ValueError):
        raise UsageError(f"--clock-mhz must be a number of MHz, not {clock_mhz!r}") from None
    if not 0 < f <= 10_000:
        raise UsageError(f"--clock-mhz must be in (0, 10000] MHz, not {clock_mhz!r}")
    return f


def _probe(spec):
    """Build (and drop) the unit of ``spec``: its own one-line errors, nothing elaborated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # amaranth's UnusedElaboratable on the drop
        hw.make_unit(**spec)
        gc.collect()                               # (units hold cycles: drop them here)


def _max_loop_stages(spec) -> int:
    """hw.FMac's most loop stages (5) for a float-accumulator MAC, else 0."""
    if spec.get("unit", "mac") not in (None, "mac"):
        return 0
    try:
        _probe({**spec, "loop_stages": 1})
    except FormatError:
        return 0
    from macforge.hw.fmac import MAX_LOOP_STAGES
    return MAX_LOOP_STAGES


def _measure(spec, target, period_ps, cache):
    """One candidate's figures, with its ``design`` (kept for :func:`unit_cost`) and
    ``cached``, which :func:`unit_at_clock` leaves out of its result."""
    unit = hw.make_unit(**spec)
    design = Design.from_unit(unit)
    if target == "asic":
        r = asic_cost(design, cache=cache, energy=False, clock_ps=period_ps)
        delay = r["delay_ps"]
        return {"module": design.top, "registers": r["flops"], "delay_ps": delay,
                "reached_mhz": round(1e6 / delay, 1) if delay else None,
                "area_um2": r["area_um2"], "ge": r["ge"], "cached": r["cached"],
                "design": design}
    r = fpga_cost(design, target, dsp=True, pnr=True, cache=cache)
    return {"module": design.top, "registers": r["ff"], "reached_mhz": r.get("fmax_mhz"),
            "lut": r["lut"], "carry": r["carry"], "dsp_blocks": r["dsp_blocks"],
            "device": r.get("device"), "cached": r["cached"], "design": design}


def unit_at_clock(spec: dict, clock_mhz: float, target: str = "asic", cache=None,
                  progress=None) -> dict:
    """Choose the pipeline of ``spec`` with the fewest registers that meets ``clock_mhz``.

    Parameters
    ----------
    spec : dict
        Keyword arguments of :func:`hw.make_unit`; its ``stages`` / ``loop_stages`` are
        ignored (they are what is chosen).
    clock_mhz : float
        The clock to meet.
    target : str
        "asic" (45 nm library, timing-driven mapping), "ice40" or "ecp5" (nextpnr).
    progress : callable, optional
        Called with one line per candidate measured.

    Returns
    -------
    dict
        ``met`` (bool), ``spec`` (the chosen make_unit arguments, ``stages`` and
        ``loop_stages`` set), ``module``, ``stages``, ``loop_stages``, ``interleave``
        (accumulators interleaved: ``loop_stages + 1``), ``registers`` (flip-flops),
        ``reached_mhz`` (what the chosen unit reaches), ``clock_mhz``, ``period_ps``,
        ``target``; on asic ``delay_ps``, ``area_um2``, ``ge`` (at that clock); on an FPGA
        ``lut``, ``carry``, ``dsp_blocks``, ``device``; and ``tried`` (every candidate
        measured, in order). Without a pipeline that meets the clock, ``met`` is False and the
        figures are the fastest candidate's.

    Raises
    ------
    UsageError
        A target other than asic/ice40/ecp5, or a clock that is not a positive number.
    """
    out, _ = choose_design(spec, clock_mhz, target, cache, progress)
    return out


def choose_design(spec: dict, clock_mhz: float, target: str = "asic", cache=None,
                  progress=None) -> tuple:
    """``(choice, design)``: :func:`unit_at_clock`'s result and the chosen candidate's
    :class:`~costmodel.synth.Design` as the search built and measured it (to price it further
    without building its Verilog again)."""
    f = check_clock(clock_mhz, target)
    period = 1e6 / f
    cache = resolve_cache(cache)
    base = {k: v for k, v in spec.items() if k not in ("stages", "loop_stages")}
    _probe(base)                                            # the unit's own errors first
    lmax = _max_loop_stages(base)
    smax = {ls: MAX_STAGES for ls in range(lmax + 1)}
    fastest = {}                  # per loop_stages: the fastest of the stages measured so far
    idle = dict.fromkeys(range(lmax + 1), 0)     # consecutive banks that bought nothing
    tried = []
    for banks in range(MAX_STAGES + lmax + 1):
        level = []
        for ls in range(min(banks, lmax) + 1):
            st = banks - ls
            if st > smax[ls]:
                continue
            cand = {**base, "stages": st}
            if ls:
                cand["loop_stages"] = ls
            m = _measure(cand, target, period, cache)
            m.update(stages=st, loop_stages=ls, spec=cand,
                     met=bool(m["reached_mhz"]) and m["reached_mhz"] >= f)
            tried.append(m)
            level.append(m)
            if progress:
                progress(f"  stages {st}, loop stages {ls}: {m['registers']} registers, "
                         f"{m['reached_mhz']} MHz" + (" (meets)" if m["met"] else ""))
            best_r, r = fastest.get(ls), m["reached_mhz"]
            if best_r and r and r <= best_r * NOISE:        # this bank bought nothing
                idle[ls] += 1
                if idle[ls] >= 2:
                    smax[ls] = st
            else:
                idle[ls] = 0
            if r and (best_r is None or r > best_r):
                fastest[ls] = r
        ok = [m for m in level if m["met"]]
        if ok:
            best = min(ok, key=lambda m: (m["registers"], m["stages"] + m["loop_stages"]))
            break
    else:                   # the fastest; within 0.1 % of it (mapping noise), fewest registers
        top = max(m["reached_mhz"] or 0.0 for m in tried)
        near = [m for m in tried if (m["reached_mhz"] or 0.0) * NOISE >= top]
        best = min(near, key=lambda m: (m["registers"], m["stages"] + m["loop_stages"]))
    out = {k: v for k, v in best.items() if k not in ("cached", "design")}
    out.update(target=target, clock_mhz=f, period_ps=round(period, 1),
               interleave=best["loop_stages"] + 1,
               tried=[{k: m[k] for k in ("stages", "loop_stages", "registers", "reached_mhz",
                                         "met")} for m in tried])
    return out, best["design"]


def unit_cost(spec: dict, clock_mhz: float, target: str = "asic", cache=None, n_ops=100_000,
              seed: int = 1, operands=None, progress=None, energy: bool = True) -> dict:
    """:func:`unit_at_clock` plus the chosen unit's full cost at that clock.

    On asic: :func:`costmodel.api.asic_cost` of the chosen unit mapped for the clock period
    (area, timing, and with ``energy`` the zero-delay switching energy), under ``cost``, and the
    chosen unit's ``latency`` (cycles, from its manifest); on an FPGA the resources and Fmax of
    the choice. Returns the :func:`unit_at_clock` dict with those added."""
    choice, design = choose_design(spec, clock_mhz, target, cache, progress)
    if target == "asic":                  # the chosen candidate's design, as measured
        choice["latency"] = design.manifest["latency"]
        choice["cost"] = asic_cost(design, n_ops=n_ops, seed=seed, cache=cache,
                                   operands=operands, clock_ps=choice["period_ps"],
                                   energy=energy)
    return choice
