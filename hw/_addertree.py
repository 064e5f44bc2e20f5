"""Aligner and adder tree of the dot-product units: many terms into one fixed-point window.

A k-lane dot product sums k products (and, in tensor-core ``align=W`` mode, the accumulator)
exactly in integer arithmetic: every term is placed into a window whose top bit has a chosen
weight (``top``) by a right shift of ``top - exp`` bits, bits falling below the window are
truncated (toward zero: the term is a magnitude until it is negated), the term is negated
when its sign is set, and a balanced tree of two-input adders sums the two's-complement
values. The same pieces serve every element format:

* exact (Kulisch) mode: ``top`` is the largest product exponent the formats allow and the
  window reaches the smallest product bit, so nothing is ever truncated;
* ``align=W`` mode: ``top`` is ``emax`` (the largest leading exponent among the terms, a
  :class:`MaxTree`) and the window keeps W bits below it (docs/formats.md, ``dot(..., align=W)``).
"""
from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, ceil_log2

from ._lzc import LeadingZeroCounter
from ._shift import ShiftRightSticky

__all__ = ["AdderTree", "AlignTerm", "MaxTree", "Term", "aligned_sum", "term_lead",
           "sign_magnitude"]


class AdderTree(wiring.Component):
    """Exact sum of ``n`` signed ``width``-bit terms: ceil(log2 n) levels of two-input adders.

    Each level widens its sums by one bit (Amaranth's exact ``+``), so the result needs
    ``width + ceil(log2 n)`` bits and nothing overflows.

    Parameters
    ----------
    width : int
        Width of each (signed) term.
    n : int
        Number of terms.

    Attributes
    ----------
    terms : in, ``ArrayLayout(signed(width), n)``
    sum : out, ``signed(width + ceil_log2(n))``
    """

    def __init__(self, width: int, n: int):
        if not isinstance(width, int) or width < 1:
            raise TypeError(f"width must be a positive integer, not {width!r}")
        if not isinstance(n, int) or n < 1:
            raise TypeError(f"n must be a positive integer, not {n!r}")
        self._n = n
        super().__init__({
            "terms": In(data.ArrayLayout(signed(width), n)),
            "sum": Out(signed(width + ceil_log2(n))),
        })

    def elaborate(self, platform):
        m = Module()
        rows = [self.terms[i] for i in range(self._n)]
        while len(rows) > 1:                 # pairwise: an odd row passes to the next level
            rows = [rows[i] + rows[i + 1] if i + 1 < len(rows) else rows[i]
                    for i in range(0, len(rows), 2)]
        m.d.comb += self.sum.eq(rows[0])
        return m


class AlignTerm(wiring.Component):
    """One term as a two's-complement integer of a fixed-point window (truncating aligner).

    ``sig`` (an unsigned significand) is placed at the top of a ``width``-bit window and shifted
    right by ``distance``; bits that leave the window are dropped (truncation toward zero of
    the magnitude), then the value is negated when ``sign`` is set. A term that is not
    ``live`` (zero, inf, NaN, or an accumulator replaced by the additive identity) gives 0.
    When ``sig`` is wider than the window its bits below the window are dropped at once.

    Parameters
    ----------
    sig_width : int
    width : int
        Window width; the result is ``signed(width + 1)``.
    max_distance : int
        Largest shift the caller presents (sizes ``distance``; ``width`` or more drops all).

    Attributes
    ----------
    sig : in, ``sig_width`` bits
    sign, live : in, 1 bit each
    distance : in, ``range(max_distance + 1)``
    value : out, ``signed(width + 1)``
    """

    def __init__(self, sig_width: int, width: int, max_distance: int):
        self._sig_width = sig_width
        self._width = width
        self._max_distance = max_distance
        super().__init__({
            "sig": In(sig_width),
            "sign": In(1),
            "live": In(1),
            "distance": In(range(max_distance + 1)),
            "value": Out(signed(width + 1)),
        })

    def elaborate(self, platform):
        m = Module()
        width, sw = self._width, self._sig_width
        if sw <= width:
            slot = Cat(Const(0, width - sw), self.sig)          # sig's top at the window top
        else:
            slot = self.sig[sw - width:]                         # the rest lies below the window
        if self._max_distance:
            m.submodules.shift = shr = ShiftRightSticky(width, self._max_distance)
            m.d.comb += [shr.i.eq(slot), shr.amount.eq(self.distance)]
            magnitude = shr.o                                    # shr.sticky: truncated away
        else:
            magnitude = slot
        m.d.comb += self.value.eq(Mux(self.live, Mux(self.sign, -magnitude, magnitude), 0))
        return m


