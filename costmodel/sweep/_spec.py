"""Sweep files: YAML -> validated points and measurement settings.

Every value is checked before any job runs, and every error is one line naming the file, the
line and the YAML key (``sweep.yaml:7: axes.format: unknown format 'e9m9'; accepted: ...``).
Line numbers come from the YAML node marks (``yaml.SafeLoader.compose``), so they point at the
value itself, not at its block.
"""
from __future__ import annotations

import hashlib
import inspect
import itertools
import math
import os
from dataclasses import dataclass, field

import yaml

from macforge.errors import MacforgeError
from macforge.limits import LIMITS, BoundsError, check as check_limit, shown

__all__ = ["SweepError", "Point", "Spec", "load_spec", "parse_spec", "AXES", "MEASURES",
           "FPGA_TARGETS", "PNR_TARGETS"]

#: Axes every sweep has (defaults in brackets are those of ``macforge cost``/``sim``).
AXES = ("unit", "format", "format_b", "acc", "rounding", "stages", "saturate", "fused")
_DEFAULTS = {"unit": "mac", "format_b": None, "acc": None, "rounding": "rne", "stages": 0,
             "saturate": False, "fused": True}
#: YAML axis name -> :func:`hw.make_unit` parameter (the rest are spelled alike).
_ALIASES = {"format": "fmt", "format_b": "fmt_b"}
#: Measurements a sweep can ask for (see :func:`costmodel.sweep._point.evaluate`).
MEASURES = ("asic", "fpga", "error_stats", "verify")
FPGA_TARGETS = ("ice40", "ecp5", "xilinx")
PNR_TARGETS = ("ice40", "ecp5")                       # what nextpnr places and routes
_TOP_KEYS = ("name", "axes", "exclude", "skip_invalid", "measure", "dask")
#: The ``dask:`` block: the scheduler and the TLS files (costmodel.sweep._run.dask_security).
DASK_KEYS = ("scheduler", "tls_ca_file", "tls_cert", "tls_key")


class SweepError(MacforgeError, ValueError):
    """Bad sweep file or options: one line, ``file:line: key: what is wrong``."""


@dataclass(frozen=True)
class Point:
    """One design point: its axis values (defaults filled in, ``acc`` resolved), the
    :func:`hw.make_unit` keyword arguments and the generated module's name."""
    axes: dict
    kwargs: dict
    module: str


@dataclass
class Spec:
    """A parsed sweep file."""
    path: str
    name: str
    text: str
    points: list
    measure: dict
    excluded: int = 0
    invalid: list = field(default_factory=list)    # (axes, reason) skipped by skip_invalid
    dask: dict = field(default_factory=dict)       # the dask: block (paths made absolute)
    n_points: int = 0                              # len(points), also when points are not kept


