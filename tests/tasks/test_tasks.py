"""Tasks: prompt building (golden and against lm-eval), answer extraction, real GSM8K data."""

from __future__ import annotations

import json

import pytest

from resp_dsl.tasks import Example, TaskError, get_task
from resp_dsl.tasks.extract import extract_choice, extract_number, normalize_number, parse_options

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def tok():
    from resp_dsl.zoo.tokenizer import build_tokenizer

    return build_tokenizer()


EXAMPLE = Example(id="x/test/0", question="Tom has 3 apples and buys 4 more. How many apples does he have?",
                  solution="3 + 4 = <<3+4=7>>7\n#### 7", target="7")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#### 72", "72"),
        ("Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 1,234", "1234"),
        ("<think>5*3=15. 12+15=27.</think> #### 27", "27"),
        ("<think>I think it is 12.</think> The answer is 14.", "14"),
        ("<think>16-3-4=9, 9*2=18, so 18</think>", "18"),  # nothing after the block: search it
        ("<think>cut off mid-trace at 3+4=", "4"),  # no </think>: the whole text is searched
        ("So the total is $1,200.50.", "1200.5"),
        ("The answer is $18.", "18"),
        ("The answer is 18 dollars. Q: next", "18"),
        (r"Thus \boxed{18} is the result", "18"),
        (r"\boxed{2} then finally \boxed{\$1{,}080}", "1080"),
        (r"\boxed{18 \text{ dollars}}", "18"),
        (r"\boxed{\frac{3}{4}}", "0.75"),
        ("She has -5 left, then 20.00", "20"),
        ("He runs 3.5 km per day, so 24.5 km in a week.", "24.5"),
        ("The answer is 25%.", "25"),
        ("no numbers at all", None),
        ("", None),
    ],
)
def test_extract_number(text, expected):
    assert extract_number(text) == expected


def test_extract_number_prefers_answer_after_think_and_first_hashes():
    assert extract_number("<think>#### 3</think> #### 4") == "4"
    assert extract_number("<think>so 3 + 4 = 7</think> I am not sure") == "7"
    assert extract_number("#### 5\nQ: another\n#### 9") == "5"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("1,234", "1234"), ("$5", "5"), ("5.", "5"), ("5.00", "5"), ("0.50", "0.5"), ("-3", "-3"),
     ("abc", None), ("", None), ("1{,}000", "1000")],
)
def test_normalize_number(raw, canonical):
    assert normalize_number(raw) == canonical


def test_gsm8k_is_correct_is_numeric():
    task = get_task("gsm8k")
    assert task.is_correct("7.0", EXAMPLE) and task.is_correct("$7", EXAMPLE)
    assert not task.is_correct("8", EXAMPLE) and not task.is_correct(None, EXAMPLE)
    assert task.score("... The answer is 7.", EXAMPLE) == {"id": "x/test/0", "target": "7", "pred": "7", "correct": True}


def test_gsm8k_prompt_golden_plain_and_chat(tok, check_golden):
    task = get_task("gsm8k")
    plain = task.build_prompt(EXAMPLE, None)
    assert plain.startswith("Q: There are 15 trees in the grove.")
    assert plain.count("Q: ") == 9 and plain.count("The answer is") == 8
    assert plain.endswith("Q: " + EXAMPLE.question + "\nA:")
    check_golden("gsm8k_8shot_plain.txt", plain)
    chat = task.build_prompt(EXAMPLE, tok, shots=8)
    assert chat.count("<|im_start|>user\n") == 9 and chat.count("<|im_start|>assistant\n") == 9
    assert chat.endswith("\nA:<|im_end|>\n<|im_start|>assistant\n")
    check_golden("gsm8k_8shot_chat.txt", chat)
    no_think = task.build_prompt(EXAMPLE, tok, shots=0, enable_thinking=False)
    assert no_think == f"<|im_start|>user\nQ: {EXAMPLE.question}\nA:<|im_end|>\n<|im_start|>assistant\n<think></think>"
    single = task.build_prompt(EXAMPLE, tok, shots=2, multiturn=False)
    assert single.count("<|im_start|>user\n") == 1 and "The answer is 5.\n\nQ: Tom" in single
    assert task.build_prompt(EXAMPLE, tok, chat=False, shots=1) == task.build_prompt(EXAMPLE, None, shots=1)
    with pytest.raises(TaskError, match="8 chain-of-thought exemplars"):
        task.build_prompt(EXAMPLE, None, shots=9)


