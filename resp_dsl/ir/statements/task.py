"""`task NAME [from "file.jsonl"] [options]`: define a task or refine a built-in one; and how
other statements (`calibrate ... from`, `eval`) read a task name and its options.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from resp_dsl import codes as C
from resp_dsl import vocab as V
from resp_dsl.diagnostics import suggest
from resp_dsl.ir import models as M
from resp_dsl.ir.values import show
from resp_dsl.syntax import ast as A
from resp_dsl.tasks import TASKS

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope

# The built-in tasks' facts, as their classes state them (resp_dsl.tasks).
BUILTIN_TASKS: dict[str, dict[str, Any]] = {
    name: {"shots": cls.default_shots, "max_new_tokens": cls.max_new_tokens, "answer": cls.answer_kind}
    for name, cls in TASKS.items()
}

# How each task option is read, in the order its diagnostics come out.
_OPTION_READERS: dict[str, Any] = {
    **{k: lambda b, v, k=k: b.number(v, k, integer=True) for k in ("shots", "max_new_tokens", "seed", "limit", "top_k")},
    **{k: lambda b, v, k=k: b.number(v, k) for k in ("temperature", "top_p")},
    "split": lambda b, v: b.word(v, V.SPLITS, "split"),
    **{k: lambda b, v, k=k: b.boolean(v, k) for k in ("chat", "enable_thinking")},
    "harness": lambda b, v: b.word(v, V.HARNESSES, "evaluation harness"),
    "extractor": lambda b, v: b.text(v, "answer-extractor model"),
}

TASK_OPTIONS = tuple(_OPTION_READERS)  # the options `task` and `eval` take


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    name_v = a.take()
    if not isinstance(name_v, A.Name):
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`task` needs a name", hint='e.g. task mine from "data/mine.jsonl"')
        a.finish(TASK_OPTIONS + ("answer",), ("from",))
        return
    name = name_v.value
    fields: dict[str, Any] = dict(BUILTIN_TASKS.get(name, {}))
    if name in b.tasks:  # defined in a used fragment: this statement refines that definition
        fields = b.tasks[name].model_dump(exclude={"name", "span"})
    src = a.clause("from")
    if src is not None:
        path = b.text(src.values[0], "task file")
        if path is not None:
            fields.update(source="local", path=path)
    elif name not in BUILTIN_TASKS and name not in b.tasks:
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, f'task "{name}" is not built in and needs `from "file.jsonl"`',
                   hint=suggest(name, BUILTIN_TASKS))
        a.finish(TASK_OPTIONS + ("answer",), ("from",))
        return
    given = task_options(b, a)  # a None here is a value that did not parse (already reported)
    ans = a.opt("answer")
    if ans is not None:
        given["answer"] = b.word(ans, V.ANSWER_KINDS, "answer kind")
    fields.update(given)
    a.finish(TASK_OPTIONS + ("answer",), ("from",))
    if any(v is None for v in given.values()) or (src is not None and fields.get("path") is None):
        return
    if name in b.task_defs and b.task_defs[name].file == cmd.span.file:
        b.sink.add(C.DUPLICATE_SETTING, name_v.span, f'task "{name}" is already defined',
                   notes=(f"first defined at {b.task_defs[name]}",))
        return
    b.task_defs[name] = name_v.span
    b.tasks[name] = M.TaskSpec(name=name, span=cmd.span, **fields)


def task_options(b: Builder, a: Args) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, read in _OPTION_READERS.items():
        v = a.opt(key)
        if v is not None:
            out[key] = read(b, v)
    return out


def lookup_task(b: Builder, v: A.Value, what: str) -> M.TaskSpec | None:
    if isinstance(v, A.String):  # a local jsonl used directly
        name = Path(v.value).stem
        return M.TaskSpec(name=name, source="local", path=v.value, span=v.span)
    if not isinstance(v, A.Name):
        b.sink.add(C.WRONG_TYPE, v.span, f"{what} must be a task name, got {show(v)}")
        return None
    b.task_used.add(v.value)
    if v.value in b.tasks:
        return b.tasks[v.value]
    if v.value in BUILTIN_TASKS:
        return M.TaskSpec(name=v.value, span=v.span, **BUILTIN_TASKS[v.value])
    b.sink.add(C.UNKNOWN_TASK, v.span, f'unknown task "{v.value}"',
               suggest(v.value, list(BUILTIN_TASKS) + list(b.tasks)) or
               'define it with task NAME from "file.jsonl"')
    return None
