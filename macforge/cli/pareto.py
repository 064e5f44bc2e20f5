"""``macforge pareto``: accuracy against energy/latency/area per format on a mapped accelerator,
as report.html, results.csv and results.json (:func:`costmodel.pareto.run`,
:mod:`costmodel.report`); ``--from DIR`` plots a finished sweep instead."""
from __future__ import annotations

import os

from macforge.errors import UsageError
from macforge.progress import say

from ._common import bounded, check_output_dir
from ._units import _mhz

__all__ = ["add_parser", "run"]


def add_parser(sub):
    from macforge.costmodel.accuracy import DEFAULT_FORMATS
    p = sub.add_parser("pareto", help="accuracy (bit-exact emulation) vs energy/latency/area "
                                      "per format on a ZigZag-mapped accelerator: report.html, "
                                      "results.csv, results.json")
    p.add_argument("--workload", "-w", default="digits",
                   help="digits (MLP trained here, default), minilm (extra 'minilm'), a "
                        "built-in graph (resnet18, resnet50, mobilenetv2, bert-base, "
                        "llama2-7b), zigzag:<name> (ZigZag's ONNX models) or FILE.onnx")
    p.add_argument("--arch", "-a", default="tpu_like",
                   help="accelerator: a ZigZag architecture (tpu_like, default; edge_tpu_like, "
                        "eyeriss_like, ...) or a ZigZag accelerator YAML file")
    p.add_argument("--clock-mhz", type=_mhz, default=None, metavar="F",
                   help="clock of every format's array, MHz; each unit is the fewest-register "
                        "pipeline meeting it (default: 500)")
    p.add_argument("--inputs", default=None,
                   help="ONNX workloads: .npz of the graph inputs (one array per input name, "
                        "first axis = samples): accuracy against the fp32 run")
    p.add_argument("--labels", default=None,
                   help="with --inputs: .npy of integer class labels (top-1 accuracy)")
    p.add_argument("--formats", "-f", default=None,
                   help="comma-separated unit specs (default " + ",".join(DEFAULT_FORMATS)
                        + "); options after '/', e.g. e4m3/acc=fp16, int4/keep=int8")
    p.add_argument("--target", "-t", choices=("asic", "ice40", "ecp5"), default="asic",
                   help="asic (45 nm cells, default); ice40/ecp5 add the array's LUTs and "
                        "nextpnr Fmax")
    p.add_argument("--opt", choices=("energy", "latency", "edp"), default="energy",
                   help="what ZigZag's mapping search minimises per layer (default energy)")
    p.add_argument("--jobs", "-j", type=bounded("jobs"), default=None,
                   help="local worker processes for the unit syntheses/simulations and "
                        "ZigZag's layer searches (default: the machine's cores); no figure "
                        "depends on it")
    p.add_argument("--requant", action="store_true",
                   help="add each format's cost of casting every layer's fp32 outputs into it "
                        "(column requant_nj, nJ/inference; block formats: the MX quantiser)")
    p.add_argument("-o", "--output", default="report", help="output directory (default report/)")
    p.add_argument("--from", dest="from_dir", default=None,
                   help="plot a finished sweep's results directory instead")
    p.add_argument("--no-cache", action="store_true", help="recompute costs (and overwrite)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from macforge.costmodel import Cache, report
    from macforge.costmodel import pareto
    from macforge.costmodel.accuracy import DEFAULT_FORMATS, unit_spec
    out = check_output_dir(args.output, "-o")
    if args.from_dir:
        from macforge.costmodel.sweep import load_results
        if not os.path.isdir(args.from_dir):
            raise UsageError(f"--from {args.from_dir}: no such directory (give a sweep's "
                             "results directory)")
        rows = load_results(args.from_dir)
        if not rows:
            raise UsageError(f"--from {args.from_dir}: no results in it")
        paths = report.write_sweep_report(rows, out, source=args.from_dir)
    else:
        text = ",".join(DEFAULT_FORMATS) if args.formats is None else args.formats
        formats = [f.strip() for f in text.split(",") if f.strip()]
        if not formats:
            raise UsageError(f"--formats {args.formats!r} names no unit spec; give a comma "
                             f"list such as {','.join(DEFAULT_FORMATS[:3])} (or leave it out "
                             "for the default set)")
        if args.workload == "minilm":
            from macforge.costmodel.accuracy import get_model
            get_model("minilm").model_dir       # the optional extra: checked before any work
        for f in formats:
            unit_spec(f)                   # a bad spec is a one-line error before any work
        for flag, path in (("--inputs", args.inputs), ("--labels", args.labels)):
            if path is not None and not os.path.isfile(path):
                raise UsageError(f"{flag} {path}: no such file")
        res = pareto.run(args.workload, formats, arch=args.arch, clock_mhz=args.clock_mhz,
                         inputs=args.inputs, labels=args.labels, target=args.target,
                         opt=args.opt, cache=Cache(refresh=args.no_cache), progress=say,
                         workers=args.jobs, requant=args.requant)
        paths = report.write_report(res, out)
    for k, p in paths.items():
        print(f"{k}: {p}")
    return 0
