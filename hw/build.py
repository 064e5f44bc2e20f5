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
import shlex
import textwrap

from amaranth.back import verilog

from macforge import provenance
from macforge.golden import FormatError, Rounding, parse

from ._families import (_names, as_operand, as_result, hw_family, operand_families,
                        own_units, result_families)
from ._multiplier import MULTIPLIERS
from .ffma import FFma
from .fmac import FMac
from .fmul import FMul
from .imac import IntMac
from .lmul import LMul, LMulMac
from ._lns import LnsAdd, LnsMac, LnsMul
from .posit import PMac, PMul
from .dot import make_dot
from ._deepseek import make_scaled_dot, scaled_preset
from .convert import Convert
from .fadd import FAdd
from .dequantize import Dequantize
from .quantize import Quantize

__all__ = ["UNITS", "DEFAULT_UNIT", "make_unit", "units_for", "generate", "write", "regenerate"]

#: Every unit kind :func:`make_unit` builds, with what it is (the one list: the CLI's
#: ``--unit`` choices and the sweep axes read it). Which formats a kind takes comes from the
#: format families (:mod:`hw._families`): the shared units take every family with a decoder
#: (operands) and a packer (results); posit, LNS and block formats turn the generic names into
#: their own units.
UNITS = {
    "mul": "a x b -> result, one rounding (posit: pmul; LNS: lnsmul)",
    "fma": "a x b + c -> result, one rounding",
    "mac": "accumulator <- a x b + accumulator (integer operands and accumulator: the integer "
           "MAC; posit: pmac; LNS: lnsmac)",
    "lmul": "L-Mul (Luo & Sun): a minifloat product without a multiplier, one rounding",
    "lmulmac": "L-Mul MAC: accumulator <- lmul(a, b) + accumulator",
    "pmul": "posit multiplier, rounding on the encoding",
    "pmac": "posit MAC: an exact quire, rounded when read",
    "lnsmul": "LNS multiplier: the log fields add",
    "lnsmac": "LNS-Madam MAC: linear terms from a table into an int<A> accumulator",
    "lnsadd": "LNS adder: Gaussian-logarithm tables, the nearest log code of the sum",
    "dot": "k-lane dot-product-accumulate (minifloat, integer and block formats; integer "
           "elements with an integer accumulator: the integer dot)",
    "add": "a + b -> result (acc, default the operand format), one rounding (LNS: lnsadd)",
    "convert": "cast a -> result format (acc), one rounding, optional power-of-two scale "
               "input (scale=e8m0 or int<N>); integer results saturate",
    "quantize": "k source elements (fmt) -> one block (acc: OCP MX mxfp8, mxe5m2, mxfp6, "
                "mxe3m2, mxfp4, mxint8: shared e8m0 scale; nvfp4, nvint4: e4m3 block scale "
                "from an fp32 tensor-scale input) with saturated elements",
    "dequantize": "one block (fmt: an MX or nv* block format; its scale, the nv* tensor "
                  "scale) -> k elements rounded once into acc (fp32, bf16, ...)",
}


#: The unit built when none is named (``make sim FORMAT=e4m3`` verifies a MAC).
DEFAULT_UNIT = "mac"


def _accepted() -> str:
    units = ", ".join(f"{k} ({v})" for k, v in UNITS.items())
    return (f"accepted: {units}; mul/fma/mac/dot take {operand_families()} operands "
            f"(results and accumulators: {result_families()})")


def _accepted_for(fmt) -> str:
    """What runs on ``fmt`` operands, for a message about a unit it does not run on:
    ``accepted for mxfp8 (block format): dot (--unit dot, make UNIT=dot)``; the whole list when
    no unit takes ``fmt``."""
    kinds = units_for(fmt)
    if not kinds:
        return _accepted()
    own = own_units(fmt)
    return (f"accepted for {fmt.name} ({fmt.family} format): "
            + ", ".join(f"{k} ({own[k] + ': ' if k in own and own[k] != k else ''}"
                        f"{UNITS[own.get(k, k)].split(' (')[0]})" for k in kinds)
            + f" (--unit {kinds[0]}, make UNIT={kinds[0]})")


def units_for(fmt) -> list:
    """The unit kinds that take ``fmt`` operands: its family's own units, or the shared ones
    (with the L-Mul units for minifloats; ``quantize`` reads them as block sources)."""
    own = own_units(fmt)
    if own:
        return list(own)
    try:
        as_operand(fmt, "fmt")
    except FormatError:
        return []
    shared = ["mul", "fma", "mac", "dot", "add", "convert", "quantize"]
    return shared + (["lmul", "lmulmac"] if parse(fmt).family == "minifloat" else [])


