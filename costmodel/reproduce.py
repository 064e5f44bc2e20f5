"""Published format-vs-format hardware comparisons, regenerated with our own units.

Every reproduction synthesizes our units through the same ASIC flow and activity model
(uniform random finite codes; see :func:`costmodel.energy.stimulus`) and returns, row by row,
the published figure, ours, and the difference (``macforge reproduce`` prints them).

``fp8-vs-int8``
    van Baalen et al., "FP8 versus INT8 for efficient deep learning inference", arXiv
    2303.17951 (docs/anchors.md): an FP8-E4 MAC costs **+53 %** area/energy over an INT8
    MAC with an FP16 accumulator and **+183 %** with an FP32 accumulator. Ours: ``hw.FMac``
    e4m3 (OCP E4M3FN) with fp16 and fp32 accumulators (fused, RNE, one register, no pipeline)
    against ``hw.IntMac`` int8 x int8 -> int32 (wrapping). These first rows compare the
    units as they are, each at its own clock (their critical paths differ by 3x).
    Then at equal clock (:data:`FP8_CLOCKS_MHZ`, 45 nm library): each unit pipelined by
    :func:`costmodel.pipelining.unit_at_clock` (the fewest registers that meet the clock) and
    mapped timing-driven for it; area and zero-delay energy of the chosen units, and a
    contribution table that splits the change from the unequal-clock ratio into the pipeline
    registers and the timing-driven mapping of the logic (:func:`contributions`). The energy is
    the zero-delay switching energy of :mod:`costmodel.energy`, and next to it (with
    ``timed_samples``) the timed energy of :mod:`costmodel.timed` (library figures, every
    glitch, clock and leakage counted; an ``energy (timed)`` row and contribution).
``lmul``
    Breese et al., "Multiplication is Not What You Need" (FreePDK45, Yosys/OpenROAD,
    combinational): L-Mul vs an exact multiplier, area at fp8 / bf16 / fp32 and, at fp8, power
    and delay. Ours: ``hw.LMul`` (formula variant) against ``hw.FMul`` (correctly rounded,
    subnormals, RNE), same format in and out, combinational; fp8 is OCP e4m3. At a fixed clock
    power is energy per operation x rate, so the power ratio is compared with our energy ratio
    (zero-delay and timed). Then at :data:`LMUL_CLOCK_MHZ`: every unit pipelined by
    :func:`costmodel.pipelining.unit_at_clock` and mapped for the clock; the rows of each
    format whose two units both reach it (``notes``: the measured causes of the disagreement).
``int-vs-fp``
    Chen et al., "INT v.s. FP" (arXiv 2510.25602) Table 5: k-lane block MACs at equal
    throughput, normalised to MXFP8 (MXINT8 / NVFP4 / NVINT4 energy 0.63 / 0.55 / 0.34, area
    0.79 / 0.54 / 0.38), k = 32 for MX and 16 for NV (the block size, :func:`paper_lanes`).
    Ours: ``hw.FDot`` exact block dot-product-accumulate units (e8m0 / e4m3 block scales; one
    fp32 accumulator), priced per element MAC: energy per step / k and area / k (equal
    throughput = equal element MACs per cycle). Rows at k = :data:`INT_VS_FP_LANES` for every
    format (the old rows), at the paper's k, and at the paper's k pipelined for
    :data:`INT_VS_FP_CLOCK_MHZ`; zero-delay and timed energy. ``steps`` says what each step
    (lanes, clock, glitches) contributes to each ratio, ``split`` each format's cost as shared
    + k x lane through its two measured k (``notes`` prints both).
"""
from __future__ import annotations

from macforge.progress import metered, status

__all__ = ["REPRODUCTIONS", "reproduce", "FP8_CLOCKS_MHZ", "LMUL_CLOCK_MHZ", "TIMED_SAMPLES",
           "INT_VS_FP_LANES", "INT_VS_FP_CLOCK_MHZ", "contributions", "paper_lanes"]

