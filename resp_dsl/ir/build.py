"""AST -> IR: give every statement its meaning, resolve names, expand loops into arms.

The ``Builder`` is three parts: reading values (``values.ValueReader``: parameters, ``--set``
overrides, loop variables, numbers, words, ranges, points), walking scopes and making arms
(``scope.ScopeWalker``), and the statements, one module each, dispatched through
``statements.STATEMENTS``. This module holds the entry point and what happens before the walk:
parameters first (they may be read anywhere), then ``--set`` overrides, then top-level task
definitions (a task may be used above its definition).
"""

from __future__ import annotations

from pathlib import Path

from resp_dsl import codes as C
from resp_dsl.diagnostics import Diagnostic, Span, suggest
from resp_dsl.ir import models as M
from resp_dsl.ir import statements
from resp_dsl.ir.scope import Scope, ScopeWalker, find_loop_vars, find_repeat
from resp_dsl.ir.values import ValueReader, plain, respan
from resp_dsl.syntax import ast as A
from resp_dsl.syntax.imports import Loaded


class Builder(ValueReader, ScopeWalker):
    """The state of one build: values and scopes (the two bases), task definitions, reports, effects."""

    def __init__(self, loaded: Loaded, overrides: dict[str, str] | None = None):
        ValueReader.__init__(self, overrides)
        self.loaded = loaded
        self.tasks: dict[str, M.TaskSpec] = {}
        self.task_defs: dict[str, Span] = {}
        self.task_used: set[str] = set()
        self.reports: list[M.ReportSpec] = []
        self.effects: list[tuple[Span, str]] = []  # eval/export/report: pointless without arms
        self.recipe_name = Path(loaded.file).stem if not loaded.file.startswith("<") else "recipe"

    def build(self) -> tuple[M.RecipeIR | None, list[Diagnostic]]:
        stmts = self.loaded.statements
        for st in stmts:  # params first: they may be read anywhere
            if isinstance(st, A.Param):
                self.define_param(st)
        self.apply_overrides()
        self.all_loop_vars = sorted(find_loop_vars(stmts))
        self.has_repeat = find_repeat(stmts)
        root = Scope("root", Span.point(self.loaded.file))
        for st in stmts:  # top-level task definitions too: a task may be used above its definition
            if isinstance(st, A.Command) and st.head == "task":
                statements.command(self, st, root, True)
        self.walk([st for st in stmts if not (isinstance(st, A.Command) and st.head == "task")], root, top=True)
        arms = self.collect_arms(root)
        if not arms and not any(d.severity == "error" for d in self.sink.items):  # else an error explains it
            for span, what in self.effects:
                self.sink.add(C.NO_EFFECT, span, f"`{what}` has no effect: the recipe has no arm to apply it to",
                              hint="add a schedule (e.g. prune to 0.2) or an `arm` block")
        defs = [M.Definition(kind="param", name=n, used=n in self.param_used, span=p.span)
                for n, p in self.param_defs.items()]
        defs += [M.Definition(kind="task", name=n, used=n in self.task_used, span=s) for n, s in self.task_defs.items()]
        seen_vars = {}
        for (name, span), used in self.var_used.items():
            seen_vars[(name, span)] = seen_vars.get((name, span), False) or used
        defs += [M.Definition(kind="variable", name=n, used=u, span=s) for (n, s), u in seen_vars.items()]
        ir = M.RecipeIR(file=self.loaded.file, name=self.recipe_name,
                        params={k: plain(v) for k, v in self.params.items()},
                        tasks=self.tasks, arms=tuple(arms), reports=tuple(self.reports),
                        definitions=tuple(defs), sources=tuple(self.loaded.sources))
        return ir, _dedupe(self.sink.items)

    def define_param(self, st: A.Param) -> None:
        if st.name in self.param_defs:
            self.sink.add(C.DUPLICATE_PARAM, st.name_span, f'parameter "{st.name}" is already defined',
                          notes=(f"first defined at {self.param_defs[st.name].span}",))
            return
        if st.name in statements.KEYWORDS:
            self.sink.add(C.WRONG_TYPE, st.name_span, f'"{st.name}" is a statement keyword and cannot name a parameter')
        self.param_defs[st.name] = st
        self.params[st.name] = st.value

    def apply_overrides(self) -> None:
        from resp_dsl.syntax.parse import parse_text

        for name, text in self.overrides.items():
            span = Span.point("<--set>")
            if name not in self.param_defs:
                self.sink.add(C.UNKNOWN_PARAM, span, f'--set {name}: the recipe defines no parameter "{name}"',
                              suggest(name, self.param_defs) or None)
                continue
            tree, diags = parse_text(f"param {name} = {text}\n", f"<--set {name}>")
            if tree is None or len(tree.statements) != 1 or not isinstance(tree.statements[0], A.Param):
                bad = [d for d in diags if d.code == C.NON_FINITE_NUMBER]
                if bad:
                    self.sink.add(C.NON_FINITE_NUMBER, span, f"--set {name}={text[:40]}: {bad[0].message}")
                else:
                    self.sink.add(C.WRONG_TYPE, span, f"--set {name}={text}: not a single value")
                continue
            self.params[name] = respan(tree.statements[0].value, self.param_defs[name].value.span)

    def loop_vars(self) -> list[str]:
        return self.all_loop_vars


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in diags:
        key = (d.code, d.span, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def build(loaded: Loaded, overrides: dict[str, str] | None = None) -> tuple[M.RecipeIR | None, list[Diagnostic]]:
    """Build the IR of a loaded recipe; diagnostics for everything that could not be built."""
    return Builder(loaded, overrides).build()
