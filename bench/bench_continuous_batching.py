"""Tokens/s of the `hf` backend against transformers' continuous batching on a length-skewed request set.

    python -m bench.bench_continuous_batching [--quick] [--requests 16] [--json FILE]

Requests: random token prompts of 8..--max-prompt tokens, each with its own budget of new tokens,
drawn from --levels (default 8, 32, 128, 256: most requests short, a few long). Greedy decoding
on the same random Qwen3 (bench/models.py, --model random-150m), float32, one CPU thread; no EOS,
so every request generates exactly its budget and both sides generate the same number of tokens
(checked).
  hf   resp_dsl.generation.hf.generate, one call per budget level (its max_new_tokens is one
       number per call), each level one left-padded batch of up to --batch-size prompts
  cb   model.generate_batch's engine (ContinuousBatchingManager, paged KV cache): every request
       added at once with its own max_new_tokens; finished requests leave the batch, waiting ones
       join it. Timed from creating the manager (cache allocation included) to the last result.
Printed: tokens/s of each, cb / hf, and the share of requests whose greedy tokens agree.
If this transformers has no `generate_batch`, or it fails on CPU, the figure says why.

What it does not exercise: sampling (greedy only), EOS inside a batch (the `hf` backend drops a
finished row; here rows end at their level's budget), GPUs, CUDA graphs or compiled kernels.
"""

from __future__ import annotations

import argparse
import random
import time

from bench.figures import Figure, add_json_argument, write_figures
from bench.models import MODEL_CHOICES, n_params, random_qwen3, size_of


class IdTokenizer:
    """Prompts written as space-separated token ids: the whole vocabulary of a random model, no EOS."""

    eos_token_id = None
    pad_token_id = 0

    def __call__(self, texts, add_special_tokens=False):
        return {"input_ids": [[int(t) for t in text.split()] for text in texts]}

    def decode(self, ids, skip_special_tokens=False):
        return " ".join(str(i) for i in ids)


def requests(n: int, levels: list[int], max_prompt: int, vocab: int, seed: int = 0) -> list[tuple[list[int], int]]:
    """``n`` (prompt ids, budget) pairs; budgets skewed towards the short levels (weights 1/level)."""
    rng = random.Random(seed)
    weights = [1 / lv for lv in levels]
    out = []
    for i in range(n):
        budget = levels[i % len(levels)] if i < len(levels) else rng.choices(levels, weights)[0]  # every level once
        prompt = [rng.randrange(1, vocab) for _ in range(rng.randint(8, max_prompt))]
        out.append((prompt, budget))
    return out


def run_hf(model, reqs, batch_size: int) -> tuple[float, list[list[int]]]:
    from resp_dsl.generation.hf import generate

    tok = IdTokenizer()
    outs: list[list[int] | None] = [None] * len(reqs)
    t0 = time.perf_counter()
    for level in sorted({b for _, b in reqs}):
        idx = [i for i, (_, b) in enumerate(reqs) if b == level]
        gens = generate(model, tok, [" ".join(map(str, reqs[i][0])) for i in idx], max_new_tokens=level,
                        temperature=0.0, seed=0, batch_size=batch_size)
        for i, g in zip(idx, gens):
            outs[i] = g.token_ids
    return time.perf_counter() - t0, outs


