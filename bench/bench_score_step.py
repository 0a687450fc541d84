"""Seconds per calibration token of one Taylor score step: resp-dsl's hooks vs plain autograd.

An iterative schedule re-scores at every step (112 times on the paper's path), so the score step
is the hot loop. The reference is what a user would write with plain autograd: every weight
requires grad, the decode-only loss of each micro-batch is backpropagated, `.grad` accumulates
over the calibration set, then |W ⊙ G| is summed per query head and MLP channel. resp-dsl's
element-wise scorer (`score_structures(..., variant="elementwise")`) computes the same numbers
from forward/backward hooks. Both see the same samples, micro-batches and thread count (1).

Printed per model: median seconds per calibration token of each (n repeats, interleaved), the
ratio ours / reference (target <= 1.0), and the largest relative difference between the scores.

    python bench/bench_score_step.py                 # tiny-reasoner, a ~30M random Qwen3, a 64k-vocab one
    python bench/bench_score_step.py --repeats 7 --samples 32
"""

from __future__ import annotations

import argparse
import statistics
import time


def reference_scores(model, samples, batch_size: int):
    """Plain autograd: `.grad` of every weight over the set, then |W ⊙ G| summed per structure."""
    import torch

    from resp_dsl.models.adapters import get_adapter
    from resp_dsl.pruning.calib import counted_samples, make_batches, sample_losses
    from resp_dsl.pruning.state import dense_dims

    adapter = get_adapter(model)
    head_dim = dense_dims(model).head_dim
    for p in model.parameters():
        p.requires_grad_(True)
        p.grad = None
    n = counted_samples(samples, "decode_only")
    pad = model.config.pad_token_id or 0
    for batch in make_batches(samples, batch_size, loss="decode_only", pad_id=pad):
        logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False).logits
        (sample_losses(logits, batch).sum() / n).backward()
    out = []
    with torch.no_grad():
        for layer in adapter.layers(model):
            attn, mlp = adapter.attention(layer), adapter.mlp(layer)
            q = (attn.q_proj.weight * attn.q_proj.weight.grad).abs().sum(1).view(-1, head_dim).sum(1)
            o = (attn.o_proj.weight * attn.o_proj.weight.grad).abs().sum(0).view(-1, head_dim).sum(1)
            ch = sum((m.weight * m.weight.grad).abs().sum(1) for m in (mlp.gate_proj, mlp.up_proj))
            ch = ch + (mlp.down_proj.weight * mlp.down_proj.weight.grad).abs().sum(0)
            out.append((q + o, ch))
    for p in model.parameters():
        p.requires_grad_(False)
        p.grad = None
    return out


def make_samples(vocab: int, n: int, length: int, prompt: int, seed: int = 0):
    import torch

    from resp_dsl.pruning.calib import CalibSample

    g = torch.Generator().manual_seed(seed)
    return [CalibSample(torch.randint(3, vocab, (length - (i % 5) * 7,), generator=g).tolist(), prompt)
            for i in range(n)]


def models(which: list[str]):
    import torch
    from transformers import AutoModelForCausalLM

    from resp_dsl.models.factory import tiny_random_model

    if "tiny-reasoner" in which:
        from resp_dsl import zoo

        yield "tiny-reasoner (2.9M)", AutoModelForCausalLM.from_pretrained(zoo.path("tiny-reasoner"),
                                                                          dtype=torch.float32).eval()
    if "random-30m" in which:
        m = tiny_random_model("qwen3", hidden_size=512, num_hidden_layers=8, num_attention_heads=8,
                              num_key_value_heads=4, head_dim=64, intermediate_size=1536, vocab_size=4096)
        yield "random Qwen3 (%.0fM)" % (sum(p.numel() for p in m.parameters()) / 1e6), m
    if "random-vocab64k" in which:  # a Qwen3-like vocabulary share: the output head dominates
        m = tiny_random_model("qwen3", hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                              num_key_value_heads=2, head_dim=64, intermediate_size=768, vocab_size=65536)
        yield "random Qwen3 64k vocab (%.0fM)" % (sum(p.numel() for p in m.parameters()) / 1e6), m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--length", type=int, default=192)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--models", default="tiny-reasoner,random-30m,random-vocab64k")
    args = ap.parse_args()

    import torch

    from resp_dsl.pruning.scoring import score_structures

    torch.set_num_threads(1)
    print(f"{'model':<24} {'tokens':>7} {'ours s/tok':>11} {'autograd s/tok':>15} {'ratio':>6} {'max rel diff':>13}")
    for name, model in models(args.models.split(",")):
        samples = make_samples(model.config.vocab_size, args.samples, args.length, args.prompt)
        tokens = sum(len(s.input_ids) for s in samples)
        ours_t, ref_t = [], []
        for _ in range(args.repeats):  # interleaved, so drifting machine load hits both alike
            t0 = time.perf_counter()
            ours = score_structures(model, samples, method="taylor", loss="decode_only", variant="elementwise",
                                    batch_size=args.batch_size)
            ours_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ref = reference_scores(model, samples, args.batch_size)
            ref_t.append(time.perf_counter() - t0)
        diff = 0.0
        for ls, (h, c) in zip(ours.layers, ref):
            for a, b in ((ls.heads, h), (ls.channels, c)):
                diff = max(diff, float(((a.double() - b.double()).abs() / b.double().abs().clamp_min(1e-30)).max()))
        o, r = statistics.median(ours_t) / tokens, statistics.median(ref_t) / tokens
        print(f"{name:<24} {tokens:>7} {o:>11.3e} {r:>15.3e} {o / r:>6.2f} {diff:>13.1e}")


if __name__ == "__main__":
    main()
