"""The harder task of tiny-rlm: valid varied traces, disjoint deterministic splits, the training batch."""

import json
import random
import re

import pytest

from resp_dsl import zoo
from resp_dsl.zoo import synthetic_hard as hard


def test_generation_is_deterministic_from_seed():
    a = [hard.generate_problem(random.Random(7)) for _ in range(3)]
    assert a == [hard.generate_problem(random.Random(7)) for _ in range(3)]
    assert hard.generate_problem(random.Random(8)) != a[0]
    p = a[0]
    assert hard.sample_trace(p, random.Random(1)) == hard.sample_trace(p, random.Random(1))


@pytest.mark.parametrize("seed", range(150))
def test_every_variant_is_exact_and_ends_in_the_answer(seed):
    p = hard.generate_problem(random.Random(seed))
    assert hard.MIN_EVENTS <= len(p.events) <= hard.MAX_EVENTS
    traces = [p.trace] + [hard.sample_trace(p, random.Random(seed * 100 + j)) for j in range(25)]
    for t in traces:
        assert hard.verify_trace(t, p.answer) == [], t
        assert t.startswith("<think>") and t.endswith(f"</think> #### {p.answer}")
        for a, _, b, c in hard.EQUATION.findall(t):
            assert 0 < int(c) <= hard.MAX_VALUE and int(a) <= hard.MAX_VALUE and int(b) <= hard.MAX_VALUE, t
    # the gold solution's annotations are exact too, and reach the same answer
    for a, op, b, c in re.findall(r"<<(\d+)([-+*/])(\d+)=(\d+)>>", p.gold_solution):
        assert {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b),
                "/": int(a) // int(b)}[op] == int(c)
    assert p.gold_solution.endswith(f"#### {p.answer}")


def test_verify_trace_catches_wrong_arithmetic_and_wrong_answers():
    assert hard.verify_trace("<think>5+3=8. 8*2=16.</think> #### 16", 16) == []
    assert hard.verify_trace("<think>5+3=9.</think> #### 9", 9)
    assert hard.verify_trace("<think>5+3=8.</think> #### 8", 9)
    assert hard.verify_trace("<think>5-7=-2.</think> #### 2", 2)  # negative results are not in the grammar
    assert hard.verify_trace("<think>9/2=4.</think> #### 4", 4)  # inexact division


def test_traces_vary_like_chain_of_thought():
    """Most problems have many distinct valid traces; the canonical one follows the question's order."""
    distinct = []
    kinds = {"reorder": 0, "check": 0, "restate": 0, "products_first": 0}
    for seed in range(60):
        p = hard.generate_problem(random.Random(seed))
        traces = {hard.sample_trace(p, random.Random(j)) for j in range(40)}
        distinct.append(len(traces))
        kinds["check"] += any("check " in t for t in traces)
        kinds["restate"] += any(t.startswith(("<think>start", "<think>have")) for t in traces)
        kinds["reorder"] += any(hard.EQUATION.findall(t)[0] != hard.EQUATION.findall(p.trace)[0] for t in traces)
    assert min(distinct) >= 5 and sum(distinct) / len(distinct) >= 20, distinct
    assert all(v >= 50 for k, v in kinds.items() if k != "products_first"), kinds


def test_gold_and_trace_styles_differ():
    p = hard.generate_problem(random.Random(3))
    assert "<<" in p.gold_solution and "<think>" not in p.gold_solution
    assert "<<" not in p.trace and "\n" not in p.trace


def test_splits_are_disjoint_deterministic_and_shipped():
    splits = hard.generate_all_splits()
    seen: dict[str, str] = {}
    for name, problems in splits.items():
        assert len(problems) == hard.SPLITS[name][1]
        for p in problems:
            assert p.question not in seen, f"{name} repeats a question of {seen.get(p.question)}"
            seen[p.question] = name
        rows = [json.loads(line) for line in zoo.data_path("tiny-rlm", name).read_text().splitlines()]
        assert rows == [p.to_json() for p in problems], f"{name} drifted from the generator"


