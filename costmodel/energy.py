"""Energy per operation from switching activity on the mapped gate netlist.

Model
-----
Dynamic energy of CMOS logic is E = sum over nets of (toggles x C_net x V^2 / 2). We count
toggles by simulating the Liberty-mapped netlist (:class:`~costmodel.netlist.GateNetlist`,
zero-delay, bit-parallel) on operand streams, and weight every toggle of a net by its
switched capacitance, from the library:

    C_net = C_self(driver) + sum of sink pin capacitances + C_wire(fanout)

* sink pin capacitances: the Liberty ``capacitance`` of each input pin (macforge45: the
  Nangate 45 nm values of every cell; see ``costmodel/_libgen.py``);
* C_wire: Nangate's default wire-load model, 0.1774 fF x estimated length(fanout);
* C_self: the driver's own diffusion/internal capacitance, taken proportional to its area,
  KAPPA = 2 x C_unit / area(NAND2_X1) fF per µm² (logical effort: a NAND2's parasitic delay
  p = 2 means its output diffusion equals two unit gate loads).
* flip-flops also burn clock energy every cycle, toggling or not: 2 edges x (CK pin +
  C_self(DFF)) per flop per cycle.

The sum is in fF per operation ("switched capacitance"). One constant K (pJ per fF) turns it
into energy: K is *computed* so that the int8 x int8 signed multiplier (plain Amaranth ``*``,
uniform random operands) costs 0.2 pJ -- Horowitz, "Computing's energy problem", ISSCC 2014,
45 nm, 0.9 V (docs/anchors.md). K absorbs V^2/2 and what the zero-delay count misses
(glitches, short-circuit and internal power); :func:`calibration` reports K against the bare
V^2/2 at 0.9 V so that factor is visible. Glitching differs between designs (deep array
multipliers glitch more than adders), so ratios between very different structures carry
that error.

Cross-check: a static estimate, energy proportional to area (0.2 pJ x area / area of the
int8 multiplier), i.e. every design switching as much per µm² as the multiplier does.
"""
from __future__ import annotations

import os

import numpy as np

from macforge.errors import MacforgeError
from macforge.limits import LIMITS
from macforge.sim._lanes import wide_rows

from .netlist import GateNetlist, NetlistError

__all__ = ["MODEL_VERSION", "HOROWITZ_INT8_MUL_PJ", "KAPPA_FF_PER_UM2", "net_capacitance", "operand_codes",
           "stimulus", "switched_capacitance", "BLOCK", "energy_pj", "ActivityError",
           "load_activity", "check_activity"]

#: Bump when the activity or capacitance model changes: part of every cached energy's key.
MODEL_VERSION = 3

#: Horowitz ISSCC 2014 (45 nm, 0.9 V), int8 multiply: 0.2 pJ (docs/anchors.md) -- the one
#: calibration point.
HOROWITZ_INT8_MUL_PJ = 0.2
#: Supply voltage of the Horowitz table (45 nm, 0.9 V): only used to show K against V^2/2.
HOROWITZ_VDD = 0.9

#: input capacitance per unit of logical effort: NAND2_X1's mean pin cap (1.599032 + 1.664199)
#: / 2 = 1.632 fF (Nangate 45 nm, costmodel/_nangate45.py) over its logical effort g = 4/3
#: (Sutherland, Sproull & Harris, "Logical Effort", 1999, Table 4.1): 1.224 fF
C_UNIT_FF = (1.599032 + 1.664199) / 2 / (4 / 3)

#: self capacitance per µm² of cell area: NAND2_X1 parasitic 2 x C_unit over its 0.798 µm²
KAPPA_FF_PER_UM2 = 2 * C_UNIT_FF / 0.798


class ActivityError(MacforgeError, ValueError):
    """Bad operand stream (wrong shape, codes out of range, unknown file)."""


def net_capacitance(net: GateNetlist) -> np.ndarray:
    """(n_nets,) switched capacitance per toggle of each net, fF (see module docstring)."""
    lib = net.library.cells
    c = net.pin_cap + net.wire_cap
    for cell in net.cells:
        self_cap = KAPPA_FF_PER_UM2 * lib[cell.type].area
        for n in cell.outputs.values():
            if n >= 2:
                c[n] += self_cap / max(1, len(cell.outputs))
    c[:2] = 0.0
    return c


def _clock_cap_per_cycle(net: GateNetlist) -> float:
    lib = net.library.cells
    tot = 0.0
    for i in net.dffs:
        lc = lib[net.cells[i].type]
        tot += 2 * (lc.inputs[lc.clock_pin] + KAPPA_FF_PER_UM2 * lc.area)
    return tot


