"""Pipeline cuts: where a unit's ``stages`` registers go.

Every unit names its datapath phase boundaries in order (for a multiplier: after
unpack+multiply, after normalise). ``stages = k`` puts one register bank on each of the first
``k`` boundaries; stages beyond the number of boundaries become extra register banks at the
unit's output (for a MAC: at the end of the product path, since the accumulate loop itself
stays one cycle). Every value that crosses an active boundary is registered, so all values
downstream of a cut are delayed alike and the latency is exactly ``stages``.
"""
from amaranth.hdl import Signal, Value, ValueCastable

__all__ = ["PipelinePlan", "COMBINATIONAL"]


class PipelinePlan:
    """Registers on the first ``stages`` of ``boundaries``, the rest at the output.

    Parameters
    ----------
    stages : int
        Register banks in total (non-negative).
    boundaries : tuple of str
        The unit's phase boundaries, in datapath order.

    Examples
    --------
    >>> plan = PipelinePlan(3, ("product", "normalised"))
    >>> plan.active, plan.extra
    (('product', 'normalised'), 1)
    """

    def __init__(self, stages: int, boundaries: tuple = ()):
        self.stages = stages
        self.boundaries = tuple(boundaries)
        self.active = self.boundaries[:stages]
        self.extra = stages - len(self.active)

    def _register(self, m, value, name, reset_less):
        if value is None:                    # an absent optional port (rnd without SR)
            return None
        if not isinstance(value, (Value, ValueCastable)):
            value = Value.cast(value)
        reg = Signal(value.shape(), name=name, reset_less=reset_less)
        m.d.sync += reg.eq(value)
        return reg

    def cut(self, m, boundary: str, *values, reset_less: bool = True):
        """Return ``values``, registered if ``boundary`` carries a register bank.

        A boundary the plan does not name is simply not a cut (so one datapath builder
        serves a pipelined unit and a MAC's combinational loop alike).

        Datapath values need no reset (``reset_less=True``, cheaper); control bits that must
        be quiet after reset (a MAC's ``en``) pass ``reset_less=False``.
        """
        if boundary not in self.active:
            return values if len(values) != 1 else values[0]
        regs = tuple(self._register(m, v, f"{boundary}_q{i}", reset_less)
                     for i, v in enumerate(values))
        return regs if len(regs) != 1 else regs[0]

    def output(self, m, *values, reset_less: bool = True):
        """Return ``values`` delayed by the extra stages (those beyond the boundaries)."""
        for k in range(self.extra):
            values = tuple(self._register(m, v, f"out{k}_q{i}", reset_less)
                           for i, v in enumerate(values))
        return values if len(values) != 1 else values[0]


#: A plan with no registers: the accumulate loop of a MAC, and every stages=0 unit.
COMBINATIONAL = PipelinePlan(0)
