"""macforge golden model: bit-exact, vectorised numpy semantics of every number format.

Public API (docs/formats.md, "Public Python API"; outside tests rely on it)::

    from macforge import golden
    f = golden.parse("e4m3")                 # golden.Format; .name (canonical), .bits
    f.decode(codes) -> np.ndarray[float64]
    f.encode(x, rounding="rne", saturate=False, rnd=None) -> np.ndarray[unsigned]
    golden.mul(a, b, fmt, out, rounding="rne", fmt_b=None, rnd=None)
    golden.fma(a, b, c, fmt, acc, rounding="rne", rnd=None)
    golden.dot(A, B, c, fmt, acc, align=None, rounding="rne")   # lane-wise over the last axis
    golden.matmul(A, B, fmt, acc, c=None, preset=None, scales=None)  # (..., M, K) @ (..., K, N)

Operands may be codes or arrays of the format's ml_dtypes type (``f.ml_dtype``);
``output="ml_dtypes"`` returns results as that type.
    golden.lmul(a, b, fmt, out=None, variant="formula")

Families: integers and minifloats (``_formats``), posits with their quire (``_posit``,
``_quire``), LNS with the LNS-Madam MAC (``_lns``); L-Mul (``_lmul``) and error statistics
(``_errstats``) are operations on them.
"""
from ._formats import FormatError, Rounding, Specials, Format, storage_dtype
from ._int import Int
from ._minifloat import Minifloat
from ._registry import parse, known_names, FAMILIES
from ._ops import mul, fma, add, mac_step
from ._dot import dot, matmul
from ._convert import convert, scale_exponent
from ._posit import Posit
from ._quire import quire_limbs, quire_zero, quire_step, quire_read, quire_to_int
from ._lns import Lns
from ._lnsops import (lns_mul, lns_add, lns_gauss_tables, lns_mac_table, lns_mac_terms,
                      lns_mac_step, lns_acc_value)
from ._lmul import LmulVariant, lmul, lmul_exact, lmul_mac_step, lmul_dot
from ._errstats import ErrorStats, error_stats
from ._sumstats import SumStats, running_sum_stats
from ._hif8 import HiF8
from ._block import BlockFormat
from ._blockops import BlockTensor, quantize, dequantize, block_dot

__all__ = [
    "FormatError", "Rounding", "Specials", "Format", "Int", "Minifloat", "storage_dtype",
    "parse", "known_names", "FAMILIES", "mul", "fma", "add", "dot", "matmul", "mac_step", "convert",
    "scale_exponent",
    "Posit", "quire_limbs", "quire_zero", "quire_step", "quire_read", "quire_to_int",
    "Lns", "lns_mul", "lns_add", "lns_gauss_tables", "lns_mac_table", "lns_mac_terms", "lns_mac_step",
    "lns_acc_value",
    "LmulVariant", "lmul", "lmul_exact", "lmul_mac_step", "lmul_dot",
    "ErrorStats", "error_stats", "SumStats", "running_sum_stats",
    "HiF8", "BlockFormat", "BlockTensor", "quantize", "dequantize", "block_dot",
]
