"""Cost of one design: ASIC area/delay/energy and FPGA resources, cached.

Examples
--------
>>> from macforge import hw
>>> from macforge.costmodel import Design, cost
>>> r = cost(Design.from_unit(hw.make_unit("mac", "e4m3", acc="fp32")))   # doctest: +SKIP
>>> sorted(r)                                                              # doctest: +SKIP
['area_um2', 'cells', 'delay_ps', 'depth', 'energy_pj', ...]
"""
from __future__ import annotations

import hashlib

import numpy as np

from macforge.toolchain.errors import SynthError
from macforge.toolchain.versions import tool_versions
from macforge.toolchain.yosys import fpga_script

from .cache import Cache, key
from .designs import IntMul
from .energy import (HOROWITZ_INT8_MUL_PJ, HOROWITZ_VDD, MODEL_VERSION, energy_pj,
                     switched_capacitance)
from .liberty import LIB_PATH, load
from .netlist import GateNetlist
from .synth import (ASIC_CONSTR, Design, TARGETS, asic_flow, pnr_flow, pnr_fpga, synth_asic,
                    synth_fpga)
from .timed import TIMED_VERSION, timed_energy

__all__ = ["asic_cost", "fpga_cost", "cost", "calibration", "get_calibration", "resolve_cache"]


def resolve_cache(cache):
    """None -> the default cache; False -> no cache; a Cache -> itself."""
    if cache is False:
        return None
    return cache if cache is not None else Cache()


def _operands_digest(operands):
    if operands is None:
        return "uniform"
    h = hashlib.sha256()
    for k in sorted(operands):
        h.update(k.encode())
        h.update(np.ascontiguousarray(np.asarray(operands[k]).astype(np.uint64)).tobytes())
    return "file:" + h.hexdigest()[:16]


def _synth_asic_cached(design, cache, library=LIB_PATH, clock_ps=None):
    lib = load(library)
    # the script as run (flat, or hierarchical with the modules it keeps: costmodel.synth.asic_flow)
    k = key("asic-synth", design.digest(), asic_flow(design, "LIB", clock_ps)[1], lib.text,
            ASIC_CONSTR if clock_ps else "", tool_versions())
    hit = cache.get(k) if cache is not None else None
    if hit is not None:
        return hit, True
    res = synth_asic(design, library, clock_ps=clock_ps)
    res["tools"] = tool_versions()
    res["key"] = k
    if cache is not None:
        cache.put(k, "asic-synth", res)
    return res, False


_CALIB_MEMO = {}


def get_calibration(cache=None, n_ops=100_000, seed=1):
    """The energy constant (see :func:`calibration`), cached."""
    cache = resolve_cache(cache)
    k = key("calibration", MODEL_VERSION, n_ops, seed, load().text, tool_versions())
    if k in _CALIB_MEMO and not (cache is not None and cache.refresh):
        return _CALIB_MEMO[k]
    hit = cache.get(k) if cache is not None else None
    if hit is None:
        hit = calibration(n_ops=n_ops, seed=seed, cache=cache if cache is not None else False)
        if cache is not None:
            cache.put(k, "calibration", hit)
    _CALIB_MEMO[k] = hit
    return hit


def asic_cost(design: Design, n_ops: int = 100_000, seed: int = 1, cache=None,
              energy: bool = True, operands: dict | None = None, zero: bool = False,
              progress=None, timed_samples: int = 0, clock_ps: float | None = None) -> dict:
    """ASIC area, timing and (with ``energy``) energy per operation of ``design``.

    ``clock_ps`` maps timing-driven for that clock period (:func:`costmodel.synth.asic_script`):
    the area is the area at that clock.

    Returns the :func:`~costmodel.synth.synth_asic` result plus ``energy_pj`` (calibrated
    switching energy per operation), ``static_pj`` (area-proportional cross-check),
    ``activity`` (switched capacitance and toggle statistics), ``calibration`` and
    ``cached`` (whether synthesis came from the cache). With ``timed_samples`` (0: off),
    also ``energy_zero_delay_pj`` and ``energy_timed_pj`` from the library's energy figures
    (no fitted constant) and ``energy_breakdown`` (:func:`costmodel.timed.timed_energy`:
    switching / internal / clock / leakage of both, the glitch factor).
    """
    cache = resolve_cache(cache)
    res, hit = _synth_asic_cached(design, cache, clock_ps=clock_ps)
    res = dict(res)
    res["cached"] = hit
    if not energy:
        return res
    calib = get_calibration(cache)
    stim = "zero" if zero else _operands_digest(operands)
    k = key("activity", MODEL_VERSION, res["key"], n_ops, seed, stim, design.manifest)
    act = cache.get(k) if cache is not None else None
    if act is None:
        net = GateNetlist(res["netlist"], top=design.top)
        act = switched_capacitance(net, n_ops=n_ops, manifest=design.manifest, seed=seed,
                                   operands=operands, zero=zero, progress=progress)
        act["stimulus"] = stim
        if cache is not None:
            cache.put(k, "activity", act)
    res["activity"] = act
    res["energy_pj"] = round(energy_pj(act["cap_ff_per_op"], calib), 4)
    res["static_pj"] = round(HOROWITZ_INT8_MUL_PJ * res["area_um2"] / calib["ref_area_um2"], 4)
    res["calibration"] = {k2: calib[k2] for k2 in ("k_pj_per_ff", "ref_cap_ff_per_op",
                                                   "ref_area_um2", "source")}
    if timed_samples:
        res.update(_timed_cached(res, design, timed_samples, seed, operands, zero, stim,
                                 cache, progress, period_ps=clock_ps))
    return res


