"""The bundled synthetic GSM8K-style task of the tiny models, and user JSONL tasks.

``tiny_gsm`` reads ``resp_dsl.zoo.data_path("tiny-reasoner", split)`` and ``tiny_gsm_hard``
``resp_dsl.zoo.data_path("tiny-rlm", split)`` (GSM8K schema; which model's data a task reads is
said once, in ``resp_dsl.zoo.spec.MODELS``). Both are zero-shot: the bundled model answers a bare
question in its own format, ``<think>5*3=15. 12+15=27.</think> #### 27``.

``jsonl:PATH`` is any JSONL file in GSM8K's schema (or with ``question_field`` /
``answer_field`` renamed); the answer is the number after ``####``, or the whole field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from resp_dsl.tasks.base import Task, TaskError
from resp_dsl.tasks.gsm8k import NumericTask
from resp_dsl.zoo import spec as zoo_spec


class TinyGsmTask(NumericTask):
    """The bundled synthetic task of ``tiny-reasoner`` (splits train / validation / test), 0-shot."""

    name = "tiny_gsm"
    version = 1
    default_shots = 0
    max_new_tokens = zoo_spec.get("tiny-reasoner").max_new_tokens  # enough for the longest trace of the task
    stop = ("<|im_end|>",)
    splits = ("train", "validation", "test")

    def __init__(self, *, model: str | None = None, data_files: dict[str, Any] | None = None, **kwargs: Any):
        model = model or _zoo_model_of(self.name)
        if data_files is None and "data_dir" not in kwargs:
            data_files = _zoo_files(model, self.splits)
        self.model = model
        super().__init__(data_files=data_files, **kwargs)

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "model": self.model}


class TinyGsmHardTask(TinyGsmTask):
    """The harder bundled task of ``tiny-rlm``: 4-8 steps, answered in a trace that varies between samples."""

    name = "tiny_gsm_hard"
    version = 1
    max_new_tokens = zoo_spec.get("tiny-rlm").max_new_tokens


def _zoo_model_of(task: str) -> str:
    from resp_dsl.zoo import model_for_task

    return model_for_task(task)


def _zoo_files(model: str, splits: tuple[str, ...]) -> dict[str, str]:
    try:
        from resp_dsl import zoo
    except ImportError as exc:
        raise TaskError(f"the bundled task data is unavailable: {exc}") from exc
    files = {}
    for split in splits:
        try:
            p = Path(zoo.data_path(model, split))
        except (LookupError, FileNotFoundError, ValueError) as exc:
            raise TaskError(f"no bundled data for model {model!r} split {split!r}: {exc}",
                            hint="`resp-dsl ls` lists the bundled models") from exc
        if p.is_file():
            files[split] = str(p)
    if not files:
        raise TaskError(f"the bundled data of {model!r} is missing", hint="build it with `resp-dsl zoo`")
    return files


class JsonlTask(NumericTask):
    """A user's JSONL file as a numeric task: ``get_task("jsonl:data/my.jsonl")``.

    Every split name reads the same file unless ``data_files`` maps splits to files.
    """

    name = "jsonl"
    version = 1
    default_shots = 0
    stop = ("<|im_end|>",)

    def __init__(self, path: str, *, question_field: str = "question", answer_field: str = "answer",
                 data_files: dict[str, Any] | None = None, **kwargs: Any):
        p = Path(path).expanduser()
        if data_files is None and not p.is_file():
            raise TaskError(f"task file {p} does not exist", hint="jsonl:PATH names a JSON-lines file")
        self.file = p
        self.question_field = question_field
        self.answer_field = answer_field
        super().__init__(data_files=data_files, **kwargs)

    def rows(self, split: str) -> list[dict[str, Any]]:
        if self.data_files is None:
            from resp_dsl.tasks.base import load_rows

            if split not in self._rows:
                self._rows[split] = load_rows(data_files={split: str(self.file)}, split=split)
            return self._rows[split]
        return super().rows(split)

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "file": str(self.file), "question_field": self.question_field,
                "answer_field": self.answer_field}


__all__ = ["JsonlTask", "Task", "TinyGsmHardTask", "TinyGsmTask"]
