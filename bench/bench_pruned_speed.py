"""Speed of physically pruned models against the dense one, with the masked model as the no-speedup reference.

A randomly initialised Qwen3 model is pruned by magnitude (global ranking, default protection:
first 10% of blocks and the last block) to 20/30/40% of its structure parameters, physically
and masked. For batch 1 and 16 we time the prefill of a 128-token prompt and the per-token
decode with the KV cache (median over repeats, one CPU thread), and compare the speed-up with
the ideal set by the parameter ratio (dense block parameters / pruned block parameters).
Times are CPU time of this process (`time.process_time`), not wall time: the machine is shared
with other jobs, and with one thread the CPU time is what the model costs.

    python -m bench.bench_pruned_speed [--repeats 5]                    # a ~30M random Qwen3
    python -m bench.bench_pruned_speed --model random-150m [--json FILE]  # ~150M: matrix work dominates
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from transformers import DynamicCache

from bench.figures import Figure, add_json_argument, write_figures
from bench.models import MODEL_CHOICES, random_qwen3, size_of
from resp_dsl.models.factory import tiny_random_model
from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.scoring import score_structures
from resp_dsl.pruning.select import select_structures

SHAPE = dict(hidden_size=512, num_hidden_layers=10, num_attention_heads=8, num_key_value_heads=4,
             head_dim=64, intermediate_size=1536, vocab_size=1024)


def block_params(model) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if ".layers." in n)


@torch.no_grad()
def time_once(model, ids, decode: int) -> tuple[float, float]:
    cache = DynamicCache(config=model.config)
    t0 = time.process_time()
    out = model(input_ids=ids, past_key_values=cache, use_cache=True)
    prefill = time.process_time() - t0
    nxt = out.logits[:, -1:].argmax(-1)
    t0 = time.process_time()
    for _ in range(decode):
        nxt = model(input_ids=nxt, past_key_values=cache, use_cache=True).logits[:, -1:].argmax(-1)
    return prefill, (time.process_time() - t0) / decode


def time_models(models: dict, batch: int, repeats: int, prompt: int, decode: int) -> dict[str, tuple[float, float]]:
    """Median (prefill, per-token decode) CPU seconds; models are interleaved within each repeat so that
    load from other processes on the machine hits all of them alike."""
    vocab = next(iter(models.values())).config.vocab_size
    ids = torch.randint(1, vocab, (batch, prompt), generator=torch.Generator().manual_seed(0))
    runs = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            runs[name].append(time_once(model, ids, decode))
    return {name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
            for name, rs in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sparsities", type=float, nargs="*", default=[0.2, 0.3, 0.4])
    ap.add_argument("--model", choices=("small-30m", *MODEL_CHOICES), default="small-30m",
                    help="small-30m: the SHAPE above; random-150m: bench/models.py's ~150M Qwen3")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--prompt", type=int, default=128, help="prompt tokens (prefill)")
    ap.add_argument("--decode", type=int, default=16, help="decode steps timed")
    add_json_argument(ap)
    args = ap.parse_args()
    if min(args.batches) < 1 or args.prompt < 1 or args.decode < 1 or args.repeats < 1:
        ap.error("--batches, --prompt, --decode and --repeats must be >= 1")
    if any(not 0 < s < 1 for s in args.sparsities):
        ap.error("--sparsities must lie in (0, 1)")
    torch.set_num_threads(1)
    if args.model == "small-30m":
        dense = tiny_random_model("qwen3", seed=0, **SHAPE)
    else:
        dense = random_qwen3(size_of(args.model), seed=0)
    scores = score_structures(dense, [], method="magnitude")
    models = {"dense": dense}
    for s in args.sparsities:
        sel = select_structures(dense, scores, target=s)
        models[f"physical {s:.0%}"] = apply_selection(copy.deepcopy(dense), sel, "physical")
        models[f"masked {s:.0%}"] = apply_selection(copy.deepcopy(dense), sel, "masked")
    dense_p = block_params(dense)
    n_params = sum(p.numel() for p in dense.parameters())
    print(f"qwen3 random: {n_params / 1e6:.1f}M params, "
          f"prompt {args.prompt} tokens, {args.decode} decode steps, median of {args.repeats}, 1 thread, CPU time")
    print(f"{'model':<15}{'batch':>6}{'prefill ms':>12}{'speed-up':>10}{'decode ms/tok':>15}{'speed-up':>10}{'ideal':>8}")
    figs = []
    for batch in args.batches:
        timings = time_models(models, batch, args.repeats, args.prompt, args.decode)
        base = timings["dense"]
        for name, model in models.items():
            pre, dec = timings[name]
            ideal = dense_p / block_params(model) if name.startswith("physical") else 1.0
            print(f"{name:<15}{batch:>6}{pre * 1e3:>12.1f}{base[0] / pre:>10.2f}{dec * 1e3:>15.2f}"
                  f"{base[1] / dec:>10.2f}{ideal:>8.2f}")
            if name.startswith("physical"):
                tag = f"{n_params / 1e6:.0f}M {name} b={batch}"
                figs.append(Figure(f"{tag}: prefill speed-up vs dense (ideal {ideal:.2f})", round(base[0] / pre, 2), "x",
                                   target=f">= 1 (ideal {ideal:.2f})", met=base[0] / pre >= 1.0))
                figs.append(Figure(f"{tag}: decode speed-up vs dense (ideal {ideal:.2f})", round(base[1] / dec, 2), "x",
                                   target=f">= 1 (ideal {ideal:.2f})", met=base[1] / dec >= 1.0))
            elif name == "dense":
                figs.append(Figure(f"{n_params / 1e6:.0f}M dense b={batch}: prefill {args.prompt} tokens", round(pre * 1e3, 1), "ms CPU"))
                figs.append(Figure(f"{n_params / 1e6:.0f}M dense b={batch}: decode per token", round(dec * 1e3, 2), "ms CPU"))
    write_figures(args.json, figs)


if __name__ == "__main__":
    main()