#: The clocks of the equal-clock fp8-vs-int8 rows (MHz, 45 nm).
FP8_CLOCKS_MHZ = (250, 500, 1000)
#: The clock of lmul's clocked rows (MHz, 45 nm): both units pipelined for it.
LMUL_CLOCK_MHZ = 500
#: Operations of the timed (glitch-counting) energy simulation of every unit (0: off).
TIMED_SAMPLES = 2000


def _unit_cost(label, design, cache, n_ops, progress, clock_ps=None, timed=0):
    """One unit's cost (``design``: a :class:`~costmodel.synth.Design`); with ``timed``
    samples also ``energy_timed_pj`` and ``energy_zero_delay_lib_pj``
    (:func:`costmodel.timed.timed_energy`: the library's energy figures at 1.1 V, nothing
    fitted; the timed one counts every glitch, the clock and the leakage over the clock period
    -- ``clock_ps``, else the unit's own critical path) and ``glitch_factor``."""
    from .api import asic_cost
    status(f"{label}: costing {design.top}")
    r = asic_cost(design, n_ops=n_ops, cache=cache, clock_ps=clock_ps, timed_samples=timed)
    if progress:
        progress(f"  {label}: {r['module']}: {r['area_um2']:.0f} µm², "
                 f"{r['energy_pj']:.3g} pJ/op, {r['delay_ps']:.0f} ps"
                 + (f", timed {r['energy_timed_pj']:.3g} pJ/op" if timed else "")
                 + f"{' (cached)' if r['cached'] else ''}")
    out = {k: r[k] for k in ("module", "area_um2", "ge", "energy_pj", "static_pj", "delay_ps",
                             "flops", "cached")}
    out["clock_energy_pj"] = round(r["activity"]["clock_ff_per_op"]
                                   * r["calibration"]["k_pj_per_ff"], 5)
    if timed:
        b = r["energy_breakdown"]
        out["energy_zero_delay_lib_pj"] = round(b["zero_delay"]["total"], 5)
        out["energy_timed_pj"] = round(b["timed"]["total"], 5)
        out["glitch_factor"] = b["glitch_factor"]
        out["timed_clock_pj"] = round(b["timed"]["clock"], 5)
    return out


def _costs(units, cache, n_ops, progress, timed=0, meter=None):
    """Every unit's :func:`_unit_cost`; ``meter`` (None: silent) is told ``(done, total)``
    before the first and after each."""
    from .synth import Design
    return {label: _unit_cost(label, Design.from_unit(u), cache, n_ops, progress, timed=timed)
            for label, u in metered(units.items(), meter)}


#: The energy columns every reproduction compares: (metric label, column).
_ENERGY_COLS = (("energy", "energy_pj"), ("energy (timed)", "energy_timed_pj"))


def _energy_cols(res):
    """:data:`_ENERGY_COLS` present in every unit of ``res`` (timed only when it ran)."""
    return [(m, c) for m, c in _ENERGY_COLS if all(c in u for u in res.values())]


def _row(comparison, metric, kind, published, ours):
    """One ours-vs-theirs row; ``kind`` is "%" (relative cost increase) or "ratio"."""
    diff = ours - published
    return {"comparison": comparison, "metric": metric, "kind": kind,
            "published": published, "ours": round(ours, 3 if kind == "ratio" else 1),
            "diff": round(diff, 3 if kind == "ratio" else 1),
            **({"ours_over_published": round(ours / published, 2)} if kind == "ratio" else {})}