# -- YAML nodes with line numbers ----------------------------------------------------------------
class _Doc:
    def __init__(self, path, text):
        self.path = path
        self.loader = yaml.SafeLoader(text)

    def fail(self, node, where, msg):
        line = node.start_mark.line + 1 if node is not None else 1
        raise SweepError(f"{self.path}:{line}: {where}: {msg}" if where else
                         f"{self.path}:{line}: {msg}")

    def value(self, node):
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node, where, accepted=None):
        """[(key, key node, value node)] of a mapping node, keys checked."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, where, f"expected a mapping (key: value lines), not {_kind(node)}")
        out, seen = [], set()
        for knode, vnode in node.value:
            k = self.value(knode)
            if not isinstance(k, str):
                self.fail(knode, where, f"keys are names, not {k!r}")
            if k in seen:
                self.fail(knode, _join(where, k), "given twice")
            seen.add(k)
            if accepted is not None and k not in accepted:
                self.fail(knode, _join(where, k), "unknown key; accepted: " + ", ".join(accepted))
            out.append((k, knode, vnode))
        return out

    def scalar(self, node, where):
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, where, f"expected a single value, not {_kind(node)}")
        return self.value(node)


def _kind(node):
    return {yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}.get(type(node), "a value")


def _join(where, key):
    return f"{where}.{key}" if where else key


# -- axes ------------------------------------------------------------------------------------------
def _make_unit_params():
    from macforge.hw.build import make_unit
    return {name: p.default for name, p in inspect.signature(make_unit).parameters.items()}


def _accepted_axes(params):
    extra = [n for n in params if n not in ("unit", "fmt", "fmt_b", *AXES)]
    return list(AXES) + extra


def _check_value(axis, v, params):
    """The value itself, or raise ValueError/FormatError with the reason (no file/line)."""
    from macforge import golden
    from macforge.hw.build import UNITS
    if axis == "unit":
        if v not in UNITS:
            raise ValueError(f"unknown unit {v!r}; accepted: " + ", ".join(UNITS))
        return v
    if axis in ("format", "format_b", "acc"):
        if v is None and axis != "format":
            return None
        if not isinstance(v, str):
            raise ValueError(f"a format name such as e4m3 or fp32, not {v!r}")
        golden.parse(v)
        return v
    if axis == "rounding":
        golden.Rounding.parse(v)
        return v
    default = params.get(_ALIASES.get(axis, axis))
    if isinstance(default, bool):
        if not isinstance(v, bool):
            raise ValueError(f"must be true or false, not {v!r}")
    elif isinstance(default, int):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"must be a non-negative integer, not {shown(v)}")
        if axis in LIMITS:
            check_limit(axis, v)
    elif isinstance(default, str):
        if not isinstance(v, str):
            raise ValueError(f"must be a name, not {v!r}")
    elif isinstance(v, (list, dict)):
        raise ValueError(f"must be a single value, not {v!r}")
    return v


def _axis_values(doc, axis, node, where, params):
    """[(value, node)] for one axis: a value, a list, or a range {from, to, step}."""
    if isinstance(node, yaml.SequenceNode):
        items = [(doc.scalar(n, where), n) for n in node.value]
        if not items:
            doc.fail(node, where, "an empty list; give at least one value")
    elif isinstance(node, yaml.MappingNode):
        r = {k: (doc.scalar(v, _join(where, k)), v)
             for k, _, v in doc.mapping(node, where, ("from", "to", "step"))}
        for k in ("from", "to"):
            if k not in r:
                doc.fail(node, where, f"a range needs 'from' and 'to' (and optionally 'step'), "
                                      f"missing {k!r}")
        step = r.get("step", (1, node))
        for k, (v, n) in {**r, "step": step}.items():
            if isinstance(v, bool) or not isinstance(v, int):
                doc.fail(n, _join(where, k), f"range bounds are integers, not {shown(v)}")
        if step[0] < 1:
            doc.fail(step[1], _join(where, "step"), f"must be a positive integer, not "
                                                    f"{shown(step[0])}")
        values = range(r["from"][0], r["to"][0] + 1, step[0])
        if len(values) > LIMITS["sweep_product"].hi:         # before a list is made of it
            doc.fail(node, where, f"a range of {shown(len(values))} values; at most "
                                  f"{LIMITS['sweep_product'].hi:,} combinations are accepted")
        items = [(v, node) for v in values]
        if not items:
            doc.fail(node, where, f"empty range: from {r['from'][0]} to {r['to'][0]}")
    else:
        items = [(doc.scalar(node, where), node)]
    out = []
    for v, n in items:
        try:
            out.append((_check_value(axis, v, params), n))
        except ValueError as exc:          # golden.FormatError is a ValueError
            doc.fail(n, where, str(exc))
    return out


def _blocks(doc, node, params):
    """The axis blocks: one mapping, or a list of mappings (their cross-products joined)."""
    accepted = _accepted_axes(params)
    nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if not nodes:
        doc.fail(node, "axes", "an empty list; give at least one block of axes")
    blocks = []
    for i, b in enumerate(nodes):
        where = "axes" if len(nodes) == 1 and b is node else f"axes[{i}]"
        axes = {}
        for k, _, v in doc.mapping(b, where, accepted):
            axes[k] = _axis_values(doc, k, v, _join(where, k), params)
        if "format" not in axes:
            doc.fail(b, where, "needs a 'format' axis (the operand format(s))")
        blocks.append(axes)
    return blocks


def _exclusions(doc, node, params):
    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        doc.fail(node, "exclude", "expected a list of mappings such as "
                                  "- {unit: mul, stages: 1}")
    out = []
    for i, m in enumerate(node.value):
        where = f"exclude[{i}]"
        rule = {}
        for k, _, v in doc.mapping(m, where, _accepted_axes(params)):
            rule[k] = {val for val, _ in _axis_values(doc, k, v, _join(where, k), params)}
        out.append(rule)
    return out


# -- measurements ------------------------------------------------------------------------------------
def _int(doc, node, where, limit):
    v = doc.scalar(node, where)
    try:
        return check_limit(limit, v, "")
    except BoundsError:
        doc.fail(node, where, f"must be {LIMITS[limit].describe()}, not {shown(v)}")


def _bool(doc, node, where):
    v = doc.scalar(node, where)
    if not isinstance(v, bool):
        doc.fail(node, where, f"must be true or false, not {v!r}")
    return v


def _names(doc, node, where, accepted):
    nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
    out = []
    for n in nodes:
        v = doc.scalar(n, where)
        if v not in accepted:
            doc.fail(n, where, f"unknown target {v!r}; accepted: " + ", ".join(accepted))
        if v not in out:
            out.append(v)
    if not out:
        doc.fail(node, where, "an empty list; give at least one target")
    return out


def _options(doc, node, where, fields, short=None):
    """A measurement block: true/false, a mapping of ``fields`` ({name: (default, parse)}), or
    the ``short`` form (a bare value for the first field)."""
    if isinstance(node, yaml.ScalarNode):
        v = doc.value(node)
        if v is False or v is None:
            return None
        if v is True:
            return {k: d for k, (d, _) in fields.items()}
        if short is None:
            doc.fail(node, where, f"expected true, false or a mapping of {', '.join(fields)}")
    if short is not None and not isinstance(node, yaml.MappingNode):
        node_map = {short: node}
    else:
        node_map = {k: v for k, _, v in doc.mapping(node, where, tuple(fields))}
    out = {}
    for k, (default, parse) in fields.items():
        out[k] = parse(node_map[k], _join(where, k)) if k in node_map else default
    return out


def _measures(doc, node):
    if node is None:
        doc.fail(None, "measure", "missing; name at least one of " + ", ".join(MEASURES))
    m = {}
    for k, knode, v in doc.mapping(node, "measure", MEASURES):
        where = _join("measure", k)
        if k == "asic":
            o = _options(doc, v, where, {
                "energy": (True, lambda n, w: _bool(doc, n, w)),
                "n_ops": (100_000, lambda n, w: _int(doc, n, w, "ops")),
                "seed": (1, lambda n, w: _int(doc, n, w, "seed")),
                "clock_mhz": (None, lambda n, w: _clock(doc, n, w))})
            if o is not None and o["clock_mhz"] is None:
                del o["clock_mhz"]          # no clock: the measure (and point keys) as before
        elif k == "fpga":
            o = _options(doc, v, where, {
                "targets": (["ice40"], lambda n, w: _names(doc, n, w, FPGA_TARGETS)),
                "dsp": (True, lambda n, w: _bool(doc, n, w)),
                "pnr": (False, lambda n, w: _pnr(doc, n, w))}, short="targets")
            if o is not None:
                pnr = o["targets"] if o["pnr"] is True else (o["pnr"] or [])
                bad = [t for t in pnr if t not in PNR_TARGETS or t not in o["targets"]]
                if bad:
                    doc.fail(v, _join(where, "pnr"),
                             f"place and route (nextpnr) runs for {', '.join(PNR_TARGETS)} "
                             f"among the targets {', '.join(o['targets'])}, not {bad[0]}")
                o["pnr"] = pnr
        elif k == "error_stats":
            from macforge.golden._errstats import DISTRIBUTIONS
            o = _options(doc, v, where, {
                "samples": (100_000, lambda n, w: _int(doc, n, w, "samples")),
                "dist": ("uniform", lambda n, w: _choice(doc, n, w, DISTRIBUTIONS)),
                "seed": (0, lambda n, w: _int(doc, n, w, "seed"))})
        else:
            o = _options(doc, v, where, {
                "vectors": (100_000, lambda n, w: _int(doc, n, w, "vectors")),
                "seed": (1, lambda n, w: _int(doc, n, w, "seed"))})
        if o is not None:
            m[k] = o
    if not m:
        doc.fail(node, "measure", "turns every measurement off; name at least one of "
                                  + ", ".join(MEASURES))
    return m


def _dask(doc, node, path):
    """The ``dask:`` block: strings; TLS file paths relative to the sweep file."""
    if node is None:
        return {}
    out = {}
    base = os.path.dirname(os.path.abspath(path)) if path != "<sweep>" else os.getcwd()
    for k, _, v in doc.mapping(node, "dask", DASK_KEYS):
        val = doc.scalar(v, _join("dask", k))
        if not isinstance(val, str) or not val:
            doc.fail(v, _join("dask", k), f"must be a non-empty string, not {shown(val)}")
        out[k] = val if k == "scheduler" else os.path.join(base, os.path.expanduser(val))
    return out


def _clock(doc, node, where):
    """``asic: {clock_mhz: F}``: price every point at F MHz (costmodel.pipelining)."""
    from macforge.errors import UsageError
    from ..pipelining import check_clock
    v = doc.scalar(node, where)
    try:
        return None if v is None else check_clock(v, "asic")
    except UsageError:
        doc.fail(node, where, f"must be a clock in (0, 10000] MHz, not {shown(v)}")


def with_clock(spec, clock_mhz):
    """``spec`` with every point priced at ``clock_mhz`` (``macforge sweep --clock-mhz``):
    its ``asic`` measurement's ``clock_mhz`` set, which is part of every point's key."""
    from dataclasses import replace
    from ..pipelining import check_clock
    if "asic" not in spec.measure:
        raise SweepError(f"{spec.path}: --clock-mhz prices the asic measurement, and this sweep "
                         "has none; add 'asic: true' under measure")
    f = check_clock(clock_mhz, "asic")
    return replace(spec, measure={**spec.measure, "asic": {**spec.measure["asic"],
                                                           "clock_mhz": f}})


def _pnr(doc, node, where):
    if isinstance(node, yaml.ScalarNode) and isinstance(doc.value(node), bool):
        return doc.value(node)
    return _names(doc, node, where, FPGA_TARGETS)


def _choice(doc, node, where, accepted):
    v = doc.scalar(node, where)
    if v not in accepted:
        doc.fail(node, where, f"{v!r} is not one of " + ", ".join(accepted))
    return v


# -- the whole file ------------------------------------------------------------------------------
def load_spec(path: str, progress=None, on_point=None) -> Spec:
    """Read and validate a sweep file (see :mod:`costmodel.sweep` for the format);
    ``on_point``: see :func:`parse_spec`."""
    if os.path.isdir(path):
        raise SweepError(f"sweep file {path} is a directory; give a YAML file")
    try:
        with open(path, "rb") as f:
            data = f.read(LIMITS["sweep_file_bytes"].hi + 1)
    except OSError as exc:
        raise SweepError(f"cannot read sweep file {path}: {exc.strerror}") from None
    if len(data) > LIMITS["sweep_file_bytes"].hi:
        raise SweepError(f"sweep file {path} is larger than "
                         f"{LIMITS['sweep_file_bytes'].hi:,} bytes; a sweep file is YAML text")
    try:
        if b"\0" in data:
            raise UnicodeError("NUL byte")
        text = data.decode("utf-8")
    except UnicodeError:
        raise SweepError(f"sweep file {path} is not UTF-8 text (binary?); give a YAML "
                         "file") from None
    return parse_spec(text, path, progress, on_point)


def parse_spec(text: str, path: str = "<sweep>", progress=None, on_point=None) -> Spec:
    """Validate sweep YAML ``text``; build every point with :func:`hw.make_unit`.

    ``on_point``: None keeps every :class:`Point` in ``spec.points``; a callable is called
    as ``on_point(spec, point)`` for each point instead and nothing is kept (a dry run of a million points in constant
    memory). Points that differ only in ``stages`` share one built unit (stages change
    only the name's ``_s<stages>``, :attr:`hw.Unit.name_stem`); units are built by their own
    constructors under :func:`hw.naming_only` (every check, the one name, no port signals).

    Raises
    ------
    SweepError
        One line: ``path:line: key: reason``.
    """
    doc = _Doc(path, text)
    try:
        try:
            root = doc.loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else 1
            what = " ".join(str(getattr(exc, "problem", None) or exc).split())
            raise SweepError(f"{path}:{line}: not valid YAML: {what}") from None
        if root is None:
            raise SweepError(f"{path}:1: empty sweep file; it needs 'axes' and 'measure'")
        top = {k: v for k, _, v in doc.mapping(root, "", _TOP_KEYS)}
        params = _make_unit_params()
        if "axes" not in top:
            doc.fail(root, "", "missing 'axes' (the values to sweep)")
        name = doc.scalar(top["name"], "name") if "name" in top else \
            path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        blocks = _blocks(doc, top["axes"], params)
        rules = _exclusions(doc, top.get("exclude"), params)
        skip_invalid = _bool(doc, top["skip_invalid"], "skip_invalid") \
            if "skip_invalid" in top else False
        measure = _measures(doc, top.get("measure"))
        dask = _dask(doc, top.get("dask"), path)
    finally:
        doc.loader.dispose()

    spec = Spec(path=path, name=str(name), text=text, points=[], measure=measure, dask=dask)
    combos = sum(math.prod(len(v) for v in axes.values()) for axes in blocks)
    if combos > LIMITS["sweep_product"].hi:
        raise SweepError(f"{path}: axes: {combos:,} combinations; at most "
                         f"{LIMITS['sweep_product'].hi:,} are accepted (split the sweep)")
    keep = on_point is None
    for p in _points(path, blocks, rules, skip_invalid, spec):
        spec.n_points += 1
        if spec.n_points > LIMITS["sweep_points"].hi:
            raise SweepError(f"{path}: more than {LIMITS['sweep_points'].hi:,} points; split "
                             "the sweep or exclude some")
        if keep:
            spec.points.append(p)
        else:
            on_point(spec, p)
        if progress is not None and spec.n_points % 100_000 == 0:
            progress(f"  {spec.n_points} points validated")
    if not spec.n_points:
        raise SweepError(f"{path}: no point left to run ({spec.excluded} excluded, "
                         f"{len(spec.invalid)} invalid)")
    return spec


def _ident(values) -> bytes:
    """A point's identity for de-duplication: 16 bytes, not the values (a million points).
    ``repr`` keeps ``True`` and ``1`` apart; keys are unique, so sorting never compares values."""
    return hashlib.blake2b(repr(sorted(values.items())).encode(), digest_size=16).digest()


def _points(path, blocks, rules, skip_invalid, spec):
    """Every point of the axis blocks, in file order: built (one unit per name stem),
    excluded and invalid ones counted in ``spec``."""
    from macforge import golden
    from macforge.hw import make_unit, naming_only
    seen = set()
    stems = {}          # the point's kwargs but stages -> (stem, formats) or the refusal
    base = {k: _DEFAULTS.get(k) for k in AXES}
    for axes in blocks:
        keys = list(axes)
        for combo in itertools.product(*(axes[k] for k in keys)):
            values = {**base, **{k: v for k, (v, _) in zip(keys, combo)}}
            if rules and any(all(values.get(k) in allowed for k, allowed in r.items())
                             for r in rules):
                spec.excluded += 1
                continue
            raw = _ident(values)
            if raw in seen:
                continue
            seen.add(raw)
            kwargs = {_ALIASES.get(k, k): v for k, v in values.items()}
            try:
                check_limit("stages", kwargs["stages"])
                stem_key = repr([kv for kv in kwargs.items() if kv[0] != "stages"])
                built = stems.get(stem_key)
                if built is None:
                    try:
                        with naming_only():           # checked and named, no port signals
                            unit = make_unit(**kwargs)
                        built = (unit.name_stem, unit.format_names)
                    except (golden.FormatError, ValueError, TypeError) as exc:
                        built = exc
                    stems[stem_key] = built
                if isinstance(built, Exception):
                    raise built
            except (golden.FormatError, ValueError, TypeError) as exc:
                reason = " ".join(str(exc).split())
                if skip_invalid:
                    spec.invalid.append((values, reason))
                    continue
                where = ", ".join(f"{k}={v} (line {n.start_mark.line + 1})"
                                  for k, (v, n) in zip(keys, combo) if len(axes[k]) > 1) \
                    or ", ".join(f"{k}={v}" for k, (v, _) in zip(keys, combo))
                varied = [n for k, (_, n) in zip(keys, combo) if len(axes[k]) > 1] \
                    or [n for _, n in combo]
                line = min(n.start_mark.line for n in varied) + 1
                raise SweepError(f"{path}:{line}: axes: the point {where} cannot be built: "
                                 f"{reason} (leave it out with exclude:, or set "
                                 "skip_invalid: true)") from None
            stem, fmts = built
            if values["acc"] is None:           # the unit's own default, by name
                values["acc"] = kwargs["acc"] = fmts.get("out", fmts.get("acc"))
                ident = _ident(values)
                if ident in seen:                 # the same point with its acc spelled out
                    continue
                seen.add(ident)
            yield Point(values, kwargs, f"{stem}_s{kwargs['stages']}")
