"""The synthetic task: determinism, disjoint splits, and the GSM8K answer path."""

import json
import random
import re

import pytest

from resp_dsl import zoo
from resp_dsl.zoo import synthetic


def test_generation_is_deterministic_from_seed():
    a = [synthetic.generate_problem(random.Random(7)) for _ in range(3)]
    b = [synthetic.generate_problem(random.Random(7)) for _ in range(3)]
    assert a == b
    assert synthetic.generate_problem(random.Random(8)) != a[0]


def test_shipped_splits_are_what_the_generator_makes():
    regenerated = synthetic.generate_all_splits()
    for split, problems in regenerated.items():
        rows = [json.loads(line) for line in zoo.data_path("tiny-reasoner", split).read_text().splitlines()]
        assert rows == [p.to_json() for p in problems], f"{split} drifted from the generator"


def test_splits_are_disjoint():
    splits = synthetic.generate_all_splits()
    seen: dict[str, str] = {}
    for name, problems in splits.items():
        qs = {p.question for p in problems}
        assert len(qs) == len(problems), f"duplicate questions inside {name}"
        for q in qs:
            assert q not in seen, f"{name} repeats a question of {seen[q]}"
            seen[q] = name


@pytest.mark.parametrize("seed", range(200))
def test_every_equation_is_exact_integer_arithmetic(seed):
    p = synthetic.generate_problem(random.Random(seed))
    assert 2 <= len(p.equations) <= 8
    for eq in p.equations:
        m = re.fullmatch(r"(\d+)([-+*/])(\d+)=(\d+)", eq)
        assert m, eq
        a, op, b, c = int(m[1]), m[2], int(m[3]), int(m[4])
        assert {"+": a + b, "-": a - b, "*": a * b, "/": a // b if a % b == 0 else -1}[op] == c
        assert 0 < c <= synthetic.MAX_VALUE
    # the last equation's result is the answer, in both styles
    assert int(p.equations[-1].split("=")[1]) == p.answer
    assert p.gold_solution.endswith(f"#### {p.answer}")
    assert p.trace.startswith("<think>") and p.trace.endswith(f"</think> #### {p.answer}")


def test_gold_and_trace_styles_differ():
    p = synthetic.generate_problem(random.Random(3))
    assert "<<" in p.gold_solution and "<think>" not in p.gold_solution
    assert "<<" not in p.trace


def test_answers_round_trip_through_the_gsm8k_extractor():
    from resp_dsl.tasks import get_task

    task = get_task("tiny_gsm")
    examples = task.load("test", limit=200)
    problems = synthetic.generate_split("test")[:200]
    for ex, p in zip(examples, problems):
        assert ex.question == p.question
        assert task.is_correct(task.extract(p.gold_solution), ex)
        assert task.is_correct(task.extract(p.trace), ex)
        assert not task.is_correct(task.extract(p.trace.replace(f"#### {p.answer}", f"#### {p.answer + 1}")), ex)


def test_data_path_errors_are_clear():
    with pytest.raises(zoo.ZooError, match="unknown split"):
        zoo.data_path("tiny-reasoner", "dev")
    with pytest.raises(zoo.ZooError, match="available: tiny-reasoner"):
        zoo.path("qwen-huge")


def test_generic_corpus_is_read_from_the_interpreter():
    from resp_dsl.zoo import generic

    docs = generic.docstrings()
    assert len(docs) > 500
    assert all(len(d) >= generic.MIN_CHARS for d in docs)
    split = generic.split_docstrings()
    assert not set(split["train"]) & set(split["validation"]) or len(docs) != len(set(docs))