def _fp8_vs_int8(cache, n_ops, progress, timed, meter=None):
    from macforge import hw
    specs = {"int8 MAC, int32 acc": {"unit": "mac", "fmt": "int8", "acc": "int32"},
             "e4m3 MAC, fp16 acc": {"unit": "mac", "fmt": "e4m3", "acc": "fp16"},
             "e4m3 MAC, fp32 acc": {"unit": "mac", "fmt": "e4m3", "acc": "fp32"}}
    units = {label: hw.make_unit(**spec) for label, spec in specs.items()}
    res = _costs(units, cache, n_ops, progress, timed, meter)
    base = res["int8 MAC, int32 acc"]
    rows = []
    published = REPRODUCTIONS["fp8-vs-int8"]["published"]
    for name, theirs in published.items():
        for metric, col in (("area", "area_um2"), *_energy_cols(res)):
            ours = 100 * (res[name][col] / base[col] - 1)
            rows.append(_row(f"{name} vs int8 MAC (own clocks)", metric, "%", theirs, ours))
    clocked, contrib = _fp8_at_clocks(specs, res, cache, n_ops, progress, timed)
    base = next(iter(specs))
    for f, c in clocked.items():
        if not c["reachable"]:
            continue
        for name, theirs in published.items():
            for metric, col in (("area", "area_um2"), *_energy_cols(c["units"])):
                ours = 100 * (c["units"][name][col] / c["units"][base][col] - 1)
                rows.append(_row(f"{name} vs int8 MAC at {f} MHz", metric, "%", theirs, ours))
    return {"units": res, "rows": rows, "clocks": clocked, "contributions": contrib}


def contributions(old_fp: dict, old_int: dict, new_fp: dict, new_int: dict, col: str,
                  reg_col: str) -> dict:
    """Split the change of the fp / int cost ratio between two costings into two steps.

    ``old_*`` / ``new_*``: unit costs (``col`` the total, ``reg_col`` the part due to the
    pipeline registers -- flip-flop area, or clock energy). Step 1 swaps in the new register
    part, keeping the old logic; step 2 the new logic. Returns percentage points of the fp
    unit's cost increase over int: ``old``, ``registers``, ``mapping`` and ``new``
    (``old + registers + mapping == new``)."""
    def pct(fp, it):
        return 100 * (fp / it - 1)
    logic = {k: d[col] - d[reg_col] for k, d in
             (("of", old_fp), ("oi", old_int), ("nf", new_fp), ("ni", new_int))}
    old = pct(old_fp[col], old_int[col])
    mid = pct(logic["of"] + new_fp[reg_col], logic["oi"] + new_int[reg_col])
    new = pct(new_fp[col], new_int[col])
    return {"old": round(old, 1), "registers": round(mid - old, 1),
            "mapping": round(new - mid, 1), "new": round(new, 1)}


def _at_clock(specs, clock_mhz, cache, n_ops, progress, timed=0):
    """Every unit of ``specs`` (label -> :func:`hw.make_unit` arguments) pipelined for
    ``clock_mhz`` by :func:`costmodel.pipelining.unit_at_clock` and costed mapped for it:
    ``{"units", "choice", "reachable"}`` (a unit that cannot reach the clock has its choice,
    with its best, and no cost; ``reachable`` is then False)."""
    from .pipelining import choose_design
    entry = {"units": {}, "choice": {}, "reachable": True}
    for label, spec in specs.items():
        if progress:
            progress(f"  {label}: choosing the pipeline for {clock_mhz} MHz")
        ch, design = choose_design(spec, clock_mhz, "asic", cache=cache)
        entry["choice"][label] = {k: ch[k] for k in ("module", "met", "stages", "loop_stages",
                                                     "registers", "reached_mhz")}
        if not ch["met"]:
            entry["reachable"] = False
            continue
        entry["units"][label] = _unit_cost(label, design, cache, n_ops, progress,
                                           clock_ps=ch["period_ps"], timed=timed)
    return entry


def _fp8_at_clocks(specs, res, cache, n_ops, progress, timed=0):
    """The equal-clock costs of ``specs`` at :data:`FP8_CLOCKS_MHZ` and the contribution rows;
    a clock that some unit cannot reach is reported with each unit's best, and no rows."""
    from ._libgen import CELLS
    dff_um2 = next(c.area_um2 for c in CELLS if c.sequential)
    clocked, contrib = {}, []
    base = next(iter(specs))
    for f in FP8_CLOCKS_MHZ:
        entry = _at_clock(specs, f, cache, n_ops, progress, timed)
        for c in entry["units"].values():
            c["register_um2"] = round(c["flops"] * dff_um2, 3)
        clocked[f] = entry
        if not entry["reachable"]:
            continue
        for label in specs:
            if label == base:
                continue
            old_fp, old_int = dict(res[label]), dict(res[base])
            for d in (old_fp, old_int):
                d["register_um2"] = d["flops"] * dff_um2
            new_fp, new_int = entry["units"][label], entry["units"][base]
            steps = [("area", "area_um2", "register_um2"),
                     ("energy (zero-delay)", "energy_pj", "clock_energy_pj")]
            if timed:
                steps.append(("energy (timed)", "energy_timed_pj", "timed_clock_pj"))
            for metric, col, reg in steps:
                contrib.append({"unit": label, "clock_mhz": f, "metric": metric,
                                **contributions(old_fp, old_int, new_fp, new_int, col, reg)})
    return clocked, contrib


