"""Small user-defined models from a list of layer specs (what ``macforge`` trains itself)."""
from __future__ import annotations

from math import prod

from ._graph import Builder, WorkloadError, conv_out

__all__ = ["from_layers", "LAYER_TYPES"]

# type -> accepted keys (besides "type" and "name")
LAYER_TYPES = {
    "dense": ("out", "bias", "act"),
    "conv": ("out", "kernel", "stride", "padding", "groups", "bias", "act"),
    "pool": ("kernel", "stride", "padding", "fn"),
    "global_pool": ("fn",),
    "flatten": (),
    "act": ("fn",),
    "softmax": (),
}


def _int(spec, i, key, default=None, lo=1):
    v = spec.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        kind = spec.get("type", spec.get("op"))
        raise WorkloadError(f"layer {i} ({kind}): {key} must be an integer >= {lo}, not {v!r}")
    return v


# explicit-shape layers: op -> (required keys, optional keys)
LAYER_OPS = {
    "matmul": (("M", "K", "N"), ("B", "bias", "act")),
    "conv": (("N", "C_in", "H", "W", "C_out", "kh"),
             ("kw", "stride", "pad", "groups", "bias", "act")),
}


def from_layers(name: str, layers, input_shape=None, *, batch: int = 1,
                source: str = "user-defined layer list"):
    """A workload graph from a chain of layer specs, each consuming the previous one's output.

    Two forms (not mixed). **Explicit shapes**, each a dict with ``op`` and optional ``name``
    and ``act`` (an activation after it); ``input_shape`` and ``batch`` are not needed:

    * ``{"op": "matmul", "M": 1, "K": 64, "N": 32, "B": 1, "bias": True}``
    * ``{"op": "conv", "N": 1, "C_in": 1, "H": 8, "W": 8, "C_out": 4, "kh": 3, "kw": 3,
      "stride": 1, "pad": 1, "groups": 1, "bias": True}``

    Each layer's input size must equal the previous layer's output size.

    **Layer types** applied to an input of ``input_shape`` (``(C, H, W)`` for images,
    ``(features,)`` or an int for vectors), batch ``batch``; each a dict with ``type`` and
    optional ``name``:

    * ``{"type": "dense", "out": N, "bias": True, "act": "relu"}`` (flattens its input)
    * ``{"type": "conv", "out": C, "kernel": 3, "stride": 1, "padding": "same"|"valid"|int,
      "groups": 1, "bias": True, "act": None}``
    * ``{"type": "pool", "kernel": 2, "stride": kernel, "padding": 0, "fn": "max"|"avg"}``,
      ``{"type": "global_pool", "fn": "avg"}``, ``{"type": "flatten"}``,
      ``{"type": "act", "fn": "relu"}``, ``{"type": "softmax"}``

    Examples
    --------
    >>> from macforge.costmodel.workloads import from_layers, totals
    >>> g = from_layers("mlp", [{"type": "dense", "out": 32, "act": "relu"},
    ...                         {"type": "dense", "out": 10}], (64,))
    >>> totals(g)["macs"], totals(g)["weight_elems"]
    (2368, 2410)
    >>> g = from_layers("mlp", [{"op": "matmul", "M": 1, "K": 64, "N": 32, "act": "relu"},
    ...                         {"op": "matmul", "M": 1, "K": 32, "N": 10}])
    >>> totals(g)["macs"], totals(g)["weight_elems"]
    (2368, 2410)
    """
    layers = list(layers)
    ops = [isinstance(s, dict) and "op" in s for s in layers]
    if any(ops):
        if not all(ops):
            raise WorkloadError(f"layer {ops.index(False)}: every layer needs 'op' once one has "
                                "it (explicit shapes and layer types do not mix)")
        return _from_ops(name, layers, input_shape, source)
    if input_shape is None:
        raise WorkloadError("input_shape is needed for layers given by type")
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    input_shape = tuple(input_shape)
    if len(input_shape) not in (1, 3) or not all(isinstance(v, int) and v > 0 for v in input_shape):
        raise WorkloadError(f"input_shape must be (features,) or (C, H, W) of positive ints, "
                            f"not {input_shape!r}")
    if not isinstance(batch, int) or batch < 1:
        raise WorkloadError(f"batch must be an integer >= 1, not {batch!r}")
    b = Builder(name, source, params={"batch": batch, "input_shape": list(input_shape)})
    shape = input_shape                       # per-sample shape of the running tensor
    x = b.input("input", batch * prod(shape))
    for i, spec in enumerate(layers):
        if not isinstance(spec, dict) or spec.get("type") not in LAYER_TYPES:
            got = spec.get("type") if isinstance(spec, dict) else spec
            raise WorkloadError(f"layer {i}: type must be one of {', '.join(LAYER_TYPES)}, "
                                f"not {got!r}")
        kind = spec["type"]
        extra = set(spec) - {"type", "name"} - set(LAYER_TYPES[kind])
        if extra:
            raise WorkloadError(f"layer {i} ({kind}): unknown key {sorted(extra)[0]!r}; accepted: "
                                + ", ".join(("name",) + LAYER_TYPES[kind]))
        nm = spec.get("name", f"{i}.{kind}")
        if kind == "flatten":
            shape = (prod(shape),)
            continue
        if kind == "dense":
            K, N = prod(shape), _int(spec, i, "out")
            x = b.matmul(nm, x, M=batch, K=K, N=N, bias=spec.get("bias", True))
            shape = (N,)
        elif kind == "conv":
            if len(shape) != 3:
                raise WorkloadError(f"layer {i} (conv): needs a (C, H, W) input, not {shape}")
            C, H, W = shape
            k = _int(spec, i, "kernel")
            stride = _int(spec, i, "stride", 1)
            groups = _int(spec, i, "groups", 1)
            out = _int(spec, i, "out")
            if C % groups or out % groups:
                raise WorkloadError(f"layer {i} (conv): groups {groups} must divide the input "
                                    f"({C}) and output ({out}) channels")
            padding = spec.get("padding", "same")
            pad = {"same": (k - 1) // 2, "valid": 0}.get(padding, padding)
            if not isinstance(pad, int) or pad < 0:
                raise WorkloadError(f"layer {i} (conv): padding must be same, valid or an "
                                    f"integer >= 0, not {padding!r}")
            pads = (pad, pad, k - 1 - pad, k - 1 - pad) if padding == "same" else pad
            x = b.conv(nm, x, N=batch, C_in=C, H=H, W=W, C_out=out, kh=k, stride=stride,
                       pad=pads, groups=groups, bias=spec.get("bias", True))
            s = b.g.nodes[nm]["shape"]
            if s["H_out"] < 1 or s["W_out"] < 1:
                raise WorkloadError(f"layer {i} (conv): kernel {k} does not fit a {H}x{W} input")
            shape = (out, s["H_out"], s["W_out"])
        elif kind in ("pool", "global_pool"):
            if len(shape) != 3:
                raise WorkloadError(f"layer {i} ({kind}): needs a (C, H, W) input, not {shape}")
            C, H, W = shape
            fn = spec.get("fn", "max" if kind == "pool" else "avg")
            if fn not in ("max", "avg"):
                raise WorkloadError(f"layer {i} ({kind}): fn must be max or avg, not {fn!r}")
            if kind == "pool":
                k = _int(spec, i, "kernel")
                stride = _int(spec, i, "stride", k)
                pad = _int(spec, i, "padding", 0, lo=0)
            else:
                k, stride, pad = H, 1, 0
            if conv_out(H, k, stride, pad, pad) < 1:
                raise WorkloadError(f"layer {i} ({kind}): kernel {k} does not fit a {H}x{W} input")
            x = b.pool(nm, x, N=batch, C=C, H=H, W=W, kh=k, kw=k if kind == "pool" else W,
                       stride=stride, pad=pad, fn=fn)
            s = b.g.nodes[nm]["shape"]
            shape = (C, s["H_out"], s["W_out"])
        elif kind == "act":
            x = b.elementwise(nm, [x], elems=batch * prod(shape), fn=spec.get("fn", "relu"))
        elif kind == "softmax":
            x = b.softmax(nm, x, rows=batch, cols=prod(shape))
        act = spec.get("act")
        if act and kind in ("dense", "conv"):
            x = b.elementwise(f"{nm}.{act}", [x], elems=batch * prod(shape), fn=act)
    b.output(x)
    return b.finish()


def _from_ops(name, layers, input_shape, source):
    b = Builder(name, source, params={})
    x = None
    for i, spec in enumerate(layers):
        op = spec["op"]
        if op not in LAYER_OPS:
            raise WorkloadError(f"layer {i}: op must be one of {', '.join(LAYER_OPS)}, not {op!r}")
        need, opt = LAYER_OPS[op]
        missing = [k for k in need if k not in spec]
        if missing:
            raise WorkloadError(f"layer {i} ({op}): missing {', '.join(missing)}")
        extra = set(spec) - {"op", "name"} - set(need) - set(opt)
        if extra:
            raise WorkloadError(f"layer {i} ({op}): unknown key {sorted(extra)[0]!r}; accepted: "
                                + ", ".join(("name",) + need + opt))
        defaults = {"B": 1, "kw": spec.get("kh"), "stride": 1, "pad": 0, "groups": 1}
        v = {k: _int(spec, i, k, defaults.get(k), lo=0 if k == "pad" else 1)
             for k in need + tuple(k for k in opt if k in defaults)}
        in_elems = (v["B"] * v["M"] * v["K"] if op == "matmul"
                    else v["N"] * v["C_in"] * v["H"] * v["W"])
        if x is None:
            given = _as_tuple(input_shape) if input_shape is not None else None
            if given is not None and prod(given) != in_elems:
                raise WorkloadError(f"layer 0 ({op}) reads {in_elems} elements, input_shape "
                                    f"{given} has {prod(given)}")
            x = b.input("input", in_elems)
        elif b.elems(x) != in_elems:
            raise WorkloadError(f"layer {i} ({op}) reads {in_elems} elements, the previous layer "
                                f"gives {b.elems(x)}")
        nm = spec.get("name", f"{i}.{op}")
        if op == "matmul":
            x = b.matmul(nm, x, B=v["B"], M=v["M"], K=v["K"], N=v["N"], bias=spec.get("bias", True))
        else:
            if v["C_in"] % v["groups"] or v["C_out"] % v["groups"]:
                raise WorkloadError(f"layer {i} (conv): groups {v['groups']} must divide C_in "
                                    f"({v['C_in']}) and C_out ({v['C_out']})")
            x = b.conv(nm, x, N=v["N"], C_in=v["C_in"], H=v["H"], W=v["W"], C_out=v["C_out"],
                       kh=v["kh"], kw=v["kw"], stride=v["stride"], pad=v["pad"],
                       groups=v["groups"], bias=spec.get("bias", True))
            s = b.g.nodes[nm]["shape"]
            if s["H_out"] < 1 or s["W_out"] < 1:
                raise WorkloadError(f"layer {i} (conv): kernel does not fit a "
                                    f"{v['H']}x{v['W']} input")
        if spec.get("act"):
            x = b.elementwise(f"{nm}.{spec['act']}", [x], elems=b.elems(x), fn=spec["act"])
    b.output(x)
    return b.finish()


def _as_tuple(shape):
    return (shape,) if isinstance(shape, int) else tuple(shape)
