"""The calibration report: our predicted energy and area per operation next to Horowitz's.

Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm,
0.9 V, as reproduced in Gholami et al., arXiv 2103.13630, Fig. 15 (docs/anchors.md).
One constant is fitted -- the energy scale, from the int8 multiply (0.2 pJ) -- and every other
row is a prediction. Area has no fitted constant at all: it is the Nangate 45 nm cell area
of our mapped netlist.

What each row measures (all combinational, uniform random operands; floats: finite codes):

* int N add: :class:`~costmodel.designs.IntAdd` -- Amaranth ``a + b``, N-bit signed
  operands, N+1-bit sum.
* int N mult: :class:`~costmodel.designs.IntMul` -- Amaranth ``a * b``, signed, 2N-bit
  product (``hw.FMul`` has no integer result format).
* fp16/fp32 mult: ``hw.FMul`` (RNE, subnormals, IEEE specials).
* fp16/fp32 add: :class:`~costmodel.designs.FAddViaFma` -- ``hw.FFma`` with b tied to 1.0
  (constant-folded by Yosys); its window is sized for a product, so it overstates a
  dedicated adder.
"""
from __future__ import annotations

import time

from macforge.progress import metered, status

__all__ = ["HOROWITZ", "ROWS", "calibration_table", "at_horowitz_vdd", "TIMED_GOAL",
           "CALIBRATE_CLOCK_MHZ"]

#: The clock every row is priced at by default (MHz, ``macforge calibrate --clock-mhz``): each
#: row mapped timing-driven for its period, leakage over that period; 0: each row at its own
#: critical path (the clockless, area-oriented mapping).
CALIBRATE_CLOCK_MHZ = 250

#: The goal of issue #17 for the library-figure energies: every row within this factor.
TIMED_GOAL = 1.5

#: (op, energy pJ, area µm²): Horowitz ISSCC 2014, 45 nm (docs/anchors.md).
HOROWITZ = {
    "int8 add": (0.03, 36), "int16 add": (0.05, 67), "int32 add": (0.1, 137),
    "int8 mult": (0.2, 282), "int32 mult": (3.1, 3495),
    "fp16 add": (0.4, 1360), "fp32 add": (0.9, 4184),
    "fp16 mult": (1.1, 1640), "fp32 mult": (3.7, 7700),
}


def _design(op):
    from .designs import FAddViaFma, IntAdd, IntMul
    from .synth import Design
    kind, what = op.split()
    if kind.startswith("int"):
        n = int(kind[3:])
        if what == "add":
            return Design.from_amaranth(IntAdd(n), f"iadd_s{n}", f"Amaranth a + b, int{n}"), \
                f"Amaranth a+b, {n}b signed -> {n + 1}b"
        return Design.from_amaranth(IntMul(n), f"imul_s{n}", f"Amaranth a * b, int{n}"), \
            f"Amaranth a*b, {n}b signed -> {2 * n}b"
    if what == "mult":
        from macforge import hw
        return Design.from_unit(hw.make_unit("mul", kind)), f"hw.FMul {kind} RNE"
    return Design.from_amaranth(FAddViaFma(kind), f"fadd_{kind}", f"hw.FFma {kind}, b = 1.0"), \
        f"hw.FFma {kind} with b=1.0"


#: Rows in Horowitz's order.
ROWS = tuple(HOROWITZ)


def at_horowitz_vdd(b: dict) -> float:
    """An :func:`costmodel.timed.energy_breakdown` (pJ at the library's 1.1 V) at Horowitz's
    0.9 V: dynamic energy (switching, internal, clock) scaled by (0.9 / 1.1)^2, the first-order
    C V^2 dependence; leakage (under 2 % of every row) left as characterised."""
    from ._power45 import VDD
    from .energy import HOROWITZ_VDD
    dyn = b["switching"] + b["internal"] + b["clock"]
    return dyn * (HOROWITZ_VDD / VDD) ** 2 + b["leakage"]


def calibration_table(cache=None, n_ops=100_000, progress=None, rows=ROWS,
                      timed_samples=2000, clock_mhz: float = CALIBRATE_CLOCK_MHZ,
                      meter=None) -> dict:
    """Synthesise and simulate every row; return ``{"calibration": ..., "rows": [...]}``.

    Each row: ``op``, ``design`` (what was measured), ``energy_pj``, ``static_pj``,
    ``area_um2``, ``ge``, ``delay_ps``, Horowitz's ``ref_pj`` / ``ref_um2`` and the ratios
    ``energy_ratio`` / ``area_ratio`` (ours / theirs). ``progress``: None (silent) or a
    callable given one line per row; ``meter``: None or a callable told ``(rows done,
    rows)`` before the first row and after each (the command line's bar). With ``timed_samples`` (0: off) each row also has the
    library-figure energies (nothing fitted) at Horowitz's 0.9 V (:func:`at_horowitz_vdd`):
    ``zero_delay_pj``, ``timed_pj``, their ratios to Horowitz, ``glitch_factor`` and
    ``energy_breakdown`` (:func:`costmodel.timed.timed_energy`, at 1.1 V).

    ``clock_mhz`` (default :data:`CALIBRATE_CLOCK_MHZ`; 0: none): every row mapped
    timing-driven for that clock's period (:func:`costmodel.synth.asic_script`), its leakage
    counted over the period; each row says whether its measured critical path meets it
    (``meets_clock``). The table carries ``clock_mhz`` (None without a clock).
    """
    from .api import asic_cost, get_calibration
    from .pipelining import check_clock
    calib = get_calibration(cache, n_ops=n_ops)
    period = 1e6 / check_clock(clock_mhz, "asic") if clock_mhz else None
    out = []
    for op in metered(rows, meter):
        t0 = time.time()
        design, what = _design(op)
        status(f"{op}: costing {design.top}")
        r = asic_cost(design, n_ops=n_ops, cache=cache, timed_samples=timed_samples,
                      clock_ps=period)
        ref_pj, ref_um2 = HOROWITZ[op]
        out.append({"op": op, "design": what, "module": design.top,
                    "meets_clock": None if period is None else r["delay_ps"] <= period,
                    "energy_pj": r["energy_pj"], "static_pj": r["static_pj"],
                    "area_um2": r["area_um2"], "ge": r["ge"], "delay_ps": r["delay_ps"],
                    "ref_pj": ref_pj, "ref_um2": ref_um2,
                    "energy_ratio": round(r["energy_pj"] / ref_pj, 2),
                    "area_ratio": round(r["area_um2"] / ref_um2, 2),
                    "cached": r["cached"]})
        if timed_samples:
            te = r["energy_breakdown"]
            z, t = at_horowitz_vdd(te["zero_delay"]), at_horowitz_vdd(te["timed"])
            out[-1].update({"zero_delay_pj": round(z, 4), "timed_pj": round(t, 4),
                            "zero_delay_ratio": round(z / ref_pj, 2),
                            "timed_ratio": round(t / ref_pj, 2),
                            "glitch_factor": te["glitch_factor"], "energy_breakdown": te})
        if progress:
            progress(f"  {op}: {r['energy_pj']:.3g} pJ, "
                     f"{r['area_um2']:.0f} µm² ({time.time() - t0:.1f} s"
                     f"{', cached' if r['cached'] else ''})")
    return {"calibration": calib, "rows": out,
            "clock_mhz": float(clock_mhz) if clock_mhz else None,
            "period_ps": round(period, 1) if period else None}