def operand_codes(fmt, n: int, rng, finite: bool = True, max_abs: float | None = None
                  ) -> np.ndarray:
    """``n`` uniform random codes of ``fmt`` (a golden format or name), as uint64.

    For floating-point formats only finite codes are drawn (a NaN would stick in an
    accumulator and freeze its activity), and with ``max_abs`` only codes of magnitude
    <= max_abs; integers use every code.
    """
    from macforge import golden
    f = golden.parse(fmt)
    bits = f.bits
    if not (f.has_nan or f.has_inf) or not finite:    # every code is a finite value
        return rng.integers(0, 1 << bits, n, dtype=np.uint64)
    table = np.arange(1 << bits, dtype=np.uint64) if bits <= 16 else None
    if table is not None:
        val = f.decode(table.astype(golden.storage_dtype(f.bits)))
        keep = np.isfinite(val)
        if max_abs is not None:
            keep &= np.abs(np.where(keep, val, 0)) <= max_abs
        ok = table[keep]
        return ok[rng.integers(0, len(ok), n)]
    # wide formats: draw, then redraw the few non-finite codes
    codes = rng.integers(0, 1 << bits, n, dtype=np.uint64)
    for _ in range(100):
        bad = ~np.isfinite(f.decode(codes.astype(golden.storage_dtype(f.bits))))
        if not bad.any():
            break
        codes[bad] = rng.integers(0, 1 << bits, int(bad.sum()), dtype=np.uint64)
    return codes


def _port_format(manifest, port):
    fm = (manifest or {}).get("formats", {})
    if port["role"] == "addend":
        return fm.get("acc")
    if port["role"] == "scale":                     # block dot units: the scale format
        return fm.get("scale")
    if "lanes" in port:                             # dot units: the element format of a lane
        return manifest["elements"][port["name"]]
    return fm.get(port["name"], fm.get("a"))


#: Block scales of the activity stream: uniform over the positive finite scale codes within
#: 2^-SCALE_SPAN .. 2^SCALE_SPAN (real blocks are scaled to their data; uniform e8m0 codes
#: would overflow the accumulator to inf within a step, and an inf/NaN accumulator freezes).
SCALE_SPAN = 4


def _scale_codes(fmt, n, rng):
    """``n`` positive finite scale codes within 2^-SCALE_SPAN .. 2^SCALE_SPAN from ``rng``:
    uniform over those codes for formats of up to 16 bits (e8m0, e4m3); wider scale formats
    (deepseek-fp8's fp32 scales: 2^31 codes, too many to list) get 2^U(-SCALE_SPAN,
    SCALE_SPAN) rounded to the format, which is uniform over the codes' exponents and spreads
    the significand bits (codes of a float are log-spaced)."""
    from macforge import golden
    f = golden.parse(fmt)
    if f.bits > 16:
        v = np.exp2(rng.uniform(-SCALE_SPAN, SCALE_SPAN, n))
        return np.asarray(f.encode(v)).astype(np.uint64)
    codes = f.codes()
    val = f.decode(codes)
    ok = codes[np.isfinite(val) & (val >= 2.0 ** -SCALE_SPAN) & (val <= 2.0 ** SCALE_SPAN)]
    return ok.astype(np.uint64)[rng.integers(0, ok.size, n)]


#: Accumulation length of a MAC stream: ``first`` restarts the sum every BLOCK cycles (a
#: dot product of 32 terms, as in the MX block formats' k = 32).
BLOCK = 32


def _operand_bound(manifest):
    """Largest operand magnitude whose BLOCK-term sums stay finite in the accumulator.

    A MAC with a narrow float accumulator (e4m3 x e4m3 -> fp16: one product of 448 x 448 =
    200704 already exceeds fp16's 65504) turns to inf/NaN within a few cycles on uniform
    codes, and a NaN accumulator stops switching. Real workloads are scaled to fit; we keep
    the operands' codes uniform but drop those above sqrt(acc.max / BLOCK) (e4m3 into fp16:
    |x| <= 45.2, 85 % of the finite codes; into fp32: no code is dropped).
    """
    from macforge import golden
    fm = (manifest or {}).get("formats", {})
    if manifest is None or manifest["model"] not in ("mac_step", "dot") or "acc" not in fm:
        return None
    acc = golden.parse(fm["acc"])
    if acc.family == "integer":                   # wraps or saturates, never sticks
        return None
    # a dot unit adds `lanes` products per cycle, each scaled by up to 2^(2 SCALE_SPAN)
    terms = BLOCK * manifest.get("lanes", 1)
    scale = 2.0 ** (2 * SCALE_SPAN) if manifest.get("block") else 1.0
    return float(np.sqrt(acc.max / (terms * scale)))


