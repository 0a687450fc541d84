"""`eval TASK on calibration` evaluates on the problems the arm's calibration drew, so that
calibration must draw problems of that task.

    calibrate generic from c4 n=128
    eval gsm8k on calibration at final      # no-calibration-problems: c4 has no gsm8k problems

    calibrate task from mathqa n=128
    eval gsm8k on calibration at final      # calibration-task-mismatch: it drew mathqa problems

The draw is the calibration's split, n and seed (`task` and `self_generated` draw prompts
alike), so the eval takes none of its own (`split=`/`limit=` are refused where it is written),
and only the direct harness can be handed an explicit list of problems.
"""

from __future__ import annotations

from resp_dsl import codes as C
from resp_dsl.diagnostics import Diagnostic


def drawn_task(calibration) -> str | None:
    """The task a calibration draws problems from (a built-in name or a local file), None for generic text."""
    if calibration is None or calibration.source == "generic":
        return None
    return calibration.task_file or calibration.dataset


def eval_task(task) -> str:
    """The same for an eval's task: a local task is its file, a built-in one its name."""
    return task.path if task.source == "local" and task.path else task.name


def problem(arm, ev) -> Diagnostic | None:
    """Why `ev` (an `eval ... on calibration` of `arm`) has no draw to evaluate on, or None."""
    c, t = arm.calibration, ev.task
    if c is None:
        return Diagnostic(C.NO_CALIBRATION_PROBLEMS, ev.span,
                          f'`eval {t.name} on calibration`: arm "{arm.name}" has no calibration',
                          hint=f"add `calibrate task from {t.name} n=...` (or self_generated) to the arm, "
                               f"or evaluate on the task's split: eval {t.name}")
    drawn = drawn_task(c)
    if drawn is None:
        return Diagnostic(C.NO_CALIBRATION_PROBLEMS, ev.span,
                          f'`eval {t.name} on calibration`: arm "{arm.name}" calibrates on generic text '
                          f'("{c.dataset}"), which has no task problems',
                          hint=f"calibrate on the task (`calibrate task from {t.name}` or self_generated), "
                               f"or evaluate on the task's split: eval {t.name}")
    if drawn != eval_task(t):
        return Diagnostic(C.CALIBRATION_TASK_MISMATCH, ev.span,
                          f'`eval {t.name} on calibration`: arm "{arm.name}" calibrates on "{c.dataset}", '
                          f'not "{t.name}"',
                          hint=f"evaluate the calibration's task: eval {c.dataset} on calibration")
    if t.harness != "direct":
        return Diagnostic(C.INCOMPATIBLE_OPTIONS, ev.span,
                          f"`eval {t.name} on calibration` needs the direct harness, not {t.harness}",
                          hint="drop harness=lm_eval: lm-eval reads a split, not a list of drawn problems")
    return None


def check(recipe, ctx) -> list[Diagnostic]:
    out = [d for arm in recipe.arms for ev in arm.evals if ev.on_calibration
           for d in [problem(arm, ev)] if d is not None]
    return list(dict.fromkeys(out))  # a top-level eval reaches every arm: one diagnostic per arm and cause
