"""The trainer: resumed and interrupted calls are recorded as commands that replay the run."""

import json
from dataclasses import replace

import pytest

pytest.importorskip("torch")

from resp_dsl.zoo.spec import ModelSpec, StructuredDropout, get  # noqa: E402
from resp_dsl.zoo_build.train import train  # noqa: E402


def _small():
    zm = get("tiny-rlm")
    return replace(zm, model=ModelSpec(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                       head_dim=16, intermediate_size=32, max_position_embeddings=1024),
                   train=replace(zm.train, steps=3, task_batch=2, generic_batch=1, eval_every=1000, eval_n=2,
                                 checkpoint_every=1, threads=1, warmup=1,
                                 dropout=StructuredDropout(head=0.1, kv_group=0.1, channel_group=0.1, channel_group_size=16)),
                   max_new_tokens=4, design=None)


def test_interrupted_and_resumed_calls_replay_as_commands(tmp_path):
    zm = _small()
    assert train(tmp_path, None, zm, until=2) == {"stopped_at": 2}
    # A call killed after its checkpoint at step 2 leaves a segment that claims more than it did.
    state = json.loads((tmp_path / "state.json").read_text())
    state["segments"][-1]["until"] = 3
    (tmp_path / "state.json").write_text(json.dumps(state))
    summary = train(tmp_path, None, zm, train_spec=replace(zm.train, steps=4))
    assert summary["commands"] == ["resp-dsl zoo train tiny-rlm --steps 3 --until 2 --threads 1",
                                   "resp-dsl zoo train tiny-rlm --steps 4 --threads 1"]
    assert [s["reached"] for s in summary["segments"]] == [2, 4]
    assert summary["wall_seconds_recorded"] >= 0


def test_a_call_with_no_steps_left_records_no_command(tmp_path):
    zm = _small()
    first = train(tmp_path, None, zm)
    again = train(tmp_path, tmp_path / "out", zm)  # only writes the model
    assert again["commands"] == first["commands"] == ["resp-dsl zoo train tiny-rlm --steps 3 --threads 1"]
    assert len(json.loads((tmp_path / "state.json").read_text())["segments"]) == 1
    assert (tmp_path / "out" / "model.safetensors").is_file()


def test_resume_refuses_other_settings(tmp_path):
    zm = _small()
    train(tmp_path, None, zm, until=1)
    other = replace(zm.train, dropout=StructuredDropout(head=0.3))
    with pytest.raises(SystemExit, match="other settings"):
        train(tmp_path, None, zm, train_spec=other)


def test_a_bpe_design_trains_records_its_design_and_refuses_the_other_tokenizer(tmp_path):
    from transformers import AutoTokenizer

    zm = _small()
    bpe = replace(zm, model=replace(zm.model, tokenizer="bpe1024"), design="wide-bpe")
    summary = train(tmp_path / "w", tmp_path / "out", bpe, micro_batch=1)
    assert summary["commands"] == ["resp-dsl zoo train tiny-rlm --design wide-bpe --steps 3 --threads 1"]
    assert summary["segments"][0]["micro_batch"] == 1
    tok = AutoTokenizer.from_pretrained(tmp_path / "out")  # the model directory carries its own tokenizer
    assert len(tok) == 1024
    assert json.loads((tmp_path / "out" / "config.json").read_text())["vocab_size"] == 1024
    with pytest.raises(SystemExit, match="other settings"):  # same workdir, character tokenizer
        train(tmp_path / "w", None, zm, train_spec=replace(zm.train, steps=4))


def test_micro_batch_must_be_positive(tmp_path):
    with pytest.raises(SystemExit, match="at least 1"):
        train(tmp_path, None, _small(), micro_batch=0)


def test_warm_start_continues_a_trained_model_with_a_fresh_optimizer(tmp_path):
    """`--init-from`: a shipped model (weights, no optimizer state) continued to more steps; its
    record keeps the source's segments and commands, and a wrong source is refused."""
    from resp_dsl.zoo_build.train import lr_at

    zm = _small()
    train(tmp_path / "a", tmp_path / "model", zm)
    with pytest.raises(SystemExit, match="pass --steps above 3"):
        train(tmp_path / "b", None, zm, init_from=tmp_path / "model")
    summary = train(tmp_path / "b", tmp_path / "model2", zm, train_spec=replace(zm.train, steps=5),
                    init_from=tmp_path / "model")
    assert summary["commands"][0] == "resp-dsl zoo train tiny-rlm --steps 3 --threads 1"
    assert summary["commands"][1].startswith("resp-dsl zoo train tiny-rlm --steps 5 --threads 1 --init-from DIR")
    assert [s["reached"] for s in summary["segments"]] == [3, 5]
    assert summary["segments"][1]["init_from"]["step"] == 3
    state = json.loads((tmp_path / "b" / "state.json").read_text())
    assert state["restart"] == 3 and [e["step"] for e in state["log"]] == [4, 5]
    # the learning rate is ramped in again after the restart, on the cosine of the whole length
    spec = replace(zm.train, steps=5, warmup=2)
    assert lr_at(3, spec, restart=3) == pytest.approx(lr_at(3, spec) / 2)
    assert lr_at(4, spec, restart=3) == pytest.approx(lr_at(4, spec))
    # an existing checkpoint is never overwritten by a warm start; other settings are refused
    with pytest.raises(SystemExit, match="already holds a checkpoint"):
        train(tmp_path / "b", None, zm, train_spec=replace(zm.train, steps=6), init_from=tmp_path / "model")
    with pytest.raises(SystemExit, match="trained with other settings"):
        train(tmp_path / "c", None, zm, train_spec=replace(zm.train, steps=6, lr=0.1), init_from=tmp_path / "model")
    with pytest.raises(SystemExit, match="not a model written by"):
        train(tmp_path / "d", None, zm, train_spec=replace(zm.train, steps=6), init_from=tmp_path)


def test_data_workers_make_each_steps_examples_in_order():
    from resp_dsl.zoo.tokenizer import build_tokenizer
    from resp_dsl.zoo_build.train import BatchMaker, StepExamples

    zm = _small()
    maker = BatchMaker(build_tokenizer(zm.model.tokenizer), zm.train, set(), zm.task_generator())
    with StepExamples(maker, 5, 12, workers=2, depth=3) as data:
        got = [data.get(step) for step in range(5, 12)]
    assert got == [maker.examples(step) for step in range(5, 12)]
    with StepExamples(maker, 5, 12, workers=1) as data, pytest.raises(RuntimeError, match="out of order"):
        data.get(6)


def test_a_run_with_data_workers_is_the_run_without_them(tmp_path):
    zm = _small()
    train(tmp_path / "a", None, zm)
    train(tmp_path / "b", None, zm, data_workers=2)
    a, b = (json.loads((tmp_path / d / "state.json").read_text())["log"] for d in "ab")
    assert [e["loss"] for e in a] == [e["loss"] for e in b]
    assert all(e["seconds"] > 0 for e in a + b)  # every step's time is logged (the GPU script sizes runs by it)
    with pytest.raises(SystemExit, match="--data-workers"):
        train(tmp_path / "c", None, zm, data_workers=-1)