class MaxTree(wiring.Component):
    """Largest of ``n`` signed values among those whose ``valid`` bit is set.

    A balanced tree of compare-and-select nodes. ``any`` says whether any input was valid;
    ``max`` is then the largest valid value (else unspecified: the producer masks it).

    Parameters
    ----------
    shape : signed shape of the values
    n : int

    Attributes
    ----------
    values : in, ``ArrayLayout(shape, n)``
    valid : in, ``n`` bits
    any : out, 1 bit
    max : out, ``shape``
    """

    def __init__(self, shape, n: int):
        self._n = n
        super().__init__({
            "values": In(data.ArrayLayout(shape, n)),
            "valid": In(n),
            "any": Out(1),
            "max": Out(shape),
        })

    def elaborate(self, platform):
        m = Module()
        nodes = [(self.valid[i], self.values[i]) for i in range(self._n)]
        level = 0
        while len(nodes) > 1:
            merged = []
            for i in range(0, len(nodes), 2):
                if i + 1 == len(nodes):
                    merged.append(nodes[i])
                    continue
                (va, xa), (vb, xb) = nodes[i], nodes[i + 1]
                pick = Signal(self.max.shape(), name=f"max_l{level}_{i // 2}")
                # b wins when it is valid and (a is not, or b is larger)
                m.d.comb += pick.eq(Mux(vb & (~va | (xb > xa)), xb, xa))
                merged.append((va | vb, pick))
            nodes = merged
            level += 1
        valid, value = nodes[0]
        m.d.comb += [self.any.eq(valid), self.max.eq(value)]
        return m


class Term:
    """A term for :func:`aligned_sum`: ``(-1)^sign * sig`` with ``sig``'s top bit of weight
    ``2^exp``; ``live`` = 0 makes it contribute nothing; ``lead_zeros`` bounds the leading
    zeros of a nonzero ``sig`` (0: normalised) for :func:`term_lead`."""

    def __init__(self, sig, exp, sign, live, lead_zeros: int = 0):
        self.sig, self.exp, self.sign, self.live = sig, exp, sign, live
        self.lead_zeros = lead_zeros


def term_lead(m, term: Term, name: str):
    """Exponent of the leading one of a nonzero term: ``exp`` minus the leading zeros of
    ``sig``, counted over its top ``lead_zeros + 1`` bits only (the bound the producer gives:
    a product of normalised significands has at most one)."""
    if term.lead_zeros == 0:
        return term.exp
    look = min(term.lead_zeros + 1, len(term.sig))
    lzc = LeadingZeroCounter(look)
    m.submodules[name] = lzc
    m.d.comb += lzc.i.eq(term.sig[len(term.sig) - look:])
    return term.exp - lzc.count


def aligned_sum(m, terms, top, width: int, max_distance: int, *, prefix: str = "term"):
    """Exact sum of ``terms`` (:class:`Term`) in a ``width``-bit window with top weight ``top``.

    Term ``i`` is shifted right by ``top - exp_i`` (clamped to ``0..max_distance``; the
    caller guarantees ``exp_i <= top`` for live terms) and truncated at the window's bottom,
    weight ``top - width + 1``. Returns the two's-complement sum, ``signed(width + 1 +
    ceil_log2(len(terms)))``, in units of that bottom weight.
    """
    n = len(terms)
    m.submodules[f"{prefix}_tree"] = tree = AdderTree(width + 1, n)
    for i, t in enumerate(terms):
        align = AlignTerm(len(t.sig), width, max_distance)
        m.submodules[f"{prefix}{i}_align"] = align
        if max_distance:
            gap = Signal(signed(max(bits_for(max_distance, True), len(top - t.exp))),
                         name=f"{prefix}{i}_gap")
            m.d.comb += gap.eq(top - t.exp)
            m.d.comb += align.distance.eq(Mux(gap > max_distance, max_distance,
                                              Mux(gap < 0, 0, gap)))
        m.d.comb += [align.sig.eq(t.sig), align.sign.eq(t.sign), align.live.eq(t.live),
                     tree.terms[i].eq(align.value)]
    return tree.sum


def sign_magnitude(m, value, name: str):
    """``(negative, magnitude)`` of a two's-complement ``value``; the magnitude is unsigned and
    one bit narrower (|most negative| cannot occur: sums of truncated magnitudes stay inside)."""
    width = len(value)
    negative = value[-1]
    magnitude = Signal(unsigned(width - 1), name=name)
    m.d.comb += magnitude.eq(Mux(negative, -value, value)[:width - 1])
    return negative, magnitude