def _check_source(unit, fa):
    """``convert``, ``quantize`` and ``dequantize`` read the sources :func:`units_for` lists them
    for; another format's refusal names the units that do run on it."""
    if unit not in units_for(fa):
        hint = ""
        if unit == "convert" and hw_family(fa).cast_packer is not None:   # LNS: a result only
            hint = f"; {fa.name} is a cast result (--unit convert --acc {fa.name})"
        raise FormatError(f"unit {unit!r} does not take {fa.name} sources; "
                          f"{_accepted_for(fa)}{hint}")


def _check_multiplier(multiplier):
    if multiplier not in MULTIPLIERS:
        raise FormatError(f"unknown multiplier {multiplier!r}; accepted: "
                          + ", ".join(MULTIPLIERS))
    return MULTIPLIERS[multiplier]


def make_unit(unit, fmt, fmt_b=None, acc=None, rounding="rne", saturate=False, stages=0,
              fused=True, rnd_bits=8, multiplier="star", variant="formula", P=8, A=None,
              lanes=None, align=None, preset=None, loop_stages=0, scale=None):
    """Build a unit from CLI-level parameters (strings allowed everywhere).

    Parameters
    ----------
    unit : str or None
        A key of :data:`UNITS` (None: :data:`DEFAULT_UNIT`). For formats with units of their own (posit, LNS) ``mul`` and
        ``mac`` build those (``pmul``/``pmac``, ``lnsmul``/``lnsmac``); block formats run on
        ``dot`` only.
    fmt, fmt_b : format or name
        Operand formats (``fmt_b`` defaults to ``fmt``).
    acc : format or name, optional
        Result format of ``mul`` (default ``fmt``); accumulator of ``fma``/``mac``/``dot``
        (default: the operand format's ``default_accumulator``: fp32, int32 for integers, the
        posit itself for the quire MAC, int24 for LNS-Madam). Integer operands with an integer
        ``acc`` make ``mac`` an :class:`~hw.IntMac` (exact; ``rounding`` must stay rne).
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
    scale : format or name, optional
        ``convert`` only: the format of a power-of-two scale input (e8m0 or int<N>).

    Raises
    ------
    golden.FormatError
        Unknown unit, or a unit/format pair the generators do not build.
    """
    unit = DEFAULT_UNIT if unit is None else unit
    if unit not in UNITS:
        raise FormatError(f"unknown unit {unit!r}; {_accepted()}")
    fa = parse(fmt)
    fb = parse(fmt_b) if fmt_b is not None else fa
    if loop_stages:
        _check_loop_unit(unit, fa, acc)
    if unit in ("quantize", "convert", "dequantize"):   # their sources (units_for), named
        _check_source(unit, fa)                         # before any other option
    if unit == "quantize":               # a block quantiser: its own checks
        if acc is None:
            raise FormatError("unit 'quantize' needs the block format as acc (e.g. acc=mxfp8)")
        if align is not None or preset is not None or scale is not None or fmt_b is not None:
            raise FormatError("unit 'quantize' takes fmt, acc, lanes, rounding and stages")
        return Quantize(fa, out=acc, lanes=lanes, rounding=Rounding.parse(rounding),
                        stages=stages)
    if unit == "dequantize":             # a block dequantiser: its own checks
        if acc is None:
            raise FormatError("unit 'dequantize' needs the element result format as acc "
                              "(e.g. acc=fp32)")
        if align is not None or preset is not None or scale is not None or fmt_b is not None:
            raise FormatError("unit 'dequantize' takes fmt, acc, lanes, rounding and stages")
        return Dequantize(fa, out=acc, lanes=lanes, rounding=Rounding.parse(rounding),
                          stages=stages)
    if unit != "convert" and scale is not None:
        raise FormatError(f"scale applies to unit 'convert', not {unit!r}")
    if unit == "convert":             # a cast: any source with a decoder, its own check
        return _convert(fa, fb, acc, rounding, saturate, stages, rnd_bits, scale)
    own = own_units(fa)
    if own:
        if unit not in own and unit not in own.values():
            kinds = list(dict.fromkeys(own.values()))
            raise FormatError(f"{fa.name} operands take unit {_names(kinds)}, not {unit!r}; "
                              f"{_accepted_for(fa)}")
        unit = own.get(unit, unit)
    if unit != "dot" and (lanes is not None or align is not None or preset is not None):
        raise FormatError(f"lanes, align and preset apply to unit 'dot', not {unit!r}")
    args = dict(fa=fa, fb=fb, acc=acc, rounding=rounding, saturate=saturate, stages=stages,
                fused=fused, rnd_bits=rnd_bits, multiplier=multiplier, variant=variant, P=P,
                A=A, lanes=lanes, align=align, preset=preset, loop_stages=loop_stages)
    return _BUILDERS[unit](**args)


