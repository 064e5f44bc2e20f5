"""The shared shape of the block quantiser and dequantiser (:mod:`hw.quantize`,
:mod:`hw.dequantize`): ``lanes`` lane ports ``a`` in and ``y`` out, one block per cycle."""
from macforge.golden import FormatError, Rounding

from ._unit import Unit, as_rounding

__all__ = ["BlockUnit"]


class BlockUnit(Unit):
    """Base of the block units: validated rounding and lanes, and the manifest keys the
    benches read (``lanes``, ``block``, ``scale``, ``elements``, the lane ports' widths).

    Subclasses call :meth:`_block_setup` first and give :meth:`_lane_formats`.
    """
    _roles = {**Unit._roles, "scale": "scale", "tscale": "tscale"}

    def _block_setup(self, blk, rounding, lanes) -> Rounding:
        """Check and keep the block format and lanes (1..block, default the block); returns
        the rounding (rne, rna, rtz, rup or rdn)."""
        rounding = as_rounding(rounding)
        if rounding is Rounding.SR:
            raise FormatError(f"unit {self._kind!r} rounds with rne, rna, rtz, rup or rdn "
                              f"(as golden.{self._kind})")
        lanes = blk.block if lanes is None else lanes
        if not isinstance(lanes, int) or isinstance(lanes, bool) or not 1 <= lanes <= blk.block:
            raise FormatError(f"lanes must be an integer 1..{blk.block} (the block), "
                              f"not {lanes!r}")
        self._lanes = lanes
        self._blk = blk
        return rounding

    def _lane_formats(self) -> dict:
        """``{"a": format of an input lane, "y": format of an output lane}``."""
        raise NotImplementedError

    def _manifest_extra(self) -> dict:
        return {"lanes": self._lanes, "align": None, "block": self._blk.block,
                "scale": self._blk.scale.name,
                "elements": {k: f.name for k, f in self._lane_formats().items()},
                "element_exp": self._blk.element_exp, "preset": None}

    def manifest(self) -> dict:
        man = super().manifest()
        lanes = self._lane_formats()
        for p in man["ports"]:          # lane ports carry their lane width (hw.dot's convention)
            if p["name"] in lanes:
                p["lanes"] = self._lanes
                p["lane_bits"] = lanes[p["name"]].bits
        return man
