"""Generate ``cells/macforge45.lib``: the project's small standard-cell Liberty library.

Run ``python -m costmodel._libgen`` to rewrite the file; a test checks the shipped file equals
what this module produces, so every number in the library has its derivation here.

Source
------
[N45] Nangate 45 nm Open Cell Library, ``NangateOpenCellLibrary_typical.lib`` (Nangate Inc.,
      revision 1.0, 10 Feb 2011; typical corner, 1.10 V, 25 C), as redistributed e.g. in
      github.com/Max-astro/dp-buffer-insertion, transcribed in :mod:`costmodel._nangate45`:
      every cell's area, leakage, pin capacitances, output max_capacitance and, per input
      pin, 4 x 7 ``cell_rise`` / ``cell_fall`` / ``rise_transition`` / ``fall_transition``
      tables of its arc (see that module for the rows and arcs kept). INV, NAND2, NOR2, AND2, OR2, BUF, AOI21 and
      OAI21 come at X1/X2/X4, XOR2, XNOR2 and MUX2 at X1/X2 (the library has no X4 of those
      three), DFF_X1 with its clock-to-Q and clock-to-QN tables and its setup/hold constraint
      tables on D.
      - Wire-load model "5K_hvratio_1_1" (the library's default_wire_load): capacitance
        0.1774 fF per unit length, fanout_length 1.746 / 3.939 / 6.463 / 9.220 / 11.91 /
        14.84 / 18.62 / 22.67 / 25.48 / 27.03 for fanout 1..8, 9, 11 (used by ``energy``).

:data:`SETUP_PS`, the one setup time static timing adds at a flip-flop's D, is read from DFF_X1's
``setup_rising`` tables at the project's reference slew (17.19 ps on both D and CK, the slew
:mod:`costmodel.sta` gives primary inputs and the clock), the worse of the rise and fall
constraint.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import _nangate45
from .liberty import Table

__all__ = ["CELLS", "CellSpec", "SETUP_PS", "N45", "render", "main", "LIB_PATH"]

LIB_PATH = os.path.join(os.path.dirname(__file__), "cells", "macforge45.lib")

_TABLES = ("cell_rise", "cell_fall", "rise_transition", "fall_transition")
#: the flip-flop's constraint arcs (pin D related to CK) and their two tables
_CONSTRAINTS = ("setup_rising", "hold_rising")
_CKINDS = ("rise_constraint", "fall_constraint")


def _read_n45(text: str) -> dict:
    """The cells of :data:`costmodel._nangate45.TEXT`: name -> ``area``, ``leak``, ``pins``,
    ``outputs`` ({None: the cell's output, "QN": a further output's} -> ``maxcap``, ``loads``
    and ``arcs``: {related input pin: {``arc``: its name, ``tables``: the four tables, 4 slew
    rows x 7 loads, ns}}) and ``constraints`` ({"setup_rising" | "hold_rising":
    {"rise_constraint" | "fall_constraint": 3 x 3 rows, ns}})."""
    cells, cur, blk, tabs = {}, None, None, None
    for line in text.splitlines():
        if not line.strip():
            continue
        head, _, rest = line.partition(" ")
        if head in ("CELL", "OUTPUT"):
            w = rest.split()
            name, kv = w[0], dict(zip(w[1::2], w[2::2]))
            blk = {"maxcap": float(kv["maxcap"]), "loads": None, "arcs": {}}
            if head == "OUTPUT":
                cur["outputs"][name] = blk
                continue
            cur = cells[name] = {
                "area": float(kv["area"]), "leak": float(kv["leak"]),
                "pins": {k: float(v) for k, v in (x.split("=") for x in kv["pins"].split(","))},
                "outputs": {None: blk}, "constraints": {}}
        elif head == "LOADS":
            blk["loads"] = tuple(float(x) for x in rest.split(","))
        elif head == "ARC":
            tabs = {t: [] for t in _TABLES}
            blk["arcs"][rest.partition("(")[0]] = {"arc": rest, "tables": tabs}
        elif head in _CONSTRAINTS:
            kind, vals = rest.split()
            ctabs = cur["constraints"].setdefault(head, {k: [] for k in _CKINDS})
            ctabs[kind].append(tuple(float(x) for x in vals.split(",")))
        else:
            tabs[head].append(tuple(float(x) for x in rest.split(",")))
    n_slew, n_cs = len(_nangate45.SLEWS_NS), len(_nangate45.CONSTRAINT_SLEWS_NS)
    for name, c in cells.items():
        for pin, b in c["outputs"].items():
            for arc in b["arcs"].values():
                for t, rows in arc["tables"].items():
                    if len(rows) != n_slew or any(len(r) != len(b["loads"]) for r in rows):
                        raise ValueError(f"_nangate45: {name} {arc['arc']} {t} is not "
                                         f"{n_slew} x {len(b['loads'])}")
        for arc, ctabs in c["constraints"].items():
            for t, rows in ctabs.items():
                if len(rows) != n_cs or any(len(r) != n_cs for r in rows):
                    raise ValueError(f"_nangate45: {name} {arc} {t} is not {n_cs} x {n_cs}")
    return cells


#: The transcribed Nangate figures, by cell name.
N45 = _read_n45(_nangate45.TEXT)


@dataclass(frozen=True)
class CellSpec:
    """One library cell: Nangate name, area, pins, function, and where its figures come from
    (every figure is the :data:`N45` entry of the same name)."""
    name: str
    area_um2: float
    inputs: dict            # pin -> capacitance (fF)
    output: str
    function: str           # Liberty boolean syntax: ! & | ^ and parentheses
    sequential: bool = False
    extra_outputs: dict = field(default_factory=dict)   # pin -> function (DFF QN)
    source: str = ""
    leakage_nw: float | None = None


def _n45(name, output, function, extra_outputs=None):
    """A cell with [N45]'s area, pin capacitances, leakage and NLDM tables (a flip-flop: also
    its setup/hold tables)."""
    c = N45[name]
    what = "NLDM tables of arc" + ("s " if len(c["outputs"][None]["arcs"]) > 1 else " ") + \
        ", ".join(a["arc"] for a in c["outputs"][None]["arcs"].values())
    if c["constraints"]:
        what += ", setup/hold tables of D"
    return CellSpec(name, c["area"], dict(c["pins"]), output, function,
                    sequential=bool(c["constraints"]), extra_outputs=dict(extra_outputs or {}),
                    leakage_nw=c["leak"], source=f"[N45] area, caps, leakage, {what}")


CELLS = (
    _n45("INV_X1", "ZN", "!A"),
    _n45("INV_X2", "ZN", "!A"),
    _n45("INV_X4", "ZN", "!A"),
    # ABC's mapper (&nf) needs a buffer in the library
    _n45("BUF_X1", "Z", "A"),
    _n45("BUF_X2", "Z", "A"),
    _n45("BUF_X4", "Z", "A"),
    _n45("NAND2_X1", "ZN", "!(A1 & A2)"),
    _n45("NAND2_X2", "ZN", "!(A1 & A2)"),
    _n45("NAND2_X4", "ZN", "!(A1 & A2)"),
    _n45("NOR2_X1", "ZN", "!(A1 | A2)"),
    _n45("NOR2_X2", "ZN", "!(A1 | A2)"),
    _n45("NOR2_X4", "ZN", "!(A1 | A2)"),
    _n45("AND2_X1", "ZN", "(A1 & A2)"),
    _n45("AND2_X2", "ZN", "(A1 & A2)"),
    _n45("AND2_X4", "ZN", "(A1 & A2)"),
    _n45("OR2_X1", "ZN", "(A1 | A2)"),
    _n45("OR2_X2", "ZN", "(A1 | A2)"),
    _n45("OR2_X4", "ZN", "(A1 | A2)"),
    _n45("AOI21_X1", "ZN", "!(A | (B1 & B2))"),
    _n45("AOI21_X2", "ZN", "!(A | (B1 & B2))"),
    _n45("AOI21_X4", "ZN", "!(A | (B1 & B2))"),
    _n45("OAI21_X1", "ZN", "!(A & (B1 | B2))"),
    _n45("OAI21_X2", "ZN", "!(A & (B1 | B2))"),
    _n45("OAI21_X4", "ZN", "!(A & (B1 | B2))"),
    _n45("XOR2_X1", "Z", "(A ^ B)"),
    _n45("XOR2_X2", "Z", "(A ^ B)"),
    _n45("XNOR2_X1", "ZN", "!(A ^ B)"),
    _n45("XNOR2_X2", "ZN", "!(A ^ B)"),
    _n45("MUX2_X1", "Z", "((S & B) | (A & !S))"),
    _n45("MUX2_X2", "Z", "((S & B) | (A & !S))"),
    _n45("DFF_X1", "Q", "IQ", extra_outputs={"QN": "IQN"}),
)


def _constraint_ps(cell: str, arc: str, slew_ns: float) -> float:
    """The worse of the rise and fall ``arc`` constraint of ``cell`` (ps), at ``slew_ns`` on
    both the constrained pin and the clock (bilinear in the [N45] 3 x 3 table)."""
    cs = _nangate45.CONSTRAINT_SLEWS_NS
    tabs = N45[cell]["constraints"][arc]
    return max(Table(cs, cs, tuple(tabs[k]))(slew_ns, slew_ns) for k in _CKINDS) * 1000


#: setup time of DFF_X1 (ps): [N45] setup_rising at 17.19 ps on D and CK (37.96 ps)
SETUP_PS = _constraint_ps("DFF_X1", "setup_rising", _nangate45.SLEWS_NS[1])


def _fmt(v):
    return f"{v:.9g}"


def _table(kind, rows, template, index):
    body = ", \\\n                  ".join('"' + ", ".join(_fmt(v) for v in r) + '"'
                                          for r in rows)
    idx = "".join(f'          {k} ("{", ".join(_fmt(v) for v in vals)}");\n'
                  for k, vals in zip(("index_1", "index_2"), index))
    return f"        {kind}({template}) {{\n{idx}          values ({body});\n        }}\n"


def _timing(cell: CellSpec, out_pin: str, related: str, sense: str) -> str:
    """The timing group of ``out_pin`` related to ``related``: the tables of that [N45] arc (a
    flip-flop's: its clock-to-output arc)."""
    out = [f'      timing() {{\n        related_pin : "{related}";\n']
    if cell.sequential:
        out.append("        timing_type : rising_edge;\n")
    else:
        out.append(f"        timing_sense : {sense};\n")
    b = _output_block(cell, out_pin)
    index = (_nangate45.SLEWS_NS, b["loads"])
    out += [_table(k, b["arcs"][related]["tables"][k], "nldm_4x7", index) for k in _TABLES]
    out.append("      }\n")
    return "".join(out)


def _output_block(cell: CellSpec, pin: str) -> dict:
    outs = N45[cell.name]["outputs"]
    return outs[pin] if pin in outs else outs[None]


def _constraints(cell: CellSpec) -> str:
    """The setup/hold groups of a flip-flop's D pin (related to its clock), [N45] 3 x 3."""
    cs = _nangate45.CONSTRAINT_SLEWS_NS
    out = []
    for arc, tabs in N45[cell.name]["constraints"].items():
        out.append(f'      timing() {{\n        related_pin : "CK";\n'
                   f"        timing_type : {arc};\n")
        out += [_table(k, tabs[k], "constraint_3x3", (cs, cs)) for k in _CKINDS]
        out.append("      }\n")
    return "".join(out)


def _sense(fn: str) -> str:
    if "^" in fn or "!S" in fn:      # XOR/XNOR and the mux's select are binate
        return "non_unate"
    return "negative_unate" if fn.startswith("!") else "positive_unate"


def render() -> str:
    """The Liberty text (deterministic)."""
    lines = [
        "/* macforge45: a small standard-cell library for macforge's ASIC area/delay/energy",
        " * estimates. Every area, pin capacitance, leakage, NLDM and constraint table is the",
        " * Nangate 45 nm Open Cell Library's (transcribed in costmodel/_nangate45.py);",
        " * costmodel/_libgen.py generated this file (do not edit by hand; run",
        " * python -m costmodel._libgen). */",
        "library (macforge45) {",
        "  delay_model : table_lookup;",
        '  time_unit : "1ns";',
        '  voltage_unit : "1V";',
        '  current_unit : "1mA";',
        '  leakage_power_unit : "1nW";',
        "  capacitive_load_unit (1, ff);",
        "  nom_process : 1.0;",
        "  nom_voltage : 1.1;",
        "  nom_temperature : 25.0;",
        "  default_max_transition : 0.2;",
        "  default_input_pin_cap : 1.0;",
        "  default_output_pin_cap : 0.0;",
        "  default_fanout_load : 1.0;",
        "  input_threshold_pct_rise : 50; input_threshold_pct_fall : 50;",
        "  output_threshold_pct_rise : 50; output_threshold_pct_fall : 50;",
        "  slew_lower_threshold_pct_rise : 30; slew_upper_threshold_pct_rise : 70;",
        "  slew_lower_threshold_pct_fall : 30; slew_upper_threshold_pct_fall : 70;",
        "  lu_table_template (nldm_4x7) {",
        "    variable_1 : input_net_transition;",
        "    variable_2 : total_output_net_capacitance;",
        f'    index_1 ("{", ".join(_fmt(v) for v in _nangate45.SLEWS_NS)}");',
        f'    index_2 ("{", ".join(_fmt(v) for v in N45["INV_X1"]["outputs"][None]["loads"])}");',
        "  }",
        "  lu_table_template (constraint_3x3) {",
        "    variable_1 : constrained_pin_transition;",
        "    variable_2 : related_pin_transition;",
        f'    index_1 ("{", ".join(_fmt(v) for v in _nangate45.CONSTRAINT_SLEWS_NS)}");',
        f'    index_2 ("{", ".join(_fmt(v) for v in _nangate45.CONSTRAINT_SLEWS_NS)}");',
        "  }",
    ]
    body = []
    for c in CELLS:
        body.append(f"  /* {c.name}: {c.source} */")
        body.append(f"  cell ({c.name}) {{")
        body.append(f"    area : {c.area_um2:.3f};")
        body.append(f"    cell_leakage_power : {c.leakage_nw:.6f};")
        if c.sequential:
            body.append('    ff (IQ, IQN) { next_state : "D"; clocked_on : "CK"; }')
        for pin, cap in c.inputs.items():
            clock = "      clock : true;\n" if pin == "CK" else ""
            checks = _constraints(c) if c.sequential and pin == "D" else ""
            body.append(f"    pin ({pin}) {{\n      direction : input;\n{clock}"
                        f"      capacitance : {cap:.6f};\n{checks}    }}")
        outs = {c.output: c.function, **c.extra_outputs}
        for pin, fn in outs.items():
            body.append(f"    pin ({pin}) {{\n      direction : output;\n"
                        f'      function : "{fn}";\n'
                        f"      max_capacitance : {_output_block(c, pin)['maxcap']:.6f};")
            related = ["CK"] if c.sequential else list(c.inputs)
            for r in related:
                body.append(_timing(c, pin, r, _sense(fn)).rstrip("\n"))
            body.append("    }")
        body.append("  }")
    return "\n".join(lines + body + ["}"]) + "\n"


def main() -> str:
    """Rewrite the shipped library file; return its path."""
    with open(LIB_PATH, "w") as f:
        f.write(render())
    return LIB_PATH


if __name__ == "__main__":
    print(main())
