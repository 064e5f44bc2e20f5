"""Build units from CLI-level parameters and turn them into Verilog + a JSON manifest.

Examples
--------
>>> from macforge.hw.build import make_unit, generate
>>> unit = make_unit("mac", "e4m3", acc="fp32", stages=2)
>>> unit.module_name
'fmac_e4m3fn_fp32_rne_s2'
>>> text, manifest = generate(unit)
>>> manifest["latency"]
3
"""
import json
import os
import textwrap

from amaranth.back import verilog

from macforge.golden import FormatError, HiF8, Int, Lns, Minifloat, Posit, Rounding, parse

from ._multiplier import MULTIPLIERS
from .ffma import FFma
from .fmac import FMac
from .fmul import FMul
from .imac import IntMac
from .lmul import LMul, LMulMac
from .lns import LnsMac, LnsMul
from .posit import PMac, PMul
from .dot import make_dot

__all__ = ["UNITS", "make_unit", "generate", "write"]

#: Unit kinds accepted by :func:`make_unit`.
UNITS = ("mul", "fma", "mac", "lmul", "lmulmac", "pmul", "pmac", "lnsmul", "lnsmac", "dot")

_ACCEPTED = ("accepted: mul (minifloat/hif8/integer operands -> minifloat or hif8 result), "
             "fma (minifloat/hif8/integer operands, minifloat or hif8 acc), "
             "mac (minifloat/hif8/integer operands, minifloat or hif8 acc; integer operands "
             "with integer acc -> integer MAC), lmul (minifloat operands -> minifloat or hif8 "
             "result, L-Mul), lmulmac (minifloat operands, minifloat or hif8 acc, L-Mul), "
             "pmul (posit operands -> posit; also what mul means for posits), "
             "pmac (posit operands, quire, posit read-out; also mac), "
             "lnsmul (LNS operands -> LNS; also mul), "
             "lnsmac (LNS operands, int<A> accumulator; also mac), "
             "dot (k-lane dot product: minifloat/integer/block elements, minifloat acc; "
             "integer elements with integer acc -> integer dot)")


def _default_acc(fmt):
    return parse("int32") if isinstance(fmt, Int) else parse("fp32")


