"""MathQA: multiple-choice maths word problems, zero-shot, answered with an option letter.

Rows have ``Problem``, ``options`` (``"a ) 38 , b ) 27.6 , ..."``), ``correct`` (a letter) and
``Rationale``. lm-eval's stock ``mathqa`` scores log-likelihoods of the options; the paper
generates a reasoned answer, so this task is generative: the prompt lists the options and
asks for the letter, and ``extract`` reads the letter back.
"""

from __future__ import annotations

from typing import Any

from resp_dsl.tasks.base import Example, Task, TaskError
from resp_dsl.tasks.extract import LETTERS, extract_choice, parse_options

INSTRUCTION = 'Answer with the letter of the correct option, ending with "The answer is (x)".'


class MathQaTask(Task):
    """MathQA (hub ``allenai/math_qa``; lm-eval uses the parquet mirror ``regisss/math_qa``)."""

    name = "mathqa"
    version = 1
    default_shots = 0
    max_new_tokens = 4096
    answer_kind = "choice"
    split_sizes = {"test": 2985}
    stop = ("</s>", "<|im_end|>")
    splits = ("train", "validation", "test")

    def __init__(self, *, path: str = "allenai/math_qa", hub_name: str | None = None, **kwargs: Any):
        super().__init__(path=path, hub_name=hub_name, **kwargs)

    def to_example(self, row: dict[str, Any], index: int, split: str) -> Example:
        try:
            problem, options, correct = row["Problem"], row["options"], str(row["correct"]).strip().lower()
        except KeyError as exc:
            raise TaskError(f"mathqa row {index} of split {split!r} has no field {exc.args[0]!r}",
                            hint=f"fields present: {', '.join(sorted(row))}") from None
        choices = parse_options(options)
        if len(choices) < 2 or correct not in LETTERS[: len(choices)]:
            raise TaskError(f"mathqa row {index} of split {split!r}: cannot read options {options!r} "
                            f"with correct {correct!r}")
        return Example(id=f"mathqa/{split}/{index}", question=str(problem).strip(),
                       solution=str(row.get("Rationale", "")), target=correct, choices=tuple(choices))

    def user_text(self, example: Example) -> str:
        opts = "\n".join(f"{LETTERS[i]}) {c}" for i, c in enumerate(example.choices or ()))
        return f"Question: {example.question}\nOptions:\n{opts}\n{INSTRUCTION}\nAnswer:"

    def extract(self, text: str) -> str | None:
        return extract_choice(text)

    def extract_for(self, text: str, example: Example) -> str | None:
        """Like ``extract``, also matching a final number against the option values."""
        return extract_choice(text, list(example.choices or ()))

    def is_correct(self, pred: str | None, example: Example) -> bool:
        return pred is not None and pred.strip().lower() == example.target

    def score(self, text: str, example: Example) -> dict[str, Any]:
        pred = self.extract_for(text, example)
        return {"id": example.id, "target": example.target, "pred": pred, "correct": self.is_correct(pred, example)}
