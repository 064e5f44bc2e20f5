"""The unit options (``--format``, ``--unit``, ``--acc``, ...) and the one function that builds
a unit from them, for ``verilog``, ``sim``, ``cost``, ``fpga`` and ``hwtest``."""
from __future__ import annotations

import argparse

from ._common import nonneg_int

__all__ = ["add_unit_args", "unit_from_args"]

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
    p.add_argument("--rounding", choices=_roundings(), default="rne",
                   help="rounding mode (default rne; sr: stochastic, with --rnd-bits)")
    p.add_argument("--stages", type=nonneg_int("stages"), default=0, help="pipeline registers")
    p.add_argument("--loop-stages", type=nonneg_int("loop-stages"), default=0,
                   help="mac with a float accumulator: registers inside the accumulate loop "
                        "(0..4); the unit then interleaves loop-stages + 1 accumulators, the "
                        "command of cycle t stepping accumulator t mod (loop-stages + 1)")
    p.add_argument("--saturate", action="store_true", help="clamp overflow to the largest finite value")
    p.add_argument("--fused", action=argparse.BooleanOptionalAction, default=True,
                   help="MAC: round once, a*b + acc (default); --no-fused rounds the product, "
                        "then the sum")
    p.add_argument("--rnd-bits", type=nonneg_int("rnd-bits"), default=8,
                   help="random bits per element for --rounding sr (default 8)")
    p.add_argument("--lanes", type=nonneg_int("lanes"), default=None,
                   help="dot: products per step k (default: the block size, 32 for MX and 16 "
                        "for NVFP4/NVINT4; 32 for plain formats)")
    p.add_argument("--align", type=nonneg_int("align"), default=None,
                   help="dot: tensor-core alignment, W fraction bits kept below the largest "
                        "exponent (default: exact sum)")
    p.add_argument("--preset", default=None,
                   help="dot: a tensor-core preset, e.g. h100-fp8 (sets lanes, align, acc)")


def unit_from_args(args: argparse.Namespace, **override):
    """The :func:`macforge.hw.make_unit` unit that the parsed unit options describe.

    ``override`` replaces options by name (``stages=2``, ``loop_stages=1``: the fpga stage
    sweep). The defaults (unit mac; the accumulator: fp32, int32 for integers, the operand
    format for multipliers and posits, int24 for LNS MACs) are make_unit's own."""
    from macforge import golden, hw
    opt = {**vars(args), **override}
    golden.parse(opt["format"])
    dot = {k: opt[k] for k in ("lanes", "align", "preset") if opt.get(k) is not None}
    return hw.make_unit(opt["unit"], opt["format"], fmt_b=opt["format_b"], acc=opt["acc"],
                        rounding=opt["rounding"], saturate=opt["saturate"], stages=opt["stages"],
                        fused=opt["fused"], rnd_bits=opt["rnd_bits"],
                        loop_stages=opt["loop_stages"], **dot)