def run_cb(model, reqs, max_batch_tokens: int, timeout: float) -> tuple[float, list[list[int]]]:
    """The engine behind ``model.generate_batch``, with per-request max_new_tokens (generate_batch takes one)."""
    if not hasattr(model, "generate_batch") or not hasattr(model, "continuous_batching_context_manager"):
        raise RuntimeError("this transformers has no model.generate_batch (continuous batching)")
    from transformers import ContinuousBatchingConfig, GenerationConfig

    page = 64
    blocks = sum(-(-(len(p) + b) // page) for p, b in reqs) + 4  # every request's pages at once, no eviction
    gen_cfg = GenerationConfig(do_sample=False, eos_token_id=-1, pad_token_id=0, max_new_tokens=max(b for _, b in reqs))
    cb_cfg = ContinuousBatchingConfig(page_size=page, num_blocks=blocks, max_batch_tokens=max_batch_tokens,
                                      allow_block_sharing=False)
    t0 = time.perf_counter()
    with model.continuous_batching_context_manager(generation_config=gen_cfg, continuous_batching_config=cb_cfg,
                                                   block=True, timeout=5) as manager:
        ids = [manager.add_request(p, max_new_tokens=b) for p, b in reqs]
        results = {}
        while len(results) < len(ids):
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(f"continuous batching: {len(results)} of {len(ids)} requests after {timeout:.0f} s")
            r = manager.get_result(timeout=1)
            if r is None:
                if not manager.is_running():
                    raise RuntimeError("the continuous batching thread stopped before every request finished")
                continue
            if r.is_finished():
                if r.error is not None:
                    raise RuntimeError(f"request {r.request_id} failed: {r.error}")
                results[r.request_id] = list(r.generated_tokens)
    return time.perf_counter() - t0, [results[i] for i in ids]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=MODEL_CHOICES, default=MODEL_CHOICES[0])
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--levels", type=int, nargs="+", default=[8, 32, 128, 256], help="budgets of new tokens")
    ap.add_argument("--max-prompt", type=int, default=128, help="prompts have 8..N tokens")
    ap.add_argument("--batch-size", type=int, default=64, help="the hf backend's batch size")
    ap.add_argument("--max-batch-tokens", type=int, default=256, help="continuous batching: tokens per forward")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before the continuous batching run gives up")
    ap.add_argument("--quick", action="store_true", help="12 requests, levels 4 8 16 64, prompts <= 64 tokens")
    add_json_argument(ap)
    a = ap.parse_args()
    if a.quick:
        a.requests, a.levels, a.max_prompt = 12, [4, 8, 16, 64], 64
    if min(a.requests, a.batch_size, a.max_batch_tokens, *a.levels) < 1 or a.max_prompt < 8:
        ap.error("--requests, --levels, --batch-size and --max-batch-tokens must be >= 1, --max-prompt >= 8")

    import torch

    torch.set_num_threads(1)
    model = random_qwen3(size_of(a.model), seed=0)
    reqs = requests(a.requests, sorted(set(a.levels)), a.max_prompt, model.config.vocab_size)
    total = sum(b for _, b in reqs)
    tag = (f"{n_params(model) / 1e6:.0f}M, {len(reqs)} requests, {min(a.levels)}..{max(a.levels)} new tok, "
           f"prompts 8..{a.max_prompt}")
    print(f"random Qwen3 {tag}: {total} tokens to generate, greedy, 1 thread")

    hf_s, hf_out = run_hf(model, reqs, a.batch_size)
    hf_tokens = sum(len(o) for o in hf_out)
    if hf_tokens != total:
        raise SystemExit(f"the hf backend generated {hf_tokens} tokens, {total} were asked for")
    hf_rate = hf_tokens / hf_s
    print(f"hf backend (one call per budget level): {hf_rate:.1f} tok/s ({hf_s:.1f} s)")
    figs = [Figure(f"hf backend ({tag})", round(hf_rate, 1), "tok/s")]
    try:
        cb_s, cb_out = run_cb(model, reqs, a.max_batch_tokens, a.timeout)
    except Exception as exc:  # a missing or failing generate_batch is the figure, not a crash
        reason = f"unavailable: {type(exc).__name__}: {exc}".splitlines()[0]
        print(f"continuous batching: {reason}")
        figs.append(Figure(f"generate_batch continuous batching ({tag})", reason, ""))
        write_figures(a.json, figs)
        return
    cb_tokens = sum(len(o) for o in cb_out)
    cb_rate = cb_tokens / cb_s
    same = sum(x == y for x, y in zip(hf_out, cb_out))
    ratio = cb_rate / hf_rate
    print(f"generate_batch (continuous batching, paged): {cb_rate:.1f} tok/s ({cb_s:.1f} s), {cb_tokens} tokens")
    print(f"continuous batching / hf backend: {ratio:.2f}x ({'faster' if ratio > 1 else 'not faster'}); "
          f"greedy outputs identical for {same}/{len(reqs)} requests")
    figs += [
        Figure(f"generate_batch continuous batching ({tag})", round(cb_rate, 1), "tok/s"),
        Figure("tokens generated, generate_batch vs hf backend", f"{cb_tokens} vs {hf_tokens}", "tokens",
               target="equal", met=cb_tokens == hf_tokens),
        Figure("generate_batch / hf backend tokens/s", round(ratio, 2), "x"),
        Figure("generate_batch faster than the hf backend", "yes" if ratio > 1 else "no", ""),
        Figure("requests with identical greedy tokens", f"{same}/{len(reqs)}", ""),
    ]
    write_figures(a.json, figs)


if __name__ == "__main__":
    main()