def _check_loop_unit(unit, fa, acc):
    """loop_stages pipelines the rounding accumulate loop of a float MAC (hw.FMac) only."""
    acc_f = parse(acc) if acc is not None else parse(fa.default_accumulator)
    if unit != "mac" or own_units(fa) or hw_family(fa).decoder is None \
            or hw_family(acc_f).packer is None:
        raise FormatError(f"loop_stages applies to unit 'mac' with a float accumulator (a "
                          f"rounding loop), not unit {unit!r} on {fa.name} into {acc_f.name}; "
                          "integer, quire and LNS accumulators are pipelined by stages alone")


def _shared_operands(unit, fa, fb):
    for f in (fa, fb):
        try:
            as_operand(f, "fmt")
        except FormatError:
            raise FormatError(f"unit {unit!r} does not take {f.name} operands; "
                              f"{_accepted_for(f)}") from None


def _result(unit, fa, acc):
    """The result format of a unit whose result defaults to the operand format."""
    out = parse(acc) if acc is not None else fa
    try:
        return as_result(out, "out")
    except FormatError:
        raise FormatError(f"unit {unit!r} gives a {result_families()} result, not {out.name} "
                          f"(pass acc=<minifloat>); {_accepted()}") from None


def _mul(fa, fb, acc, rounding, saturate, stages, rnd_bits, multiplier, **_):
    _shared_operands("mul", fa, fb)
    out = _result("mul", fa, acc)
    return FMul(fa, out=out, rounding=Rounding.parse(rounding), rnd_bits=rnd_bits, fmt_b=fb,
                saturate=saturate, stages=stages, multiplier=_check_multiplier(multiplier))


def _accumulator(unit, fa, fb, acc):
    acc = parse(acc) if acc is not None else parse(fa.default_accumulator)
    try:
        as_result(acc, "acc")
    except FormatError:
        raise FormatError(f"unit {unit!r} needs a {result_families()} accumulator, not "
                          f"{acc.name}; {_accepted()}") from None
    return acc


def _fma(fa, fb, acc, rounding, saturate, stages, rnd_bits, multiplier, **_):
    _shared_operands("fma", fa, fb)
    acc = _accumulator("fma", fa, fb, acc)
    return FFma(fa, acc=acc, rounding=Rounding.parse(rounding), rnd_bits=rnd_bits, fmt_b=fb,
                saturate=saturate, stages=stages, multiplier=_check_multiplier(multiplier))


def _mac(fa, fb, acc, rounding, saturate, stages, fused, rnd_bits, multiplier, loop_stages,
         **_):
    _shared_operands("mac", fa, fb)
    rounding = Rounding.parse(rounding)
    acc_f = parse(acc) if acc is not None else parse(fa.default_accumulator)
    if acc_f.family == "integer":                   # the exact integer MAC
        if fa.family != "integer" or fb.family != "integer":
            raise FormatError(f"an integer accumulator ({acc_f.name}) needs integer operands, "
                              f"not {fa.name} x {fb.name}; {_accepted()}")
        if rounding is not Rounding.RNE:
            raise FormatError(f"an integer MAC is exact; rounding {rounding.value!r} does not "
                              "apply (leave it at rne)")
        return IntMac(fa, acc=acc_f, fmt_b=fb, saturate=saturate, stages=stages,
                      multiplier=_check_multiplier(multiplier))
    acc_f = _accumulator("mac", fa, fb, acc_f)
    return FMac(fa, acc=acc_f, fused=fused, rounding=rounding, rnd_bits=rnd_bits,
                loop_stages=loop_stages, fmt_b=fb, saturate=saturate, stages=stages,
                multiplier=_check_multiplier(multiplier))


def _lmul_operands(unit, fa, fb, multiplier):
    if fa.family != "minifloat" or fb != fa:
        raise FormatError(f"unit {unit!r} takes two operands of one minifloat format, not "
                          f"{fa.name} x {fb.name}; {_accepted_for(fa)}")
    if multiplier != "star":
        raise FormatError(f"unit {unit!r} has no multiplier array (multiplier {multiplier!r})")


