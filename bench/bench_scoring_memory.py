"""Peak memory of Taylor scoring relative to the model's weight bytes: hooks vs keeping `.grad`.

Each mode runs in its own process (peak RSS is per process) on the same randomly initialised
Qwen3 model of a few hundred million parameters, float32, one CPU thread:
    fwd+bwd       the floor: forward and backward with frozen weights, no scoring at all
    grad          the naive way: every weight requires grad, `.grad` accumulated over the set
    vectorized    resp-dsl hooks, |Σ W⊙G| from running per-row/column sums (no G at all)
    elementwise   resp-dsl hooks, |W⊙G| with G accumulated for all blocks in one pass
    elementwise/4 the same, 4 blocks per pass (L/4 passes over the data)
Printed: peak RSS above the loaded model, as a multiple of the weight bytes, and wall time.
Children run with MALLOC_MMAP_THRESHOLD_=65536 so that freed tensors go back to the OS at once
and the peak RSS measures live memory, not the allocator's cache.

    python -m bench.bench_scoring_memory            # all modes
    python -m bench.bench_scoring_memory --modes fwd+bwd vectorized --json figures.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.figures import Figure, add_json_argument, write_figures

MODES = ("fwd+bwd", "grad", "vectorized", "elementwise", "elementwise/4")
SHAPE = dict(hidden_size=1024, num_hidden_layers=16, num_attention_heads=16, num_key_value_heads=8,
             head_dim=128, intermediate_size=3072, vocab_size=2048, tie_word_embeddings=False)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def build_model():
    import torch
    from transformers import AutoModelForCausalLM

    from resp_dsl.models.factory import random_config

    config = random_config("qwen3", **SHAPE)
    config._attn_implementation = "sdpa"
    # Built on the meta device then materialised in place: loading never peaks above 1x the weights.
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.to_empty(device="cpu")
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.fill_(1.0)
            else:
                p.normal_(0.0, 0.02, generator=g)
    model.model.rotary_emb = type(model.model.rotary_emb)(config)
    return model.eval()


def samples(n=8, length=192, prompt=64):
    import torch

    from resp_dsl.pruning.calib import CalibSample

    g = torch.Generator().manual_seed(1)
    return [CalibSample(torch.randint(1, 2048, (length,), generator=g).tolist(), prompt) for _ in range(n)]


def run_child(mode: str) -> dict:
    import torch

    torch.set_num_threads(1)
    model = build_model()
    data = samples()
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    base = rss_bytes()
    t0 = time.perf_counter()
    if mode == "fwd+bwd":
        from resp_dsl.pruning.calib import counted_samples, make_batches, sample_losses

        model.requires_grad_(False)
        model.get_input_embeddings().register_forward_hook(lambda m, a, out: out.detach().requires_grad_(True))
        n = counted_samples(data, "decode_only")
        for b in make_batches(data, 2, loss="decode_only"):
            out = model(input_ids=b.input_ids, attention_mask=b.attention_mask, use_cache=False)
            (sample_losses(out.logits, b).sum() / n).backward()
            del out
    elif mode == "grad":
        from resp_dsl.pruning.calib import counted_samples, make_batches, sample_losses

        n = counted_samples(data, "decode_only")
        for b in make_batches(data, 2, loss="decode_only"):
            out = model(input_ids=b.input_ids, attention_mask=b.attention_mask, use_cache=False)
            (sample_losses(out.logits, b).sum() / n).backward()
            del out
        with torch.no_grad():
            for layer in model.model.layers:
                for lin in (layer.self_attn.q_proj, layer.mlp.gate_proj):
                    (lin.weight * lin.weight.grad).abs().sum(1)
    else:
        from resp_dsl.pruning.scoring import score_structures

        variant, _, per = mode.partition("/")
        score_structures(model, data, method="taylor", loss="decode_only", variant=variant, batch_size=2,
                         layers_per_pass=int(per) if per else None)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"mode": mode, "params": sum(p.numel() for p in model.parameters()), "weight_bytes": weight_bytes,
            "extra_peak_bytes": peak - base, "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", choices=MODES)
    ap.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    add_json_argument(ap)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child)))
        return
    rows = []
    for mode in args.modes:
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
        out = subprocess.run([sys.executable, "-m", "bench.bench_scoring_memory", "--child", mode],
                             capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1])
        if out.returncode != 0:
            sys.exit(f"mode {mode} failed ({out.returncode}):\n{out.stderr.strip()}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"model: qwen3 random, {rows[0]['params'] / 1e6:.0f}M params, weights {rows[0]['weight_bytes'] / 2**20:.0f} MiB fp32;"
          " 8 samples x 192 tokens (64 prompt), micro-batch 2, 1 thread")
    print(f"{'mode':<15}{'peak above model':>18}{'x weights':>11}{'seconds':>10}")
    for r in rows:
        print(f"{r['mode']:<15}{r['extra_peak_bytes'] / 2**20:>14.0f} MiB{r['extra_peak_bytes'] / r['weight_bytes']:>11.2f}"
              f"{r['seconds']:>10.1f}")
    figs = []
    for r in rows:
        figs.append(Figure(f"{r['mode']}: peak RSS above model / weight bytes", round(r['extra_peak_bytes'] / r['weight_bytes'], 2), "x"))
        figs.append(Figure(f"{r['mode']}: wall time ({r['params'] / 1e6:.0f}M params, 8 x 192 tokens)", round(r['seconds'], 1), "s"))
    write_figures(args.json, figs)


if __name__ == "__main__":
    main()
