"""A workload from a name or a file, and a workload as plain JSON data."""
from __future__ import annotations

import os

from ._graph import totals
from ._onnx import from_onnx
from ._registry import get

__all__ = ["load", "as_json"]


def load(target: str, params: dict):
    """A workload graph from a built-in name or an ONNX path (``params``: the builder's
    parameters, or for ONNX the sizes of symbolic dimensions)."""
    if target.lower().endswith(".onnx") or os.path.isfile(target):
        return from_onnx(target, dims=params)
    return get(target, **params)


def as_json(g) -> dict:
    """Graph attributes, totals, nodes and edges of ``g`` as JSON-ready data."""
    keep = ("name", "op", "shape", "K", "macs", "weight_elems", "act_in_elems", "act_out_elems",
            "fn", "bias", "inputs", "outputs", "onnx_op")
    return {
        **{k: g.graph.get(k) for k in ("name", "source", "published_macs", "published_note",
                                       "params", "inputs", "outputs")},
        "totals": totals(g),
        "nodes": [{k: d[k] for k in keep if k in d} for _, d in g.nodes(data=True)],
        "edges": [{"from": u, "to": v, "tensor": e["tensor"], "elems": e["elems"]}
                  for u, v, e in g.edges(data=True)],
    }
