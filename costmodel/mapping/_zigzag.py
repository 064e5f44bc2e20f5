"""The ZigZag adapter: macforge's workload graph and unit cost in, ZigZag's mapping out.

ZigZag (Mei, Houshmand, Jain, Giraldo, Verhelst, "ZigZag: Enlarging Joint Architecture-Mapping
Design Space Exploration for DNN Accelerators", IEEE TC 2021; PyPI ``zigzag-dse``) searches the
spatial and temporal mapping of every layer onto an accelerator (an operational array of MAC
units under a memory hierarchy) and returns, per layer, the memory accesses of every operand at
every level, their energy and the latency in cycles. What it cannot know comes from macforge:
the energy and area of one MAC unit (the bit-exact unit, synthesised and simulated) and the
operand precisions of the format.

* :func:`layers` turns the MAC nodes of a :mod:`costmodel.workloads` graph into ZigZag's layer
  format (``Conv``: ``O[b][g][k][oy][ox] += W[g][k][c][fy][fx] * I[b][g][c][iy][ix]``;
  ``Gemm``: ``O[d][k] += I[d][c] * W[c][k]``, with ``[b]`` on both operands for attention);
* :func:`accelerator` reads an architecture (a name shipped with ZigZag or a YAML file) and puts
  the unit's energy and area into its operational array;
* :func:`map_layers` runs ZigZag's search on each distinct layer once (identical layers, e.g.
  the 12 encoder blocks of BERT, share it) and keeps plain numbers.

Fractional precisions (block formats: 4 element bits + 8 scale bits per 32 = 4.25 bits) are
exact: ZigZag counts bits as integers, so precisions, memory sizes and port widths are all
multiplied by the smallest ``s`` that makes the precisions integers. Every access count,
capacity test and cycle count is a ratio of two of these and is unchanged for integer
precisions; access energies are per port word and unchanged. Memories whose cost ZigZag
derives from their size (``auto_cost_extraction``) cannot be scaled, so fractional precisions
are refused on them.
"""
from __future__ import annotations

import copy
import fractions
import logging
import math
import os
import tempfile
from dataclasses import asdict, dataclass

from macforge.errors import MacforgeError

__all__ = ["MappingError", "Precisions", "ARCH_DIR", "MAPPING_DIR", "architectures",
           "arch_data", "layers", "accelerator", "precision_scale", "map_layers",
           "zigzag_version", "zigzag_workloads"]


class MappingError(MacforgeError, ValueError):
    """Bad mapping input (unknown architecture, a layer ZigZag cannot take): one line."""


def _zigzag_dir() -> str:
    import zigzag
    return os.path.dirname(zigzag.__file__)


ARCH_DIR = os.path.join("inputs", "hardware")        #: under the zigzag package
MAPPING_DIR = os.path.join("inputs", "mapping")


def zigzag_workloads() -> dict:
    """name -> path of the ONNX models shipped with ZigZag (``resnet18``, ``mobilenetv2``,
    ``alexnet``): shapes for mapping, ``zigzag:<name>`` in ``macforge pareto``."""
    d = os.path.join(_zigzag_dir(), "inputs", "workload")
    return {f[:-5]: os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".onnx")}


def zigzag_version() -> str:
    from importlib import metadata
    return metadata.version("zigzag-dse")


def architectures() -> list[str]:
    """Names of the architectures shipped with ZigZag (``tpu_like``, ``eyeriss_like``, ...)
    whose operational array is a plain MAC array (in-memory-compute ones are left out)."""
    d = os.path.join(_zigzag_dir(), ARCH_DIR)
    out = []
    for f in sorted(os.listdir(d)):
        if f.endswith(".yaml"):
            data = _read_yaml(os.path.join(d, f))
            if "imc_type" not in data.get("operational_array", {}):
                out.append(f[:-5])
    return out


_YAML: dict = {}


