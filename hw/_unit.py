"""What every unit shares: parameter checks, the module name, the manifest."""
import contextlib
import contextvars
import functools
import re

from amaranth.hdl import Shape
from amaranth.lib import wiring

from macforge.limits import check as check_limit
from macforge.golden import FormatError, Rounding

from ._families import as_operand, as_result
from ._multiplier import Multiplier, StarMultiplier

__all__ = ["Unit", "naming_only", "quiet_on_error", "as_operand", "as_result", "as_rounding",
           "check_stages", "check_rnd_bits", "check_bool", "check_multiplier", "check_nan_capable"]


def quiet_on_error(init):
    """Decorate a unit's ``__init__``: if it rejects its parameters, the half-built object is
    not an "unused elaboratable" (Amaranth would otherwise warn when it is collected)."""
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except Exception:
            self._MustUse__silence = True        # amaranth._unused.MustUse's opt-out flag
            raise
    return wrapper


def as_rounding(value) -> Rounding:
    return Rounding.parse(value)


def check_stages(stages) -> int:
    return check_limit("stages", stages)


def check_rnd_bits(rnd_bits) -> int:
    # 1..32 as golden.resolve_rnd accepts; the rnd port is an integer of that width
    return check_limit("rnd_bits", rnd_bits)


def check_bool(value, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, not {value!r}")
    return value


def check_multiplier(multiplier):
    if not (isinstance(multiplier, type) and issubclass(multiplier, Multiplier)):
        raise TypeError(f"multiplier must be a Multiplier subclass, not {multiplier!r}")
    return multiplier


def check_nan_capable(out, *operands):
    """A result format without NaN cannot hold the NaN results of operands with NaN or inf."""
    if out.has_nan:
        return
    for fmt in operands:
        if getattr(fmt, "has_nan", False) or getattr(fmt, "has_inf", False):
            raise FormatError(f"{out.name} has no NaN, so it cannot hold the NaN results that "
                              f"{fmt.name} operands produce")


_NAMING_ONLY = contextvars.ContextVar("macforge_unit_naming_only", default=False)


@contextlib.contextmanager
def naming_only():
    """Units constructed inside run their own constructors (every parameter check, the same
    :attr:`Unit.module_name`, :meth:`Unit.manifest`) but get no port signals, the costly part
    of construction (Amaranth's ``Signature.create``): for validating and naming a million
    sweep points. Such a unit cannot be elaborated."""
    token = _NAMING_ONLY.set(True)
    try:
        yield
    finally:
        _NAMING_ONLY.reset(token)


def _token(fmt) -> str:
    # canonical names are identifiers except for a negative bias (e4m3b-3): spell '-' as 'n'
    return re.sub(r"[^a-z0-9_]", "_", fmt.name.lower().replace("-", "n"))


class Unit(wiring.Component):
    """Base of the generated units: ``module_name``, ``latency`` and ``manifest()``.

    Subclasses set ``_kind`` ("mul", "fma", "mac", "imac"), ``_prefix`` (module-name
    prefix), ``_roles`` (port name -> role) and call :meth:`_configure` before building the
    signature.
    """
    _kind = None
    _prefix = None
    #: What a bench must know about the unit's state (the manifest's ``state``): "none"
    #: (outputs depend on this cycle's inputs only), "observed" (the output is the whole
    #: state, so each step is checked from the output before it) or "replayed" (hidden state,
    #: e.g. the posit quire: the model recomputes it from the commands of each sum).
    _state = "none"
    #: The golden operation that defines the unit's outputs (the manifest's ``model``; the
    #: bench's reference model dispatches on it): "mul", "fma", "mac_step", "lmul",
    #: "lmul_mac_step", "lns_mac_step", "quire_mac" or "dot".
    _model = None
    _roles = {
        "a": "operand", "b": "operand", "c": "addend", "rnd": "random", "y": "result",
        "en": "enable", "first": "first", "clear": "clear", "acc": "accumulator",
    }

    def __init__(self, signature, *, src_loc_at=0):
        if not _NAMING_ONLY.get():
            super().__init__(signature, src_loc_at=src_loc_at + 1)
            return
        # what wiring.Component.__init__ does, minus creating the members' signals
        if not isinstance(signature, wiring.Signature):
            signature = wiring.Signature(signature)
        self._Component__signature = signature
        self._MustUse__silence = True               # never elaborated, by design

    def _configure(self, *, formats: dict, rounding, saturate: bool, stages: int,
                   rnd_bits, fused, latency: int, clocked: bool, multiplier=StarMultiplier):
        self._formats = formats
        self._rounding = rounding
        self._saturate = saturate
        self._stages = stages
        self._rnd_bits = rnd_bits if rounding is Rounding.SR else None
        self._fused = fused
        self._latency = latency
        self._clocked = clocked
        self._multiplier = multiplier

    @property
    def module_name(self) -> str:
        """Configuration as an identifier: Verilog top, cocotb toplevel, build directory.

        ``<unit>_<a>[_<b>]_<result>_<rounding>[_r<R>][_sat][_nf][_m<multiplier>]_s<stages>``:
        operand formats (``b`` only when it differs from ``a``), then the result or
        accumulator format, e.g. ``fmul_e4m3fn_e4m3fn_rne_s0``, ``fmac_e4m3fn_fp32_sr_r8_s2``,
        ``imac_int8_int32_wrap_s0`` (integer units say ``wrap`` or ``sat``).
        """
        f = self._formats
        parts = [self._prefix, _token(f["a"])]
        if f.get("b", f["a"]) != f["a"]:        # one-operand units (convert) have no b
            parts.append(_token(f["b"]))
        parts.append(_token(f.get("out", f.get("acc"))))
        if self._rounding is None:
            parts.append("sat" if self._saturate else "wrap")
        else:
            parts.append(self._rounding.value)
            if self._rnd_bits is not None:
                parts.append(f"r{self._rnd_bits}")
            if self._saturate:
                parts.append("sat")
        if self._fused is False:
            parts.append("nf")
        if self._multiplier is not None and self._multiplier is not StarMultiplier:
            parts.append(f"m{self._multiplier.tag}")
        parts += self._name_tokens()
        parts.append(f"s{self._stages}")
        return "_".join(parts)

    @property
    def name_stem(self) -> str:
        """:attr:`module_name` without its last token ``_s<stages>``: the unit with ``s``
        pipeline registers is named ``f"{stem}_s{s}"`` (stages change nothing else about a
        unit's validity or name), so a sweep over depths builds one unit per stem."""
        name, suffix = self.module_name, f"_s{self._stages}"
        assert name.endswith(suffix), (name, suffix)
        return name[: -len(suffix)]

    @property
    def format_names(self) -> dict:
        """Role ("a", "b", "out" or "acc", ...) -> format name: the manifest's ``formats``."""
        return {k: v.name for k, v in self._formats.items()}

    def _name_tokens(self) -> list:
        """Configuration tokens a unit adds before ``s<stages>`` (e.g. an L-Mul variant)."""
        return []

    def _manifest_extra(self) -> dict:
        """Keys a unit adds to its manifest (what the model needs: variant, P, A, ...)."""
        return {}

    @property
    def interleave(self) -> int:
        """Independent accumulators the unit steps in turn (C-slow MAC); 1 otherwise."""
        return 1

    @property
    def latency(self) -> int:
        """Cycles from inputs to the result (0: combinational)."""
        return self._latency

    def manifest(self) -> dict:
        """JSON-able description of the unit and its Verilog ports."""
        ports = []
        if self._clocked:
            ports += [{"name": "clk", "dir": "in", "width": 1, "role": "clock"},
                      {"name": "rst", "dir": "in", "width": 1, "role": "reset"}]
        for name, member in self.signature.members.items():
            ports.append({
                "name": name,
                "dir": "in" if member.flow == wiring.In else "out",
                "width": Shape.cast(member.shape).width,
                "role": self._roles[name],
            })
        return {
            "module": self.module_name,
            "unit": self._kind,
            "formats": self.format_names,
            "rounding": None if self._rounding is None else self._rounding.value,
            "saturate": self._saturate,
            "fused": self._fused,
            "stages": self._stages,
            "latency": self._latency,
            "state": self._state,
            "model": self._model,
            "interleave": self.interleave,
            "rnd_bits": self._rnd_bits,
            "multiplier": None if self._multiplier is None else self._multiplier.tag,
            "clock": "clk" if self._clocked else None,
            "reset": "rst" if self._clocked else None,
            "ports": ports,
            **self._manifest_extra(),
        }
