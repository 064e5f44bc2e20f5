"""Block formats (MX, NVFP4) in hardware: they run on the k-lane dot units (:mod:`hw.dot`
decodes the element and scale formats through their own families)."""
from ._family import HwFamily

__all__ = ["HW"]

HW = HwFamily(units={"dot": "dot", "dequantize": "dequantize"})