def make_unit(unit, fmt, fmt_b=None, acc=None, rounding="rne", saturate=False, stages=0,
              fused=True, rnd_bits=8, multiplier="star", variant="formula", P=8, A=None,
              lanes=None, align=None, preset=None, loop_stages=0):
    """Build a unit from CLI-level parameters (strings allowed everywhere).

    Parameters
    ----------
    unit : {"mul", "fma", "mac", "lmul", "lmulmac", "pmul", "pmac", "lnsmul", "lnsmac"}
        For posit and LNS operands ``mul`` and ``mac`` build ``pmul``/``pmac`` and
        ``lnsmul``/``lnsmac``.
    fmt, fmt_b : format or name
        Operand formats (``fmt_b`` defaults to ``fmt``).
    acc : format or name, optional
        Result format of ``mul`` (default ``fmt``); accumulator of ``fma``/``mac`` (default
        fp32, or int32 for integer operands). Integer operands with an integer ``acc`` make
        ``mac`` an :class:`~hw.IntMac` (exact; ``rounding`` must stay rne, unused).
    rounding : str or Rounding
    saturate : bool
    stages : int
    fused : bool
        ``mac`` only: False rounds the product into ``acc`` first.
    rnd_bits : int
        R for stochastic rounding.
    multiplier : str
        Significand multiplier: a key of :data:`~hw.MULTIPLIERS` ("star", "array").
    variant : str
        ``lmul``/``lmulmac`` only: the L-Mul variant, "formula" or "intadd".
    P, A : int
        ``lnsmac`` only: table fraction bits and accumulator bits (A defaults to the width of
        ``acc``, an ``int<A>`` name, else 24).
    lanes, align, preset
        ``dot`` only (:func:`hw.dot.make_dot`): k, tensor-core alignment W, and a golden
        tensor-core preset name such as "h100-fp8".
    loop_stages : int
        ``mac`` with a float accumulator only (:class:`~hw.FMac`): registers inside the
        accumulate loop, making the unit interleave ``loop_stages + 1`` accumulators.

    Raises
    ------
    golden.FormatError
        Unknown unit, or a unit/format pair the generators do not build.
    """
    if unit not in UNITS:
        raise FormatError(f"unknown unit {unit!r}; {_ACCEPTED}")
    if loop_stages:
        _check_loop_unit(unit, fmt, acc)
    if unit == "dot":
        return make_dot(fmt, fmt_b, acc, rounding, saturate, stages, rnd_bits, multiplier,
                        lanes=lanes, align=align, preset=preset)
    elif lanes is not None or align is not None or preset is not None:
        raise FormatError(f"lanes, align and preset apply to unit 'dot', not {unit!r}")
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    if unit in ("pmul", "pmac") or isinstance(fa, Posit):
        unit = {"mul": "pmul", "mac": "pmac"}.get(unit, unit)
        return _make_posit_unit(unit, fa, fb, acc, rounding, stages, multiplier)
    if unit in ("lnsmul", "lnsmac") or isinstance(fa, Lns):
        unit = {"mul": "lnsmul", "mac": "lnsmac"}.get(unit, unit)
        return _make_lns_unit(unit, fa, fb, acc, rounding, saturate, stages, P, A)
    for f in (fa, fb):
        if not isinstance(f, (Minifloat, HiF8, Int)):
            raise FormatError(f"unit {unit!r} does not take {f.name} operands; {_ACCEPTED}")
    if multiplier not in MULTIPLIERS:
        raise FormatError(f"unknown multiplier {multiplier!r}; accepted: "
                          + ", ".join(MULTIPLIERS))
    mult = MULTIPLIERS[multiplier]
    if unit in ("lmul", "lmulmac"):
        if not isinstance(fa, Minifloat) or fb != fa:
            raise FormatError(f"unit {unit!r} takes two operands of one minifloat format, not "
                              f"{fa.name} x {fb.name}; {_ACCEPTED}")
        if multiplier != "star":
            raise FormatError(f"unit {unit!r} has no multiplier array (multiplier {multiplier!r})")
        if unit == "lmul":
            return LMul(fa, out=parse(acc) if acc is not None else fa, variant=variant,
                        rounding=rounding, saturate=saturate, stages=stages, rnd_bits=rnd_bits)
        if not fused:
            raise FormatError("unit 'lmulmac' rounds once per step (fused only)")
        return LMulMac(fa, acc=parse(acc) if acc is not None else parse("fp32"), variant=variant,
                       rounding=rounding, saturate=saturate, stages=stages)
    rounding = Rounding.parse(rounding)
    common = dict(fmt_b=fb, saturate=saturate, stages=stages, multiplier=mult)
    if unit == "mul":
        out = parse(acc) if acc is not None else fa
        if not isinstance(out, (Minifloat, HiF8)):
            raise FormatError(f"unit 'mul' gives a minifloat or hif8 result, not {out.name} "
                              f"(pass acc=<minifloat>); {_ACCEPTED}")
        return FMul(fa, out=out, rounding=rounding, rnd_bits=rnd_bits, **common)
    acc = parse(acc) if acc is not None else _default_acc(fa)
    if unit == "mac" and isinstance(acc, Int):
        if not (isinstance(fa, Int) and isinstance(fb, Int)):
            raise FormatError(f"an integer accumulator ({acc.name}) needs integer operands, "
                              f"not {fa.name} x {fb.name}; {_ACCEPTED}")
        if rounding is not Rounding.RNE:
            raise FormatError(f"an integer MAC is exact; rounding {rounding.value!r} does not "
                              "apply (leave it at rne)")
        return IntMac(fa, acc=acc, **common)
    if not isinstance(acc, (Minifloat, HiF8)):
        raise FormatError(f"unit {unit!r} needs a minifloat or hif8 accumulator, not {acc.name}; "
                          f"{_ACCEPTED}")
    if unit == "fma":
        return FFma(fa, acc=acc, rounding=rounding, rnd_bits=rnd_bits, **common)
    return FMac(fa, acc=acc, fused=fused, rounding=rounding, rnd_bits=rnd_bits,
                loop_stages=loop_stages, **common)


