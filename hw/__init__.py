"""macforge gateware: Amaranth generators of multiply, FMA and MAC datapaths.

Units (``wiring.Component``; formats are ``golden`` format objects or names)::

    from macforge.hw import FMul, FFma, FMac, IntMac, Rounding
    FMul(fmt="e4m3")                                   # y = round(a * b)
    FMul(fmt="e4m3", fmt_b="e5m2", out="fp16")         # mixed operands
    FFma(fmt="e4m3", acc="fp16")                       # y = round(a * b + c)
    FMul(fmt="hif8"); FMac(fmt="hif8", acc="hif8")     # HiF8: dot-code unpack, tapered packer
    FMac(fmt="e4m3", acc="fp32", stages=2)             # acc <- round(a * b + acc)
    FMac(fmt="e4m3", acc="fp32", fused=False, rounding=Rounding.SR, rnd_bits=8)
    IntMac(fmt="int8", acc="int32", saturate=True)
    LMul(fmt="e4m3")                                   # y = round(lmul(a, b)), no multiplier
    LMulMac(fmt="e4m3", acc="fp32")                    # acc <- round(lmul(a, b) + acc)
    PMul(fmt="posit8")                                 # posit y = round(a * b)
    PMac(fmt="posit8")                                 # quire += a * b; acc = round(quire)
    LnsMul(fmt="lns8")                                 # L = La + Lb (saturating)
    LnsMac(fmt="lns8", P=8, A=24)                      # acc += T[r] << q (LNS-Madam)
    FDot(fmt="mxfp4", align=13)                        # acc <- round(scale * sum of 32 products + acc)
    IDot(fmt="int8", lanes=16)                         # acc <- sum of 16 int products + acc
    Convert(fmt="bf16", out="e4m3", rounding="sr")     # y = round(a) (optionally a * 2^scale)
    FAdd(fmt="e5m2")                                   # y = round(a + b)

Every unit has ``.module_name``, ``.latency`` and ``.manifest()``; :mod:`hw.build` turns
one into Verilog (``generate``, ``write``) and builds units from CLI strings (``make_unit``).
The datapath pieces (unpack, multiplier, aligner, leading-zero count, normalise, round/pack)
are shared by all units; see ``docs/architecture.md``.
"""
from macforge.golden import Rounding

from ._multiplier import ArrayMultiplier, Multiplier, MULTIPLIERS, StarMultiplier
from .build import generate, make_unit, write
from ._unit import naming_only
from .ffma import FFma
from .fmac import FMac
from .fmul import FMul
from .imac import IntMac
from .lmul import LMul, LMulMac
from ._lns import LnsAdd, LnsMac, LnsMul
from .posit import PMac, PMul
from .dot import FDot, IDot
from .convert import Convert
from .fadd import FAdd

__all__ = [
    "FMul", "FFma", "FMac", "IntMac", "LMul", "LMulMac", "PMul", "PMac", "LnsMul", "LnsMac", "LnsAdd", "Rounding",
    "Multiplier", "StarMultiplier", "ArrayMultiplier", "MULTIPLIERS",
    "FDot", "IDot", "Convert", "FAdd", "make_unit", "generate", "write", "naming_only",
]
