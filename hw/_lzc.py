"""Leading-zero count."""
from amaranth.hdl import Module, Cat, Const, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

__all__ = ["LeadingZeroCounter", "normalise_left"]


class LeadingZeroCounter(wiring.Component):
    """Number of zeros above the most significant one of ``i`` (``width`` if ``i`` is 0).

    A balanced tree (log2(width) levels of 2:1 muxes) rather than a priority chain: each node
    combines the counts of its two halves, taking the upper count unless the upper half is all
    zeros. The input is padded at the bottom with ones to a power of two, which changes no
    count below ``width`` and caps the all-zero count at ``width``.

    Parameters
    ----------
    width : int
        Width of ``i``.

    Attributes
    ----------
    i : Signal(width), in
    count : Signal(range(width + 1)), out
    """

    def __init__(self, width: int):
        if not isinstance(width, int) or width < 1:
            raise TypeError(f"width must be a positive integer, not {width!r}")
        self._width = width
        super().__init__({"i": In(width), "count": Out(range(width + 1))})

    def elaborate(self, platform):
        m = Module()
        levels = ceil_log2(self._width)
        pad = (1 << levels) - self._width
        # padded = i followed by `pad` ones below it; bit order: index 0 = least significant
        padded = Cat(Const((1 << pad) - 1, pad), self.i) if pad else self.i
        # nodes: (all_zero, count) per block, from single bits up; a block of 2^k bits has a
        # k-bit count (None for single bits, whose count is always 0)
        nodes = [(~padded[k], None) for k in range(1 << levels)]
        for level in range(levels):
            merged = []
            for k in range(0, len(nodes), 2):
                (z_lo, c_lo), (z_hi, c_hi) = nodes[k], nodes[k + 1]
                count = z_hi if c_hi is None else Cat(Mux(z_hi, c_lo, c_hi), z_hi)
                merged.append((z_hi & z_lo, count))
            nodes = merged
        zero, count = nodes[0]
        if levels == 0:
            m.d.comb += self.count.eq(zero)
        else:
            # all ones were padded below, so an all-zero root means i == 0 and pad == 0
            m.d.comb += self.count.eq(Mux(zero, self._width, count))
        return m


def normalise_left(m, sig, exp, name: str = "lzc"):
    """``(sig << lzc, exp - lzc)``: ``sig`` shifted up to a leading one (a zero shifts by its
    width), adding the counter to module ``m`` as submodule ``name``. The decoders' normalise."""
    m.submodules[name] = lzc = LeadingZeroCounter(len(sig))
    m.d.comb += lzc.i.eq(sig)
    return (sig << lzc.count)[:len(sig)], exp - lzc.count
