"""AST -> IR: give every statement its meaning, resolve names, expand loops into arms.

Scoping: statements in a block apply to every arm nested in it; an arm's own
statements override the enclosing ones (innermost wins). ``eval`` and ``export``
accumulate along the way; ``schedule`` segments chain, outer before inner, so a
sweep can branch from a shared path (Table 3). A block without explicit arms that
has a schedule becomes one implicit arm (named ``main``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resp_dsl import codes as C
from resp_dsl import vocab as V
from resp_dsl.diagnostics import Diagnostic, Sink, Span, suggest
from resp_dsl.ir import models as M
from resp_dsl.scorers import SCORERS, TOKEN_SCOPES
from resp_dsl.syntax import ast as A
from resp_dsl.syntax.imports import Loaded
from resp_dsl.tasks import TASKS

# The built-in tasks' facts, as their classes state them (resp_dsl.tasks).
BUILTIN_TASKS: dict[str, dict[str, Any]] = {
    name: {"shots": cls.default_shots, "max_new_tokens": cls.max_new_tokens, "answer": cls.answer_kind}
    for name, cls in TASKS.items()
}
GENERIC_CORPORA = ("c4", "wikitext", "stdlib_docs")  # stdlib_docs: the bundled model's generic corpus
STATEMENTS = ("model", "task", "calibrate", "score", "schedule", "prune", "basis", "repeat", "eval", "export", "report")
KEYWORDS = STATEMENTS + ("use", "param", "protect", "arm", "for")
POINT_WORDS = ("dense", "final", "milestones", "all")
TASK_OPTIONS = ("shots", "split", "max_new_tokens", "temperature", "top_p", "top_k", "seed", "limit", "chat",
                "enable_thinking", "harness", "extractor")
REPEAT_KINDS = (M.SEED + "s",)  # `repeat seeds [...]`
MAX_VALUES = 10_000


@dataclass
class Scope:
    kind: str  # root | for | arm
    span: Span
    name: str | None = None
    bindings: tuple[tuple[str, str], ...] = ()
    settings: dict[str, tuple[Any, Span]] = field(default_factory=dict)
    segments: list[M.Segment] = field(default_factory=list)
    evals: list[tuple[M.TaskSpec, list | None, Span]] = field(default_factory=list)
    exports: list[tuple[str, str, list | None, Span]] = field(default_factory=list)
    children: list["Scope"] = field(default_factory=list)
    parent: "Scope | None" = None


class _Args:
    """The arguments of one command, consumed by name; leftovers are diagnosed."""

    def __init__(self, b: "Builder", cmd: A.Command):
        self.b, self.cmd = b, cmd
        self.pos: list[A.Value] = []
        self.kv: dict[str, A.KeyValue] = {}
        self.clauses: dict[str, A.Clause] = {}
        for arg in cmd.args:
            if isinstance(arg, A.Positional):
                self.pos.append(b.resolve(arg.value))
            elif isinstance(arg, A.KeyValue):
                key = "rho" if arg.key == "ρ" else arg.key
                if key in self.kv:
                    b.sink.add(C.DUPLICATE_OPTION, arg.span, f'option "{arg.key}" is given twice')
                self.kv[key] = dataclasses.replace(arg, value=b.resolve(arg.value))
            else:
                if arg.keyword in self.clauses:
                    b.sink.add(C.DUPLICATE_OPTION, arg.span, f'"{arg.keyword}" is given twice')
                vals = tuple(b.resolve(v) if not isinstance(v, A.KeyValue) else
                             dataclasses.replace(v, value=b.resolve(v.value)) for v in arg.values)
                self.clauses[arg.keyword] = dataclasses.replace(arg, values=vals)

    def take(self) -> A.Value | None:
        return self.pos.pop(0) if self.pos else None

    def opt(self, key: str) -> A.Value | None:
        kv = self.kv.pop(key, None)
        return kv.value if kv else None

    def clause(self, kw: str) -> A.Clause | None:
        return self.clauses.pop(kw, None)

    def finish(self, options: tuple[str, ...] = (), clauses: tuple[str, ...] = ()) -> None:
        head = self.cmd.head
        for key, kv in self.kv.items():
            hint = (suggest(key, options) or "valid options: " + ", ".join(f'"{o}"' for o in sorted(options))) \
                if options else f"`{head}` takes no options"
            self.b.sink.add(C.UNKNOWN_OPTION, kv.key_span, f'`{head}` has no option "{kv.key}"', hint)
        for kw, cl in self.clauses.items():
            self.b.sink.add(C.UNKNOWN_OPTION, cl.span, f'`{head}` does not take "{kw} ..."',
                            ("it takes: " + ", ".join(f'"{c}"' for c in clauses)) if clauses else None)
        for v in self.pos:
            self.b.sink.add(C.UNKNOWN_OPTION, v.span, f"unexpected argument {_show(v)} to `{head}`")


def _show(v) -> str:
    if isinstance(v, (A.Number, A.Percent)):
        return v.text
    if isinstance(v, A.String):
        return f'"{v.value}"'
    if isinstance(v, A.Name):
        return f'"{v.value}"'
    return "list"


def _label(v) -> str:
    if isinstance(v, (A.Number, A.Percent)):
        return v.text
    if isinstance(v, (A.String, A.Name)):
        return v.value
    return "[...]"


class Builder:
    def __init__(self, loaded: Loaded, overrides: dict[str, str] | None = None):
        self.loaded = loaded
        self.sink = Sink()
        self.params: dict[str, A.Value] = {}
        self.param_defs: dict[str, A.Param] = {}
        self.param_used: set[str] = set()
        self.env: list[dict[str, A.Value]] = []
        self.var_used: dict[tuple[str, Span], bool] = {}
        self.tasks: dict[str, M.TaskSpec] = {}
        self.task_defs: dict[str, Span] = {}
        self.task_used: set[str] = set()
        self.reports: list[M.ReportSpec] = []
        self.effects: list[tuple[Span, str]] = []  # eval/export/report: pointless without arms
        self.overrides = overrides or {}
        self.from_set: dict[int, tuple[str, A.Value]] = {}  # id of a resolved value -> the --set param it came from
        self.recipe_name = Path(loaded.file).stem if not loaded.file.startswith("<") else "recipe"

    # ------------------------------------------------------------ values
    def resolve(self, v: A.Value) -> A.Value:
        if isinstance(v, A.Name):
            for frame in reversed(self.env):
                if v.value in frame:
                    for key in self.var_used:
                        if key[0] == v.value:
                            self.var_used[key] = True
                    return _respan(frame[v.value], v.span)
            if v.value in self.params:
                self.param_used.add(v.value)
                out = _respan(self.params[v.value], v.span)
                if v.value in self.overrides:
                    self.from_set[id(out)] = (v.value, out)
                return out
            return v
        if isinstance(v, A.ListValue):
            return A.ListValue(tuple(self.resolve(i) if not isinstance(i, A.Range) else
                                     A.Range(self.resolve(i.start), self.resolve(i.stop),
                                             self.resolve(i.step) if i.step else None, i.span)
                                     for i in v.items), v.span)
        return v

    def number(self, v: A.Value | None, what: str, *, integer: bool = False) -> float | int | None:
        if v is None:
            return None
        if isinstance(v, A.Number):
            if integer and not isinstance(v.value, int):
                if float(v.value).is_integer():
                    return int(v.value)
                self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be a whole number, got {v.text}")
                return None
            return v.value
        if isinstance(v, A.Percent) and not integer:
            return v.value
        if isinstance(v, A.Name) and id(v) in self.from_set:
            param = self.from_set[id(v)][0]
            default = self.param_defs[param].value
            self.sink.add(C.WRONG_TYPE, v.span, f'--set {param}={v.value}: {what} needs a number, got "{v.value}"',
                          hint=f"e.g. --set {param}={getattr(default, 'text', 1)} (the recipe's default)")
            return None
        if isinstance(v, A.Name):
            self.sink.add(C.UNKNOWN_NAME, v.span,
                          f'"{v.value}" is not a parameter or loop variable ({what} needs a number)',
                          hint=_unknown_name_hint(v, self))
            return None
        self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be a {'whole ' if integer else ''}number, got {_show(v)}")
        return None

    def word(self, v: A.Value | None, choices: tuple[str, ...], what: str) -> str | None:
        if v is None:
            return None
        if isinstance(v, A.Name) and v.value in choices:
            return v.value
        if isinstance(v, (A.Name, A.String)):
            self.sink.add(C.UNKNOWN_VALUE, v.span, f'unknown {what} "{v.value}"', suggest(v.value, choices))
        else:
            self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be one of {', '.join(choices)}, got {_show(v)}")
        return None

    def text(self, v: A.Value | None, what: str) -> str | None:
        if v is None:
            return None
        if isinstance(v, (A.String, A.Name)):
            return v.value
        if isinstance(v, A.Number):
            return v.text
        self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be a name or a string, got {_show(v)}")
        return None

    def boolean(self, v: A.Value | None, what: str) -> bool | None:
        if v is None:
            return None
        if isinstance(v, A.Name) and v.value in ("true", "yes", "on", "false", "no", "off"):
            return v.value in ("true", "yes", "on")
        if isinstance(v, A.Number) and v.value in (0, 1):
            return bool(v.value)
        self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be true or false, got {_show(v)}")
        return None

    def values(self, v: A.Value, what: str) -> list[A.Value]:
        """A scalar or a list (ranges expanded) as a flat list of scalar values."""
        if not isinstance(v, A.ListValue):
            return [v]
        out: list[A.Value] = []
        for item in v.items:
            if isinstance(item, A.Range):
                out.extend(self.expand_range(item, what))
            elif isinstance(item, A.ListValue):
                self.sink.add(C.WRONG_TYPE, item.span, f"{what}: lists cannot be nested here")
            else:
                out.append(item)
        if not v.items:
            self.sink.add(C.EMPTY_LIST, v.span, f"{what}: the list is empty")
        return out

    def expand_range(self, r: A.Range, what: str) -> list[A.Value]:
        start = self.number(r.start, f"{what} (range start)")
        stop = self.number(r.stop, f"{what} (range end)")
        if start is None or stop is None:
            return []
        if r.step is not None:
            step = self.number(r.step, f"{what} (range step)")
            if step is None:
                return []
        else:
            step = 1 if isinstance(start, int) and isinstance(stop, int) else start
        if step <= 0:
            self.sink.add(C.INVALID_RANGE, r.span, f"range step must be positive, got {step}",
                          hint="[a..b] steps by a; write [a..b step s] to choose the step")
            return []
        if start > stop:
            self.sink.add(C.INVALID_RANGE, r.span, f"range start {start} is greater than its end {stop}")
            return []
        count = int((stop - start) / step + 1e-9) + 1
        if count > MAX_VALUES:
            self.sink.add(C.INVALID_RANGE, r.span, f"range has {count:,} values; at most {MAX_VALUES:,}")
            return []
        is_int = all(isinstance(x, int) for x in (start, stop, step))
        out = []
        for i in range(count):
            val = start + i * step
            val = int(val) if is_int else round(val, 10)
            out.append(A.Number(val, _fmt_num(val), r.span))
        return out

    def sparsities(self, v: A.Value | None, what: str) -> list[float] | None:
        if v is None:
            return None
        out = []
        for item in self.values(v, what):
            n = self.number(item, what)
            if n is not None:
                self.tiny_percent(item)
                out.append(float(n))
        return out

    def tiny_percent(self, item: A.Value) -> None:
        """`prune to 0.25%` is 0.0025: almost certainly meant as 25%."""
        if isinstance(item, A.Percent) and 0 < item.value < 0.01:
            self.sink.add(C.TINY_PERCENTAGE, item.span, f"{item.text} is a sparsity of {item.value:g}",
                          hint=f"did you mean {float(item.text[:-1]) * 100:g}% ({float(item.text[:-1]):g})?")

    def points(self, v: A.Value | None) -> list | None:
        """Evaluation/export points: sparsities and the words dense/final/milestones/all."""
        if v is None:
            return None
        out: list = []
        for item in self.values(v, "evaluation point"):
            if isinstance(item, A.Name):
                w = self.word(item, POINT_WORDS, "evaluation point")
                if w:
                    out.append((w, item.span))
            else:
                n = self.number(item, "evaluation point")
                if n is not None and not 0 <= n < 1:
                    self.sink.add(C.OUT_OF_RANGE, item.span, f"an evaluation point must be in [0, 1), got {_show(item)}",
                                  hint=percent_hint(n))
                elif n is not None:
                    self.tiny_percent(item)
                    out.append((float(n), item.span))
        return out

    # ------------------------------------------------------------ entry
    def build(self) -> tuple[M.RecipeIR | None, list[Diagnostic]]:
        stmts = self.loaded.statements
        for st in stmts:  # params first: they may be read anywhere
            if isinstance(st, A.Param):
                self.define_param(st)
        self.apply_overrides()
        self.all_loop_vars = sorted(_loop_vars(stmts))
        self.has_repeat = _has_repeat(stmts)
        root = Scope("root", Span.point(self.loaded.file))
        for st in stmts:  # top-level task definitions too: a task may be used above its definition
            if isinstance(st, A.Command) and st.head == "task":
                self.command(st, root, True)
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
                        params={k: _plain(v) for k, v in self.params.items()},
                        tasks=self.tasks, arms=tuple(arms), reports=tuple(self.reports),
                        definitions=tuple(defs), sources=tuple(self.loaded.sources))
        return ir, _dedupe(self.sink.items)

    def define_param(self, st: A.Param) -> None:
        if st.name in self.param_defs:
            self.sink.add(C.DUPLICATE_PARAM, st.name_span, f'parameter "{st.name}" is already defined',
                          notes=(f"first defined at {self.param_defs[st.name].span}",))
            return
        if st.name in KEYWORDS:
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
            self.params[name] = _respan(tree.statements[0].value, self.param_defs[name].value.span)

    # ------------------------------------------------------------ walking
    def walk(self, stmts, scope: Scope, top: bool = False) -> None:
        for st in stmts:
            if isinstance(st, A.Param):
                if not top:
                    self.sink.add(C.MISPLACED_STATEMENT, st.span, "`param` is allowed only at the top level")
            elif isinstance(st, A.Use):
                self.sink.add(C.MISPLACED_STATEMENT, st.span, "`use` is allowed only at the top level")
            elif isinstance(st, A.Protect):
                self.set(scope, "protect", self.protect(st), st.span)
            elif isinstance(st, A.Arm):
                self.arm(st, scope)
            elif isinstance(st, A.For):
                self.for_loop(st, scope)
            elif isinstance(st, A.Command):
                self.command(st, scope, top)

    def set(self, scope: Scope, kind: str, value, span: Span) -> None:
        if value is None:
            return
        prev = scope.settings.get(kind)
        if prev is not None and prev[1].file == span.file:
            self.sink.add(C.DUPLICATE_SETTING, span, f"`{kind}` is already set in this block",
                          hint="put alternatives in separate `arm` blocks",
                          notes=(f"first set at {prev[1]}",))
            return
        scope.settings[kind] = (value, span)

    def arm(self, st: A.Arm, scope: Scope) -> None:
        if scope.kind == "arm" or any(s.kind == "arm" for s in _ancestors(scope)):
            self.sink.add(C.MISPLACED_STATEMENT, st.span, "an `arm` cannot be nested inside another arm")
            return
        child = Scope("arm", st.span, name=st.name, bindings=scope.bindings, parent=scope)
        scope.children.append(child)
        self.walk(st.body, child)

    def for_loop(self, st: A.For, scope: Scope) -> None:
        if scope.kind == "arm" or any(s.kind == "arm" for s in _ancestors(scope)):
            self.sink.add(C.MISPLACED_STATEMENT, st.span, "a `for` loop cannot be inside an arm",
                          hint="put the arms inside the loop instead")
            return
        iterable = self.resolve(st.iterable)
        if not isinstance(iterable, A.ListValue):
            self.sink.add(C.WRONG_TYPE, iterable.span, f"`for {st.var} in` needs a list, got {_show(iterable)}")
            return
        items = self.values(iterable, f"values of {st.var}")
        key = (st.var, st.var_span)
        self.var_used.setdefault(key, False)
        for item in items:
            child = Scope("for", st.span, bindings=scope.bindings + ((st.var, _label(item)),), parent=scope)
            scope.children.append(child)
            self.env.append({st.var: item})
            try:
                self.walk(st.body, child)
            finally:
                self.env.pop()

    # ------------------------------------------------------------ statements
    def command(self, cmd: A.Command, scope: Scope, top: bool) -> None:
        head = cmd.head
        handler = getattr(self, f"stmt_{head}", None) if head in STATEMENTS else None
        if handler is None:
            self.sink.add(C.UNKNOWN_STATEMENT, cmd.head_span, f'unknown statement "{head}"', suggest(head, KEYWORDS))
            return
        handler(cmd, _Args(self, cmd), scope, top)

    def head_word(self, cmd, a: _Args, choices, what: str, missing: str) -> str | None:
        """The statement's first word (its kind). When it is wrong the rest is not judged."""
        v = a.take()
        if v is None:
            self.sink.add(C.MISSING_ARGUMENT, cmd.head_span, missing)
            return None
        return self.word(v, choices, what)

    def stmt_model(self, cmd, a: _Args, scope, top) -> None:
        src_v = a.take()
        if src_v is None:
            self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`model` needs a hub id, a local directory or zoo:<name>",
                          hint='e.g. model "Qwen/Qwen3-8B" dtype bf16')
            a.finish()
            return
        source = self.text(src_v, "model")
        opts: dict[str, A.Value] = {}
        while a.pos:  # `dtype bf16` pairs
            key = a.take()
            if isinstance(key, A.Name) and key.value in ("dtype", "device", "backend", "revision"):
                val = a.take()
                if val is None:
                    self.sink.add(C.MISSING_ARGUMENT, key.span, f"`{key.value}` needs a value")
                else:
                    opts[key.value] = val
            else:
                self.sink.add(C.UNKNOWN_OPTION, key.span, f"unexpected argument {_show(key)} to `model`",
                              suggest(key.value, ("dtype", "device", "backend", "revision")) if isinstance(key, A.Name) else None)
        for k in ("dtype", "device", "backend", "revision"):
            v = a.opt(k)
            if v is not None:
                opts[k] = v
        a.finish(("dtype", "device", "backend", "revision"))
        if source is None:
            return
        kind = "zoo" if source.startswith("zoo:") else (
            "local" if source.startswith((".", "/", "~")) or Path(source).is_dir() else "hub")
        if kind == "zoo":
            from resp_dsl.zoo import MODELS

            if source[4:] not in MODELS:  # the zoo: namespace is local: an unknown name is an error now
                self.sink.add(C.UNKNOWN_VALUE, src_v.span, f'unknown bundled model "{source}"',
                              suggest(source, tuple(f"zoo:{m}" for m in MODELS)) or "bundled models: " + ", ".join(f"zoo:{m}" for m in MODELS))
                return
        fields: dict[str, Any] = {"source": source, "kind": kind, "span": cmd.span}
        if "dtype" in opts:
            fields["dtype"] = self.word(opts["dtype"], V.DTYPES, "dtype")
        if "backend" in opts:
            fields["backend"] = self.word(opts["backend"], V.BACKENDS, "backend")
        if "device" in opts:
            dev = self.text(opts["device"], "device")
            if dev is not None and not (dev in ("auto", "cpu", "cuda", "mps") or dev.startswith("cuda:")):
                self.sink.add(C.UNKNOWN_VALUE, opts["device"].span, f'unknown device "{dev}"',
                              suggest(dev, ("auto", "cpu", "cuda", "mps")))
                dev = None
            fields["device"] = dev
        if "revision" in opts:
            fields["revision"] = self.text(opts["revision"], "revision")
        if any(fields.get(k, "") is None for k in ("dtype", "backend", "device", "revision")):
            return
        self.set(scope, "model", M.ModelSpec(**fields), cmd.span)

    def stmt_task(self, cmd, a: _Args, scope, top) -> None:
        name_v = a.take()
        if not isinstance(name_v, A.Name):
            self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`task` needs a name", hint='e.g. task mine from "data/mine.jsonl"')
            a.finish(TASK_OPTIONS + ("answer",), ("from",))
            return
        name = name_v.value
        fields: dict[str, Any] = dict(BUILTIN_TASKS.get(name, {}))
        if name in self.tasks:  # defined in a used fragment: this statement refines that definition
            fields = self.tasks[name].model_dump(exclude={"name", "span"})
        src = a.clause("from")
        if src is not None:
            path = self.text(src.values[0], "task file")
            if path is not None:
                fields.update(source="local", path=path)
        elif name not in BUILTIN_TASKS and name not in self.tasks:
            self.sink.add(C.MISSING_ARGUMENT, cmd.span, f'task "{name}" is not built in and needs `from "file.jsonl"`',
                          hint=suggest(name, BUILTIN_TASKS))
            a.finish(TASK_OPTIONS + ("answer",), ("from",))
            return
        given = self.task_options(a)  # a None here is a value that did not parse (already reported)
        ans = a.opt("answer")
        if ans is not None:
            given["answer"] = self.word(ans, V.ANSWER_KINDS, "answer kind")
        fields.update(given)
        a.finish(TASK_OPTIONS + ("answer",), ("from",))
        if any(v is None for v in given.values()) or (src is not None and fields.get("path") is None):
            return
        if name in self.task_defs and self.task_defs[name].file == cmd.span.file:
            self.sink.add(C.DUPLICATE_SETTING, name_v.span, f'task "{name}" is already defined',
                          notes=(f"first defined at {self.task_defs[name]}",))
            return
        self.task_defs[name] = name_v.span
        self.tasks[name] = M.TaskSpec(name=name, span=cmd.span, **fields)

    def task_options(self, a: _Args) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("shots", "max_new_tokens", "seed", "limit", "top_k"):
            v = a.opt(key)
            if v is not None:
                out[key] = self.number(v, key, integer=True)
        for key in ("temperature", "top_p"):
            v = a.opt(key)
            if v is not None:
                out[key] = self.number(v, key)
        v = a.opt("split")
        if v is not None:
            out["split"] = self.word(v, V.SPLITS, "split")
        for key in ("chat", "enable_thinking"):
            v = a.opt(key)
            if v is not None:
                out[key] = self.boolean(v, key)
        v = a.opt("harness")
        if v is not None:
            out["harness"] = self.word(v, V.HARNESSES, "evaluation harness")
        v = a.opt("extractor")
        if v is not None:
            out["extractor"] = self.text(v, "answer-extractor model")
        return out

    def lookup_task(self, v: A.Value, what: str) -> M.TaskSpec | None:
        if isinstance(v, A.String):  # a local jsonl used directly
            name = Path(v.value).stem
            return M.TaskSpec(name=name, source="local", path=v.value, span=v.span)
        if not isinstance(v, A.Name):
            self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be a task name, got {_show(v)}")
            return None
        self.task_used.add(v.value)
        if v.value in self.tasks:
            return self.tasks[v.value]
        if v.value in BUILTIN_TASKS:
            return M.TaskSpec(name=v.value, span=v.span, **BUILTIN_TASKS[v.value])
        self.sink.add(C.UNKNOWN_TASK, v.span, f'unknown task "{v.value}"',
                      suggest(v.value, list(BUILTIN_TASKS) + list(self.tasks)) or
                      'define it with task NAME from "file.jsonl"')
        return None

    def stmt_calibrate(self, cmd, a: _Args, scope, top) -> None:
        options = ("n", "seed", "max_tokens", "temperature", "top_p", "top_k", "split", "shots")
        src = self.head_word(cmd, a, V.CALIBRATION_SOURCES, "calibration source",
                             "`calibrate` needs a source: generic, task or self_generated")
        if src is None:
            return
        frm = a.clause("from")
        fields: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        for key in ("n", "seed", "max_tokens", "top_k", "shots"):
            v = a.opt(key)
            if v is not None:
                fields[key] = self.number(v, key, integer=True)
                spans[key] = v.span
        for key in ("temperature", "top_p"):
            v = a.opt(key)
            if v is not None:
                fields[key] = self.number(v, key)
                spans[key] = v.span
        v = a.opt("split")
        if v is not None:
            fields["split"] = self.word(v, V.SPLITS, "split")
        a.finish(options, ("from",))
        if src is None or any(x is None for x in fields.values()):
            return
        if src == "generic":
            if frm is None:
                dataset, text_file = "c4", None
            elif isinstance(frm.values[0], A.String):
                dataset, text_file = frm.values[0].value, frm.values[0].value
            else:
                dataset = self.word(frm.values[0], GENERIC_CORPORA, "generic corpus")
                text_file = None
                if dataset is None:
                    return
        else:
            if frm is None:
                self.sink.add(C.MISSING_ARGUMENT, cmd.span, f"`calibrate {src}` needs `from TASK`",
                              hint=f"e.g. calibrate {src} from gsm8k n=128")
                return
            task = self.lookup_task(frm.values[0], "calibration task")
            if task is None:
                return
            dataset = task.path if task.source == "local" else task.name
            text_file = None
            fields["task_file"] = task.path if task.source == "local" else None
        self.set(scope, "calibration", M.CalibrationSpec(source=src, dataset=dataset, text_file=text_file,
                                                         span=cmd.span, spans=spans, **fields), cmd.span)

    def stmt_score(self, cmd, a: _Args, scope, top) -> None:
        method = self.head_word(cmd, a, tuple(SCORERS), "score method",
                                f"`score` needs a method: {', '.join(SCORERS)}")
        if method is None:
            return
        loss = variant = None
        all_variants = tuple(dict.fromkeys(w for s in SCORERS.values() for w in s.variants))
        while a.pos:
            v = a.take()
            if isinstance(v, A.Name) and v.value in TOKEN_SCOPES:
                if loss is not None:
                    self.sink.add(C.DUPLICATE_OPTION, v.span, "the loss is given twice")
                loss = (v.value, v.span)
            elif isinstance(v, A.Name) and v.value in all_variants:
                variant = (v.value, v.span)
            else:
                self.word(v, TOKEN_SCOPES + all_variants, "score option")
        structures = ("heads", "channels")
        on = a.clause("on")
        if on is not None:
            got = []
            for v in on.values:
                for item in self.values(v, "structures"):
                    w = self.word(item, V.STRUCTURES, "structure")
                    if w and w not in got:
                        got.append(w)
            if "heads" in got and "kv_groups" in got:
                self.sink.add(C.INCOMPATIBLE_OPTIONS, on.span, "score either heads or kv_groups, not both",
                              hint="a KV group already contains its query heads")
            structures = tuple(got) if got else structures
        norm_v = a.opt("normalize")
        normalize = self.word(norm_v, V.NORMALIZATIONS, "normalisation") if norm_v else "type"
        a.finish(("normalize",), ("on",))
        if method is None or normalize is None:
            return
        # The token scope (loss) matters to every calibrated scorer: Taylor's loss, Wanda-sp's
        # activation norms. Default: every token of each calibration sample (Wanda/FLAP, GISP).
        scorer = SCORERS[method]
        bad = [opt for opt, ok in ((loss, scorer.token_scope), (variant, variant and variant[0] in scorer.variants))
               if opt is not None and not ok]
        for opt in bad:
            self.sink.add(C.INCOMPATIBLE_OPTIONS, opt[1], f'"{opt[0]}" does not apply to {method} scores',
                          hint=_score_options_hint())
        loss_v = (loss[0] if loss else "full") if scorer.token_scope else None
        variant_v = (variant[0] if variant and variant[0] in scorer.variants else scorer.variants[0]) \
            if scorer.variants else None
        self.set(scope, "score", M.ScoreSpec(method=method, loss=loss_v, variant=variant_v, structures=structures,
                                             normalize=normalize, span=cmd.span), cmd.span)

    def _mode(self, a: _Args) -> str | None:
        v = a.opt("mode")
        return self.word(v, V.MODES, "prune mode") if v is not None else "physical"

    def stmt_schedule(self, cmd, a: _Args, scope, top) -> None:
        kind = self.head_word(cmd, a, V.SCHEDULE_KINDS, "schedule",
                              "`schedule` needs a kind: milestones, iterative or oneshot")
        if kind is None:
            return
        mode = self._mode(a)
        seg: M.Segment | None = None
        spans: dict[str, Span] = {}
        if kind == "milestones":
            ms_v = a.take()
            ms = self.sparsities(ms_v, "milestones")
            if ms_v is not None:
                spans["targets"] = ms_v.span
            steps_v = a.opt("steps")
            steps = None
            if steps_v is not None:
                steps = self.number(steps_v, "steps", integer=True)
                spans["steps"] = steps_v.span
            regen = a.clause("regen")
            rho = 0.0
            if regen is not None:
                kv = regen.values[0]
                if kv.key not in ("ρ", "rho"):
                    self.sink.add(C.UNKNOWN_OPTION, kv.key_span, f'`regen` takes ρ=..., not "{kv.key}"', 'write regen ρ=1.0')
                else:
                    rho = self.number(kv.value, "ρ")
                    spans["rho"] = kv.value.span
            a.finish(("steps", "mode"), ("regen",))
            if ms is None:
                self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`schedule milestones` needs a list of sparsities",
                              hint="e.g. schedule milestones [0.1..0.4] steps=112 regen ρ=1.0")
            elif ms and rho is not None and mode and (steps_v is None or steps is not None):
                seg = M.Segment(kind="milestones", targets=tuple(ms), rho=float(rho), steps=steps, mode=mode,
                                span=cmd.span, spans=spans)
        elif kind == "iterative":
            to = a.clause("to")
            every = a.clause("every")
            steps_v = a.opt("steps")
            a.finish(("steps", "mode"), ("to", "every"))
            targets = self.sparsities(to.values[0], "target") if to else None
            if to is not None:
                spans["targets"] = to.values[0].span
            if steps_v is not None:
                spans["steps"] = steps_v.span
            if every is not None:
                spans["every"] = every.values[0].span
            if to is None:
                self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`schedule iterative` needs `to TARGET`",
                              hint="e.g. schedule iterative steps=112 to 0.4")
                return
            if steps_v is not None and every is not None:
                self.sink.add(C.INCOMPATIBLE_OPTIONS, every.span, "give either steps=N or every X, not both")
                return
            steps = self.number(steps_v, "steps", integer=True) if steps_v is not None else None
            ev = self.number(every.values[0], "every") if every is not None else None
            if steps_v is None and every is None:
                ev = 0.01
            if targets and len(targets) != 1:
                self.sink.add(C.WRONG_TYPE, to.span, "an iterative schedule has one target; evaluate in between with `eval ... at`")
                return
            if targets and mode and (steps is not None or ev is not None):
                seg = M.Segment(kind="iterative", targets=tuple(targets), steps=steps, every=ev, mode=mode, span=cmd.span,
                                spans=spans)
        elif kind == "oneshot":
            to = a.clause("to")
            a.finish(("mode",), ("to",))
            if to is None:
                self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`schedule oneshot` needs `to TARGET`")
                return
            targets = self.sparsities(to.values[0], "target")
            if targets and mode:
                seg = M.Segment(kind="oneshot", targets=tuple(targets), mode=mode, span=cmd.span,
                                spans={"targets": to.values[0].span})
        else:
            a.finish(("mode", "steps"), ("to", "every", "regen"))
        if seg is not None:
            scope.segments.append(seg)

    def stmt_prune(self, cmd, a: _Args, scope, top) -> None:
        to = a.clause("to")
        mode = self._mode(a)
        steps_v = a.opt("steps")
        a.finish(("mode", "steps"), ("to",))
        if to is None:
            self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`prune` needs `to TARGET`", hint="e.g. prune to [0.2, 0.3, 0.4]")
            return
        targets = self.sparsities(to.values[0], "target")
        steps = self.number(steps_v, "steps", integer=True) if steps_v is not None else 1
        if not targets or mode is None or steps is None:
            return
        if steps > 1:
            if len(targets) != 1:
                self.sink.add(C.WRONG_TYPE, to.span, "an iterative prune (steps > 1) has one target")
                return
            seg = M.Segment(kind="iterative", targets=tuple(targets), steps=steps, mode=mode, span=cmd.span,
                            spans={"targets": to.values[0].span})
        else:
            seg = M.Segment(kind="oneshot", targets=tuple(targets), mode=mode, span=cmd.span,
                            spans={"targets": to.values[0].span})
        scope.segments.append(seg)

    def stmt_basis(self, cmd, a: _Args, scope, top) -> None:
        v = a.take()
        a.finish()
        if v is None:
            self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`basis` needs params or structures")
            return
        self.set(scope, "basis", self.word(v, V.BASES, "sparsity basis"), cmd.span)

    def stmt_repeat(self, cmd, a: _Args, scope, top) -> None:
        kind = self.head_word(cmd, a, REPEAT_KINDS, "repeat kind", "`repeat` needs what to repeat over: seeds")
        v = a.take()
        a.finish()
        if kind is None:
            return
        if v is None:
            self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`repeat seeds` needs a list of calibration seeds",
                          hint="e.g. repeat seeds [0, 1, 2]")
            return
        if not isinstance(v, A.ListValue):
            self.sink.add(C.WRONG_TYPE, v.span, f"`repeat seeds` takes a list of seeds, got {_show(v)}",
                          hint=f"e.g. repeat seeds [{_label(v)}]" if isinstance(v, A.Number) else
                          "e.g. repeat seeds [0, 1, 2]")
            return
        seeds: dict[int, A.Value] = {}
        ok = True
        for item in self.values(v, "seeds"):
            n = self.number(item, "a seed", integer=True)
            if n is None:
                ok = False
            elif n < 0:
                self.sink.add(C.OUT_OF_RANGE, item.span, f"a seed must be >= 0, got {_show(item)}")
                ok = False
            elif n in seeds:
                self.sink.add(C.DUPLICATE_SEED, item.span, f"seed {n} is listed twice",
                              hint="each seed is one calibration draw; a repeated one would count twice in the mean",
                              notes=(f"first listed at {seeds[n].span}",))
                ok = False
            else:
                seeds[n] = item
        if ok and seeds:
            self.set(scope, "repeat", M.RepeatSpec(seeds=tuple(seeds), span=cmd.span), cmd.span)
            self.effects.append((cmd.span, "repeat"))

    def stmt_eval(self, cmd, a: _Args, scope, top) -> None:
        tv = a.take()
        at = a.clause("at")
        opts = self.task_options(a)
        a.finish(TASK_OPTIONS, ("at",))
        if tv is None:
            self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`eval` needs a task", hint="e.g. eval gsm8k at [0.2, 0.3, 0.4]")
            return
        task = self.lookup_task(tv, "evaluation task")
        points = self.points(at.values[0]) if at else None
        if task is None or any(v is None for k, v in opts.items() if k != "limit"):
            return
        task = task.model_copy(update={k: v for k, v in opts.items()} | {"span": cmd.span})
        scope.evals.append((task, points, cmd.span))
        self.effects.append((cmd.span, "eval"))

    def stmt_export(self, cmd, a: _Args, scope, top) -> None:
        fmt_v = a.take()
        to = a.clause("to")
        at = a.clause("at")
        round_v = a.opt("round")
        a.finish(("round",), ("to", "at"))
        if fmt_v is None:
            self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`export` needs a format: per_layer, uniform or masked")
            return
        fmt = self.word(fmt_v, V.EXPORT_FORMATS, "export format")
        rounding = self.word(round_v, V.EXPORT_ROUNDING, "export rounding") if round_v is not None else "none"
        if rounding is None:
            return
        if rounding != "none" and fmt != "uniform":
            self.sink.add(C.INCOMPATIBLE_OPTIONS, round_v.span, f"`round` applies to uniform exports, not {fmt}",
                          hint="per_layer exports keep every block's own sizes; nothing to round")
            return
        path = self.text(to.values[0], "export path") if to else "exports/{recipe}/{arm}-{sparsity}"
        points = self.points(at.values[0]) if at else [("final", cmd.span)]
        if fmt is None or path is None:
            return
        scope.exports.append((fmt, path, points, cmd.span, rounding))
        self.effects.append((cmd.span, "export"))

    def stmt_report(self, cmd, a: _Args, scope, top) -> None:
        if scope.kind != "root":
            self.sink.add(C.MISPLACED_STATEMENT, cmd.span, "`report` is allowed only at the top level")
            return
        kind = self.head_word(cmd, a, V.REPORT_KINDS, "report kind",
                              "`report` needs a kind: " + ", ".join(V.REPORT_KINDS))
        if kind is None:
            return
        dims = ("arm", "sparsity", "task", "method") + tuple(self.loop_vars()) + ((M.SEED,) if self.has_repeat else ())
        fields: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        if kind == "compare":
            self.compare_arms(cmd, a, fields, spans)
        else:
            metric_v = a.take()
            if metric_v is not None:
                fields["metric"] = self.word(metric_v, ("accuracy",), "metric")
            for key in ("rows", "cols"):
                v = a.opt(key)
                if v is not None:
                    fields[key] = self.word(v, dims, "report dimension")
            v = a.opt("metric")
            if v is not None:
                fields["metric"] = self.word(v, ("accuracy",), "metric")
            cl = a.clause("vs")
            if cl is not None:
                fields["x"] = self.word(cl.values[0], dims, "report dimension")
        name_v = a.opt("name")
        cl = a.clause("by")
        if cl is not None:
            fields["by"] = self.word(cl.values[0], dims, "report dimension")
        over = a.clause("over") if kind in ("table", "plot") else None
        if over is not None:
            fields["over"] = self.over(over.values[0], fields)
            spans["over"] = over.values[0].span
        if kind == "compare":
            a.finish(("name",), ("vs", "at", "by"))
        else:
            a.finish(("rows", "cols", "name", "metric"), ("by", "vs") + (("over",) if kind in ("table", "plot") else ()))
        if kind is None or any(v is None for k, v in fields.items() if k != "at"):
            return
        name = self.text(name_v, "report name") if name_v else f"{kind}{sum(r.kind == kind for r in self.reports) + 1}"
        self.reports.append(M.ReportSpec(kind=kind, name=name or kind, span=cmd.span, spans=spans, **fields))

    def compare_arms(self, cmd, a: _Args, fields: dict[str, Any], spans: dict[str, Span]) -> None:
        """`compare A vs B [at S]`: two arm names (or quoted labels); checks/reports.py judges them."""
        first, vs, at = a.take(), a.clause("vs"), a.clause("at")
        if first is None or vs is None:
            self.sink.add(C.MISSING_ARGUMENT, cmd.span, "`report compare` needs two arms: compare A vs B",
                          hint="e.g. report compare resp vs gisp at 0.3")
            fields["a"] = None
            return
        for key, v in (("a", first), ("b", vs.values[0])):
            fields[key] = self.text(v, "arm") if isinstance(v, (A.Name, A.String)) else None
            spans[key] = v.span
            if fields[key] is None and not isinstance(v, (A.Name, A.String)):
                self.sink.add(C.WRONG_TYPE, v.span, f"`report compare` takes arm names, got {_show(v)}")
        if fields["a"] is not None and fields["a"] == fields["b"]:
            self.sink.add(C.INCOMPATIBLE_OPTIONS, vs.values[0].span, f'"{fields["a"]}" is compared with itself',
                          hint="compare two different arms: report compare A vs B")
            fields["a"] = None
        if at is not None:
            pts = self.sparsities(at.values[0], "comparison point")
            spans["at"] = at.values[0].span
            if pts is not None and len(pts) != 1:
                self.sink.add(C.WRONG_TYPE, at.values[0].span, "`compare ... at` takes one sparsity",
                              hint="write one `report compare` per sparsity, or leave `at` out to compare at all")
                fields["a"] = None
            elif pts:
                fields["at"] = round(pts[0], 10)

    def over(self, v: A.Value, fields: dict[str, Any]) -> str | None:
        """`over seed`: the only dimension a report averages over; it must exist and not also lay out the table."""
        if isinstance(v, A.Name) and v.value == M.SEED and not self.has_repeat:
            self.sink.add(C.MISSING_SEEDS, v.span, "`over seed`: no arm is repeated over calibration seeds",
                          hint="add `repeat seeds [0, 1, 2]` above the arms to average over")
            return None
        dim = self.word(v, (M.SEED,), "dimension to average over")
        for key in ("rows", "cols", "by", "x"):
            if dim is not None and fields.get(key) == dim:
                self.sink.add(C.INCOMPATIBLE_OPTIONS, v.span, f"`{key}` lays out {dim} and `over` averages over it",
                              hint=f"drop `over {dim}` to show each seed, or lay out another dimension")
                return None
        return dim

    def loop_vars(self) -> list[str]:
        return self.all_loop_vars

    def protect(self, st: A.Protect) -> M.ProtectSpec | None:
        first = 0.0
        last = False
        blocks: list[int] = []
        block_spans: dict[str, Span] = {}
        ok = True
        for item in st.items:
            v = self.resolve(item.value) if item.value is not None else None
            if item.kind == "none":
                if len(st.items) > 1:
                    self.sink.add(C.INCOMPATIBLE_OPTIONS, item.span, "`protect none` cannot be combined with other rules")
                    ok = False
            elif item.kind == "first":
                if isinstance(v, A.Percent):
                    first = v.value
                    if not 0 <= v.value <= 1:
                        self.sink.add(C.OUT_OF_RANGE, v.span, f"protected fraction must be within 0%..100%, got {v.text}")
                        ok = False
                elif isinstance(v, A.Number) and isinstance(v.value, int):
                    if v.value < 0:
                        self.sink.add(C.OUT_OF_RANGE, v.span, f"block count must be >= 0, got {v.text}")
                        ok = False
                    blocks.extend(range(min(v.value, 10_000)))
                else:
                    self.sink.add(C.WRONG_TYPE, v.span, f"`protect first` takes a percentage or a block count, got {_show(v)}",
                                  hint="e.g. protect first 10% blocks")
                    ok = False
            elif item.kind == "last":
                count = 1
                if v is not None:
                    if isinstance(v, A.Number) and isinstance(v.value, int) and v.value >= 1:
                        count = v.value
                    else:
                        self.sink.add(C.WRONG_TYPE, v.span, f"`protect last` takes a block count >= 1, got {_show(v)}")
                        ok = False
                last = True
                blocks.extend(-i for i in range(2, min(count, 10_000) + 1))
            elif item.kind == "blocks":
                for x in self.values(v, "protected blocks"):
                    if isinstance(x, A.Number) and isinstance(x.value, int):
                        blocks.append(x.value)
                        block_spans.setdefault(str(x.value), x.span)
                    else:
                        self.sink.add(C.WRONG_TYPE, x.span, f"block indices are whole numbers, got {_show(x)}")
                        ok = False
        if not ok:
            return None
        return M.ProtectSpec(first_fraction=first, last=last, blocks=tuple(sorted(set(blocks))), span=st.span,
                             spans=block_spans)

    # ------------------------------------------------------------ arms
    def collect_arms(self, root: Scope) -> list[M.ArmIR]:
        arms: list[M.ArmIR] = []

        def visit(scope: Scope) -> None:
            if scope.kind == "arm":
                arms.extend(self.make_arms(scope, scope.name or "main", implicit=False))
                return
            if not scope.children:
                if any(s.segments for s in _chain(scope)):
                    arms.extend(self.make_arms(scope, "main", implicit=True))
                return
            for c in scope.children:
                visit(c)

        visit(root)
        return arms

    def make_arms(self, scope: Scope, name: str, implicit: bool) -> list[M.ArmIR]:
        """The arm of a scope; under `repeat seeds`, one per seed (`NAME[seed=S]`) with that calibration
        seed, unless the arm draws no calibration data (then the seed changes nothing: one arm)."""
        arm = self.make_arm(scope, name, implicit, scope.bindings)
        if arm.repeat is None or not arm.draws_calibration:
            return [arm]
        return [self.make_arm(scope, name, implicit, scope.bindings + ((M.SEED, str(s)),), seed=s)
                for s in arm.repeat.seeds]

    def make_arm(self, scope: Scope, name: str, implicit: bool, bindings: tuple[tuple[str, str], ...],
                 seed: int | None = None) -> M.ArmIR:
        chain = _chain(scope)
        eff: dict[str, Any] = {}
        segments: list[M.Segment] = []
        evals_raw, exports_raw = [], []
        for s in chain:
            for k, (v, _) in s.settings.items():
                eff[k] = v
            segments.extend(s.segments)
            evals_raw.extend(s.evals)
            exports_raw.extend(s.exports)
        checkpoints = [t for seg in segments for t in seg.targets]
        arm_label = name + ("[" + ",".join(f"{k}={v}" for k, v in bindings) + "]" if bindings else "")
        evals = tuple(M.EvalSpec(task=t, points=_resolve_points(p, checkpoints), span=sp, spans=_point_spans(p))
                      for t, p, sp in evals_raw)
        exports = []
        for fmt, path, p, sp, rounding in exports_raw:
            for k, v in bindings:
                path = path.replace("{" + k + "}", v)
            path = path.replace("{recipe}", self.recipe_name).replace("{arm}", arm_label.replace("/", "_"))
            exports.append(M.ExportSpec(format=fmt, path=path, points=_resolve_points(p, checkpoints), span=sp,
                                        spans=_point_spans(p), round=rounding))
        calibration = eff.get("calibration")
        if seed is not None:
            calibration = calibration.model_copy(update={"seed": seed})
        return M.ArmIR(name=name, bindings=bindings, model=eff.get("model"), calibration=calibration,
                       score=eff.get("score"), schedule=tuple(segments),
                       protect=eff.get("protect") or M.ProtectSpec(), basis=eff.get("basis", "params"),
                       evals=evals, exports=tuple(exports), implicit=implicit, repeat=eff.get("repeat"),
                       span=scope.span)


