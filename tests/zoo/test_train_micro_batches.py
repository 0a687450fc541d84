"""The trainer's length-grouped micro-batches compute the same loss and gradient as one padded batch."""

import pytest

torch = pytest.importorskip("torch")


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("size", [1, 5, 22])
def test_micro_batches_match_one_padded_batch(size):
    from dataclasses import replace

    from transformers import Qwen3ForCausalLM

    from resp_dsl.zoo.spec import get
    from resp_dsl.zoo.tokenizer import build_tokenizer
    from resp_dsl.zoo_build.train import BatchMaker, DropoutHooks

    spec = get("tiny-rlm")
    small = replace(spec.model, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                    head_dim=8, intermediate_size=64)
    tok = build_tokenizer()
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(small.to_config(tok))
    model.config._attn_implementation = "eager"  # exact fp32 reference on both sides
    model.train()
    hooks = DropoutHooks(model, spec.train.dropout, seed=0)
    maker = BatchMaker(tok, spec.train, set(), spec.task_generator())
    step = 3

    # Reference: the whole step in one right-padded batch with an attention mask, mean loss.
    ids, mask, labels = maker.batch(step)
    hooks.set_step(step, ids.shape[0])
    ref = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    ref.backward()
    ref_grads = _grads(model)
    model.zero_grad(set_to_none=True)

    groups, n_items, n_tokens = maker.micro_batches(step, size)
    assert n_items == int((labels[:, 1:] != -100).sum())
    assert n_tokens == int(mask.sum())
    assert sorted(r for rows, _, _ in groups for r in rows) == list(range(ids.shape[0]))
    assert all(len(rows) <= size for rows, _, _ in groups)
    hooks.set_step(step, ids.shape[0])
    total = 0.0
    for rows, g_ids, g_labels in groups:
        hooks.select(rows)
        out = model(input_ids=g_ids, labels=g_labels, num_items_in_batch=n_items)
        out.loss.backward()
        total += out.loss.item()
    assert total == pytest.approx(ref.item(), rel=1e-5)
    grads = _grads(model)
    assert grads.keys() == ref_grads.keys()
    for name, g in grads.items():
        torch.testing.assert_close(g, ref_grads[name], rtol=1e-4, atol=1e-6, msg=name)


def test_micro_batches_apply_each_sequence_its_own_dropout_mask():
    """Selecting rows must not shift masks between sequences: dropping masks would change the gradient."""
    from resp_dsl.zoo.spec import get
    from resp_dsl.zoo.tokenizer import build_tokenizer
    from resp_dsl.zoo_build.train import BatchMaker

    spec = get("tiny-rlm")
    maker = BatchMaker(build_tokenizer(), spec.train, set(), spec.task_generator())
    exs = maker.examples(0)
    groups, _, _ = maker.micro_batches(0, 4)
    for rows, ids, _ in groups:
        for j, r in enumerate(rows):
            assert ids[j, : len(exs[r][0])].tolist() == exs[r][0]
