"""A physically pruned model equals its masked twin: logits with padding, batched generation, KV cache."""

import copy

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import DynamicCache

from resp_dsl.models.factory import tiny_random_model
from resp_dsl.models.modeling_resp_pruned import PrunedAttention
from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.state import dense_dims

from helpers.models import FAMILIES, random_layout

TOL = 1e-5
_MODELS = {}


def dense(family, attn="sdpa"):
    key = (family, attn)
    if key not in _MODELS:
        _MODELS[key] = tiny_random_model(family, seed=3, attn_implementation=attn)
    return _MODELS[key]


def twins(family, layout, attn="sdpa"):
    base = dense(family, attn)
    return (apply_selection(copy.deepcopy(base), layout, mode="physical"),
            apply_selection(copy.deepcopy(base), layout, mode="masked"))


def padded_batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 100, (3, 11), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    mask[2, 3:] = 0
    return ids, mask


def layouts():
    return st.data()


def draw_layout(data, family):
    p = data.draw(st.sampled_from([0.25, 0.5, 0.85]))
    return random_layout(dense_dims(dense(family)), lambda: data.draw(st.floats(0, 1)) < p)


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=layouts())
def test_pruned_equals_masked_with_padding(family, data):
    layout = draw_layout(data, family)
    physical, masked = twins(family, layout)
    ids, mask = padded_batch()
    with torch.no_grad():
        a = physical(input_ids=ids, attention_mask=mask).logits
        b = masked(input_ids=ids, attention_mask=mask).logits
    assert (a - b)[mask.bool()].abs().max().item() < TOL
    kept = sum(p.numel() for p in physical.parameters())
    assert kept <= sum(p.numel() for p in masked.parameters())


def test_eager_attention_and_non_uniform_groups():
    # Block 1 keeps 1 head of group 0 and 2 of group 1: a non-uniform layout handled by the gather.
    layout = {"layers": [
        {"q_heads": [0, 1, 2, 3], "kv_heads": [0, 1], "channels": list(range(96))},
        {"q_heads": [1, 2, 3], "kv_heads": [0, 1], "channels": list(range(0, 96, 2))},
        {"q_heads": [], "kv_heads": [], "channels": []},
        {"q_heads": [3], "kv_heads": [1], "channels": [5]},
    ]}
    for attn in ("eager", "sdpa"):
        physical, masked = twins("qwen3", layout, attn)
        attn1 = physical.model.layers[1].self_attn
        assert isinstance(attn1, PrunedAttention) and not attn1.grouped
        assert attn1.kv_map == (0, 1, 1)
        ids, mask = padded_batch(1)
        with torch.no_grad():
            a = physical(input_ids=ids, attention_mask=mask).logits
            b = masked(input_ids=ids, attention_mask=mask).logits
        assert (a - b)[mask.bool()].abs().max().item() < TOL


@pytest.mark.parametrize("family", ["qwen3", "llama"])
def test_batched_generation_and_kv_cache(family):
    layout = {"layers": [
        {"q_heads": [0, 2, 3], "kv_heads": [0, 1], "channels": list(range(10, 90))},
        {"q_heads": [1], "kv_heads": [0], "channels": list(range(40))},
        {"q_heads": [], "kv_heads": [], "channels": list(range(7))},
        {"q_heads": [0, 1, 2, 3], "kv_heads": [0, 1], "channels": []},
    ]}
    physical, masked = twins(family, layout)
    ids, mask = padded_batch(2)
    # Left padding for generation: flip each row's real tokens to the right.
    left_ids, left_mask = torch.zeros_like(ids), torch.zeros_like(mask)
    for i in range(ids.shape[0]):
        n = int(mask[i].sum())
        left_ids[i, -n:], left_mask[i, -n:] = ids[i, :n], 1
    kw = dict(attention_mask=left_mask, max_new_tokens=8, do_sample=False, pad_token_id=0)
    with torch.no_grad():
        ga = physical.generate(left_ids, **kw)
        gb = masked.generate(left_ids, **kw)
    assert torch.equal(ga, gb)

    # Step-by-step decoding with the cache equals the full forward, for the pruned model and its twin.
    seq = ga[:1, -12:]
    with torch.no_grad():
        full = physical(input_ids=seq).logits
        cache_p, cache_m = DynamicCache(config=physical.config), DynamicCache(config=masked.config)
        step_p = physical(input_ids=seq[:, :6], past_key_values=cache_p, use_cache=True).logits
        step_m = masked(input_ids=seq[:, :6], past_key_values=cache_m, use_cache=True).logits
        outs_p, outs_m = [step_p], [step_m]
        for t in range(6, seq.shape[1]):
            outs_p.append(physical(input_ids=seq[:, t:t + 1], past_key_values=cache_p, use_cache=True).logits)
            outs_m.append(masked(input_ids=seq[:, t:t + 1], past_key_values=cache_m, use_cache=True).logits)
    inc_p, inc_m = torch.cat(outs_p, 1), torch.cat(outs_m, 1)
    assert (inc_p - full).abs().max().item() < TOL
    assert (inc_p - inc_m).abs().max().item() < TOL

    # The pruned cache holds only the kept KV heads: never more than the dense cache.
    kv_p = [layer.keys.shape[1] for layer in cache_p.layers]
    kv_m = [layer.keys.shape[1] for layer in cache_m.layers]
    assert kv_p == [len(l["kv_heads"]) for l in layout["layers"]]
    assert kv_m == [2, 2, 2, 2]
    assert all(a <= b for a, b in zip(kv_p, kv_m))
    assert cache_p.get_seq_length() == cache_m.get_seq_length() == seq.shape[1]