def _check_loop_unit(unit, fmt, acc):
    """loop_stages pipelines the rounding accumulate loop of a float MAC (hw.FMac) only."""
    fa = parse(fmt)
    acc_f = parse(acc) if acc is not None else _default_acc(fa)
    if unit != "mac" or not isinstance(acc_f, (Minifloat, HiF8)) \
            or not isinstance(fa, (Minifloat, HiF8, Int)):
        raise FormatError(f"loop_stages applies to unit 'mac' with a float accumulator (a "
                          f"rounding loop), not unit {unit!r} on {fa.name} into {acc_f.name}; "
                          "integer, quire and LNS accumulators are pipelined by stages alone")


def _make_posit_unit(unit, fa, fb, acc, rounding, stages, multiplier):
    if unit not in ("pmul", "pmac"):
        raise FormatError(f"{fa.name} operands take unit pmul or pmac, not {unit!r}; {_ACCEPTED}")
    out = parse(acc) if acc is not None else fa
    if not (isinstance(fa, Posit) and fb == fa and out == fa):
        raise FormatError(f"unit {unit!r} takes and returns one posit format, not "
                          f"{fa.name} x {fb.name} -> {out.name}; {_ACCEPTED}")
    if multiplier not in MULTIPLIERS:
        raise FormatError(f"unknown multiplier {multiplier!r}; accepted: " + ", ".join(MULTIPLIERS))
    cls = PMul if unit == "pmul" else PMac
    return cls(fa, rounding=rounding, stages=stages, multiplier=MULTIPLIERS[multiplier])


def _make_lns_unit(unit, fa, fb, acc, rounding, saturate, stages, P, A):
    if unit not in ("lnsmul", "lnsmac"):
        raise FormatError(f"{fa.name} operands take unit lnsmul or lnsmac, not {unit!r}; {_ACCEPTED}")
    if not (isinstance(fa, Lns) and fb == fa):
        raise FormatError(f"unit {unit!r} takes two operands of one LNS format, not "
                          f"{fa.name} x {fb.name}; {_ACCEPTED}")
    if unit == "lnsmul":
        out = parse(acc) if acc is not None else fa
        if out != fa or saturate:
            raise FormatError(f"unit 'lnsmul' returns {fa.name} (always saturating), not "
                              f"{out.name}{' with saturate' if saturate else ''}")
        return LnsMul(fa, rounding=rounding, stages=stages)
    if acc is not None:
        acc_fmt = parse(acc)
        if not (isinstance(acc_fmt, Int) and acc_fmt.signed) or (A is not None and A != acc_fmt.n):
            raise FormatError(f"unit 'lnsmac' accumulates into a signed int<A>, not {acc_fmt.name}")
        A = acc_fmt.n
    if Rounding.parse(rounding) is not Rounding.RNE:
        raise FormatError("an LNS MAC accumulates exactly (truncated terms); rounding "
                          f"{Rounding.parse(rounding).value!r} does not apply (leave it at rne)")
    return LnsMac(fa, P=P, A=24 if A is None else A, saturate=saturate, stages=stages)


