"""The unit options (``--format``, ``--unit``, ``--acc``, ...) and the one function that builds
a unit from them, for ``verilog``, ``sim``, ``cost``, ``fpga`` and ``hwtest``."""
from __future__ import annotations

import argparse

from ._common import nonneg_int

__all__ = ["add_unit_args", "unit_from_args", "unit_spec_from_args", "add_clock_args",
           "choose_pipeline", "clocked_unit_from_args"]

def _roundings():
    from macforge.golden import Rounding
    return tuple(m.value for m in Rounding)


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
                        "dot-product-accumulate, block formats too)")
    p.add_argument("--acc", default=None, help="output/accumulator format (default fp32; int32 for integers; "
                                                "for mul: the operand format)")
    p.add_argument("--round", dest="rounding", choices=_roundings(), default="rne", help="rounding mode")
    p.add_argument("--stages", type=nonneg_int("stages"), default=0, help="pipeline registers")
    p.add_argument("--loop-stages", type=nonneg_int("loop-stages"), default=0,
                   help="mac with a float accumulator: registers inside the accumulate loop "
                        "(0..4); the unit then interleaves loop-stages + 1 accumulators, the "
                        "command of cycle t stepping accumulator t mod (loop-stages + 1)")
    p.add_argument("--saturate", action="store_true", help="clamp overflow to the largest finite value")
    p.add_argument("--unfused", action="store_true", help="MAC rounds the product, then the sum")
    p.add_argument("--rnd-bits", type=nonneg_int("rnd-bits"), default=8,
                   help="random bits per element for --round sr (default 8)")
    p.add_argument("--lanes", type=nonneg_int("lanes"), default=None,
                   help="dot: products per step k (default: the block size, 32 for MX and 16 "
                        "for NVFP4/NVINT4; 32 for plain formats)")
    p.add_argument("--align", type=nonneg_int("align"), default=None,
                   help="dot: tensor-core alignment, W fraction bits kept below the largest "
                        "exponent (default: exact sum)")
    p.add_argument("--preset", default=None,
                   help="dot: a tensor-core preset, e.g. h100-fp8 (sets lanes, align, acc)")


def unit_spec_from_args(args: argparse.Namespace, **override) -> dict:
    """The :func:`macforge.hw.make_unit` keyword arguments the parsed unit options describe
    (the *spec* :func:`costmodel.pipelining.unit_at_clock` takes)."""
    from macforge import golden
    opt = {**vars(args), **override}
    golden.parse(opt["format"])
    dot = {k: opt[k] for k in ("lanes", "align", "preset") if opt.get(k) is not None}
    return dict(unit=opt["unit"], fmt=opt["format"], fmt_b=opt["format_b"], acc=opt["acc"],
                rounding=opt["rounding"], saturate=opt["saturate"], stages=opt["stages"],
                fused=not opt["unfused"], rnd_bits=opt["rnd_bits"],
                loop_stages=opt["loop_stages"], **dot)


def unit_from_args(args: argparse.Namespace, **override):
    """The :func:`macforge.hw.make_unit` unit that the parsed unit options describe.

    ``override`` replaces options by name (``stages=2``, ``loop_stages=1``: the fpga stage
    sweep). The defaults (unit mac; the accumulator: fp32, int32 for integers, the operand
    format for multipliers and posits, int24 for LNS MACs) are make_unit's own."""
    from macforge import hw
    return hw.make_unit(**unit_spec_from_args(args, **override))


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


def choose_pipeline(args, say=None) -> dict:
    """:func:`costmodel.pipelining.unit_at_clock` for the parsed options; prints what it chose
    (and, if no pipeline meets the clock, the best it reaches) through ``say``."""
    from macforge.costmodel.pipelining import unit_at_clock
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
    r = unit_at_clock(unit_spec_from_args(args), args.clock_mhz, target,
                      cache=cache_from_args(args), progress=say)
    if say:
        say(describe_choice(r))
    return r


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
    r = choose_pipeline(args, say)
    return unit_from_args(args, stages=r["stages"], loop_stages=r["loop_stages"])