#: Breese et al.: (format, metric) -> (L-Mul, exact multiplier)
_LMUL_PUBLISHED = {
    ("fp8", "area µm²"): (112.8, 347.4), ("bf16", "area µm²"): (255.6, 1067.7),
    ("fp32", "area µm²"): (702.5, 6311.9), ("fp8", "power mW"): (0.111, 1.055),
    ("fp8", "delay ns"): (0.36, 1.29)}
_LMUL_FORMATS = {"fp8": "e4m3", "bf16": "bf16", "fp32": "fp32"}


def _lmul_rows(res, where, cols):
    """L-Mul / exact ratio rows of ``res`` (unit label -> cost) for the published metrics, for
    every format whose two units are both in ``res``."""
    rows = []
    for (label, metric), (lm, ex) in _LMUL_PUBLISHED.items():
        if f"L-Mul {label}" not in res or f"exact mul {label}" not in res:
            continue
        name = metric.split()[0]
        if metric == "power mW":
            mine = cols
        elif metric == "delay ns":
            if where:
                continue               # at a clock both run at it: the delay ratio is the clock's
            mine = [(name, "delay_ps")]
        else:
            mine = [(name, "area_um2")]
        for ours_metric, col in mine:
            ours = res[f"L-Mul {label}"][col] / res[f"exact mul {label}"][col]
            shown = ours_metric if metric != "power mW" else ours_metric.replace("energy",
                                                                                 "energy/op")
            rows.append(_row(f"L-Mul / exact, {label} ({_LMUL_FORMATS[label]}){where}",
                             f"{name} (ours: {shown})", "ratio", round(lm / ex, 3), ours))
    return rows


def _lmul(cache, n_ops, progress, timed, meter=None):
    from macforge import hw
    specs = {}
    for label, fmt in _LMUL_FORMATS.items():
        specs[f"L-Mul {label}"] = {"unit": "lmul", "fmt": fmt}
        specs[f"exact mul {label}"] = {"unit": "mul", "fmt": fmt}
    units = {k: hw.make_unit(**v) for k, v in specs.items()}
    res = _costs(units, cache, n_ops, progress, timed, meter)
    cols = _energy_cols(res)
    rows = _lmul_rows(res, "", cols)
    for (label, metric), (lm, ex) in _LMUL_PUBLISHED.items():
        if metric != "area µm²":
            continue
        for who, theirs in (("L-Mul", lm), ("exact mul", ex)):
            rows.append(_row(f"{who} {label} area, ours / theirs (µm²)", "area µm²", "ratio",
                             theirs, res[f"{who} {label}"]["area_um2"]))
    f = LMUL_CLOCK_MHZ
    entry = _at_clock(specs, f, cache, n_ops, progress, timed)
    rows += _lmul_rows(entry["units"], f" at {f} MHz", _energy_cols(entry["units"]))
    return {"units": res, "rows": rows, "clocks": {f: entry}, "notes": _lmul_notes(res, cols)}


