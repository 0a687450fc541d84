"""Generation throughput: the batched hf backend versus one sequence at a time.

Three ways to sample the same prompts (T=0.6, top-p 0.95) on a small random Qwen3 model:
  batched   resp_dsl.generation.hf.generate, batch_size=B (left-padded, KV cache)
  single    the same function with batch_size=1
  hf-loop   transformers' model.generate, one prompt per call (what scripts usually do)
Reports generated tokens per second (median of --repeats runs) and the ratios.

    python -m bench.bench_generation --prompts 64 --max-new-tokens 64
    python -m bench.bench_generation --model random-150m --prompts 16 --max-new-tokens 32 --json FILE

--model random-150m takes bench/models.py's ~150M Qwen3 blocks with the bundled tokenizer's vocabulary
(so that every sampled id decodes), instead of the small --hidden/--layers model.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.figures import Figure, add_json_argument, write_figures
from bench.models import MODEL_CHOICES, random_qwen3, size_of


def build_model(hidden: int, layers: int, seed: int, choice: str | None = None):
    from resp_dsl.zoo.tokenizer import build_tokenizer

    tok = build_tokenizer()
    if choice is not None:
        model = random_qwen3(size_of(choice), seed=seed, vocab_size=len(tok), max_position_embeddings=2048)
        return model, tok
    try:
        from resp_dsl.models.factory import tiny_random_model

        model = tiny_random_model("qwen3", seed=seed, hidden_size=hidden, intermediate_size=3 * hidden,
                                  num_hidden_layers=layers, vocab_size=len(tok),
                                  max_position_embeddings=2048)
    except ImportError:  # the pruning helper's factory is absent: build one from Qwen3Config
        import torch
        from transformers import AutoModelForCausalLM, Qwen3Config

        torch.manual_seed(seed)
        config = Qwen3Config(vocab_size=len(tok), hidden_size=hidden, intermediate_size=3 * hidden,
                             num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2, head_dim=hidden // 4,
                             max_position_embeddings=2048, tie_word_embeddings=True)
        model = AutoModelForCausalLM.from_config(config).eval()
    # never stop early, so every way generates exactly max_new_tokens per prompt
    model.generation_config.eos_token_id = None
    return model, tok


class _NoEos:
    """The tokenizer without an EOS, so no run stops early."""

    def __init__(self, tok):
        self._tok = tok

    def __getattr__(self, name):
        return getattr(self._tok, name)

    def __call__(self, *a, **k):
        return self._tok(*a, **k)

    eos_token_id = None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", choices=MODEL_CHOICES, help="a ~100-200M random Qwen3 instead of --hidden/--layers")
    add_json_argument(ap)
    args = ap.parse_args()
    if min(args.prompts, args.max_new_tokens, args.batch_size, args.repeats, args.threads) < 1:
        ap.error("--prompts, --max-new-tokens, --batch-size, --repeats and --threads must be >= 1")

    import torch

    from resp_dsl.generation.hf import generate
    from resp_dsl.zoo import synthetic

    torch.set_num_threads(args.threads)
    model, tok = build_model(args.hidden, args.layers, seed=0, choice=args.model)
    import random

    rng = random.Random(0)
    prompts = [tok.apply_chat_template([{"role": "user", "content": synthetic.generate_problem(rng).question}],
                                       add_generation_prompt=True, tokenize=False) for _ in range(args.prompts)]
    n_tokens = args.prompts * args.max_new_tokens
    no_eos = _NoEos(tok)

    def ours(bs):
        gens = generate(model, no_eos, prompts, max_new_tokens=args.max_new_tokens, temperature=0.6, top_p=0.95,
                        seed=0, batch_size=bs)
        assert sum(len(g.token_ids) for g in gens) == n_tokens
    def hf_loop():
        torch.manual_seed(0)
        for p in prompts:
            enc = tok(p, return_tensors="pt", add_special_tokens=False)
            out = model.generate(**enc, do_sample=True, temperature=0.6, top_p=0.95, top_k=0,
                                 max_new_tokens=args.max_new_tokens, min_new_tokens=args.max_new_tokens,
                                 pad_token_id=tok.pad_token_id)
            assert out.shape[1] - enc["input_ids"].shape[1] == args.max_new_tokens

    def rate(fn) -> float:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return n_tokens / statistics.median(times)

    rates = {"batched": rate(lambda: ours(args.batch_size)), "single": rate(lambda: ours(1)), "hf_loop": rate(hf_loop)}
    result = {
        "params": sum(p.numel() for p in model.parameters()),
        "prompts": args.prompts, "max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
        "threads": args.threads, "repeats": args.repeats,
        "tokens_per_s": {k: round(v, 1) for k, v in rates.items()},
        "speedup_vs_single": round(rates["batched"] / rates["single"], 2),
        "speedup_vs_hf_loop": round(rates["batched"] / rates["hf_loop"], 2),
    }
    shape = (f"{model.config.num_hidden_layers} layers, hidden {model.config.hidden_size}")
    print(f"model: random Qwen3, {result['params']:,} params, {shape}; "
          f"{args.prompts} prompts x {args.max_new_tokens} new tokens, {args.threads} thread(s), median of {args.repeats}")
    for k, v in rates.items():
        print(f"  {k:<8} {v:10.1f} tokens/s")
    print(f"  batched / single  = {result['speedup_vs_single']}x")
    print(f"  batched / hf-loop = {result['speedup_vs_hf_loop']}x")
    print(json.dumps(result))
    tag = f"{result['params'] / 1e6:.0f}M, {args.prompts}x{args.max_new_tokens} tok"
    write_figures(args.json, [
        Figure(f"hf backend batch {args.batch_size} ({tag})", round(rates["batched"], 1), "tok/s"),
        Figure(f"hf backend batch 1 ({tag})", round(rates["single"], 1), "tok/s"),
        Figure(f"model.generate one prompt per call ({tag})", round(rates["hf_loop"], 1), "tok/s"),
        Figure("batched / batch 1", result["speedup_vs_single"], "x", target="> 1", met=result["speedup_vs_single"] > 1),
        Figure("batched / model.generate loop", result["speedup_vs_hf_loop"], "x", target="> 1",
               met=result["speedup_vs_hf_loop"] > 1),
    ])


if __name__ == "__main__":
    main()
