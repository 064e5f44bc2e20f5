"""One design point: build, hash, measure. The same function runs in a local worker process
and on a Dask worker; it reads no sweep state and writes nothing but caches, so where it runs
cannot change what it returns.

Measurements reuse the project's own code: :func:`costmodel.asic_cost` (area, timing,
energy), :func:`costmodel.fpga_cost` (cells and nextpnr Fmax), :func:`golden.error_stats`, and
the fast co-simulation :func:`sim.fast.check_fast` on :func:`sim.stimulus.make_stimulus`
vectors. Synthesis results also land in the cost model's own cache (``$MACFORGE_CACHE``), so a
second sweep over the same Verilog re-synthesises nothing.
"""
from __future__ import annotations

import functools
import hashlib
import os
import socket
import time
import traceback
from pathlib import Path

__all__ = ["code_digest", "content_key", "evaluate", "worker_identity"]

_PACKAGES = ("macforge.golden", "macforge.hw", "macforge.sim", "macforge.costmodel")


@functools.lru_cache(maxsize=None)
def code_digest() -> str:
    """sha256 over the sources of golden, hw, sim and costmodel (and the cell library): a
    worker whose digest differs from the driver's would measure something else."""
    import importlib
    h = hashlib.sha256()
    for pkg in _PACKAGES:
        root = Path(importlib.import_module(pkg).__file__).parent
        for p in sorted(list(root.rglob("*.py")) + list(root.rglob("*.lib"))):
            if "__pycache__" in p.parts:
                continue
            h.update(str(p.relative_to(root.parent)).encode() + b"\0")
            h.update(p.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def _golden_digest() -> str:
    import importlib
    h = hashlib.sha256()
    root = Path(importlib.import_module("macforge.golden").__file__).parent
    for p in sorted(root.glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()


def worker_identity() -> dict:
    """What a worker would measure with: its code digest and tool versions (checked by the
    Dask driver against its own before any point is sent)."""
    from macforge.toolchain.versions import tool_versions
    return {"code": code_digest(), "tools": tool_versions(), "host": socket.gethostname()}


def content_key(design, measure: dict, tools: dict) -> str:
    """The point's identity: the Verilog text and top, every script that will run on it, the
    Liberty library, tool versions and the measurement settings (plus the golden model's
    source for error statistics and verification, which check against it)."""
    from macforge.costmodel.cache import key
    from macforge.costmodel.energy import MODEL_VERSION
    from macforge.costmodel.liberty import load
    from macforge.costmodel.synth import asic_flow, pnr_flow
    from macforge.toolchain.yosys import fpga_script
    parts = {"verilog": hashlib.sha256(design.verilog.encode()).hexdigest(), "top": design.top,
             "measure": measure, "tools": tools}
    if "asic" in measure:
        # the flow asic_cost runs (flat, or hierarchical over repeated lane modules)
        parts["asic"] = [asic_flow(design, "LIB")[1],
                         hashlib.sha256(load().text.encode()).hexdigest(), MODEL_VERSION]
    if "fpga" in measure:
        parts["fpga"] = {t: fpga_script(t, design.top, measure["fpga"]["dsp"])
                         for t in measure["fpga"]["targets"]}
        # place and route runs the scan-wrapped unit (costmodel.synth.pnr_fpga): its wrapper,
        # script, device, clock target and seed are part of what the point measured
        parts["pnr"] = {t: pnr_flow(design, t, measure["fpga"]["dsp"])
                        for t in measure["fpga"]["pnr"]}
    if "error_stats" in measure or "verify" in measure:
        parts["golden"] = _golden_digest()
    return key("sweep-point", parts)


def _asic(design, o, kwargs) -> dict:
    """The asic metrics; with ``clock_mhz`` those of the pipeline
    :func:`costmodel.pipelining.unit_at_clock` chooses for it (the point's own ``stages`` /
    ``loop_stages`` replaced), mapped timing-driven for the period, with what it chose and
    reached; a point that cannot reach the clock is priced as its fastest pipeline, with
    ``clock_met`` false and ``clock_reached_mhz`` what it reaches."""
    if o.get("clock_mhz"):
        from macforge.costmodel.pipelining import unit_cost
        ch = unit_cost(kwargs, o["clock_mhz"], "asic", n_ops=o["n_ops"], seed=o["seed"],
                       energy=o["energy"])
        r = ch["cost"]
        m = {"clock_mhz": ch["clock_mhz"], "clock_met": ch["met"],
             "clock_reached_mhz": ch["reached_mhz"], "clock_module": ch["module"],
             "clock_stages": ch["stages"], "clock_loop_stages": ch["loop_stages"],
             "clock_registers": ch["registers"], "clock_latency_cycles": ch["latency"]}
    else:
        from macforge.costmodel import asic_cost
        r = asic_cost(design, n_ops=o["n_ops"], seed=o["seed"], energy=o["energy"])
        m = {}
    m |= {"area_um2": r["area_um2"], "area_ge": r["ge"], "generic_ge": r["generic_ge"],
         "cells": r["n_cells"], "flops": r["flops"], "depth_cells": r["depth"],
         "delay_ps": r["delay_ps"], "fmax_mhz_asic": r["fmax_mhz"]}
    if o["energy"]:
        m["energy_pj"] = r["energy_pj"]
        m["static_energy_pj"] = r["static_pj"]
    return m


def _fpga(design, o) -> dict:
    from macforge.costmodel import fpga_cost
    m = {}
    for t in o["targets"]:
        r = fpga_cost(design, t, dsp=o["dsp"], pnr=t in o["pnr"])
        m.update({f"lut_{t}": r["lut"], f"carry_{t}": r["carry"], f"dsp_{t}": r["dsp_blocks"],
                  f"ff_{t}": r["ff"]})
        if t in o["pnr"]:
            m[f"fmax_mhz_{t}"] = r["fmax_mhz"]
    return m


#: the units ``error_stats`` measures -> :func:`golden.error_stats`'s unit: the multiplier of
#: a mul/fma/mac (its product rounded into acc), L-Mul's, a cast's
ERROR_KINDS = {"mul": "mul", "fma": "mul", "mac": "mul", "lmul": "lmul", "lmulmac": "lmul",
               "convert": "convert"}


def _error_stats(axes, o) -> dict:
    from macforge import golden
    if axes["format_b"] is not None and golden.parse(axes["format_b"]) != golden.parse(axes["format"]):
        raise golden.FormatError("error statistics take one operand format, not "
                                 f"{axes['format']} x {axes['format_b']}")
    kind = ERROR_KINDS.get(axes["unit"])
    if kind is None:                 # an adder, quantiser, dot unit: no error columns
        return {}
    s = golden.error_stats(axes["format"], unit=kind,
                           variant=axes.get("variant", "formula"), samples=o["samples"],
                           dist=o["dist"], seed=o["seed"], out=axes["acc"],
                           rounding=axes["rounding"], saturate=axes["saturate"],
                           rnd_bits=axes.get("rnd_bits", 8))
    return {"err_mean_rel": s.mean, "err_rms_rel": s.rms, "err_max_rel": s.max,
            "err_p99_rel": s.percentiles[99.0], "err_bias_rel": s.bias,
            "overflow_frac": s.overflow / max(s.samples, 1),
            "err_samples": s.samples}


def _verify(design, key, o):
    from macforge.costmodel.cache import cache_dir
    from macforge.sim.fast import check_fast
    from macforge.sim.stimulus import make_stimulus
    root = Path(cache_dir()) / "sweep-sim"
    rtl = root / design.top / "rtl" / key[:16] / f"{design.top}.v"
    if not rtl.exists():
        rtl.parent.mkdir(parents=True, exist_ok=True)
        tmp = rtl.with_name(f".{os.getpid()}.{rtl.name}")
        tmp.write_text(design.verilog)
        os.replace(tmp, rtl)                       # atomic: another worker may race us
    stim = make_stimulus(design.manifest, o["vectors"], o["seed"])
    stim.pop("meta")
    res = check_fast(design.manifest, rtl, stim, build_root=str(root))
    bad = res["mismatches"]
    m = {"verify_vectors": int(res["observed"].size), "verify_mismatches": int(bad.size)}
    err = None
    if bad.size:
        err = (f"verify: {bad.size} of {res['observed'].size} vectors mismatch the golden model "
               f"(first: vector {int(bad[0])}); `macforge sim` on this point shows them")
    return m, err


def evaluate(task: dict) -> dict:
    """Build and measure one point.

    ``task``: ``kwargs`` (for :func:`hw.make_unit`), ``axes``, ``measure`` (normalised
    settings), ``known`` (content keys already measured under these settings: if this point's
    key is one of them, nothing is measured).

    Returns ``{"key", "status": "ok"|"failed"|"known", "module", "metrics", "error", "trace",
    "seconds", "host"}``. Any exception becomes a failed result with a one-line ``error``
    ("stage: Type: message") and the traceback in ``trace``; the caller goes on.
    """
    t0 = time.perf_counter()
    out = {"key": None, "status": "ok", "module": None, "metrics": {}, "error": None,
           "trace": None, "host": socket.gethostname()}
    stage = "build"
    try:
        from macforge import hw
        from macforge.costmodel import Design
        from macforge.toolchain.versions import tool_versions
        unit = hw.make_unit(**task["kwargs"])
        design = Design.from_unit(unit)
        out["module"] = design.top
        measure = task["measure"]
        out["key"] = k = content_key(design, measure, tool_versions())
        if k in task.get("known", ()):
            out["status"] = "known"
            return out
        m = out["metrics"]
        m["latency_cycles"] = design.manifest["latency"]
        for stage in ("asic", "fpga", "error_stats", "verify"):
            o = measure.get(stage)
            if o is None:
                continue
            if stage == "asic":
                m.update(_asic(design, o, task["kwargs"]))
            elif stage == "fpga":
                m.update(_fpga(design, o))
            elif stage == "error_stats":
                m.update(_error_stats(task["axes"], o))
            else:
                vm, err = _verify(design, k, o)
                m.update(vm)
                if err:
                    out["status"], out["error"] = "failed", err
    except Exception as exc:                     # recorded, and the sweep goes on
        msg = " ".join(str(exc).split()) or "(no message)"
        out.update(status="failed", error=f"{stage}: {type(exc).__name__}: {msg}",
                   trace=traceback.format_exc())
    finally:
        out["seconds"] = round(time.perf_counter() - t0, 3)
    return out
