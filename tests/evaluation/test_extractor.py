"""The optional answer-extractor model: its reading replaces the regex one, which is kept."""

import pytest

from resp_dsl.evaluation.extractor import ModelExtractor, apply_extractor
from resp_dsl.tasks import get_task


class FixedReplies:
    name = "fixed"

    def __init__(self, replies):
        self.replies = replies
        self.seen = None

    def __call__(self, questions, responses, *, kind="number"):
        self.seen = (list(questions), list(responses), kind)
        return list(self.replies)


def test_extractor_reading_replaces_regex_and_keeps_both():
    task = get_task("tiny_gsm")
    exs = task.load("test", limit=3)
    outputs = ["no number here", f"#### {exs[1].target}", "rambling 7"]
    records = [task.score(o, ex) | {"output": o} for o, ex in zip(outputs, exs)]
    assert [r["correct"] for r in records] == [False, True, False]
    fake = FixedReplies([exs[0].target, "NONE", "13"])
    apply_extractor(fake, task, exs, records)
    assert fake.seen[2] == "number" and fake.seen[1] == outputs
    assert [r["pred"] for r in records] == [exs[0].target, None, "13"]
    assert [r["pred_regex"] for r in records][1] == exs[1].target
    assert [r["correct"] for r in records] == [True, False, exs[2].target == "13"]


def test_model_extractor_runs_greedy_and_deterministic():
    torch = pytest.importorskip("torch")
    from resp_dsl.models.factory import tiny_random_model
    from resp_dsl.zoo.tokenizer import build_tokenizer

    torch.set_num_threads(1)
    ex = ModelExtractor(tiny_random_model("qwen3", seed=1), build_tokenizer(), max_new_tokens=4, batch_size=2)
    p = ex.prompt("How many?", "x" * 10_000 + " so 12.", "number")
    assert "so 12." in p and len(p) < 6500  # long responses keep their end
    a = ex(["q1", "q2"], ["r1", "r2"])
    assert a == ex(["q1", "q2"], ["r1", "r2"]) and len(a) == 2