def _lmul(fa, fb, acc, rounding, saturate, stages, rnd_bits, multiplier, variant, **_):
    _lmul_operands("lmul", fa, fb, multiplier)
    return LMul(fa, out=parse(acc) if acc is not None else fa, variant=variant,
                rounding=rounding, saturate=saturate, stages=stages, rnd_bits=rnd_bits)


def _lmulmac(fa, fb, acc, rounding, saturate, stages, fused, multiplier, variant, **_):
    _lmul_operands("lmulmac", fa, fb, multiplier)
    if not fused:
        raise FormatError("unit 'lmulmac' rounds once per step (fused only)")
    return LMulMac(fa, acc=parse(acc) if acc is not None else parse(fa.default_accumulator),
                   variant=variant, rounding=rounding, saturate=saturate, stages=stages)


def _posit(unit, cls):
    def build(fa, fb, acc, rounding, stages, multiplier, **_):
        out = parse(acc) if acc is not None else fa
        if not (fa.family == "posit" and fb == fa and out == fa):
            raise FormatError(f"unit {unit!r} takes and returns one posit format, not "
                              f"{fa.name} x {fb.name} -> {out.name}; {_accepted_for(fa)}")
        return cls(fa, rounding=rounding, stages=stages,
                   multiplier=_check_multiplier(multiplier))
    return build


def _lns_operands(unit, fa, fb):
    if not (fa.family == "lns" and fb == fa):
        raise FormatError(f"unit {unit!r} takes two operands of one LNS format, not "
                          f"{fa.name} x {fb.name}; {_accepted_for(fa)}")


def _lns_result(unit, fa, acc, saturate):
    """The LNS multiplier and adder return their operand format, always saturating."""
    out = parse(acc) if acc is not None else fa
    if out != fa or saturate:
        raise FormatError(f"unit {unit!r} returns {fa.name} (always saturating), not "
                          f"{out.name}{' with saturate' if saturate else ''}")


def _lnsmul(fa, fb, acc, rounding, saturate, stages, **_):
    _lns_operands("lnsmul", fa, fb)
    _lns_result("lnsmul", fa, acc, saturate)
    return LnsMul(fa, rounding=rounding, stages=stages)


def _lnsmac(fa, fb, acc, rounding, saturate, stages, P, A, **_):
    _lns_operands("lnsmac", fa, fb)
    if acc is not None:
        acc_fmt = parse(acc)
        if acc_fmt.family != "integer" or not acc_fmt.signed or (A is not None and A != acc_fmt.n):
            raise FormatError(f"unit 'lnsmac' accumulates into a signed int<A>, not {acc_fmt.name}")
        A = acc_fmt.n
    if Rounding.parse(rounding) is not Rounding.RNE:
        raise FormatError("an LNS MAC accumulates exactly (truncated terms); rounding "
                          f"{Rounding.parse(rounding).value!r} does not apply (leave it at rne)")
    if A is None:
        A = parse(fa.default_accumulator).n
    return LnsMac(fa, P=P, A=A, saturate=saturate, stages=stages)


def _lnsadd(fa, fb, acc, rounding, saturate, stages, **_):
    _lns_operands("lnsadd", fa, fb)
    _lns_result("lnsadd", fa, acc, saturate)
    return LnsAdd(fa, rounding=rounding, stages=stages)


def _dot(fa, fb, acc, rounding, saturate, stages, rnd_bits, multiplier, lanes, align, preset,
         **_):
    if scaled_preset(preset) is not None:         # deepseek-fp8: scales applied at promotion
        return make_scaled_dot(fa, fb, preset, acc=acc, rounding=rounding, saturate=saturate,
                               stages=stages, multiplier=multiplier, lanes=lanes, align=align)
    return make_dot(fa, fb, acc, rounding, saturate, stages, rnd_bits, multiplier,
                    lanes=lanes, align=align, preset=preset)


def _add(fa, fb, acc, rounding, saturate, stages, rnd_bits, **_):
    _shared_operands("add", fa, fb)
    if fb != fa:
        raise FormatError(f"unit 'add' adds two operands of one format, not {fa.name} + "
                          f"{fb.name}; {_accepted()}")
    out = _result("add", fa, acc)
    return FAdd(fa, out=out, rounding=Rounding.parse(rounding), saturate=saturate,
                stages=stages, rnd_bits=rnd_bits)