def _lmul_notes(res, cols):
    """The measured causes of the disagreement with Breese et al., from our own costs."""
    lm, ex = res["L-Mul fp8"], res["exact mul fp8"]
    (plm, pex), (alm, aex) = _LMUL_PUBLISHED[("fp8", "power mW")], _LMUL_PUBLISHED[("fp8", "area µm²")]
    area = lm["area_um2"] / ex["area_um2"]
    fmts = [k for (k, m) in _LMUL_PUBLISHED if m == "area µm²"]
    ex_x = ", ".join(f"{res['exact mul ' + k]['area_um2'] / _LMUL_PUBLISHED[(k, 'area µm²')][1]:.2f}x"
                     for k in fmts)
    lm_x = ", ".join(f"{res['L-Mul ' + k]['area_um2'] / _LMUL_PUBLISHED[(k, 'area µm²')][0]:.2f}x"
                     for k in fmts)
    notes = [f"area: our exact multipliers are {ex_x} theirs ({', '.join(fmts)}), our L-Mul "
             f"{lm_x}: the ratio differs by our L-Mul (bit-exact: subnormals normalised, one "
             "RNE rounding into the output format, overflow/underflow), not by the exact "
             "multiplier."]
    for metric, col in cols:
        e = lm[col] / ex[col]
        notes.append(f"fp8 {metric}: ours L-Mul / exact {e:.3f} against area {area:.3f}, i.e. "
                     f"{e / area:.2f}x per µm²; theirs power {plm / pex:.3f} against area "
                     f"{alm / aex:.3f}, {plm / pex / (alm / aex):.2f}x per µm². Ours (same "
                     "cells, same operand streams for both units) spends about the exact "
                     "multiplier's energy per µm², so the gap is the area gap times that "
                     "density difference.")
    return notes


#: Lanes of the first ``int-vs-fp`` rows: all four units with k = 8, the same number of lanes
#: each (the rows from before the hierarchical flow could synthesise the paper's k: a flat
#: 32-lane MXFP8 unit does not get through ABC within 30 min on the 2-core machine).
INT_VS_FP_LANES = 8
#: The clock of int-vs-fp's clocked rows (MHz, 45 nm): the paper's-k units pipelined for it.
#: The dot units' fp32 accumulate loop is one cycle (no loop stages), which bounds the clock:
#: measured timing-driven, the best pipelines reach 174 MHz (mxfp8, k = 4, for 250 MHz), 205 MHz
#: (mxint8, k = 4) and 123.8 MHz (nvfp4, k = 16, for 125 MHz), so 100 MHz.
INT_VS_FP_CLOCK_MHZ = 100

#: Chen et al. Table 5, normalised to MXFP8: format -> (energy, area)
_INT_VS_FP_PUBLISHED = {"mxint8": (0.63, 0.79), "nvfp4": (0.55, 0.54), "nvint4": (0.34, 0.38)}
#: The per-element-MAC columns int-vs-fp compares: (metric, column, published index, cost column)
_PER_MAC = (("energy / MAC", "energy_pj_per_mac", 0, "energy_pj"),
            ("energy (timed) / MAC", "energy_timed_pj_per_mac", 0, "energy_timed_pj"),
            ("area / lane", "area_um2_per_lane", 1, "area_um2"))


def paper_lanes(fmt: str) -> int:
    """Chen et al.'s k for a block format: its block size (32 for MX, 16 for NV)."""
    from macforge import golden
    return golden.parse(fmt).block


def _per_mac(costs: dict, lanes: dict) -> None:
    """Add the per-element-MAC columns of :data:`_PER_MAC` to every unit of ``costs``."""
    for label, c in costs.items():
        c["lanes"] = lanes[label]
        for _, col, _, total in _PER_MAC:
            if total in c:
                c[col] = round(c[total] / lanes[label], 5 if "energy" in col else 2)


def _int_vs_fp_rows(costs: dict, labels: dict, where: str) -> list:
    """Ratio rows (format vs mxfp8) of ``costs`` for the formats ``labels`` (format -> unit
    label); the timed row only where every unit has it."""
    if not all(lb in costs for lb in labels.values()):
        return []
    rows = []
    base = costs[labels["mxfp8"]]
    for f, published in _INT_VS_FP_PUBLISHED.items():
        for metric, col, i, _ in _PER_MAC:
            if all(col in costs[lb] for lb in labels.values()):
                rows.append(_row(f"{f} vs mxfp8, {where}", metric, "ratio", published[i],
                                 costs[labels[f]][col] / base[col]))
    return rows