def _chunk(manifest) -> int | None:
    """Steps per promotion of a scaled-preset unit (deepseek-fp8: 128 / 32 = 4), else None.
    Its stream runs as DeepGEMM does: ``first`` and ``promote`` on the first step of every
    chunk (the previous chunk promoted), one pair of scales held per chunk."""
    m = manifest or {}
    if m.get("scale_block") is None:
        return None
    return max(1, int(m["promote_every"]) // int(m["lanes"]))


def stimulus(net: GateNetlist, n_ops: int, manifest: dict | None = None, seed: int = 1,
             operands: dict | None = None, zero: bool = False):
    """Operand streams for every input port.

    Returns ``(inputs, sequential)``: for a combinational netlist ``inputs`` maps ports to
    (N,) arrays; for a clocked one, or one with lane ports, to (T, S) arrays (S streams of T
    cycles, T * S >= N; a lane port (T, S, words))
    plus control ports (reset 0, enable 1, ``first`` every :data:`BLOCK` cycles, clear 0;
    a scaled-preset dot unit: ``first`` and ``promote`` every chunk, :func:`_chunk`).

    Ports with a manifest role ``operand``/``addend`` get uniform random finite codes of
    their format (or the caller's ``operands[port]``, or zeros when ``zero``); ``scale`` ports
    (block dot units) codes within 2^-4..2^4 (or the caller's); ``tscale`` ports (the nv*
    tensor scale) codes that put each block's scale in range (:func:`_tensor_scales`); ``random``
    ports (stochastic rounding) uniform bits; ports of a plain design (no manifest) uniform
    bits over their width.
    """
    rng = np.random.default_rng(seed)
    roles = {p["name"]: p for p in (manifest or {}).get("ports", [])}
    # lane ports (k codes in one wide word) need the streams engine, which takes a value of
    # several 64-bit words per port; it runs a combinational unit (quantize, dequantize at
    # stages 0) as well: each stream's consecutive cycles are consecutive vectors
    lanes = any("lanes" in p and p.get("role") in ("operand", "addend") for p in roles.values())
    sequential = bool(net.dffs) or lanes
    if sequential:
        streams = 1024 if n_ops >= 1024 * 16 else 64 * max(1, n_ops // (64 * 16))
        cycles = -(-n_ops // streams) + 1          # +1: the warm-up cycle
        shape = (cycles, streams)
    else:
        shape = (n_ops,)
    size = int(np.prod(shape))
    inputs, lane_codes, deferred = {}, {}, []
    for name, nets in net.inputs.items():
        if name == net.clock:
            continue
        port = roles.get(name, {"name": name, "role": "operand" if manifest is None else None})
        role = port.get("role")
        width = len(nets)
        if role in ("operand", "addend") and "lanes" in port:       # k lanes (dot, quantize)
            k = port["lanes"]
            if operands is not None and name in operands:
                codes = np.resize(np.asarray(operands[name]).astype(np.uint64).reshape(-1, k),
                                  (size, k))
            elif zero:
                codes = np.zeros((size, k), dtype=np.uint64)
            else:
                codes = operand_codes(_port_format(manifest, port), size * k, rng,
                                      max_abs=_operand_bound(manifest)).reshape(size, k)
            lane_codes[name] = codes
            words = wide_rows(codes, port)
            inputs[name] = words.reshape(shape + (words.shape[1],))
        elif role == "tscale":                  # after the blocks it scales (below)
            deferred.append(name)
        elif role == "scale":
            if operands is not None and name in operands:       # the caller's real scales
                v = np.resize(np.asarray(operands[name]).astype(np.uint64).ravel(), size)
            else:
                v = np.zeros(size, np.uint64) if zero else \
                    _scale_codes(_port_format(manifest, port), size, rng)
            if sequential and _chunk(manifest):       # one pair of scales per chunk
                v = v.reshape(shape)[::_chunk(manifest)].repeat(_chunk(manifest), axis=0)
                v = v[:shape[0]]
            inputs[name] = v.reshape(shape)
        elif role in ("operand", "addend"):
            if operands is not None and name in operands:
                v = np.asarray(operands[name]).astype(np.uint64).ravel()
                if v.size < size:
                    v = np.resize(v, size)
                v = v[:size]
            elif zero:
                v = np.zeros(size, dtype=np.uint64)
            elif manifest is not None and _port_format(manifest, port):
                v = operand_codes(_port_format(manifest, port), size, rng,
                                  max_abs=_operand_bound(manifest) if role == "operand" else None)
            else:
                v = rng.integers(0, 1 << width, size, dtype=np.uint64) if width < 64 else \
                    rng.integers(0, 1 << 63, size, dtype=np.uint64) * np.uint64(2)
            inputs[name] = v.reshape(shape)
        elif role == "random":
            inputs[name] = rng.integers(0, 1 << width, size, dtype=np.uint64).reshape(shape)
        elif role == "enable" and not (sequential and _chunk(manifest) and name == "promote"):
            inputs[name] = np.uint64(1)
        elif role in ("first", "enable"):           # enable here: a scaled unit's promote
            if sequential:
                f = np.zeros(shape, dtype=np.uint64)
                f[::_chunk(manifest) or BLOCK] = 1
                inputs[name] = f
            else:
                inputs[name] = np.uint64(0)
        elif role in ("reset", "clear"):
            inputs[name] = np.uint64(0)
        else:
            raise NetlistError(f"input port {name!r} has role {role!r}; the activity "
                               "generator knows operand, addend, scale, tscale, random, enable, "
                               "first, reset, clear")
    for name in deferred:
        inputs[name] = _tensor_scales(manifest, roles[name], lane_codes, size, rng,
                                      zero, operands).reshape(shape)
    if not sequential:
        inputs = {k: (np.full(n_ops, v, dtype=np.uint64) if np.ndim(v) == 0 else v)
                  for k, v in inputs.items()}
    return inputs, sequential


def _tensor_scales(manifest, port, lane_codes, size, rng, zero, operands):
    """The nv* tensor-scale codes (role ``tscale``): the caller's, zeros, or for a quantiser
    amax / (Q * 2^U(-SCALE_SPAN, SCALE_SPAN)) of each block it reads (the tensor scale a
    quantising accelerator sets: block scales in e4m3's range, no invalid scales;
    :func:`sim.stimulus.nv_tensor_scales`), for a dequantiser 2^U(-SCALE_SPAN, SCALE_SPAN)."""
    from macforge import golden
    from macforge.sim.stimulus import nv_tensor_scales
    name = port["name"]
    if operands is not None and name in operands:
        return np.resize(np.asarray(operands[name]).astype(np.uint64).ravel(), size)
    if zero:
        return np.zeros(size, np.uint64)
    fmts = manifest["formats"]
    if manifest.get("model") == "quantize" and "a" in lane_codes:
        return nv_tensor_scales(golden.parse(fmts["a"]), golden.parse(fmts["out"]),
                                lane_codes["a"], 0, 0, rng, span=(-SCALE_SPAN, SCALE_SPAN),
                                corners=0.0).astype(np.uint64)
    return _scale_codes(fmts[name], size, rng)


def switched_capacitance(net: GateNetlist, n_ops: int = 100_000, manifest: dict | None = None,
                         seed: int = 1, operands: dict | None = None, zero: bool = False,
                         progress=None) -> dict:
    """Simulate ``n_ops`` operations; return fF switched per operation and activity stats.

    Returns
    -------
    dict
        ``cap_ff_per_op`` (total), ``logic_ff_per_op`` (data toggles), ``clock_ff_per_op``
        (flip-flop clocking), ``toggles_per_op``, ``ops`` (operations counted),
        ``toggle_rate`` (toggles per net per op).
    """
    inputs, sequential = stimulus(net, n_ops, manifest, seed, operands, zero)
    cap = net_capacitance(net)
    if sequential:
        cycles, streams = next(v.shape[:2] for v in inputs.values() if np.ndim(v) >= 2)
        _, toggles, ops = net.run_seq(inputs, cycles, streams, warmup=1, progress=progress)
        clock = _clock_cap_per_cycle(net)
    else:
        _, toggles = net.run_comb(inputs, progress=progress)
        ops = max(1, n_ops - 1)          # transitions between consecutive vectors
        clock = 0.0
    logic = float(toggles @ cap) / ops
    n_driven = max(1, net.n_nets - 2)
    return {"cap_ff_per_op": round(logic + clock, 3), "logic_ff_per_op": round(logic, 3),
            "clock_ff_per_op": round(clock, 3),
            "toggles_per_op": round(float(toggles.sum()) / ops, 2), "ops": int(ops),
            "toggle_rate": round(float(toggles.sum()) / ops / n_driven, 4)}


def load_activity(path: str, ports=("a", "b")) -> dict:
    """Operand codes from a ``.npy`` ((N, 2) or (2, N): columns a, b) or ``.npz`` (arrays
    named by port) file.

    Raises
    ------
    ActivityError
        Unreadable file, wrong shape, or negative codes.
    """
    if not os.path.exists(path):
        raise ActivityError(f"activity file {path} not found; give uniform or a .npy/.npz "
                            "file of operand codes")
    if os.path.isdir(path):
        raise ActivityError(f"activity file {path} is a directory; give a .npy/.npz file")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as e:       # numpy raises several types for bad files
        # numpy's own advice for pickled data (allow_pickle=True) would run the file's code
        why = ("it is not a numpy array file, or holds objects (pickles are never loaded)"
               if "pickle" in str(e) else " ".join(str(e).split()))
        raise ActivityError(f"cannot read {path} as .npy/.npz of integer codes: {why}") \
            from None
    if isinstance(data, np.lib.npyio.NpzFile):
        out = {k: data[k] for k in data.files}
    else:
        arr = np.asarray(data)
        if arr.ndim != 2 or 2 not in arr.shape:
            raise ActivityError(f"{path}: expected shape (N, 2) or (2, N) of codes for a and b, "
                                f"not {arr.shape}")
        arr = arr if arr.shape[0] == 2 else arr.T
        out = {ports[0]: arr[0], ports[1]: arr[1]}
    for k, v in out.items():
        if not np.issubdtype(np.asarray(v).dtype, np.integer):
            raise ActivityError(f"{path}: {k} must hold integer codes, not {np.asarray(v).dtype}")
        if (np.asarray(v) < 0).any():
            raise ActivityError(f"{path}: {k} has negative codes; give codes as unsigned bit "
                                "patterns")
        if len(v) < 2:
            raise ActivityError(f"{path}: {k} needs at least 2 operands")
        if len(v) > LIMITS["ops"].hi:
            raise ActivityError(f"{path}: {k} holds {len(v):,} operations; at most "
                                f"{LIMITS['ops'].hi:,} are simulated")
    return out


def check_activity(operands: dict, manifest: dict | None, path: str = "--activity") -> int:
    """Check activity ``operands`` (:func:`load_activity`) against a unit's ``manifest``;
    return the number of operations they hold.

    Every operand/addend port of the unit must be given, no other port, all with the same
    number of operations; a port with lanes (dot) takes (N, lanes) codes; every code must fit
    its port. Without a manifest (a plain design) only the row counts are checked.

    Raises
    ------
    ActivityError
        One line naming the port and what the unit has.
    """
    rows = {}
    ports = {p["name"]: p for p in (manifest or {}).get("ports", [])
             if p.get("role") in ("operand", "addend")}
    if ports:
        missing = [p for p in ports if p not in operands]
        extra = [p for p in operands if p not in ports]
        if missing or extra:
            what = (f"names port {extra[0]!r}" if extra else
                    f"gives no codes for port {missing[0]!r}")
            raise ActivityError(f"{path} {what}; {manifest['module']} has operand ports "
                                f"{', '.join(ports)} (a .npy gives a and b; a .npz names "
                                "each port)")
    for name, codes in operands.items():
        codes = np.asarray(codes)
        port = ports.get(name, {})
        lanes = port.get("lanes")
        if lanes and (codes.ndim != 2 or codes.shape[1] != lanes):
            raise ActivityError(f"{path}: port {name} has {lanes} lanes; give ({lanes} "
                                f"codes per operation) an (N, {lanes}) array, not "
                                f"{codes.shape}")
        if not lanes and codes.ndim != 1:
            raise ActivityError(f"{path}: port {name} takes one code per operation, an (N,) "
                                f"array, not {codes.shape}")
        width = port.get("lane_bits", port.get("width"))
        if width is not None and codes.size and int(codes.max()) >> int(width):
            raise ActivityError(f"{path}: code {int(codes.max()):#x} of port {name} does not "
                                f"fit in {width} bits")
        rows[name] = len(codes)
    if len(set(rows.values())) > 1:
        raise ActivityError(f"{path}: the ports hold different numbers of operations ("
                            + ", ".join(f"{k} {v}" for k, v in rows.items()) + ")")
    return next(iter(rows.values()))


def energy_pj(cap_ff_per_op: float, calib: dict) -> float:
    """Energy per operation (pJ) of a design switching ``cap_ff_per_op`` fF per op."""
    return cap_ff_per_op * calib["k_pj_per_ff"]