def _header(manifest) -> str:
    f = manifest["formats"]
    formats = ", ".join(f"{k} {v}" for k, v in f.items())
    details = [f"unit {manifest['unit']}"]
    if manifest["fused"] is not None:
        details.append("fused" if manifest["fused"] else "non-fused (two roundings)")
    details.append(formats)
    if manifest.get("lanes"):                     # dot units (hw.dot)
        details.append(f"{manifest['lanes']} lanes, "
                       + (f"align {manifest['align']} (tensor-core truncation)"
                          if manifest["align"] is not None else "exact sum")
                       + (f", block {manifest['block']} with {manifest['scale']} scales"
                          if manifest.get("block") else "")
                       + (f", preset {manifest['preset']}" if manifest.get("preset") else ""))
    if manifest["rounding"] is not None:
        rounding = manifest["rounding"]
        if manifest["rnd_bits"] is not None:
            rounding += f" (rnd {manifest['rnd_bits']} bits)"
        details.append(f"rounding {rounding}")
    details.append("saturating" if manifest["saturate"] else
                   ("wrapping" if manifest["rounding"] is None else "IEEE overflow"))
    latency = manifest["latency"]
    details.append(f"latency {latency} cycle{'s' if latency != 1 else ''}"
                   + ("" if latency else " (combinational)"))
    if manifest["interleave"] > 1:                # hw.FMac with loop_stages (C-slow)
        details.append(f"{manifest['loop_stages']} registers in the accumulate loop: "
                       f"{manifest['interleave']} interleaved accumulators, the command of "
                       f"cycle t steps accumulator t mod {manifest['interleave']}")
    lines = [f"// {manifest['module']}: generated by macforge (hw.build) from Amaranth"]
    lines += textwrap.wrap("; ".join(details), 96, initial_indent="// ",
                           subsequent_indent="//   ")
    for port in manifest["ports"]:
        lines.append(f"//   {port['dir']:<3} {port['name']:<6} {port['width']:>3} bits  "
                     f"{port['role']}"
                     + (f" ({port['lanes']} lanes x {port['lane_bits']} bits, lane i at "
                        f"[i*{port['lane_bits']} +: {port['lane_bits']}])" if "lanes" in port else ""))
    return "\n".join(lines) + "\n"


# Verilator -Wall categories that Amaranth 0.5 + Yosys write_verilog produce for any design,
# waived for the generated file only (everything else, e.g. UNDRIVEN, MULTIDRIVEN, LATCH,
# UNOPTFLAT, ASCRANGE, stays on and is checked by tests/test_hw_units.py):
_LINT_WAIVERS = {
    "DECLFILENAME": "one file holds the whole hierarchy; submodules are named <top>.<instance>",
    "UNUSEDSIGNAL": "Amaranth emits a wire for every named signal, layout field and submodule "
                    "port, used or not, and slices its widened arithmetic results",
    "WIDTHEXPAND": "Yosys writes cells with operands of different widths (Amaranth's exact "
                   "result widths) relying on Verilog's implicit extension",
    "WIDTHTRUNC": "Yosys writes a reduce-to-bool of a vector as !x",
    "PROCASSINIT": "every Amaranth register has a power-on value as well as its reset",
}


def _lint_block(on: bool) -> str:
    word = "lint_on" if on else "lint_off"
    return "".join(f"/* verilator {word} {rule} */\n" for rule in _LINT_WAIVERS)


def generate(unit):
    """Return ``(verilog_text, manifest)`` for a unit; byte-identical across runs.

    The Verilog top is named ``unit.module_name``; the text starts with a comment naming
    the unit, its formats, rounding, latency and ports.
    """
    manifest = unit.manifest()
    text = verilog.convert(unit, name=unit.module_name, emit_src=False)
    waivers = "".join(textwrap.fill(f"{rule}: {why}", 96, initial_indent="//   ",
                                    subsequent_indent="//       ") + "\n"
                      for rule, why in _LINT_WAIVERS.items())
    return (_header(manifest)
            + "// Lint waivers (Verilator -Wall), structural to Amaranth/Yosys output:\n"
            + waivers + _lint_block(False) + text + _lint_block(True)), manifest


def write(unit, outdir) -> dict:
    """Write ``<module>.v`` and ``<module>.json`` into ``outdir``; return their paths."""
    text, manifest = generate(unit)
    os.makedirs(outdir, exist_ok=True)
    paths = {"verilog": os.path.join(outdir, f"{manifest['module']}.v"),
             "manifest": os.path.join(outdir, f"{manifest['module']}.json")}
    _write_if_changed(paths["verilog"], text)
    _write_if_changed(paths["manifest"], json.dumps(manifest, indent=2) + "\n")
    return paths


def _write_if_changed(path, text):
    """Leave an identical file untouched, so builds keyed on modification times (Verilator's
    make) are not redone for the same unit."""
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w") as f:
        f.write(text)
