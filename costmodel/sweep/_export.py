"""Export sweep results (the :func:`load_results` rows) to CSV, JSON and Parquet."""
from __future__ import annotations

import json
import os

from macforge import provenance

__all__ = ["EXPORTS", "export"]

EXPORTS = ("csv", "json", "parquet")


def _columns(rows):
    cols = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    return cols


def export(rows, outdir: str, kinds, stem: str = "sweep") -> list:
    """Write ``<outdir>/<stem>.<kind>`` for each kind; return the paths.

    Every file has one record per point and the union of the rows' keys as columns (a metric
    a point lacks is empty / null), and says which macforge and command wrote it
    (:mod:`macforge.provenance`: the CSV's first line is a ``#`` comment, the JSON document is
    ``{"macforge": {...}, "rows": [...]}``, the Parquet file carries it in its schema
    metadata).
    """
    paths = []
    cols = _columns(rows)
    for kind in kinds:
        path = os.path.join(outdir, f"{stem}.{kind}")
        tmp = path + ".tmp"
        if kind == "csv":
            provenance.write_csv(tmp, rows, cols)
        elif kind == "json":
            provenance.write_json(tmp, {"rows": [{c: r.get(c) for c in cols} for r in rows]})
        elif kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq
            table = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])
            table = table.replace_schema_metadata({"macforge": json.dumps(provenance.stamp())})
            pq.write_table(table, tmp)
        else:
            raise ValueError(f"unknown export format {kind!r}; accepted: " + ", ".join(EXPORTS))
        os.replace(tmp, path)
        paths.append(path)
    return paths