def _point_spans(points) -> dict[str, Span]:
    """Where each numeric point is written, keyed like `f"{p:g}"` (for carets on the value)."""
    return {f"{round(float(p), 10):g}": sp for p, sp in points or () if not isinstance(p, str)}


def _resolve_points(points, checkpoints: list[float]) -> tuple[float, ...]:
    if points is None:
        return tuple(sorted(set(checkpoints)))
    out: set[float] = set()
    for p, _ in points:
        if p == "dense":
            out.add(0.0)
        elif p == "final":
            if checkpoints:
                out.add(max(checkpoints))
        elif p in ("milestones", "all"):
            out.update(checkpoints)
        else:
            out.add(round(float(p), 10))
    return tuple(sorted(out))


def _loop_vars(stmts) -> set[str]:
    out: set[str] = set()
    for st in stmts:
        if isinstance(st, A.For):
            out.add(st.var)
            out |= _loop_vars(st.body)
        elif isinstance(st, A.Arm):
            out |= _loop_vars(st.body)
    return out


def _has_repeat(stmts) -> bool:
    for st in stmts:
        if isinstance(st, A.Command) and st.head == "repeat":
            return True
        if isinstance(st, (A.For, A.Arm)) and _has_repeat(st.body):
            return True
    return False


def _chain(scope: Scope) -> list[Scope]:
    out = []
    s: Scope | None = scope
    while s is not None:
        out.append(s)
        s = s.parent
    return out[::-1]