def _timed_cached(res, design, samples, seed, operands, zero, stim, cache, progress,
                  period_ps=None):
    """Zero-delay and timed energy of a synthesised design (cached with its netlist); leakage
    over ``period_ps`` (a stated clock), else over the design's critical path."""
    k = key("timed-energy", TIMED_VERSION, res["key"], samples, seed, stim, design.manifest,
            *(() if period_ps is None else (period_ps,)))
    te = cache.get(k) if cache is not None else None
    if te is None:
        net = GateNetlist(res["netlist"], top=design.top)
        te = timed_energy(net, period_ps or res["delay_ps"], samples, design.manifest, seed,
                          operands, zero=zero, progress=progress)
        if cache is not None:
            cache.put(k, "timed-energy", te)
    return {"energy_zero_delay_pj": te["zero_delay"]["total"],
            "energy_timed_pj": te["timed"]["total"], "energy_breakdown": te}


def fpga_cost(design: Design, target: str, dsp: bool = True, pnr: bool = False,
              cache=None) -> dict:
    """FPGA resources (and Fmax with ``pnr``) of ``design`` for ``target``, cached.

    The resources are always the bare unit's synthesis (the same cached result as without
    ``pnr``); ``pnr`` adds ``fmax_mhz``, ``device`` and ``pnr`` from
    :func:`~costmodel.synth.pnr_fpga` (the unit inside the scan wrapper on the iCE40 UP5K or
    ECP5-85F), cached under a key that covers the wrapper's Verilog, its script, the device,
    placer target clock and seed. Only a macforge unit (:meth:`Design.from_unit`) can be
    placed: any other design is a :class:`SynthError` before anything runs.
    """
    if target not in TARGETS or target == "asic":
        raise SynthError(f"unknown FPGA target {target!r}; accepted: ice40, ecp5, xilinx")
    flow = pnr_flow(design, target, dsp) if pnr else None
    cache = resolve_cache(cache)
    # the bare synthesis (False: the key it always had without pnr, so those entries stay valid)
    k = key("fpga", target, dsp, False, design.digest(), fpga_script(target, design.top, dsp),
            tool_versions())
    res = cache.get(k) if cache is not None else None
    if res is not None:
        res["cached"] = True
    else:
        res = synth_fpga(design, target, dsp=dsp)
        res["tools"] = tool_versions()
        res["key"] = k
        if cache is not None:
            cache.put(k, "fpga", res)
        res["cached"] = False
    if flow is None:
        return res
    kp = key("fpga-pnr", k, flow)
    hit = cache.get(kp) if cache is not None else None
    if hit is None:
        res["cached"] = False
        hit = pnr_fpga(design, target, dsp)
        if cache is not None:
            cache.put(kp, "fpga-pnr", hit)
    res.update(hit)
    res["key"] = kp
    return res


def cost(design: Design, target: str = "asic", pnr: bool = False, cache=None,
         n_ops: int = 100_000, seed: int = 1, operands=None, progress=None,
         timed_samples: int = 0) -> dict:
    """One target's cost: ASIC (area, delay, energy) or FPGA (with and without DSPs)."""
    if target not in TARGETS:
        raise SynthError(f"unknown target {target!r}; accepted: " + ", ".join(TARGETS))
    if target == "asic":
        if pnr:
            raise SynthError("--pnr applies to the FPGA targets ice40 and ecp5, not asic")
        return asic_cost(design, n_ops=n_ops, seed=seed, cache=cache, operands=operands,
                         progress=progress, timed_samples=timed_samples)
    return {"target": target, "module": design.top,
            "dsp": fpga_cost(design, target, dsp=True, pnr=pnr, cache=cache),
            "nodsp": fpga_cost(design, target, dsp=False, pnr=pnr, cache=cache)}


def calibration(n_ops: int = 100_000, seed: int = 1, cache=None) -> dict:
    """The energy constant K (pJ per fF switched), computed from the int8 multiplier.

    Synthesises the int8 x int8 signed multiplier (:class:`~costmodel.designs.IntMul`),
    simulates ``n_ops`` uniform random operand pairs and sets K = 0.2 pJ / (fF per op).

    Returns
    -------
    dict
        ``k_pj_per_ff``, ``ref_cap_ff_per_op``, ``ref_area_um2``, ``ref_ge``,
        ``half_cv2_pj_per_ff`` (V^2/2 at 0.9 V) and ``k_over_half_cv2``.
    """
    d = Design.from_amaranth(IntMul(8), "imul_s8", "int8 x int8 signed (Amaranth *)")
    res = asic_cost(d, n_ops=n_ops, seed=seed, cache=cache, energy=False)
    net = GateNetlist(res["netlist"], top=d.top)
    sw = switched_capacitance(net, n_ops=n_ops, seed=seed)
    k = HOROWITZ_INT8_MUL_PJ / sw["cap_ff_per_op"]
    half_cv2 = 0.5 * HOROWITZ_VDD ** 2 * 1e-3          # fJ/fF -> pJ/fF: 0.405e-3
    return {"k_pj_per_ff": k, "ref_cap_ff_per_op": sw["cap_ff_per_op"],
            "ref_area_um2": res["area_um2"], "ref_ge": res["ge"],
            "ref_pj": HOROWITZ_INT8_MUL_PJ, "half_cv2_pj_per_ff": half_cv2,
            "k_over_half_cv2": round(k / half_cv2, 3), "n_ops": n_ops,
            "source": "Horowitz ISSCC 2014 (45 nm, 0.9 V): int8 mult 0.2 pJ"}
