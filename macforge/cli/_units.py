"""The unit options (``--format``, ``--unit``, ``--acc``, ...) and the one function that builds
a unit from them, for ``verilog``, ``sim``, ``cost``, ``fpga`` and ``hwtest``."""
from __future__ import annotations

import argparse

from macforge.errors import UsageError

from ._common import bounded

__all__ = ["add_unit_args", "add_rounding_args", "unit_from_args", "DEFAULT_RND_BITS", "unit_spec_from_args",
           "add_clock_args", "choose_pipeline", "describe_choice", "clocked_unit_from_args"]

#: R of ``--round sr`` unless ``--rnd-bits`` says otherwise.
DEFAULT_RND_BITS = 8

def _roundings():
    from macforge.golden import Rounding
    return tuple(m.value for m in Rounding)


_NOT_GIVEN = object()


def add_rounding_args(p, rounding=False, saturate=False, rnd_bits=_NOT_GIVEN):
    """Add to parser ``p`` the rounding options every command spells alike: ``--rounding``
    (default rne), ``--saturate`` and, when ``rnd_bits`` is given, ``--rnd-bits`` with that
    default (None: "not given", refused unless the unit rounds sr). One call per option keeps
    each command's ``--help`` order."""
    if rounding:
        p.add_argument("--rounding", choices=_roundings(), default="rne",
                       help="rounding mode (default rne; sr: stochastic, with --rnd-bits)")
    if saturate:
        p.add_argument("--saturate", action="store_true",
                       help="clamp overflow to the largest finite value")
    if rnd_bits is not _NOT_GIVEN:
        p.add_argument("--rnd-bits", type=bounded("rnd_bits"), default=rnd_bits,
                       help=f"random bits per element for --rounding sr (default "
                            f"{DEFAULT_RND_BITS}; sr only)")


def add_unit_args(p, need_format=True):
    """Add the unit options to parser ``p`` (``--format`` required when ``need_format``)."""
    p.add_argument("--format", "-f", required=need_format, default="e4m3",
                   help="operand format (see `macforge formats`), e.g. e4m3, e5m2, int8, bf16")
    p.add_argument("--format-b", default=None, help="second operand format for mixed products")
    from macforge.hw.build import UNITS
    p.add_argument("--unit", "-u", choices=tuple(UNITS), default=None,
                   help="mul, fma or mac (default: mac; for integer formats the integer MAC); "
                        "lmul, lmulmac (L-Mul multiplier and MAC); pmul, pmac (posit multiplier, "
                        "posit MAC with quire); lnsmul, lnsmac (LNS, LNS-Madam MAC); posit and "
                        "LNS formats turn mul/mac into their own units; dot (k-lane "
                        "dot-product-accumulate, block formats too); add (a + b; LNS: "
                        "lnsadd); convert (a cast into --acc); quantize (k elements into one "
                        "MX/NV block --acc); dequantize (a block into --acc elements)")
    p.add_argument("--acc", default=None, help="output/accumulator format (default fp32; int32 "
                                                "for integers; for mul and add: the operand "
                                                "format; convert: the cast's result; quantize: "
                                                "the block format)")
    add_rounding_args(p, rounding=True)
    p.add_argument("--stages", type=bounded("stages"), default=0, help="pipeline registers")
    p.add_argument("--loop-stages", type=bounded("loop_stages"), default=0,
                   help="mac with a float accumulator: registers inside the accumulate loop "
                        "(0..5); the unit then interleaves loop-stages + 1 accumulators, the "
                        "command of cycle t stepping accumulator t mod (loop-stages + 1)")
    add_rounding_args(p, saturate=True)
    p.add_argument("--fused", action=argparse.BooleanOptionalAction, default=None,
                   help="MAC: round once, a*b + acc (default); --no-fused rounds the product, "
                        "then the sum")
    add_rounding_args(p, rnd_bits=None)
    p.add_argument("--lanes", type=bounded("lanes"), default=None,
                   help="dot: products per step k; quantize, dequantize: elements per block "
                        "(default: the block size, 32 for MX and 16 for NVFP4/NVINT4; 32 for "
                        "plain formats)")
    p.add_argument("--align", type=bounded("align"), default=None,
                   help="dot: tensor-core alignment, W fraction bits kept below the largest "
                        "exponent (default: exact sum)")
    p.add_argument("--preset", default=None,
                   help="dot: a tensor-core preset, e.g. h100-fp8 (sets lanes, align, acc)")
    p.add_argument("--scale", default=None,
                   help="convert: format of a power-of-two scale input applied before rounding "
                        "(e8m0: 2^(code-127); int8 etc.: an integer exponent)")


def unit_from_args(args: argparse.Namespace, **override):
    """The :func:`macforge.hw.make_unit` unit that the parsed unit options describe.

    ``override`` replaces options by name (``stages=2``, ``loop_stages=1``: the fpga stage
    sweep). The defaults (unit mac; the accumulator: fp32, int32 for integers, the operand
    format for multipliers and posits, int24 for LNS MACs) are make_unit's own."""
    from macforge import hw
    opt = {**vars(args), **override}
    unit = hw.make_unit(**unit_spec_from_args(args, **override))
    try:
        _check_applies(opt, unit.manifest())
    except UsageError:
        unit._MustUse__silence = True       # refused, so never elaborated: no Amaranth warning
        raise
    return unit


