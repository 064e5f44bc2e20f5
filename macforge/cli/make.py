"""Make variables -> ``macforge`` options: the one bridge between the Makefile and the CLI.

Every Makefile recipe that runs macforge is ``python -m macforge.cli.make GOAL``: no variable
is ever pasted into a shell command. This module reads which variables were given on make's
command line (``MAKEFLAGS`` names them; make exports their values to the recipe's environment),
maps each to the option of the same name of the goal's subcommand, and runs
:func:`macforge.cli.main` in-process with that argv. The mapping is derived from the argparse
parser, so the Make variables cannot drift from the flags:

- ``--loop-stages`` is ``LOOP_STAGES=``; ``-n`` is also ``N=`` (:data:`SHORT_MAKE`); a positional is named by the table :data:`POSITIONAL` (``make sweep SWEEP=f.yaml``).
- a flag (``--saturate``) takes ``1``/``0`` (or yes/no, true/false, on/off); a ``--x/--no-x``
  pair (``--fused``) maps ``FUSED=0`` to ``--no-fused``.
- a value is one token: whitespace or control characters are refused (``FORMAT='e4m3 --unit
  fma'``), and it is handed over as ``--format=VALUE``, so it can never become another option.
  Options that take several values (``--include``) split theirs on whitespace.
- a variable no goal of the command line uses is an error naming the closest valid name.
- empty values (``VERILOG=``) mean "not given".

``python -m macforge.cli.make --help-text`` is ``make help``; ``--table`` prints
docs/options.md (the vocabulary table); ``--check GOAL`` only validates the variables of a goal
that does not run macforge (``make test``).
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import sys

from macforge.errors import UsageError

from ._vocab import DEPRECATED_MAKE

__all__ = ["GOALS", "OTHER_GOALS", "POSITIONAL", "variables", "argv_for", "cmdline_variables",
           "main"]

#: Make goal -> macforge subcommand.
GOALS = {g: g for g in ("sim", "verilog", "formats", "cost", "pareto", "reproduce", "calibrate",
                        "error-stats", "workload", "sweep", "fpga", "hwtest")}

#: Goals that do not run macforge, with the variables they take and what they do.
OTHER_GOALS = {
    "help": ((), "this list"),
    "setup": (("PYTHON",), "create .venv and install macforge with its test extras"),
    "test": (("PYTHON",), "the CI suite (under 30 min on 2 cores)"),
    "test-full": (("PYTHON",), "the CI suite plus the slow exhaustive sweeps"),
    "bench": (("PYTHON",), "benchmarks, each against its named baseline measured in the same run"),
    "docs": (("PYTHON",), "build the documentation site into build/site"),
    "clean": ((), "remove build/, out/ and test caches"),
    "distclean": ((), "clean, and remove .venv"),
}

#: Make variables always accepted (they configure make itself, not a goal).
GLOBAL = ("PYTHON",)

#: (subcommand, positional dest) -> Make variable.
POSITIONAL = {("sweep", "spec"): "SWEEP", ("workload", "target"): "WORKLOAD",
              ("reproduce", "name"): "NAME", ("formats", "names"): "FORMAT"}

#: Short options that are Make variables too (``N=`` is ``-n``: vectors, operations or samples,
#: each command's own count, as its ``--help`` says).
SHORT_MAKE = {"-n": "N"}

#: Values a goal gets when its variable is not given (what the Makefile used to default).
GOAL_DEFAULTS = {"sweep": {"SWEEP": "examples/sweep_small.yaml", "EXPORT": "csv"},
                 **{g: {"FORMAT": "e4m3"} for g in ("verilog", "fpga", "hwtest")}}

_TRUE = ("1", "yes", "true", "on")
_FALSE = ("0", "no", "false", "off")
_BAD = re.compile(r"[\s\x00-\x1f\x7f]")


class Var:
    """One Make variable of one subcommand: how its value becomes argv."""

    def __init__(self, name, action, kind):
        self.name, self.action, self.kind = name, action, kind

    @property
    def flag(self):
        longs = [o for o in self.action.option_strings if o.startswith("--")]
        return longs[0] if longs else (self.action.option_strings[0] if self.action.option_strings else None)

    def argv(self, value: str, shown: str):
        if self.kind in ("bool", "negatable"):
            v = value.lower()
            if v not in _TRUE + _FALSE:
                raise UsageError(f"{shown}={value!r}: accepted values are 1 or 0 (also yes/no, "
                                 "true/false, on/off)")
            on = v in _TRUE
            if self.kind == "bool":
                return [self.flag] if on else []
            return [self.flag if on else "--no-" + self.flag[2:]]
        if self.kind == "list":
            toks = value.split()
            bad = [t for t in toks if t.startswith("-") or _BAD.search(t)]
            if bad:
                raise UsageError(f"{shown}: {bad[0]!r} is not a value (a value may not start with '-')")
            if self.action.option_strings:
                if isinstance(self.action, argparse._AppendAction):
                    return [f"{self.flag}={t}" for t in toks]
                return [self.flag, *toks]
            return ["--", *toks] if any(t.startswith("-") for t in toks) else toks
        if _BAD.search(value):
            raise UsageError(f"{shown}={value!r} is not a single value: a Make variable holds one "
                             "token (no spaces or control characters)")
        if not self.action.option_strings:
            if value.startswith("-"):
                raise UsageError(f"{shown}={value!r}: a value may not start with '-'")
            return [value]
        return [f"{self.flag}={value}"]


def _subparser(cmd):
    from . import build_parser
    p = build_parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[cmd]


def variables(cmd) -> dict:
    """The Make variables of subcommand ``cmd``: name -> :class:`Var`."""
    out = {}
    for a in _subparser(cmd)._actions:
        if isinstance(a, argparse._HelpAction) or a.dest == argparse.SUPPRESS:
            continue
        if isinstance(a, argparse.BooleanOptionalAction):
            kind = "negatable"
        elif isinstance(a, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            kind = "bool"
        elif a.nargs in ("+", "*") or isinstance(a, argparse._AppendAction):
            kind = "list"
        else:
            kind = "value"
        if not a.option_strings:
            out[POSITIONAL.get((cmd, a.dest), a.dest.upper())] = Var(
                POSITIONAL.get((cmd, a.dest), a.dest.upper()), a, kind)
            continue
        longs = [o for o in a.option_strings if o.startswith("--") and not o.startswith("--no-")]
        names = [o[2:].upper().replace("-", "_") for o in longs[:1]]
        names += [SHORT_MAKE[o] for o in a.option_strings if o in SHORT_MAKE]
        for n in names:
            out.setdefault(n, Var(n, a, kind))
    return out


def _suggest(name, accepted):
    close = difflib.get_close_matches(name, accepted, n=1, cutoff=0.5)
    return f"; did you mean {close[0]}?" if close else ""


def argv_for(goal, given: dict, other_goals=()) -> tuple[list, list]:
    """The macforge argv for make ``goal`` given command-line variables ``given`` (name ->
    value), and the notes to print. ``other_goals`` are the other goals of the same make
    command line: their variables are not unknown here."""
    cmd = GOALS[goal]
    vs = variables(cmd)
    accepted = set(vs) | set(GLOBAL) | set(DEPRECATED_MAKE)
    for g in other_goals:
        accepted |= _accepted(g)
    notes, argv = [], [cmd]
    values = {k: (v, k) for k, v in GOAL_DEFAULTS.get(goal, {}).items()}
    for name, value in given.items():
        shown = name
        if name not in accepted:
            raise UsageError(f"unknown variable {name} for make {goal}"
                             + _suggest(name, sorted(set(vs) | set(GLOBAL)))
                             + " (make help lists the variables)")
        if name in DEPRECATED_MAKE and name not in vs:
            new = DEPRECATED_MAKE[name]
            if new not in vs:
                continue            # e.g. OUT= on a goal without an output option: unused
            notes.append(f"make variable {name} is deprecated and will be removed in the next "
                         f"release; use {new}")
            name = new
        if name in vs:
            values[name] = (value, shown)
    for name, (value, shown) in values.items():
        if value == "":
            continue
        argv += vs[name].argv(value, shown)
    return argv, notes


def _accepted(goal):
    if goal in GOALS:
        return set(variables(GOALS[goal])) | set(DEPRECATED_MAKE)
    if goal in OTHER_GOALS:
        return set(OTHER_GOALS[goal][0])
    return set()


def _split_makeflags(text):
    """Words of MAKEFLAGS (backslash escapes the next character, as make writes them)."""
    words, cur, esc, has = [], [], False, False
    for ch in text:
        if esc:
            cur.append(ch)
            esc, has = False, True
        elif ch == "\\":
            esc = True
        elif ch.isspace():
            if has:
                words.append("".join(cur))
            cur, has = [], False
        else:
            cur.append(ch)
            has = True
    if has:
        words.append("".join(cur))
    return words


def cmdline_variables(environ=None) -> dict:
    """Variables given on make's command line: name -> value (the exported value; MAKEFLAGS
    lists the names, escaped)."""
    env = os.environ if environ is None else environ
    words = _split_makeflags(env.get("MAKEFLAGS", ""))
    if "--" in words:
        words = words[words.index("--") + 1:]
    out = {}
    for w in words:
        m = re.match(r"([^=:+?!\s]+)\s*[:+?!]*=(.*)", w, re.S)
        if m:
            out[m.group(1)] = env.get(m.group(1), m.group(2))
    return out


def help_text() -> str:
    lines = ["macforge make targets (variables are the options of the same name; "
             "`macforge CMD --help` explains each):", ""]
    from . import build_parser
    p = build_parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    helps = {ca.dest: ca.help for ca in sub._choices_actions}
    for goal, cmd in GOALS.items():
        names = " ".join(sorted(variables(cmd)))
        lines.append(f"  make {goal:<12} {helps.get(cmd) or ''}")
        lines.append(f"       {'':<12} {names}")
    lines.append("")
    for goal, (vs, what) in OTHER_GOALS.items():
        lines.append(f"  make {goal:<12} {what}" + (f"   [{' '.join(vs)}]" if vs else ""))
    lines += ["", "Flags take 1/0; a value is one token; lists (INCLUDE=, VERILOG=) are "
              "space-separated. Deprecated: "
              + ", ".join(f"{o} -> {n}" for o, n in DEPRECATED_MAKE.items()) + "."]
    return "\n".join(lines)


def table() -> str:
    """docs/options.md: every option of every subcommand under its one name."""
    rows = {}
    from macforge.costmodel.sweep._spec import AXES
    for cmd in GOALS.values():
        for name, v in variables(cmd).items():
            a = v.action
            if name in SHORT_MAKE.values() and any(o.startswith("--") for o in a.option_strings):
                continue                   # the short alias is listed with its long name
            flag = v.flag or f"{a.metavar or a.dest} (positional)"
            if v.kind == "negatable":
                flag = f"{v.flag} / --no-{v.flag[2:]}"
            shorts = [o for o in a.option_strings if re.fullmatch(r"-[A-Za-z]", o)]
            key = (name, flag)
            r = rows.setdefault(key, {"cmds": [], "help": (a.help or "").replace("|", "\\|"),
                                      "py": a.dest, "short": shorts})
            r["cmds"].append(cmd)
    out = ["# Options: one name per concept", "",
           "Generated by `python -m macforge.cli.make --table` from the CLI parser (a test checks "
           "that this file is current). A Make variable is the option's long name in upper case "
           "with underscores (`make sim ROUNDING=rtz` is `macforge sim --rounding rtz`); "
           "`N=` is `-n` wherever a command has it. The Python keyword and the "
           "sweep YAML key are the option's name in lower case with underscores. Flags take "
           "`1`/`0`.", "",
           "Deprecated spellings (accepted for one release, with a note): "
           + ", ".join(f"`{o}` -> `{n}`" for (c, o), n in __import__(
               "macforge.cli._vocab", fromlist=["x"]).DEPRECATED_FLAGS.items())
           + "; Make " + ", ".join(f"`{o}` -> `{n}`" for o, n in DEPRECATED_MAKE.items()) + ".",
           "", "| Make | CLI | Python / YAML | Commands | Meaning |", "|---|---|---|---|---|"]
    for (name, flag), r in sorted(rows.items()):
        cli = "`" + flag + "`" + "".join(f", `{s}`" for s in r["short"])
        py = f"`{r['py']}`" + (" (YAML axis)" if r["py"] in AXES else "")
        out.append(f"| `{name}` | {cli} | {py} | {', '.join(sorted(set(r['cmds'])))} | "
                   f"{' '.join(r['help'].split())} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv == ["--help-text"]:
            print(help_text())
            return 0
        if argv == ["--table"]:
            sys.stdout.write(table())
            return 0
        check = argv[:1] == ["--check"]
        goals = argv[1:] if check else argv
        if len(goals) != 1:
            raise UsageError("usage: python -m macforge.cli.make [--check] GOAL | --help-text | --table")
        goal = goals[0]
        others = [g for g in os.environ.get("MAKECMDGOALS", "").split() if g != goal]
        given = cmdline_variables()
        if check:
            accepted = _accepted(goal) | set(GLOBAL)
            for g in others:
                accepted |= _accepted(g)
            for name in given:
                if name not in accepted:
                    raise UsageError(f"unknown variable {name} for make {goal}"
                                     + _suggest(name, sorted(accepted))
                                     + " (make help lists the variables)")
            return 0
        if goal not in GOALS:
            raise UsageError(f"unknown goal {goal!r}; accepted: {', '.join(GOALS)}")
        args, notes = argv_for(goal, given, others)
    except UsageError as exc:
        print(f"macforge: error: {exc}", file=sys.stderr)
        return 2
    for n in notes:
        print(f"macforge: note: {n}", file=sys.stderr)
    print("macforge " + " ".join(shlex.quote(a) for a in args), file=sys.stderr)
    from . import main as cli_main
    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
