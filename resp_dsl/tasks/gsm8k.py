"""GSM8K: grade-school maths, answered with a number, in lm-eval's 8-shot chain-of-thought format.

The exemplars and the ``Q: ...\\nA:`` layout are those of lm-eval's ``gsm8k_cot`` task
(``lm_eval/tasks/gsm8k/gsm8k-cot.yaml``), so a prompt built here equals the one lm-eval
builds for the same document: plain text, or chat turns when a template is applied.
"""

from __future__ import annotations

from typing import Any, ClassVar

from resp_dsl.tasks.base import Example, Task, TaskError
from resp_dsl.tasks.extract import extract_number, normalize_number, numbers_equal

# (question, chain-of-thought answer): lm-eval gsm8k-cot.yaml, fewshot_config.samples, in order.
EXEMPLARS: tuple[tuple[str, str], ...] = (
    ("There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, "
     "there will be 21 trees. How many trees did the grove workers plant today?",
     "There are 15 trees originally. Then there were 21 trees after some more were planted. "
     "So there must have been 21 - 15 = 6. The answer is 6."),
    ("If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
     "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5."),
    ("Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
     "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. "
     "After eating 35, they had 74 - 35 = 39. The answer is 39."),
    ("Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. "
     "How many lollipops did Jason give to Denny?",
     "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. "
     "So he gave Denny 20 - 12 = 8. The answer is 8."),
    ("Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?",
     "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. "
     "5 + 4 = 9. The answer is 9."),
    ("There were nine computers in the server room. Five more computers were installed each day, "
     "from monday to thursday. How many computers are now in the server room?",
     "There were originally 9 computers. For each of 4 days, 5 more computers were added. "
     "So 5 * 4 = 20 computers were added. 9 + 20 is 29. The answer is 29."),
    ("Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. "
     "How many golf balls did he have at the end of wednesday?",
     "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. "
     "After losing 2 more, he had 35 - 2 = 33 golf balls. The answer is 33."),
    ("Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
     "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. "
     "So she has 23 - 15 dollars left. 23 - 15 is 8. The answer is 8."),
)


def parse_gold(answer: str) -> str:
    """The target of a GSM8K ``answer`` field: the canonical number after ``####``."""
    if "####" not in answer:
        raise TaskError(f"GSM8K answer has no '#### N' line: {answer[-80:]!r}")
    target = normalize_number(answer.split("####")[-1])
    if target is None:
        raise TaskError(f"GSM8K answer does not end in a number: {answer[-80:]!r}")
    return target


class NumericTask(Task):
    """A task answered by one number, compared numerically."""

    question_field: ClassVar[str] = "question"
    answer_field: ClassVar[str] = "answer"

    def to_example(self, row: dict[str, Any], index: int, split: str) -> Example:
        try:
            question, answer = row[self.question_field], row[self.answer_field]
        except KeyError as exc:
            raise TaskError(f"{self.name} row {index} of split {split!r} has no field {exc.args[0]!r}",
                            hint=f"fields present: {', '.join(sorted(row))}") from None
        answer = str(answer)
        target = parse_gold(answer) if "####" in answer else normalize_number(answer)
        if target is None:
            raise TaskError(f"{self.name} row {index} of split {split!r}: answer {answer[-40:]!r} is not a number")
        return Example(id=f"{self.name}/{split}/{index}", question=str(question), solution=answer, target=target)

    def extract(self, text: str) -> str | None:
        return extract_number(text)

    def is_correct(self, pred: str | None, example: Example) -> bool:
        return numbers_equal(pred, example.target)


class Gsm8kTask(NumericTask):
    """GSM8K (``openai/gsm8k``, config ``main``), 8-shot chain of thought by default.

    Local copies: ``get_task("gsm8k", data_dir="../shared/data/gsm8k")`` (train.jsonl, test.jsonl).
    """

    name = "gsm8k"
    version = 1
    default_shots = 8
    max_new_tokens = 2048
    split_sizes = {"train": 7473, "test": 1319}
    stop = ("Q:", "</s>", "<|im_end|>")

    def __init__(self, *, path: str = "openai/gsm8k", hub_name: str | None = "main", **kwargs: Any):
        super().__init__(path=path, hub_name=hub_name, **kwargs)

    def user_text(self, example: Example) -> str:
        return f"Q: {example.question}\nA:"

    def exemplars(self, shots: int) -> list[tuple[str, str]]:
        if shots > len(EXEMPLARS):
            raise TaskError(f"gsm8k has {len(EXEMPLARS)} chain-of-thought exemplars, asked for {shots} shots")
        return [(f"Q: {q}\nA:", a) for q, a in EXEMPLARS[:shots]]