def unit_spec_from_args(args: argparse.Namespace, **override) -> dict:
    """The :func:`macforge.hw.make_unit` keyword arguments the parsed unit options describe
    (the *spec* :func:`costmodel.pipelining.unit_at_clock` takes)."""
    from macforge import golden
    opt = {**vars(args), **override}
    golden.parse(opt["format"])
    dot = {k: opt[k] for k in ("lanes", "align", "preset", "scale") if opt.get(k) is not None}
    rnd_bits = DEFAULT_RND_BITS if opt["rnd_bits"] is None else opt["rnd_bits"]
    return dict(unit=opt["unit"], fmt=opt["format"], fmt_b=opt["format_b"], acc=opt["acc"],
                rounding=opt["rounding"], saturate=opt["saturate"], stages=opt["stages"],
                fused=opt["fused"] is not False, rnd_bits=rnd_bits,
                loop_stages=opt["loop_stages"], **dot)


def _check_applies(opt, manifest):
    """Options the built unit has no use for are errors, not silently dropped."""
    name = f"{manifest['module']} (unit {manifest['unit']})"
    if opt["fused"] is False and manifest.get("fused") is not False:
        raise UsageError(f"--no-fused does not apply to {name}: only a float mac rounds its "
                         "product separately (unit mac with a minifloat accumulator)")
    if opt["rnd_bits"] is not None and manifest.get("rnd_bits") is None:
        raise UsageError(f"--rnd-bits applies to stochastic rounding (--rounding sr) only, not "
                         f"to {name} rounding {manifest.get('rounding')}")


def _mhz(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"clock-mhz must be a number of MHz, not {text!r}") from None
    if not 0 < v <= 10_000:
        raise argparse.ArgumentTypeError(f"clock-mhz must be in (0, 10000] MHz, not {text!r}")
    return v


def add_clock_args(p, target=True):
    """``--clock-mhz`` (and, unless the command has its own, ``--target asic|ice40|ecp5``):
    choose the pipeline that meets the clock instead of giving ``--stages``."""
    p.add_argument("--clock-mhz", type=_mhz, default=None, metavar="F",
                   help="choose stages (and, for float MACs, loop stages) with the fewest "
                        "registers that meet F MHz on --target, measured (ASIC: timing-driven "
                        "mapping + STA; FPGA: nextpnr); replaces --stages/--loop-stages")
    if target:
        p.add_argument("--target", "-t", choices=("asic", "ice40", "ecp5"), default="asic",
                       help="where --clock-mhz is measured: asic (45 nm library, default), "
                            "ice40 or ecp5")


def choose_pipeline(args, say=None) -> tuple:
    """``(choice, design)``: :func:`costmodel.pipelining.choose_design` for the parsed options
    (the choice as :func:`~costmodel.pipelining.unit_at_clock` gives it, and the chosen
    candidate's Design as the search built it, so its Verilog need not be generated again);
    prints what it chose (and, if no pipeline meets the clock, the best it reaches) through
    ``say``."""
    from macforge.costmodel.pipelining import choose_design
    from macforge.errors import UsageError
    from ._common import cache_from_args
    if args.stages or args.loop_stages:
        raise UsageError("--clock-mhz chooses --stages and --loop-stages; give one or the other")
    target = getattr(args, "target", "asic") or "asic"
    if isinstance(target, list):                     # fpga's comma list
        if len(target) != 1:
            raise UsageError("--clock-mhz chooses the pipeline for one target; give one --target")
        target = target[0]
    if not hasattr(args, "no_cache"):
        args.no_cache = False
    r, design = choose_design(unit_spec_from_args(args), args.clock_mhz, target,
                              cache=cache_from_args(args), progress=say)
    if say:
        say(describe_choice(r))
    return r, design


def describe_choice(r) -> str:
    """One line: what :func:`unit_at_clock` chose and reached, or why it could not."""
    what = (f"stages {r['stages']}, loop stages {r['loop_stages']}"
            + (f" (interleaves {r['interleave']} accumulators)" if r["loop_stages"] else "")
            + f", {r['registers']} registers, reaches {r['reached_mhz']} MHz")
    if r["met"]:
        return f"macforge: {r['module']} meets {r['clock_mhz']:g} MHz on {r['target']}: {what}"
    return (f"macforge: no pipeline of this unit meets {r['clock_mhz']:g} MHz on {r['target']} "
            f"({len(r['tried'])} tried); the fastest is {r['module']}: {what}")


def clocked_unit_from_args(args, say=None):
    """:func:`unit_from_args`, or with ``--clock-mhz`` the unit :func:`choose_pipeline` picks."""
    if getattr(args, "clock_mhz", None) is None:
        return unit_from_args(args)
    r, _ = choose_pipeline(args, say)
    return unit_from_args(args, stages=r["stages"], loop_stages=r["loop_stages"])