def _lm_eval_gsm8k_cot(data_dir):
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml
    import lm_eval.tasks as tasks_pkg
    from pathlib import Path

    cfg = load_yaml(Path(tasks_pkg.__file__).parent / "gsm8k" / "gsm8k-cot.yaml", resolve_func=True)
    cfg.update(task="gsm8k_cot_local", dataset_path="json", dataset_name=None,
               dataset_kwargs={"data_files": {"train": str(data_dir / "train.jsonl"), "test": str(data_dir / "test.jsonl")}})
    return TaskManager(include_defaults=False).load([cfg])["tasks"]["gsm8k_cot_local"]


def test_gsm8k_prompts_equal_lm_eval_gsm8k_cot(gsm8k_dir, tok):
    lm_task = _lm_eval_gsm8k_cot(gsm8k_dir)
    ours = get_task("gsm8k", data_dir=gsm8k_dir)
    docs = list(lm_task.test_docs())
    examples = ours.load("test", limit=3)
    chat = lambda msgs, add_generation_prompt=True: tok.apply_chat_template(  # noqa: E731
        msgs, tokenize=False, add_generation_prompt=add_generation_prompt, enable_thinking=True)
    for doc, ex in zip(docs, examples):
        assert ex.question == doc["question"]
        assert lm_task.fewshot_context(doc, 8) == ours.build_prompt(ex, None, shots=8)
        assert lm_task.fewshot_context(doc, 8, apply_chat_template=True, fewshot_as_multiturn=True,
                                       chat_template=chat) == ours.build_prompt(ex, tok, shots=8)
        assert lm_task.fewshot_context(doc, 8, apply_chat_template=True, fewshot_as_multiturn=False,
                                       chat_template=chat) == ours.build_prompt(ex, tok, shots=8, multiturn=False)


def test_real_gsm8k_every_gold_answer_extracts(gsm8k_dir, tok):
    task = get_task("gsm8k", data_dir=gsm8k_dir)
    n = 0
    for split, expected in (("train", 7473), ("test", 1319)):
        examples = task.load(split)
        assert len(examples) == expected
        raw = [json.loads(line) for line in (gsm8k_dir / f"{split}.jsonl").read_text().splitlines()]
        for ex, row in zip(examples, raw):
            parsed = normalize_number(row["answer"].split("####")[-1].strip())
            assert ex.target == parsed, ex.id
            assert task.extract(ex.solution) == parsed, ex.id
            assert task.is_correct(task.extract(ex.solution), ex), ex.id
            n += 1
    assert n == 8792
    for ex in task.load("test", limit=4, seed=1, shuffle=True):
        prompt = task.build_prompt(ex, tok)
        assert prompt.count("<|im_start|>user") == 9 and ex.question in prompt
    assert [e.id for e in task.load("test", limit=5, seed=3, shuffle=True)] == \
        [e.id for e in task.load("test", limit=5, seed=3, shuffle=True)]
    assert [e.id for e in task.load("test", limit=2)] == ["gsm8k/test/0", "gsm8k/test/1"]


MATHQA_ROW = {
    "Problem": "a train running at the speed of 60 km / hr crosses a pole in 9 sec . what is the length of the train ?",
    "Rationale": "speed = 60 * 5 / 18 m / sec = 50 / 3 m / sec . length = 50 / 3 * 9 = 150 m . answer : e",
    "options": "a ) 120 metres , b ) 180 metres , c ) 324 metres , d ) 1,50 metres , e ) 150 metres",
    "correct": "e",
}


