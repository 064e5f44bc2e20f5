"""Finding a format family's hardware: the hw module named as its golden module (see
:mod:`hw._family`): ``golden/_takum.py`` defines the family, ``hw/_takum.py`` its ``HW``.

The units never branch on format families; they ask here: :func:`decoder` for an operand's
decoder, :func:`packer` for a result's rounder/packer, :func:`code_shape` and
:func:`raw_layout_of` for port shapes and raw ranges, :func:`own_units` for the family's own
units. A family's module is found by its name, so a new family is its golden module, its hw
module and its golden registry line, and nothing here changes.
"""
from __future__ import annotations

import importlib
from functools import lru_cache

from macforge.golden import FAMILIES, FormatError, parse

from ._family import HwFamily

__all__ = ["hw_family", "decoder", "packer", "code_shape", "raw_layout_of", "own_units",
           "operand_families", "result_families", "as_operand", "as_result", "cast_packer",
           "cast_families", "as_cast_result"]

_NONE = HwFamily()


@lru_cache(maxsize=None)
def _hw_of(cls: type) -> HwFamily:
    """``HW`` of the hw module named as ``cls``'s golden module (an empty HwFamily if none)."""
    name = f"{__package__}.{cls.__module__.rsplit('.', 1)[1]}"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return _NONE
    return getattr(mod, "HW", _NONE)


def hw_family(fmt) -> HwFamily:
    """The :class:`~hw._family.HwFamily` of ``fmt``'s family (an empty one if it has none)."""
    return _hw_of(type(parse(fmt)))


def _families() -> dict:
    """Every registered family's hardware, by family name, in registry order."""
    return {fam.cls.family: _hw_of(fam.cls) for fam in FAMILIES}


def _names(kinds) -> str:
    kinds = list(kinds)
    return kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]


def operand_families() -> str:
    """"integer, minifloat or hif8": the families the shared units take as operands."""
    return _names(n for n, f in _families().items() if f.decoder is not None)


def result_families() -> str:
    """The families the shared units round into (results and accumulators)."""
    return _names(n for n, f in _families().items() if f.packer is not None)


def as_operand(value, what: str):
    """An operand format of the shared units: a name or format object with a decoder."""
    fmt = parse(value)
    if hw_family(fmt).decoder is None:
        raise FormatError(f"{what} must be an operand format ({operand_families()}), not "
                          f"{fmt.name} ({fmt.family})")
    return fmt


def as_result(value, what: str):
    """A result/accumulator format of the shared units: a family with a packer, and a format
    the packer can produce (``result_check``)."""
    fmt = parse(value)
    fam = hw_family(fmt)
    why = fam.result_check(fmt) if fam.packer is not None and fam.result_check else None
    if fam.packer is None or why:
        raise FormatError(f"{what} must be a result format ({result_families()}), not "
                          f"{fmt.name} ({why or fmt.family})")
    return fmt


def decoder(fmt, normalise: bool = False):
    """A decoder component of ``fmt`` codes into the raw record (see :class:`HwFamily`)."""
    return _need(fmt, "decoder").decoder(fmt, normalise=normalise)


def packer(fmt):
    """The packer class that rounds a normalised raw record into ``fmt``."""
    return _need(fmt, "packer").packer


def cast_packer(fmt):
    """The packer a cast (:class:`~hw.Convert`) rounds into ``fmt`` with: the family's packer,
    else its ``cast_packer`` (integers)."""
    fam = hw_family(fmt)
    return fam.packer or _need(fmt, "cast_packer").cast_packer


def cast_families() -> str:
    """The families a cast rounds into."""
    return _names(n for n, f in _families().items() if f.packer or f.cast_packer)


def as_cast_result(value, what: str):
    """A result format of a cast: a result format of the shared units, or a family with a
    ``cast_packer``."""
    fmt = parse(value)
    fam = hw_family(fmt)
    if fam.packer is not None:
        return as_result(fmt, what)
    if fam.cast_packer is None:
        raise FormatError(f"{what} must be a cast result format ({cast_families()}), not "
                          f"{fmt.name} ({fmt.family})")
    return fmt


def code_shape(fmt):
    """Amaranth shape of a ``fmt`` code on a port."""
    return _need(fmt, "code_shape").code_shape(fmt)


def raw_layout_of(fmt, normalise: bool = False):
    """The raw record layout ``fmt``'s decoder produces."""
    return _need(fmt, "raw_layout").raw_layout(fmt, normalise)


def own_units(fmt) -> dict:
    """The family's own unit for each generic unit name (empty: the shared units)."""
    return hw_family(fmt).units


def _need(fmt, what):
    fam = hw_family(fmt)
    if getattr(fam, what) is None:
        raise FormatError(f"{parse(fmt).name} ({parse(fmt).family}) has no hardware {what.replace('_', ' ')}")
    return fam
