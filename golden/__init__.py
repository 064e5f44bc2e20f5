"""macforge golden model: bit-exact, vectorised numpy semantics of every number format.

Public API (FORMATS.md, "Public Python API"; outside tests rely on it)::

    import golden
    f = golden.parse("e4m3")                 # golden.Format; .name (canonical), .bits
    f.decode(codes) -> np.ndarray[float64]
    f.encode(x, rounding="rne", saturate=False, rnd=None) -> np.ndarray[unsigned]
    golden.mul(a, b, fmt, out, rounding="rne", fmt_b=None, rnd=None)
    golden.fma(a, b, c, fmt, acc, rounding="rne", rnd=None)
    golden.dot(A, B, c, fmt, acc, align=None, rounding="rne")
"""
from ._formats import FormatError, Rounding, Specials, Format, Int, Minifloat, storage_dtype
from ._registry import parse, known_names, FAMILIES
from ._ops import mul, fma, dot, mac_step

__all__ = [
    "FormatError", "Rounding", "Specials", "Format", "Int", "Minifloat", "storage_dtype",
    "parse", "known_names", "FAMILIES", "mul", "fma", "dot", "mac_step",
]
