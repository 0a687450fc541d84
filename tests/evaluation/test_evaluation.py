"""Evaluation: the direct path and the lm-eval path build the same prompts and agree on
greedy answers; results keep per-example outputs; a killed evaluation resumes."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("lm_eval")

from resp_dsl.evaluation import EvalResult, evaluate_direct, evaluate_lm_eval, lm_eval_task_config  # noqa: E402
from resp_dsl.runtime.store import JsonlCheckpoint  # noqa: E402
from resp_dsl.tasks import TaskError, get_task  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


@pytest.fixture(scope="module")
def tok():
    from resp_dsl.zoo.tokenizer import build_tokenizer

    return build_tokenizer()


@pytest.fixture(scope="module")
def model():
    from resp_dsl.models.factory import tiny_random_model

    return tiny_random_model("qwen3", seed=1, max_position_embeddings=4096)


@pytest.fixture(scope="module")
def tiny_task():
    from resp_dsl import zoo

    if not zoo.data_path("tiny-reasoner", "test").is_file():
        pytest.skip("bundled tiny-reasoner data not built")
    return get_task("tiny_gsm")


def _plain(text: str, tok) -> str:
    """Our text keeps special tokens; lm-eval decodes without them."""
    return tok.decode(tok(text, add_special_tokens=False)["input_ids"], skip_special_tokens=True)


def _same_answers(a: EvalResult, b: EvalResult) -> None:
    assert [r["id"] for r in a.per_example] == [r["id"] for r in b.per_example]
    for x, y in zip(a.per_example, b.per_example):
        assert x["prompt"] == y["prompt"], x["id"]
        assert (x["pred"], x["correct"]) == (y["pred"], y["correct"]), x["id"]
    assert (a.n, a.correct, a.accuracy) == (b.n, b.correct, b.accuracy)


def test_direct_and_lm_eval_agree_on_tiny_gsm(model, tok, tiny_task):
    kw = dict(limit=5, max_new_tokens=12, temperature=0.0, batch_size=5)
    direct = evaluate_direct(model, tok, tiny_task, **kw)
    via = evaluate_lm_eval(model, tok, tiny_task, **kw)
    _same_answers(direct, via)
    for x, y in zip(direct.per_example, via.per_example):
        assert _plain(x["output"], tok) == y["output"]
    assert via.settings["path"] == "lm-eval" and via.settings["lm_eval_task"] == "resp_tiny_gsm"


def test_direct_and_lm_eval_agree_on_local_gsm8k_8shot(model, tok, gsm8k_dir):
    task = get_task("gsm8k", data_dir=gsm8k_dir)
    kw = dict(limit=2, max_new_tokens=6, temperature=0.0, batch_size=2)
    direct = evaluate_direct(model, tok, task, **kw)
    via = evaluate_lm_eval(model, tok, task, gsm8k_filter="flexible-extract", **kw)
    assert [r["prompt"] for r in direct.per_example] == [r["prompt"] for r in via.per_example]
    assert direct.per_example[0]["prompt"].count("<|im_start|>user") == 9
    assert [_plain(r["output"], tok) for r in direct.per_example] == [r["output"] for r in via.per_example]
    assert via.settings["lm_eval_task"] == "resp_gsm8k_cot_json" and via.settings["filter"] == "flexible-extract"


def test_mathqa_lm_eval_config_from_local_files(tmp_path, tok, model):
    row = {"Problem": "what is 2 + 3 ?", "Rationale": "5", "options": "a ) 4 , b ) 5 , c ) 6 , d ) 7 , e ) 8",
           "correct": "b", "annotated_formula": "", "linear_formula": "", "category": "general"}
    f = tmp_path / "test.jsonl"
    f.write_text(json.dumps(row) + "\n")
    task = get_task("mathqa", data_files={"test": str(f)})
    cfg = lm_eval_task_config(task)
    assert cfg["dataset_path"] == "json" and cfg["dataset_kwargs"]["data_files"] == {"test": str(f)}
    kw = dict(max_new_tokens=4, temperature=0.0, batch_size=1)
    _same_answers(evaluate_direct(model, tok, task, **kw), evaluate_lm_eval(model, tok, task, **kw))
    with pytest.raises(TaskError, match="no data for split 'validation'"):
        lm_eval_task_config(task, split="validation")


def test_sampled_evaluation_resumes_identically(model, tok, tiny_task, tmp_path):
    kw = dict(limit=6, max_new_tokens=8, temperature=0.6, seed=5, batch_size=2)
    ref = evaluate_direct(model, tok, tiny_task, **kw)
    path = tmp_path / "eval.jsonl"

    class Crash(JsonlCheckpoint):
        def append(self, records):
            super().append(records)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate_direct(model, tok, tiny_task, checkpoint=Crash(path), **kw)
    resumed = evaluate_direct(model, tok, tiny_task, checkpoint=JsonlCheckpoint(path), **kw)
    assert resumed == ref
    saved = ref.save(tmp_path / "result.json")
    assert EvalResult.load(saved) == ref
    rec = ref.per_example[0]
    assert set(rec) >= {"id", "question", "target", "pred", "correct", "output", "prompt", "finish_reason"}


def test_trained_tiny_model_scores_the_same_both_ways(tok, tiny_task):
    from resp_dsl import zoo

    try:
        path = zoo.path("tiny-reasoner")
    except LookupError:
        pytest.skip("the tiny-reasoner model is not built yet")
    from transformers import AutoModelForCausalLM

    trained = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    kw = dict(limit=12, max_new_tokens=80, temperature=0.0, batch_size=12)
    direct = evaluate_direct(trained, tok, tiny_task, **kw)
    _same_answers(direct, evaluate_lm_eval(trained, tok, tiny_task, **kw))
    assert direct.correct > 0


def test_bundled_task_loads_from_the_lm_eval_cli_include_path():
    """`lm_eval --include_path TASKS_DIR --tasks resp_tiny_gsm` needs no path filled in (issue 12, item 6)."""
    from lm_eval.tasks import TaskManager

    from resp_dsl.evaluation import TASKS_DIR
    from resp_dsl.zoo import data_path

    text = (TASKS_DIR / "resp_tiny_gsm.yaml").read_text()
    assert "REPLACED" not in text and "data_files" not in text
    task = TaskManager(include_path=str(TASKS_DIR), include_defaults=False).load_task_or_group(["resp_tiny_gsm"])
    docs = list(task["resp_tiny_gsm"].test_docs())
    assert len(docs) == sum(1 for _ in data_path("tiny-reasoner", "test").open())
    assert "####" in docs[0]["answer"]