def _ancestors(scope: Scope) -> list[Scope]:
    return _chain(scope)[:-1]


def _respan(v: A.Value, span: Span) -> A.Value:
    if isinstance(v, (A.Number, A.Percent, A.String, A.Name)):
        return dataclasses.replace(v, span=span)
    return v


def _plain(v: A.Value):
    if isinstance(v, (A.Number, A.Percent)):
        return v.value
    if isinstance(v, (A.String, A.Name)):
        return v.value
    if isinstance(v, A.ListValue):
        return [_plain(i) if not isinstance(i, A.Range) else f"{_plain(i.start)}..{_plain(i.stop)}" for i in v.items]
    return None


def _score_options_hint() -> str:
    scoped = [s.name for s in SCORERS.values() if s.token_scope]
    out = f"decode_only/full choose the calibration tokens of {', '.join(scoped)}"
    for s in SCORERS.values():
        if s.variants:
            out += f"; {'/'.join(s.variants)} are {s.name} variants"
    return out


def _fmt_num(x: float | int) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def percent_hint(n: float) -> str | None:
    """`prune to 25`: "25% or 0.25?"."""
    return f"write {n:g}% or {n / 100:g}" if 1 < n <= 100 else None


def _unknown_name_hint(v, b: Builder) -> str | None:
    if isinstance(v, A.Name):
        names = list(b.params) + [k for f in b.env for k in f]
        return suggest(v.value, names) if names else None
    return None


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