def _int_vs_fp(cache, n_ops, progress, timed, meter=None):
    from macforge import hw
    fmts = ("mxfp8", *_INT_VS_FP_PUBLISHED)
    k = {f: paper_lanes(f) for f in fmts}
    eight = {f: f"{f} k={INT_VS_FP_LANES}" for f in fmts}
    paper = {f: f"{f} k={k[f]}" for f in fmts}
    specs = {**{eight[f]: {"unit": "dot", "fmt": f, "acc": "fp32", "lanes": INT_VS_FP_LANES}
                for f in fmts},
             **{paper[f]: {"unit": "dot", "fmt": f, "acc": "fp32", "lanes": k[f]} for f in fmts}}
    lanes = {label: spec["lanes"] for label, spec in specs.items()}
    res = _costs({label: hw.make_unit(**spec) for label, spec in specs.items()}, cache, n_ops,
                 progress, timed, meter)
    _per_mac(res, lanes)
    f_mhz = INT_VS_FP_CLOCK_MHZ
    entry = _at_clock({paper[f]: specs[paper[f]] for f in fmts}, f_mhz, cache, n_ops, progress,
                      timed)
    _per_mac(entry["units"], lanes)
    rows = (_int_vs_fp_rows(res, eight, f"k = {INT_VS_FP_LANES}")
            + _int_vs_fp_rows(res, paper, "paper's k")
            + _int_vs_fp_rows(entry["units"], paper, f"paper's k at {f_mhz} MHz"))
    steps = _int_vs_fp_steps(res, entry["units"], eight, paper)
    split = _lane_split(res, eight, paper, lanes)
    return {"units": res, "rows": rows, "clocks": {f_mhz: entry}, "steps": steps,
            "split": split, "notes": _int_vs_fp_notes(steps, split)}


def _int_vs_fp_steps(res, clocked, eight, paper) -> list:
    """What each step contributes to each format's ratio to mxfp8 (energy zero-delay and timed,
    area): k = 8 -> the paper's k (lanes), -> pipelined and mapped at the clock (clock), and,
    for energy, zero-delay -> timed at the clock (glitches, clock tree and leakage)."""
    def ratio(costs, labels, f, col):
        if not all(lb in costs and col in costs[lb] for lb in (labels[f], labels["mxfp8"])):
            return None
        return costs[labels[f]][col] / costs[labels["mxfp8"]][col]
    out = []
    for f, published in _INT_VS_FP_PUBLISHED.items():
        for metric, col, i in (("energy", "energy_pj_per_mac", 0),
                               ("area", "area_um2_per_lane", 1)):
            r8, rp = ratio(res, eight, f, col), ratio(res, paper, f, col)
            rc = ratio(clocked, paper, f, col)
            step = {"format": f, "metric": metric, "published": published[i],
                    "k8": round(r8, 3), "lanes": round(rp - r8, 3),
                    "clock": None if rc is None else round(rc - rp, 3),
                    "at_clock": None if rc is None else round(rc, 3)}
            if metric == "energy":
                rt = ratio(clocked, paper, f, "energy_timed_pj_per_mac")
                step["glitches"] = None if rt is None or rc is None else round(rt - rc, 3)
                step["timed"] = None if rt is None else round(rt, 3)
            out.append(step)
    return out


def _lane_split(res, eight, paper, lanes) -> dict:
    """Each format's cost as shared + k x lane, through its two measured k (linear in k):
    format -> {metric: {"lane", "shared", "shared_at_paper_k"}} (energy zero-delay pJ, area µm²).
    The lane part is what a wider unit adds per lane (product, align, its share of the adder
    tree); the shared part the block scale, the fp32 accumulator and normaliser."""
    out = {}
    for f in eight:
        e, p = res[eight[f]], res[paper[f]]
        ke, kp = lanes[eight[f]], lanes[paper[f]]
        out[f] = {}
        for metric, col in (("energy", "energy_pj"), ("area", "area_um2")):
            lane = (p[col] - e[col]) / (kp - ke)
            shared = e[col] - ke * lane
            out[f][metric] = {"lane": round(lane, 5), "shared": round(shared, 4),
                              "shared_at_paper_k": round(shared / p[col], 3)}
    return out