def test_mathqa_options_prompt_and_extraction(tmp_path, tok, check_golden):
    assert parse_options(MATHQA_ROW["options"]) == ["120 metres", "180 metres", "324 metres", "1,50 metres", "150 metres"]
    assert parse_options("['a ) 38', 'b ) 27.6', 'c ) 32', 'd ) 45', 'e ) none of these']") == \
        ["38", "27.6", "32", "45", "none of these"]
    f = tmp_path / "test.jsonl"
    f.write_text(json.dumps(MATHQA_ROW) + "\n")
    task = get_task("mathqa", data_files={"test": str(f)})
    (ex,) = task.load("test")
    assert ex.target == "e" and ex.choices[4] == "150 metres"
    prompt = task.build_prompt(ex, None)
    check_golden("mathqa_0shot_plain.txt", prompt)
    assert "\ne) 150 metres\n" in prompt and prompt.endswith("Answer:")
    assert task.build_prompt(ex, tok).startswith("<|im_start|>user\nQuestion: a train")
    for text, letter in [
        ("<think>60 km/h is 50/3 m/s, times 9 is 150.</think> The answer is (e).", "e"),
        (r"so \boxed{E}", "e"),
        ("#### c", "c"),
        ("Answer: b", "b"),
        ("<think>the answer is (a)</think>", "a"),
        ("length = 150 m", "e"),  # a final number matching one option
        ("I do not know", None),
    ]:
        assert task.score(text, ex)["pred"] == letter, text
    assert task.score("The answer is (e)", ex)["correct"] and not task.score("The answer is (a)", ex)["correct"]
    assert extract_choice("length = 150 m") is None  # without the options there is no number match


def test_tiny_gsm_and_jsonl_tasks(tmp_path, tok):
    from resp_dsl import zoo

    if not zoo.data_path("tiny-reasoner", "test").is_file():
        pytest.skip("bundled tiny-reasoner data not built")
    task = get_task("tiny_gsm")
    exs = task.load("test", limit=3)
    assert len(exs) == 3 and exs[0].id == "tiny_gsm/test/0"
    raw = json.loads(zoo.data_path("tiny-reasoner", "test").read_text().splitlines()[0])
    assert task.extract(raw["trace"]) == exs[0].target == task.extract(exs[0].solution)
    prompt = task.build_prompt(exs[0], tok)
    assert prompt == f"<|im_start|>user\n{exs[0].question}<|im_end|>\n<|im_start|>assistant\n"

    f = tmp_path / "mine.jsonl"
    f.write_text(json.dumps({"q": "2+2?", "a": "4"}) + "\n" + json.dumps({"q": "3+3?", "a": "so #### 6"}) + "\n")
    mine = get_task(f"jsonl:{f}", question_field="q", answer_field="a")
    assert [(e.question, e.target) for e in mine.load("test")] == [("2+2?", "4"), ("3+3?", "6")]
    with pytest.raises(TaskError, match="has no field 'question'"):
        get_task(f"jsonl:{f}").load("test")


def test_task_errors_are_clear(tmp_path):
    with pytest.raises(TaskError, match="unknown task 'gsm9k'") as e:
        get_task("gsm9k")
    assert "did you mean 'gsm8k'" in str(e.value)
    with pytest.raises(TaskError, match="does not exist"):
        get_task("jsonl:/nonexistent/file.jsonl")
    with pytest.raises(TaskError, match="does not exist"):
        get_task("gsm8k", data_dir=tmp_path / "nope")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x", "answer": "no number here"}\n')
    with pytest.raises(TaskError, match="is not a number"):
        get_task(f"jsonl:{bad}").load("train")
    with pytest.raises(TaskError, match="offline mode is on") as e:
        get_task("gsm8k").load("test")
    assert "data_dir" in str(e.value)
