"""Design-space sweeps: every point of a YAML cross-product measured once, resumably, on a
local process pool or a Dask cluster (``macforge sweep``).

Sweep file
----------
::

    name: small                          # label in the results store (default: file name)
    axes:                                # the cross-product of these values is the sweep
      unit: mul                          # a value, a list, or a range {from: 0, to: 2, step: 1}
      format: [e2m1, e3m2, e4m3, e5m2]
      rounding: [rne, rtz]
      stages: {from: 0, to: 1}
    exclude:                             # optional: leave out points matching every key
      - {format: e2m1, stages: 1}
    skip_invalid: false                  # true: skip points make_unit refuses (else an error)
    measure:
      asic: {energy: true, n_ops: 20000, seed: 1}      # or: asic: true; clock_mhz: F prices
                                                       # every point at F MHz (with_clock)
      fpga: {targets: [ice40], dsp: true, pnr: true}   # or: fpga: ice40 / [ice40, ecp5]
      error_stats: {samples: 20000, dist: uniform, seed: 0}
      verify: {vectors: 20000, seed: 1}

``axes`` may also be a list of such mappings (their cross-products are joined). Axis names are
``unit``, ``format``, ``format_b``, ``acc``, ``rounding``, ``stages``, ``saturate``, ``fused``
and every other keyword of :func:`hw.make_unit` (``rnd_bits``, ``multiplier``, ``variant``,
``lanes``/``align`` where the unit takes them, ...). Defaults are those of ``macforge cost``
(``unit`` mac, ``rounding`` rne, ``acc`` the unit's default, :func:`hw.make_unit`). Every value and
every point is checked -- each point is built by :func:`hw.make_unit` -- before any job runs;
errors are one line, ``FILE:LINE: KEY: reason``.

Measurements reuse the project's code (:func:`costmodel.asic_cost`,
:func:`costmodel.fpga_cost` with nextpnr, :func:`golden.error_stats`, :func:`sim.fast.check_fast`);
``error_stats`` measures the point's multiplier (L-Mul for ``lmul``/``lmulmac``) rounding into
its ``acc`` format with its ``rounding`` and ``saturate``, or a ``convert`` point's cast into
``acc`` (adders, quantisers and dot units get no error columns); ``verify`` co-simulates the generated
Verilog against the golden model and fails the point on any mismatch.

Results schema
--------------
:func:`load_results` returns one flat dict per finished point, in sweep-file order:

- the axis values: ``unit``, ``format``, ``format_b`` (None = ``format``), ``acc`` (resolved),
  ``rounding``, ``stages``, ``saturate``, ``fused``, plus any other axis of the file;
- ``module`` (the Verilog top, which names the configuration) and ``point_key`` (the content
  key: sha256 of the Verilog, every script run on it, the Liberty library, tool versions and
  the measurement settings);
- ``latency_cycles``, always;
- ``asic`` with ``clock_mhz`` (``macforge sweep --clock-mhz``, :func:`with_clock`): the asic
  figures are those of the pipeline :func:`costmodel.pipelining.unit_at_clock` chooses (fewest
  registers meeting the clock; else the fastest), plus ``clock_mhz``, ``clock_met``,
  ``clock_reached_mhz``, ``clock_module``, ``clock_stages``, ``clock_loop_stages``,
  ``clock_registers``, ``clock_latency_cycles``;
- ``asic``: ``area_um2``, ``area_ge`` (NAND2_X1 = 0.798 µm²), ``generic_ge`` (docs/anchors.md flow),
  ``cells``, ``flops``, ``depth_cells``, ``delay_ps``, ``fmax_mhz_asic``; with energy:
  ``energy_pj`` (switching energy per operation), ``static_energy_pj`` (area cross-check);
- ``fpga``, per target T in ice40/ecp5/xilinx: ``lut_T``, ``carry_T``, ``dsp_T``, ``ff_T``; with
  place and route: ``fmax_mhz_T`` (None when nextpnr reports none);
- ``error_stats`` (mul, fma, mac, lmul, lmulmac and convert points): ``err_mean_rel``,
  ``err_rms_rel``, ``err_max_rel``, ``err_p99_rel`` (relative errors, dimensionless),
  ``err_bias_rel`` (the mean signed relative error), ``overflow_frac``, ``err_samples``;
- ``verify``: ``verify_vectors``, ``verify_mismatches`` (0 for every returned row).

``load_results(path, include_failed=True)`` adds ``status`` ("ok"/"failed") and ``error``.
The store itself is described in :mod:`costmodel.sweep._store`.

Running on a cluster
--------------------
Start a scheduler and workers from the project's environment (every worker must import
macforge: same checkout, ``pip install -e .``), then point the sweep at the scheduler::

    .venv/bin/dask scheduler                           # prints tcp://HOST:8786
    .venv/bin/dask worker tcp://HOST:8786 --nworkers 8 --nthreads 1    # on each machine
    macforge sweep SWEEP.yaml -o results/ --scheduler tcp://HOST:8786

The driver checks that every worker runs the same sources and tool versions as itself, so a
point measures the same on any worker; only the driver writes the results store.

Trust: Dask moves pickles both ways, so whoever controls the scheduler or a worker can run
code on the driver. Use a cluster you started, and TLS with your own CA off a private
network: ``--scheduler tls://HOST:8786 --tls-ca-file ca.pem --tls-cert client.pem --tls-key
client.key``, or in the file (paths relative to it; the command line wins)::

    dask:
      scheduler: tls://HOST:8786
      tls_ca_file: certs/ca.pem
      tls_cert: certs/client.pem
      tls_key: certs/client.key

See docs/security.md (trust model, the bounds of every number a sweep file holds).

Examples
--------
>>> from macforge.costmodel.sweep import load_spec, run_sweep, load_results
>>> rep = run_sweep(load_spec("examples/sweep_small.yaml"), "results", jobs=2)  # doctest: +SKIP
>>> rows = load_results("results")                                               # doctest: +SKIP
>>> min(rows, key=lambda r: r["area_ge"])["module"]                              # doctest: +SKIP
'fmul_e2m1fn_e2m1fn_rtz_s0'
"""
from ._export import EXPORTS, export
from ._point import code_digest, content_key, evaluate
from ._run import SweepReport, default_jobs, plan_sweep, run_sweep
from ._spec import AXES, MEASURES, Point, Spec, SweepError, load_spec, parse_spec, with_clock
from ._store import load_results

__all__ = ["load_spec", "parse_spec", "run_sweep", "plan_sweep", "load_results", "export", "evaluate",
           "content_key", "code_digest", "default_jobs", "Spec", "Point", "SweepReport",
           "SweepError", "AXES", "MEASURES", "EXPORTS", "with_clock"]