def _read_yaml(path):
    """The parsed YAML file (a fresh copy), parsed once per file version: a report reads the
    architecture and mapping files for every format, and PyYAML's pure-Python parser takes
    about 0.1 s a file."""
    import yaml
    st = os.stat(path)
    k = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
    if k not in _YAML:
        with open(path) as f:
            _YAML[k] = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return copy.deepcopy(_YAML[k])


def arch_data(arch: str) -> tuple[dict, str, str]:
    """(accelerator data, its name, mapping YAML path) of ``arch``: a shipped name or a YAML
    file. The mapping is ZigZag's own file of that name, else one that leaves the spatial
    mapping to ZigZag's generator."""
    if arch.endswith((".yaml", ".yml")) or os.path.sep in arch:
        if not os.path.isfile(arch):
            raise MappingError(f"--arch {arch}: no such file (give a ZigZag accelerator YAML "
                               "or one of " + ", ".join(architectures()) + ")")
        try:
            data = _read_yaml(arch)
        except Exception as exc:             # noqa: BLE001 -- a user's file: one line
            raise MappingError(f"{arch}: not YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict) or "memories" not in data or \
                "operational_array" not in data:
            raise MappingError(f"{arch}: not a ZigZag accelerator (needs 'memories' and "
                               "'operational_array')")
        name = str(data.get("name") or os.path.splitext(os.path.basename(arch))[0])
        mapping = None
    else:
        known = architectures()
        if arch not in known:
            raise MappingError(f"unknown architecture {arch!r}; accepted: " + ", ".join(known)
                               + ", or a ZigZag accelerator YAML file")
        data = _read_yaml(os.path.join(_zigzag_dir(), ARCH_DIR, arch + ".yaml"))
        name = arch
        mapping = os.path.join(_zigzag_dir(), MAPPING_DIR, arch + ".yaml")
        if not os.path.isfile(mapping):
            mapping = None
    return data, name, mapping


@dataclass(frozen=True)
class Precisions:
    """Bits per element of each operand as ZigZag sees it.

    ``weight``: a stored weight (block formats: element bits + scale bits / block);
    ``act``: an input activation (the same for attention's second operand);
    ``psum``: a partial sum (the unit's accumulator: int32, fp32, the posit quire, LNS-Madam's
    A-bit register); ``out``: a final output, re-quantised to the format (= ``act``).
    """
    weight: float
    act: float
    psum: int
    out: float

    def as_dict(self) -> dict:
        return asdict(self)


def precision_scale(p: Precisions) -> int:
    """Smallest s >= 1 with every precision times s an integer (1 for scalar formats)."""
    s = 1
    for v in (p.weight, p.act, p.psum, p.out):
        s = math.lcm(s, fractions.Fraction(v).limit_denominator(1 << 16).denominator)
    return s


def _joint_scale(prec) -> int:
    """:func:`precision_scale` of one Precisions or of all values of a dict of them."""
    if isinstance(prec, dict):
        return math.lcm(1, *(precision_scale(p) for p in set(prec.values())))
    return precision_scale(prec)


def _widest(prec) -> Precisions:
    """The element-wise widest of a dict of Precisions (what the memories must hold)."""
    if not isinstance(prec, dict):
        return prec
    ps = list(set(prec.values()))
    return Precisions(*(max(getattr(p, f) for p in ps) for f in ("weight", "act", "psum",
                                                                  "out")))


def _bits(v: float, s: int) -> int:
    x = fractions.Fraction(v).limit_denominator(1 << 16) * s
    assert x.denominator == 1, (v, s)
    return int(x)


def layers(graph, prec, scale: int | None = None) -> list[dict]:
    """ZigZag layer dicts of the MAC nodes of ``graph`` (see module docstring), in graph order.

    ``prec``: one :class:`Precisions` for every layer, or a dict node name -> Precisions
    (mixed precision). Attention products (``attn_score``, ``attn_value``) have activations on
    both operands: their ``W`` precision is ``act``.
    """
    from macforge.costmodel.workloads import MAC_OPS
    by_layer = prec if isinstance(prec, dict) else None
    s = (_joint_scale(prec) if scale is None else scale)
    out = []
    for n, d in graph.nodes(data=True):
        if d["op"] not in MAC_OPS:
            continue
        if by_layer is not None:
            prec = by_layer[n]
        sh = d["shape"]
        w_bits = prec.weight if d["op"] in ("matmul", "conv") else prec.act
        precision = {"W": _bits(w_bits, s), "I": _bits(prec.act, s), "O": _bits(prec.psum, s),
                     "O_final": _bits(prec.out, s)}
        layer = {"id": len(out), "name": str(n), "operand_precision": precision}
        if d["op"] == "conv":
            g = int(sh.get("groups", 1))
            pad = sh.get("pad", (0, 0, 0, 0))
            if isinstance(pad, int):
                pad = (pad,) * 4
            pad = tuple(int(x) for x in pad)
            if len(pad) == 2:
                pad = (pad[0], pad[1], pad[0], pad[1])
            dil = sh.get("dilation", 1)
            dy, dx = (dil, dil) if isinstance(dil, int) else tuple(dil)
            st = sh["stride"]
            sy, sx = (st, st) if isinstance(st, int) else tuple(st)
            layer.update({
                "operator_type": "Conv",
                "equation": "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]",
                "dimension_relations": [f"ix={sx}*ox+{dx}*fx", f"iy={sy}*oy+{dy}*fy"],
                "loop_dims": ["B", "K", "G", "OX", "OY", "C", "FX", "FY"],
                "loop_sizes": [int(sh["N"]), int(sh["C_out"]) // g, g, int(sh["W_out"]),
                               int(sh["H_out"]), int(sh["C_in"]) // g, int(sh["kw"]),
                               int(sh["kh"])],
                "pr_loop_dims": ["IX", "IY"],
                "pr_loop_sizes": [int(sh["W"]), int(sh["H"])],
                # pad = (top, left, bottom, right) as ONNX 'pads' for 2-D (begin y, x; end y, x)
                "padding": [[pad[1], pad[3]], [pad[0], pad[2]]],
            })
        else:
            B, M, K, N = (int(sh[k]) for k in ("B", "M", "K", "N"))
            b = "[b]" if B > 1 else ""
            wb = b if d["op"] not in ("matmul",) else ""
            layer.update({
                "operator_type": "Gemm",
                "equation": f"O{b}[d][k]+=I{b}[d][c]*W{wb}[c][k]",
                "dimension_relations": [],
                "loop_dims": ["C", "D", "K"] + (["B"] if B > 1 else []),
                "loop_sizes": [K, M, N] + ([B] if B > 1 else []),
            })
            if d["op"] == "matmul" and B > 1:      # B independent weight products: fold into D
                layer["equation"] = "O[d][k]+=I[d][c]*W[c][k]"
                layer["loop_dims"], layer["loop_sizes"] = ["C", "D", "K"], [K, M * B, N]
        out.append(layer)
    return out


def _links(mapping: str | None, acc: dict) -> dict:
    """Layer operand -> memory operand (``{"O": "O", "W": "I2", "I": "I1"}``) of the mapping's
    default entry."""
    entries = _read_yaml(mapping) if mapping else _default_mapping(acc)
    for e in entries:
        if e.get("name") == "default":
            return dict(e["memory_operand_links"])
    return dict(entries[0]["memory_operand_links"])


def accelerator(data: dict, unit_energy_pj: float, unit_area: float, prec,
                mapping: str | None = None) -> tuple[dict, list[str]]:
    """A copy of the accelerator ``data`` priced and sized for ``prec``, and the adjustments
    made (sentences for the report).

    * the operational array's ``unit_energy``/``unit_area`` become macforge's unit's (pJ per
      MAC, µm²);
    * memory sizes and port widths are multiplied by :func:`precision_scale` (fractional
      precisions, see the module docstring);
    * a per-MAC register (``served_dimensions: []``) narrower than one element of an operand it
      holds is widened to one element: the partial-sum register of a MAC unit holds its
      accumulator (the shipped ``tpu_like`` has a 16-bit output register, an fp32 or int32
      accumulator needs 32 bits). Its access energy is kept.
    """
    s = _joint_scale(prec)
    prec = _widest(prec)
    acc = copy.deepcopy(data)
    acc["operational_array"]["unit_energy"] = float(unit_energy_pj)
    acc["operational_array"]["unit_area"] = float(unit_area)
    links = _links(mapping, acc)
    bits = {links.get("O", "O"): _bits(max(prec.psum, prec.out), s),
            links.get("W", "I2"): _bits(prec.weight, s), links.get("I", "I1"): _bits(prec.act, s)}
    notes = []
    for name, m in acc["memories"].items():
        if s != 1:
            if m.get("auto_cost_extraction"):
                raise MappingError(f"memory {name} of {acc.get('name')} takes its cost from its "
                                   "size (auto_cost_extraction), which fractional precisions "
                                   f"(scaled by {s}) would change; give it r_cost/w_cost")
            m["size"] = int(m["size"]) * s
            for port in m.get("ports", []):
                for k in ("bandwidth_min", "bandwidth_max"):
                    if k in port:
                        port[k] = int(port[k]) * s
        if m.get("served_dimensions") == []:
            need = max(bits.get(o, 0) for o in m["operands"])
            if int(m["size"]) < need:
                notes.append(f"per-MAC register {name} widened from {int(m['size']) // s} to "
                             f"{need / s:g} bits (one element of {'/'.join(m['operands'])})")
                m["size"] = need
                for port in m.get("ports", []):
                    for k in ("bandwidth_min", "bandwidth_max"):
                        if k in port:
                            port[k] = max(int(port[k]), need)
    return acc, notes


def _layer_key(layer: dict) -> tuple:
    import json
    return json.dumps({k: v for k, v in layer.items() if k not in ("id", "name")},
                      sort_keys=True)


def _default_mapping(acc: dict) -> list[dict]:
    """A mapping that names the operand links only: ZigZag generates the spatial mappings."""
    ops = sorted({o for m in acc["memories"].values() for o in m["operands"]})
    inputs = [o for o in ops if o != "O"]
    links = {"O": "O", "W": inputs[-1] if inputs else "I2", "I": inputs[0] if inputs else "I1"}
    return [{"name": "default", "memory_operand_links": links}]


def map_layers(layer_list: list[dict], acc: dict, mapping: str | None, opt: str = "energy",
               lpf_limit: int = 6, progress=None) -> list[dict]:
    """Run ZigZag on each distinct layer of ``layer_list`` on accelerator ``acc`` (data, as from
    :func:`accelerator`); one plain dict per layer, in order (see :func:`_summary`)."""
    import yaml
    from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
    from zigzag.stages.main import MainStage
    from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
    from zigzag.stages.mapping.temporal_mapping_generator_stage import \
        TemporalMappingGeneratorStage
    from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
    from zigzag.stages.parser.workload_parser import WorkloadParserStage
    from zigzag.stages.results.reduce_stages import (MinimalEDPStage, MinimalEnergyStage,
                                                     MinimalLatencyStage)
    from zigzag.stages.workload_iterator import WorkloadStage
    from zigzag.mapping.temporal_mapping import TemporalMappingType
    # ZigZag logs its choices (default mappings, reduced unrollings) as warnings: the library
    # stays silent, what matters is in the returned mapping
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    reduce = {"energy": MinimalEnergyStage, "latency": MinimalLatencyStage,
              "edp": MinimalEDPStage}[opt]
    unique: dict[str, int] = {}
    todo = []
    for layer in layer_list:
        k = _layer_key(layer)
        if k not in unique:
            unique[k] = len(todo)
            todo.append({**layer, "id": len(todo), "name": f"u{len(todo)}"})
    with tempfile.TemporaryDirectory(prefix="macforge-zigzag-") as tmp:
        acc_path = os.path.join(tmp, "accelerator.yaml")
        with open(acc_path, "w") as f:
            yaml.safe_dump(acc, f, sort_keys=False)      # memory order is the hierarchy
        if mapping is None:
            mapping = os.path.join(tmp, "mapping.yaml")
            with open(mapping, "w") as f:
                yaml.safe_dump(_default_mapping(acc), f, sort_keys=False)
        results = []
        for i, layer in enumerate(todo):
            if progress:
                progress(f"  zigzag: layer {i + 1}/{len(todo)} ({layer['operator_type']} "
                         + " ".join(f"{d}{s}" for d, s in zip(layer["loop_dims"],
                                                             layer["loop_sizes"])) + ")")
            stages = [WorkloadParserStage, AcceleratorParserStage, WorkloadStage, reduce,
                      SpatialMappingGeneratorStage, reduce, TemporalMappingGeneratorStage,
                      CostModelStage]
            main = MainStage(stages, accelerator=acc_path, workload=[{**layer, "id": 0}],
                             mapping=mapping, dump_folder=tmp, pickle_filename=None,
                             loma_lpf_limit=lpf_limit, loma_show_progress_bar=False,
                             nb_mappings_generated=3,
                             enable_mix_spatial_mapping_generation=False,
                             access_same_data_considered_as_no_access=True,
                             temporal_mapping_type=TemporalMappingType("uneven"))
            try:
                cmes = main.run()
            except (AssertionError, ValueError, KeyError, IndexError) as exc:
                raise MappingError(f"ZigZag could not map layer {layer['loop_dims']}="
                                   f"{layer['loop_sizes']} on {acc.get('name')}: "
                                   f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                                   ) from None
            results.append(_summary(cmes[0][0], acc))
    return [results[unique[_layer_key(layer)]] for layer in layer_list]


def _spatial(sm) -> str:
    """``K 32 x C 16``: the layer dimensions unrolled over the array and by how much (from
    the output operand's per-level unrollings, which cover every array dimension)."""
    d = sm.mapping_dict_origin
    op = next((k for k in d if str(k) == "O"), next(iter(d)))
    f = [f"{ld} {v:g}" for level in d[op] for ld, v in level if v != 1]
    return " x ".join(f) or "none"


def _summary(cme, acc: dict) -> dict:
    """What the report keeps of one layer's best cost model evaluation: plain numbers."""
    hier = cme.accelerator.memory_hierarchy
    links = cme.memory_operand_links
    energy_by_level: dict[str, float] = {}
    accesses = {}
    for layer_op, per_level in cme.mem_energy_breakdown.items():
        mem_op = links.layer_to_mem_op(layer_op)
        levels = hier.get_memory_levels(mem_op=mem_op)
        op = str(layer_op)
        accesses[op] = []
        for lvl, e, acc_count in zip(levels, per_level, cme.memory_word_access[layer_op]):
            energy_by_level[lvl.name] = energy_by_level.get(lvl.name, 0.0) + float(e)
            accesses[op].append({"level": lvl.name, "energy_pj": float(e),
                                 **{str(k): int(v) for k, v in acc_count.data.items()}})
    return {"macs": int(cme.layer.total_mac_count), "mac_energy_pj": float(cme.mac_energy),
            "memory_energy_pj": energy_by_level, "accesses": accesses,
            "latency_cycles": float(cme.latency_total2),
            "ideal_cycles": float(cme.ideal_cycle),
            "spatial_utilization": float(cme.mac_spatial_utilization),
            "spatial_mapping": _spatial(cme.spatial_mapping),
            "temporal_mapping": str(cme.temporal_mapping)}