def test_task_reads_the_tiny_rlm_data_and_extracts_every_style():
    from resp_dsl.tasks import get_task

    task = get_task("tiny_gsm_hard")
    assert task.model == "tiny-rlm" and zoo.model_for_task("tiny_gsm_hard") == "tiny-rlm"
    examples = task.load("test", limit=50)
    problems = hard.generate_all_splits()["test"][:50]
    for ex, p in zip(examples, problems):
        assert ex.question == p.question
        for text in (p.gold_solution, p.trace, hard.sample_trace(p, random.Random(0))):
            assert task.is_correct(task.extract(text), ex)
        assert not task.is_correct(task.extract(p.trace.replace(f"#### {p.answer}", f"#### {p.answer + 1}")), ex)


def test_training_batch_is_a_function_of_seed_and_step_and_varies_traces():
    from resp_dsl.zoo.spec import get
    from resp_dsl.zoo.tokenizer import build_tokenizer
    from resp_dsl.zoo_build.train import BatchMaker

    spec = get("tiny-rlm")
    tok = build_tokenizer()
    a = BatchMaker(tok, spec.train, set(), hard).examples(5)
    assert a == BatchMaker(tok, spec.train, set(), hard).examples(5)
    assert a != BatchMaker(tok, spec.train, set(), hard).examples(6)
    # One problem's targets across draws: many different traces, all valid.
    p = hard.generate_problem(random.Random(11))
    assert len({hard.sample_trace(p, random.Random(s)) for s in range(30)}) > 3


def test_structured_dropout_masks_are_seeded_whole_structures_with_unit_mean():
    torch = pytest.importorskip("torch")
    from resp_dsl.zoo.spec import StructuredDropout
    from resp_dsl.zoo_build.train import dropout_masks

    drop = StructuredDropout(head=0.2, kv_group=0.1, channel_group=0.25, channel_group_size=4)
    kw = dict(batch=400, layers=2, heads=8, kv_heads=4, head_dim=3, channels=16, seed=0)
    a = dropout_masks(drop, step=7, **kw)
    b = dropout_masks(drop, step=7, **kw)
    assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(a, b))
    assert not torch.equal(a[0][0], dropout_masks(drop, step=8, **kw)[0][0])
    heads, chans = a[0]
    assert heads.shape == (400, 1, 24) and chans.shape == (400, 1, 16)
    per_head = heads[:, 0, ::3]  # one value per head; all head_dim rows of a head share it
    assert torch.equal(heads[:, 0, :].reshape(400, 8, 3), per_head[:, :, None].expand(400, 8, 3))
    per_group = chans[:, 0, ::4]
    assert torch.equal(chans[:, 0, :].reshape(400, 4, 4), per_group[:, :, None].expand(400, 4, 4))
    # a dropped KV group removes both of its query heads in the same sequence
    pair_zero = (per_head.reshape(400, 4, 2) == 0).all(-1).float().mean()
    assert pair_zero > 0.08  # >= kv_group rate 0.1 plus head-pair coincidences, minus sampling noise
    assert abs(per_head.mean().item() - 1) < 0.06 and abs(per_group.mean().item() - 1) < 0.06
    assert abs((per_head == 0).float().mean().item() - (1 - 0.8 * 0.9)) < 0.03


def test_dropout_is_off_at_inference_and_on_in_training():
    torch = pytest.importorskip("torch")
    from transformers import Qwen3ForCausalLM

    from resp_dsl.zoo.spec import get
    from resp_dsl.zoo.tokenizer import build_tokenizer
    from resp_dsl.zoo_build.train import DropoutHooks

    spec = get("tiny-rlm")
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(spec.model.to_config(build_tokenizer()))
    x = torch.randint(6, 90, (3, 12))
    model.eval()
    with torch.no_grad():
        dense = model(x).logits
        hooks = DropoutHooks(model, spec.train.dropout, seed=0)
        hooks.set_step(0, 3)
        assert torch.equal(model(x).logits, dense)
        model.train()
        assert not torch.allclose(model(x).logits, dense)
