"""Workload names: the built-in published models, aliases, parameters and user registrations."""
from __future__ import annotations

import inspect
import re

from ._graph import WorkloadError

__all__ = ["get", "names", "register", "params", "resolve"]

# canonical name -> builder, aliases
_REGISTRY: dict = {}
_ALIASES: dict[str, str] = {}


def _key(name: str) -> str:
    """Case, '-', '_' and spaces do not matter: 'ResNet-18' == 'resnet18'."""
    return re.sub(r"[-_ .]", "", name.lower())


def register(name: str, builder, aliases=()) -> None:
    """Make ``get(name, **params)`` call ``builder(**params)`` (a function returning a graph)."""
    _REGISTRY[name] = builder
    for a in (name, *aliases):
        _ALIASES[_key(a)] = name


def _builtin():
    from . import _cnn, _transformer
    for name, fn, aliases in (
            ("resnet18", _cnn.resnet18, ()),
            ("resnet50", _cnn.resnet50, ("resnet50v1.5",)),
            ("mobilenetv2", _cnn.mobilenetv2, ()),
            ("bert-base", _transformer.bert_base, ("bert-base-uncased",)),
            ("minilm", _transformer.minilm, ("all-MiniLM-L6-v2", "minilm-l6")),
            ("llama2-7b", _transformer.llama2_7b, ("llama-2-7b", "llama2")),
    ):
        if name not in _REGISTRY:
            register(name, fn, aliases)


def names() -> list[str]:
    """Canonical names of the known workloads, built-in first."""
    _builtin()
    return list(_REGISTRY)


def resolve(name: str) -> str:
    """The canonical name for ``name`` or an alias; :class:`WorkloadError` if unknown."""
    _builtin()
    canon = _ALIASES.get(_key(str(name)))
    if canon is None:
        raise WorkloadError(f"unknown workload {name!r}; known: {', '.join(names())} "
                            "(or a path to an .onnx file)")
    return canon


def params(name: str) -> dict:
    """The parameters of workload ``name`` and their defaults."""
    fn = _REGISTRY[resolve(name)]
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _convert(name, key, value, default):
    """Strings from the command line become the default's type (int, bool)."""
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    if isinstance(default, bool):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise WorkloadError(f"{name}: {key} must be true or false, not {value!r}")
    if isinstance(default, int):
        try:
            return int(value.replace("_", ""))
        except ValueError:
            raise WorkloadError(f"{name}: {key} must be an integer, not {value!r}") from None
    return value


def get(name: str, **kw):
    """The workload graph ``name`` built with parameters ``kw`` (strings are converted)."""
    canon = resolve(name)
    accepted = params(canon)
    for k in kw:
        if k not in accepted:
            raise WorkloadError(f"unknown parameter {k!r} for {canon}; accepted: "
                                + (", ".join(f"{a}={v}" for a, v in accepted.items()) or "none"))
    kw = {k: _convert(canon, k, v, accepted[k]) for k, v in kw.items()}
    return _REGISTRY[canon](**kw)
