"""`eval TASK [on calibration] [at POINTS] [task options]`: evaluate every arm below at points of its path,
on the task's split or (`on calibration`) on exactly the problems the arm's calibration drew."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl import codes as C
from resp_dsl.ir.statements.task import TASK_OPTIONS, lookup_task, task_options
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    tv = a.take()
    at = a.clause("at")
    on = a.clause("on")
    opts = task_options(b, a)
    a.finish(TASK_OPTIONS, ("at", "on"))
    if tv is None:
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`eval` needs a task", hint="e.g. eval gsm8k at [0.2, 0.3, 0.4]")
        return
    task = lookup_task(b, tv, "evaluation task")
    points = b.points(at.values[0]) if at else None
    on_calibration = False
    if on is not None:
        if len(on.values) != 1:
            b.sink.add(C.WRONG_TYPE, on.span, "`eval ... on` takes one word: calibration",
                       hint="e.g. eval gsm8k on calibration at final")
            return
        if b.word(on.values[0], ("calibration",), "set of evaluation problems") is None:
            return
        on_calibration = True
        fixed = [k for k in ("split", "limit") if k in opts]
        if fixed:
            b.sink.add(C.INCOMPATIBLE_OPTIONS, cmd.span,
                       f"`eval ... on calibration` takes its problems from the calibration draw, not "
                       f"{' and '.join(f'`{k}=`' for k in fixed)}",
                       hint="the calibration's split, n and seed choose the problems: drop "
                            + " and ".join(f"`{k}=`" for k in fixed))
            return
    if task is None or any(v is None for k, v in opts.items() if k != "limit"):
        return
    task = task.model_copy(update={k: v for k, v in opts.items()} | {"span": cmd.span})
    scope.evals.append((task, points, cmd.span, on_calibration))
    b.effects.append((cmd.span, "eval"))
