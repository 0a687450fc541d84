"""FLAP's fluctuation metric, the fourth scorer: against a plain re-computation, and in the language."""

import torch

from resp_dsl.models.factory import tiny_random_model
from resp_dsl.pruning.calib import make_batches
from resp_dsl.pruning.scoring import score_structures

from helpers.models import random_samples


def _reference(model, samples, loss):
    """Var_t(X_j) · ‖W_:,j‖² of o_proj / down_proj inputs over the counted tokens, by plain hooks."""
    inputs = {}
    handles = []
    for i, layer in enumerate(model.model.layers):
        for name, lin in (("o", layer.self_attn.o_proj), ("down", layer.mlp.down_proj)):
            handles.append(lin.register_forward_pre_hook(
                lambda m, a, key=(i, name): inputs.setdefault(key, []).append(a[0])))
    rows = []
    with torch.no_grad():
        for batch in make_batches(samples, 2, loss=loss):
            inputs.clear()
            model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
            mask = torch.cat([batch.targets > 0, torch.zeros_like(batch.targets[:, :1], dtype=torch.bool)], 1)
            rows.append({k: v[0][mask] for k, v in inputs.items()})
    for h in handles:
        h.remove()
    d = model.config.head_dim
    out = []
    for i, layer in enumerate(model.model.layers):
        xo = torch.cat([r[(i, "o")] for r in rows]).double()
        xd = torch.cat([r[(i, "down")] for r in rows]).double()
        fo = xo.var(0, unbiased=False) * layer.self_attn.o_proj.weight.double().pow(2).sum(0)
        fd = xd.var(0, unbiased=False) * layer.mlp.down_proj.weight.double().pow(2).sum(0)
        out.append((fo.reshape(-1, d).sum(1), fd))
    return out


def test_flap_scores_equal_a_plain_recomputation():
    model = tiny_random_model("qwen3", num_hidden_layers=2)
    samples = random_samples()
    for loss in ("full", "decode_only"):
        scores = score_structures(model, samples, method="flap", loss=loss)
        for got, (heads, channels) in zip(scores.layers, _reference(model, samples, loss)):
            torch.testing.assert_close(got.heads.double(), heads, rtol=1e-4, atol=1e-9)
            torch.testing.assert_close(got.channels.double(), channels, rtol=1e-4, atol=1e-9)
            assert torch.all(got.kv == 0)  # the metric rates output-projection inputs only


def test_flap_in_a_recipe_is_checked_and_costed():
    from resp_dsl.compile import compile_text

    r = compile_text('model "Qwen/Qwen3-8B"\ncalibrate task from gsm8k n=16\nscore flap on heads, channels\n'
                     "prune to 0.2\n", "f.prune")
    assert r.ok, r.diagnostics
    (score,) = [n for n in r.graph.nodes.values() if n.op == "score"]
    assert score.params["method"] == "flap" and score.params["loss"] == "full" and score.params["variant"] is None
    bad = compile_text('model "Qwen/Qwen3-8B"\ncalibrate task from gsm8k\nscore flap vectorized\nprune to 0.2\n',
                       "f.prune")
    assert [d.code for d in bad.diagnostics] == ["incompatible-options"]


def test_allocate_in_a_recipe_is_checked_costed_and_keyed_only_when_set():
    from resp_dsl.compile import compile_text

    head = 'model "Qwen/Qwen3-8B"\ncalibrate task from gsm8k n=16\n'
    plain = compile_text(head + "score wanda on heads, channels\nprune to 0.2\n", "a.prune")
    seq = compile_text(head + "score wanda outputs on heads, channels allocate=sequential\nprune to 0.2\n", "a.prune")
    assert plain.ok and seq.ok, (plain.diagnostics, seq.diagnostics)
    (p_score,) = [n for n in plain.graph.nodes.values() if n.op == "score"]
    (s_score,) = [n for n in seq.graph.nodes.values() if n.op == "score"]
    assert "allocate" not in p_score.params  # the default stays out of the key: existing keys hold
    assert s_score.params["allocate"] == "sequential" and s_score.params["variant"] == "outputs"
    bad = compile_text(head + "score magnitude allocate=sequential\nprune to 0.2\n", "a.prune")
    assert [d.code for d in bad.diagnostics] == ["incompatible-options"]
    assert "allocate=uniform" in bad.diagnostics[0].hint
    moot = compile_text(head + "score wanda outputs allocate=uniform normalize=reference\nprune to 0.2\n", "a.prune")
    assert moot.ok and [(d.code, d.severity) for d in moot.diagnostics] == [("no-effect", "warning")]
    typo = compile_text(head + "score wanda allocate=unifrom\nprune to 0.2\n", "a.prune")
    assert typo.diagnostics and "uniform" in (typo.diagnostics[0].hint or "")


def test_plan_counts_one_scoring_pass_per_cut_block_for_sequential():
    from resp_dsl.compile import compile_text
    from resp_dsl.ops import OPS
    from resp_dsl.ops.base import PlanState
    from resp_dsl.registry import ModelConfig

    r = compile_text('model "Qwen/Qwen3-8B"\ncalibrate task from gsm8k n=16\nprotect first 10% blocks, last block\n'
                     "score wanda outputs allocate=sequential\nprune to 0.2\n", "a.prune")
    assert r.ok, r.diagnostics
    state = PlanState(config=ModelConfig(model_type="qwen3", hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=10, num_attention_heads=4, num_key_value_heads=2,
                                         head_dim=16, vocab_size=100, tie_word_embeddings=True))
    state.calibration = {n.id: (16, 32) for n in r.graph.nodes.values() if n.op == "calibrate"}
    costs = {n.op: OPS[n.op].cost(n, state) for n in sorted(r.graph.nodes.values(), key=lambda n: n.op != "score")
             if n.op in ("score", "prune")}  # the score node first: it tells the state its allocation
    assert costs["score"].forward == 16
    assert costs["prune"].forward == 16 * (8 - 1)  # blocks 1-8 cut; the first one's scores are the score node's
