"""Scores against straightforward references: `.grad` for Taylor, explicit sums for Wanda-sp and magnitude."""

import pytest
import torch
from safetensors.torch import load_file, save_file

from resp_dsl.kernels.slicing import assemble_layer
from resp_dsl.models.factory import tiny_random_model
from resp_dsl.pruning.calib import counted_samples, make_batches, sample_losses
from resp_dsl.pruning.scoring import StructureScores, score_structures

from helpers.models import random_samples

KEYS = ("heads", "kv", "channels")


def _projections(layer):
    a, m = layer.self_attn, layer.mlp
    return {"q": a.q_proj, "k": a.k_proj, "v": a.v_proj, "o": a.o_proj,
            "gate": m.gate_proj, "up": m.up_proj, "down": m.down_proj}


def grad_reference(model, samples, loss, variant):
    """Taylor scores the naive way: keep `.grad` for every weight, then reduce."""
    model.zero_grad(set_to_none=True)
    n = counted_samples(samples, loss)
    for b in make_batches(samples, 2, loss=loss):
        out = model(input_ids=b.input_ids, attention_mask=b.attention_mask)
        (sample_losses(out.logits, b).sum() / n).backward()
    ref = []
    for layer in model.model.layers:
        terms = {}
        for k, lin in _projections(layer).items():
            e = lin.weight * lin.weight.grad
            if variant == "elementwise":
                e = e.abs()
            terms[k] = e.sum(0 if k in ("o", "down") else 1)
            if lin.bias is not None and k not in ("o", "down"):
                eb = lin.bias * lin.bias.grad
                terms[k] = terms[k] + (eb.abs() if variant == "elementwise" else eb)
        ref.append(assemble_layer(terms, model.config.head_dim, absolute=variant == "vectorized"))
    model.zero_grad(set_to_none=True)
    return ref


def assert_scores_match(scores, ref, rtol=1e-4):
    for got, want in zip(scores.layers, ref):
        for k in KEYS:
            torch.testing.assert_close(getattr(got, k), want[k].detach(), rtol=rtol, atol=rtol * want[k].abs().max().item())


@pytest.mark.parametrize("family", ["qwen3", "qwen2"])  # qwen2 has q/k/v biases
@pytest.mark.parametrize("variant,layers_per_pass", [("elementwise", None), ("elementwise", 1), ("vectorized", None)])
@pytest.mark.parametrize("loss", ["decode_only", "full"])
def test_taylor_matches_grad_reference(family, variant, layers_per_pass, loss):
    model = tiny_random_model(family)
    samples = random_samples()
    scores = score_structures(model, samples, method="taylor", loss=loss, variant=variant, batch_size=3,
                              layers_per_pass=layers_per_pass)
    assert all(p.grad is None for p in model.parameters())
    assert all(p.requires_grad for p in model.parameters())
    assert_scores_match(scores, grad_reference(model, samples, loss, variant))


def test_padding_and_micro_batching_do_not_change_scores():
    model = tiny_random_model("llama")
    samples = random_samples()
    one = score_structures(model, samples, batch_size=1)
    many = score_structures(model, samples, batch_size=5)
    assert_scores_match(one, [{k: getattr(l, k) for k in KEYS} for l in many.layers], rtol=1e-5)


def test_decode_only_differs_from_full_and_is_deterministic():
    model = tiny_random_model("qwen3")
    samples = random_samples()
    a = score_structures(model, samples, loss="decode_only")
    b = score_structures(model, samples, loss="decode_only")
    c = score_structures(model, samples, loss="full")
    assert all(torch.equal(x.channels, y.channels) for x, y in zip(a.layers, b.layers))
    assert not torch.allclose(a.layers[1].channels, c.layers[1].channels)


def test_wanda_matches_explicit_reference():
    model = tiny_random_model("qwen3")
    samples = random_samples()
    got = score_structures(model, samples, method="wanda", loss="full", batch_size=2)
    # Reference: collect every counted position's inputs explicitly, then |W| * ||X||.
    inputs = {}
    hooks = []
    for i, layer in enumerate(model.model.layers):
        for k, lin in _projections(layer).items():
            hooks.append(lin.register_forward_pre_hook(
                lambda mod, args, key=(i, k): inputs.setdefault(key, []).append(args[0][0])))
    with torch.no_grad():
        for s in samples:  # one at a time: no padding at all
            model(input_ids=torch.tensor([s.input_ids]))
    for h in hooks:
        h.remove()
    for i, layer in enumerate(model.model.layers):
        terms = {}
        for k, lin in _projections(layer).items():
            x = torch.cat([t[:-1] for t in inputs[(i, k)]])  # positions whose next token is a target
            w = lin.weight.abs() * x.norm(dim=0)
            terms[k] = w.sum(0 if k in ("o", "down") else 1)
        want = assemble_layer(terms, model.config.head_dim, absolute=False)
        for k in KEYS:
            torch.testing.assert_close(getattr(got.layers[i], k), want[k], rtol=1e-4, atol=1e-4)


def test_magnitude_needs_no_data_and_sums_abs_weights():
    model = tiny_random_model("llama")
    got = score_structures(model, [], method="magnitude")
    layer = model.model.layers[2]
    hd = model.config.head_dim
    want_head0 = layer.self_attn.q_proj.weight[:hd].abs().sum() + layer.self_attn.o_proj.weight[:, :hd].abs().sum()
    torch.testing.assert_close(got.layers[2].heads[0], want_head0.detach())
    assert got.layers[2].channels.shape == (model.config.intermediate_size,)


def test_scores_round_trip_through_safetensors(tmp_path):
    model = tiny_random_model("qwen3")
    scores = score_structures(model, random_samples(), variant="vectorized")
    save_file(scores.to_tensors(), tmp_path / "s.safetensors")
    back = StructureScores.from_tensors(load_file(tmp_path / "s.safetensors"))
    for a, b in zip(scores.layers, back.layers):
        for name in ("heads", "kv", "channels", "head_index", "kv_index", "channel_index"):
            assert torch.equal(getattr(a, name), getattr(b, name))


def test_unknown_method_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown score method 'taylor2'"):
        score_structures(tiny_random_model(), random_samples(), method="taylor2")
