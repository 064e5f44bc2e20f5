"""The shared rounder: normalise a raw record, then the packer of the output format's family."""
from macforge.golden import Rounding

from ._families import packer as packer_of
from ._normalise import Normalise
from ._round import round_bits_for

__all__ = ["round_pack"]


def round_pack(m, plan, raw, rnd, fmt, rounding: Rounding, saturate: bool, rnd_bits: int,
               *, prefix: str = "", packer=None):
    """The shared rounder: :class:`~hw._normalise.Normalise`, a ``"normalised"`` cut, and the
    packer of ``fmt``'s family (:func:`hw._families.packer`: :class:`~hw._round.Round` for
    minifloats, :class:`~hw._hif8.HiF8Round` for hif8, ...).

    ``packer`` replaces the family's packer (a cast into an integer: its ``cast_packer``).
    Adds both halves to module ``m`` (names prefixed by ``prefix``) and returns
    ``(code, rnd)``: ``rnd`` (None unless ``rounding`` is SR) comes back delayed as the value
    was, for a second rounding that reuses it.
    """
    packer = packer or packer_of(fmt)
    norm = Normalise(packer.grid(fmt), raw.shape(), round_bits_for(rounding, rnd_bits))
    m.submodules[prefix + "normalise"] = norm
    m.d.comb += norm.raw.eq(raw)
    normalised, rnd = plan.cut(m, "normalised", norm.norm, rnd)
    rounder = packer(fmt, normalised.shape(), rounding, saturate, rnd_bits)
    m.submodules[prefix + "round"] = rounder
    m.d.comb += rounder.norm.eq(normalised)
    if rounding is Rounding.SR:
        m.d.comb += rounder.rnd.eq(rnd)
    return rounder.code, rnd
