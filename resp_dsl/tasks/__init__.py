"""Tasks: loading problems, building prompts, extracting and scoring answers.

    >>> task = get_task("gsm8k", data_dir="../shared/data/gsm8k")
    >>> ex = task.load("test", limit=2)
    >>> prompt = task.build_prompt(ex[0], tokenizer)          # 8-shot CoT, chat template
    >>> task.is_correct(task.extract(model_text), ex[0])

Names: ``gsm8k``, ``mathqa``, ``tiny_gsm``, ``tiny_gsm_hard`` and ``jsonl:PATH``.
"""

from __future__ import annotations

import difflib
from typing import Any

from resp_dsl.tasks.base import Example, Task, TaskError
from resp_dsl.tasks.gsm8k import Gsm8kTask
from resp_dsl.tasks.mathqa import MathQaTask
from resp_dsl.tasks.synthetic import JsonlTask, TinyGsmHardTask, TinyGsmTask

TASKS: dict[str, type[Task]] = {
    "gsm8k": Gsm8kTask,
    "mathqa": MathQaTask,
    "tiny_gsm": TinyGsmTask,
    "tiny_gsm_hard": TinyGsmHardTask,
}


def get_task(name: str, **opts: Any) -> Task:
    """The task called ``name`` (``gsm8k``, ``mathqa``, ``tiny_gsm``, ``tiny_gsm_hard``, ``jsonl:PATH``), built with ``opts``."""
    if name.startswith("jsonl:"):
        return JsonlTask(name[len("jsonl:"):], **opts)
    cls = TASKS.get(name)
    if cls is None:
        close = difflib.get_close_matches(name, list(TASKS), n=1)
        raise TaskError(f"unknown task {name!r}", hint=f"did you mean {close[0]!r}?" if close
                        else f"known tasks: {', '.join(TASKS)}, jsonl:PATH")
    try:
        return cls(**opts)
    except TypeError as exc:
        raise TaskError(f"bad options for task {name!r}: {exc}") from None


__all__ = ["TASKS", "Example", "Task", "TaskError", "get_task"]