def _convert(fa, fb, acc, rounding, saturate, stages, rnd_bits, scale):
    if fb != fa:
        raise FormatError("unit 'convert' takes one operand (no fmt_b)")
    if acc is None:
        raise FormatError(f"unit 'convert' needs the result format as acc (e.g. acc=e4m3); "
                          f"{_accepted_for(fa)}")
    return Convert(fa, out=acc, rounding=Rounding.parse(rounding), saturate=saturate,
                   stages=stages, rnd_bits=rnd_bits, scale=scale)


_BUILDERS = {"mul": _mul, "fma": _fma, "mac": _mac, "lmul": _lmul, "lmulmac": _lmulmac,
             "pmul": _posit("pmul", PMul), "pmac": _posit("pmac", PMac), "lnsmul": _lnsmul,
             "lnsmac": _lnsmac, "lnsadd": _lnsadd, "dot": _dot, "add": _add}


#: Internal unit kinds (a manifest's "unit") that the CLI names by a generic ``--unit``.
_CLI_UNIT = {"imac": "mac", "idot": "dot"}
#: Options of :func:`make_unit` the command line does not take, with their defaults; a unit
#: built with another value has no regenerating command.
_PYTHON_ONLY = {"multiplier": (None, "star"), "variant": (None, "formula"), "P": (None, 8)}


def regenerate(manifest):
    """``(command, note)``: the ``macforge verilog`` command that rebuilds the unit a manifest
    describes (derived from the manifest, never from argv, so it is deterministic), or
    ``(None, note)`` naming the Python-only option it was built with."""
    odd = [f"{k}={manifest[k]!r}" for k, ok in _PYTHON_ONLY.items()
           if k in manifest and manifest[k] not in ok]
    if odd:
        return None, (f"built with the Python-only option {', '.join(odd)} "
                      "(macforge.hw.make_unit); no macforge command rebuilds it")
    f = manifest["formats"]
    unit = _CLI_UNIT.get(manifest["unit"], manifest["unit"])
    cmd = ["macforge", "verilog", "--unit", unit, "--format", f["a"]]
    preset = manifest.get("preset")
    if "b" in f and f["b"] != f["a"]:
        cmd += ["--format-b", f["b"]]
    if not preset:                      # a preset sets the accumulator, rounding, lanes, align
        cmd += ["--acc", f.get("acc", f.get("out"))]
        if manifest["rounding"] not in (None, "rne"):
            cmd += ["--rounding", manifest["rounding"]]
        if manifest["rnd_bits"] is not None:
            cmd += ["--rnd-bits", str(manifest["rnd_bits"])]
        if manifest.get("lanes") is not None:
            cmd += ["--lanes", str(manifest["lanes"])]
        if manifest.get("align") is not None:
            cmd += ["--align", str(manifest["align"])]
    else:
        cmd += ["--preset", preset]
    if manifest["saturate"] and unit != "quantize":     # quantize always saturates
        cmd += ["--saturate"]
    if manifest["fused"] is False:
        cmd += ["--no-fused"]
    if manifest.get("loop_stages"):
        cmd += ["--loop-stages", str(manifest["loop_stages"])]
    if manifest["stages"]:
        cmd += ["--stages", str(manifest["stages"])]
    if unit == "convert" and f.get("scale"):
        cmd += ["--scale", f["scale"]]
    return shlex.join(cmd), None


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
                       + (f", preset {manifest['preset']}" if manifest.get("preset") else "")
                       + (f" ({manifest['scale']} operand scales per {manifest['scale_block']} "
                          f"elements, applied when promoting into acc)"
                          if manifest.get("scale_block") else ""))
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
    lines = [f"// {manifest['module']}: generated by macforge (hw.build) from Amaranth",
             f"// macforge {manifest['macforge']['version']}",
             "// regenerate: " + (manifest["macforge"]["command"]
                                  or manifest["macforge"]["note"])]
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
    the unit, its formats, rounding, latency and ports, the macforge version and the command
    that regenerates it (also in the manifest, ``"macforge": {"version": ..., "command": ...}``,
    with a ``"note"`` instead of a command for a unit built with a Python-only option; not the
    git commit, so that the text only changes when the design or the release does).
    """
    manifest = dict(unit.manifest())
    command, note = regenerate(manifest)
    manifest["macforge"] = {"version": provenance.version(), "command": command,
                            **({"note": note} if note else {})}
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
