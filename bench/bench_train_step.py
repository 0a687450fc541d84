"""Training-step time of the bundled models' trainer: length-grouped micro-batches versus one padded batch.

For each arm, `--steps` optimizer steps of `resp-dsl zoo train` on the real batches of that model
(the task + generic mix, structured dropout, bf16 autocast, AdamW) from a random initialisation:
  one-batch      the step's sequences in one right-padded batch with an attention mask (the
                 trainer before micro-batches)
  micro-batches  resp_dsl.zoo_build.train.train_step: sorted by length, --micro-batch sequences
                 per forward pass, each group padded to its own width, no attention mask
for the bundled tiny-rlm spec and for each of its DESIGNS. Reports the median seconds per step
(the first two steps excluded: kernel set-up), tokens per second, the ratios, and what the model's
whole schedule would take at that rate.

    python -m bench.bench_train_step --steps 8 --threads 1
    python -m bench.bench_train_step --steps 8 --threads 2 --json FILE
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.figures import Figure, add_json_argument, write_figures


def _arm(zoo_model, *, micro_batch: int | None, steps: int, seed: int = 0) -> dict:
    import torch
    from transformers import Qwen3ForCausalLM

    from resp_dsl.zoo.tokenizer import build_tokenizer
    from resp_dsl.zoo_build.train import BatchMaker, DropoutHooks, train_step

    spec = zoo_model.train
    tok = build_tokenizer(zoo_model.model.tokenizer)
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(zoo_model.model.to_config(tok)).train()
    hooks = DropoutHooks(model, spec.dropout, spec.seed) if spec.dropout else None
    opt = torch.optim.AdamW(model.parameters(), lr=spec.lr, betas=spec.betas, weight_decay=spec.weight_decay)
    batches = BatchMaker(tok, spec, set(), zoo_model.task_generator())
    dev = torch.device("cpu")
    times, tokens = [], []
    for step in range(steps + 2):
        t0 = time.perf_counter()
        if micro_batch is None:
            ids, mask, labels = batches.batch(step)
            if hooks:
                hooks.set_step(step, ids.shape[0])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=spec.autocast_bf16):
                loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), spec.grad_clip)
            opt.step()
            n = int(mask.sum())
        else:
            _, n = train_step(model, opt, batches, hooks, step, spec, micro_batch, dev)
        if step >= 2:
            times.append(time.perf_counter() - t0)
            tokens.append(n)
    s = statistics.median(times)
    return {"params": sum(p.numel() for p in model.parameters()), "s_per_step": s,
            "tok_per_s": sum(tokens) / sum(times), "schedule_h": s * spec.steps / 3600, "steps": spec.steps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=8, help="timed steps per arm (default 8)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--micro-batch", type=int, default=None, help="default: the trainer's")
    add_json_argument(ap)
    args = ap.parse_args()
    if min(args.steps, args.threads) < 1 or (args.micro_batch is not None and args.micro_batch < 1):
        ap.error("--steps, --threads and --micro-batch must be >= 1")

    import torch

    from resp_dsl.zoo.spec import DESIGNS, get
    from resp_dsl.zoo_build.train import MICRO_BATCH

    torch.set_num_threads(args.threads)
    mb = args.micro_batch or MICRO_BATCH
    arms = [("tiny-rlm", "one-batch", get("tiny-rlm"), None), ("tiny-rlm", f"micro-batches of {mb}", get("tiny-rlm"), mb)]
    arms += [(f"tiny-rlm --design {d}", f"micro-batches of {mb}", get("tiny-rlm", d), mb) for d in DESIGNS["tiny-rlm"]]
    results = []
    print(f"{args.steps} timed steps per arm, {args.threads} thread(s); median s/step")
    for model_name, how, zm, micro in arms:
        r = _arm(zm, micro_batch=micro, steps=args.steps)
        results.append((model_name, how, r))
        print(f"  {model_name:<28} {how:<18} {r['params'] / 1e6:5.2f}M params  {r['s_per_step']:6.3f} s/step  "
              f"{r['tok_per_s']:7.0f} tok/s  {r['steps']} steps = {r['schedule_h']:.2f} h")
    base = results[0][2]["s_per_step"]
    for model_name, how, r in results[1:]:
        print(f"  {model_name} {how} / tiny-rlm one-batch: {base / r['s_per_step']:.2f}x faster per step")
    figs = [Figure(f"train step, {m} ({how}, {args.threads} threads)", round(r["s_per_step"], 3), "s") for m, how, r in results]
    figs.append(Figure("micro-batches speed-up, tiny-rlm", round(base / results[1][2]["s_per_step"], 2), "x"))
    write_figures(args.json, figs)


if __name__ == "__main__":
    main()
