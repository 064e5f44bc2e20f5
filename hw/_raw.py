"""The raw float record: an unrounded, wide value passed from a datapath to the rounder.

HardFloat's split: decode produces a raw record, the datapath (multiply, align+add) keeps it
raw and wide, and one shared rounder per output format turns it into a code.
"""
from amaranth.hdl import signed, unsigned
from amaranth.lib import data
from amaranth.utils import bits_for

__all__ = ["RawFloatLayout"]


class RawFloatLayout(data.StructLayout):
    """Layout of a raw float: ``(-1)^sign * sig * 2^(exp - (sig_width - 1))`` (+ sticky).

    ``sig`` is a ``sig_width``-bit unsigned fixed-point significand whose top bit has weight
    ``2^exp``; it may have leading zeros (subnormal inputs, cancellation) -- the rounder
    normalises. ``sticky`` says the exact magnitude lies strictly above ``sig`` by less than
    one unit of its last bit (truncated magnitude + sticky). ``exp`` is a signed field
    covering ``exp_min..exp_max``, ranges the producer states so that consumers can drop
    logic the range makes dead (no overflow check when ``exp_max`` cannot overflow).

    Which field wins: ``is_nan`` overrides everything; then ``is_inf`` (with ``sign``); then
    the finite value given by ``sign``, ``sig`` and ``sticky``. ``is_zero`` marks an exact
    zero (``sig`` is 0 and ``sticky`` 0 then too); it is informative for datapaths that pick
    zero signs, and the rounder does not need it.

    Parameters
    ----------
    exp_min, exp_max : int
        Range of ``exp``.
    sig_width : int
        Width of ``sig``.
    """

    def __init__(self, exp_min: int, exp_max: int, sig_width: int):
        if exp_min > exp_max:
            raise ValueError(f"exp_min must not exceed exp_max, not {exp_min} > {exp_max}")
        if sig_width < 1:
            raise ValueError(f"sig_width must be a positive integer, not {sig_width}")
        self.exp_min = exp_min
        self.exp_max = exp_max
        self.sig_width = sig_width
        exp_bits = max(bits_for(exp_min, True), bits_for(exp_max, True))
        super().__init__({
            "sig": unsigned(sig_width),
            "exp": signed(exp_bits),
            "sign": 1,
            "sticky": 1,
            "is_zero": 1,
            "is_inf": 1,
            "is_nan": 1,
        })

    def __repr__(self):
        return f"RawFloatLayout(exp {self.exp_min}..{self.exp_max}, sig {self.sig_width} bits)"
