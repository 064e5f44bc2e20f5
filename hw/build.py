"""Build units from CLI-level parameters and turn them into Verilog + a JSON manifest.

Examples
--------
>>> from hw.build import make_unit, generate
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

from golden import FormatError, Int, Minifloat, Rounding, parse

from ._multiplier import MULTIPLIERS
from .ffma import FFma
from .fmac import FMac
from .fmul import FMul
from .imac import IntMac

__all__ = ["UNITS", "make_unit", "generate", "write"]

#: Unit kinds accepted by :func:`make_unit`.
UNITS = ("mul", "fma", "mac")

_ACCEPTED = ("accepted: mul (minifloat/integer operands -> minifloat result), "
             "fma (minifloat/integer operands, minifloat acc), "
             "mac (minifloat/integer operands, minifloat acc; integer operands with integer "
             "acc -> integer MAC)")


def _default_acc(fmt):
    return parse("int32") if isinstance(fmt, Int) else parse("fp32")


def make_unit(unit, fmt, fmt_b=None, acc=None, rounding="rne", saturate=False, stages=0,
              fused=True, rnd_bits=8, multiplier="star"):
    """Build a unit from CLI-level parameters (strings allowed everywhere).

    Parameters
    ----------
    unit : {"mul", "fma", "mac"}
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

    Raises
    ------
    golden.FormatError
        Unknown unit, or a unit/format pair the generators do not build.
    """
    if unit not in UNITS:
        raise FormatError(f"unknown unit {unit!r}; {_ACCEPTED}")
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    for f in (fa, fb):
        if not isinstance(f, (Minifloat, Int)):
            raise FormatError(f"unit {unit!r} does not take {f.name} operands; {_ACCEPTED}")
    if multiplier not in MULTIPLIERS:
        raise FormatError(f"unknown multiplier {multiplier!r}; accepted: "
                          + ", ".join(MULTIPLIERS))
    mult = MULTIPLIERS[multiplier]
    rounding = Rounding.parse(rounding)
    common = dict(fmt_b=fb, saturate=saturate, stages=stages, multiplier=mult)
    if unit == "mul":
        out = parse(acc) if acc is not None else fa
        if not isinstance(out, Minifloat):
            raise FormatError(f"unit 'mul' gives a minifloat result, not {out.name} "
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
    if not isinstance(acc, Minifloat):
        raise FormatError(f"unit {unit!r} needs a minifloat accumulator, not {acc.name}; "
                          f"{_ACCEPTED}")
    if unit == "fma":
        return FFma(fa, acc=acc, rounding=rounding, rnd_bits=rnd_bits, **common)
    return FMac(fa, acc=acc, fused=fused, rounding=rounding, rnd_bits=rnd_bits, **common)


def _header(manifest) -> str:
    f = manifest["formats"]
    formats = ", ".join(f"{k} {v}" for k, v in f.items())
    details = [f"unit {manifest['unit']}"]
    if manifest["fused"] is not None:
        details.append("fused" if manifest["fused"] else "non-fused (two roundings)")
    details.append(formats)
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
    lines = [f"// {manifest['module']}: generated by macforge (hw.build) from Amaranth"]
    lines += textwrap.wrap("; ".join(details), 96, initial_indent="// ",
                           subsequent_indent="//   ")
    for port in manifest["ports"]:
        lines.append(f"//   {port['dir']:<3} {port['name']:<6} {port['width']:>3} bits  "
                     f"{port['role']}")
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
    with open(paths["verilog"], "w") as f:
        f.write(text)
    with open(paths["manifest"], "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return paths