def _int_vs_fp_notes(steps, split) -> list:
    """The measured causes of the disagreement with Chen et al., from our own costs."""
    notes = ["Ratio to mxfp8, step by step (ours; zero-delay energy then timed): k = 8 -> "
             "paper's k (lanes) -> pipelined and mapped at the clock (clock) -> timed "
             "(glitches, clock, leakage)."]
    for s in steps:
        tail = ("" if s["at_clock"] is None else f", clock {s['clock']:+.3f} = {s['at_clock']:.3f}")
        if s["metric"] == "energy" and s.get("glitches") is not None:
            tail += f", glitches {s['glitches']:+.3f} = {s['timed']:.3f}"
        notes.append(f"  {s['format']} {s['metric']}: published {s['published']:.2f}; ours k = 8 "
                     f"{s['k8']:.3f}, lanes {s['lanes']:+.3f}{tail}")
    base = split["mxfp8"]
    for metric in ("energy", "area"):
        if not base[metric]["lane"]:            # no measured growth with k: no per-lane ratio
            continue
        per_lane = ", ".join(f"{f} {split[f][metric]['lane'] / base[metric]['lane']:.2f}"
                             for f in _INT_VS_FP_PUBLISHED)
        shared = ", ".join(f"{f} {split[f][metric]['shared_at_paper_k']:.0%}" for f in split)
        notes.append(f"{metric}, cost = shared + k x lane through our two k: per-lane ratio to "
                     f"mxfp8 (k -> infinity) {per_lane}; shared part at the paper's k {shared}.")
    return notes


#: name -> description, source, published numbers, and the function that measures ours
REPRODUCTIONS = {
    "fp8-vs-int8": {
        "source": "van Baalen et al., arXiv 2303.17951 (FP8 versus INT8 for efficient deep "
                  "learning inference)",
        "published": {"e4m3 MAC, fp16 acc": 53.0, "e4m3 MAC, fp32 acc": 183.0},
        "run": _fp8_vs_int8,
        "timed": True,
    },
    "lmul": {
        "source": "Breese et al., Multiplication is Not What You Need (L-Mul vs exact "
                  "multiplier, FreePDK45, Yosys/OpenROAD, combinational)",
        "published": {f"{f} {m}": v for (f, m), v in _LMUL_PUBLISHED.items()},
        "run": _lmul,
        "timed": True,
    },
    "int-vs-fp": {
        "source": "Chen et al., arXiv 2510.25602 (INT v.s. FP), Table 5: k-lane block MACs at "
                  "equal throughput, MXFP8 = 1",
        "published": {f"{f} {m}": v for f, vs in _INT_VS_FP_PUBLISHED.items()
                      for m, v in zip(("energy", "area"), vs)},
        "run": _int_vs_fp,
        "timed": True,
    },
}


def reproduce(name: str, cache=None, n_ops: int = 100_000, progress=None,
              timed_samples: int = TIMED_SAMPLES, meter=None) -> dict:
    """Run one reproduction; return its units and ours-vs-theirs rows.

    ``progress``: None (silent) or a callable given one line per costed unit; ``meter``:
    None or a callable told ``(done, total)`` over the reproduction's units at their own
    clocks (the command line's bar; the equal-clock units that follow are chosen as it goes
    and show on the status line).
    ``timed_samples``: operations of the timed (glitch-counting) energy of every unit of the
    reproductions that take it (all three; 0: off), an ``energy (timed)`` row next to
    every energy row.

    Raises
    ------
    KeyError
        Unknown name (the CLI turns it into a one-line error listing the accepted ones).
    """
    if name not in REPRODUCTIONS:
        raise KeyError(name)
    spec = REPRODUCTIONS[name]
    out = {"name": name, "source": spec["source"]}
    if spec.get("timed"):
        out.update(spec["run"](cache, n_ops, progress, timed_samples, meter=meter))
    else:
        out.update(spec["run"](cache, n_ops, progress, meter=meter))
    return out
