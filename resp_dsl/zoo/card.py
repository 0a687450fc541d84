"""Measure a bundled model and write its model card (``resp-dsl zoo card tiny-reasoner``).

Every figure in the card is measured by this code on the machine it runs on:
dense accuracy (sampled and greedy), accuracy after data-free magnitude
pruning, and generation throughput. Training figures come from the training
run's own summary (``training.json`` beside the weights).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

PRUNE_TARGETS = (0.2, 0.3, 0.4)


def measure(name: str = "tiny-reasoner", *, n: int = 500, seed: int = 0, threads: int = 2, progress=None) -> dict:
    import torch

    from resp_dsl.pruning.apply import apply_selection
    from resp_dsl.pruning.scoring import score_structures
    from resp_dsl.pruning.select import ProtectSpec, select_structures
    from resp_dsl.zoo.evaluate import accuracy, load_bundled

    torch.set_num_threads(threads)
    model, tok = load_bundled(name)
    out: dict = {"n": n, "seed": seed, "threads": threads, "machine": _machine()}
    t0 = time.perf_counter()
    out["dense_sampled"] = accuracy(model, tok, n=n, temperature=0.6, top_p=0.95, seed=seed, progress=progress)
    out["dense_greedy"] = accuracy(model, tok, n=n, temperature=0.0, seed=seed, progress=progress)
    # Data-free magnitude pruning, first and last blocks kept, masked (the reference's way).
    protect = ProtectSpec(first_fraction=0.0, last=True, blocks=(0,))
    scores = score_structures(model, [], method="magnitude")
    out["magnitude"] = {}
    for target in PRUNE_TARGETS:
        import copy

        pruned = copy.deepcopy(model)
        sel = select_structures(pruned, scores, target=target, basis="params", protect=protect, normalize="type")
        apply_selection(pruned, sel, mode="masked")
        res = accuracy(pruned, tok, n=n, temperature=0.6, top_p=0.95, seed=seed, progress=progress)
        out["magnitude"][str(target)] = {"achieved": sel.achieved, **res}
    out["measure_seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _machine() -> dict:
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "python": platform.python_version()}


def render(name: str, figures: dict, training: dict) -> str:
    t = training.get("training", {})
    ts = training.get("train_spec", {})
    ms = training.get("model_spec", {})
    d, g = figures["dense_sampled"], figures["dense_greedy"]
    rows = "\n".join(
        f"| {int(100 * float(k))}% | {100 * v['achieved']:.1f}% | {100 * v['accuracy']:.1f}% ({v['correct']}/{v['n']}) |"
        for k, v in figures["magnitude"].items())
    return f"""# {name}

The bundled tiny reasoning model of resp-dsl: a {t.get('parameters', 0) / 1e6:.2f}M-parameter model of
`transformers`' **Qwen3** architecture, trained from scratch by `resp-dsl zoo train {name}` on the
project's own synthetic GSM8K-style task plus generic text. It exists so that every recipe runs,
and shows the paper's effects, on a CPU in minutes. Load it offline with
`AutoModelForCausalLM.from_pretrained(resp_dsl.zoo.path("{name}"))`.

## Architecture
| | |
|---|---|
| layers | {ms.get('num_hidden_layers')} |
| hidden size | {ms.get('hidden_size')} |
| query heads / KV heads | {ms.get('num_attention_heads')} / {ms.get('num_key_value_heads')} (grouped-query attention) |
| head_dim | {ms.get('head_dim')} (explicit; hidden/heads would be {ms.get('hidden_size', 0) // max(1, ms.get('num_attention_heads', 1))}) |
| MLP intermediate size | {ms.get('intermediate_size')} (SwiGLU) |
| q_norm / k_norm | yes (Qwen3) |
| embeddings | tied |
| tokenizer | one token per character, Qwen3-style chat template with `enable_thinking` |

## Data
- **Reasoning task** (`tiny_gsm`): procedurally generated multi-step word problems (2-4 steps of + - x /,
  exact integer results up to 200), splits in `resp_dsl/zoo/{name}/data/` in GSM8K's schema
  (`question`, and `answer` = a human-style worked solution ending in `#### N`). The model never saw
  the gold solutions: it was trained to answer in its own terse thinking style,
  `<think>12-5=7. 7*3=21.</think> #### 21`, so calibrating on gold solutions and on its own traces differ.
  Training problems are drawn fresh every step from a seeded generator and never repeat a test or
  validation question.
- **Generic text**: the docstrings of the Python standard library of the interpreter that trained it
  (read with `ast`, never imported; corpus sha256 `{t.get('generic_corpus_sha256', '?')[:16]}…`), about
  {100 * ts.get('generic_batch', 0) / max(1, ts.get('generic_batch', 0) + ts.get('task_batch', 0)):.0f}% of the sequences of every batch, loss on every token.

## Training
`resp-dsl zoo train {name}` (seed {ts.get('seed')}): {t.get('steps')} steps of {ts.get('task_batch')} task +
{ts.get('generic_batch')} generic sequences, AdamW (lr {ts.get('lr')}, cosine, warmup {ts.get('warmup')}),
bf16 autocast on CPU with fp32 weights, {ts.get('threads')} threads.
Measured training throughput: **{t.get('train_tokens_per_s_median')} tokens/s** (median over steps,
padding excluded). {training.get('wall_note', '')}

## Accuracy (measured by `resp-dsl zoo card {name}`)
First {d['n']} problems of the test split, exact match on the number after `####`:

| decoding | accuracy |
|---|---|
| sampled, T=0.6, top-p 0.95, seed {figures['seed']} | **{100 * d['accuracy']:.1f}%** ({d['correct']}/{d['n']}) |
| greedy | **{100 * g['accuracy']:.1f}%** ({g['correct']}/{g['n']}) |

Generation throughput (hf backend, batch {d['batch_size']}, {figures['threads']} threads):
**{d['tokens_per_s']} generated tokens/s**.

### Data-free magnitude pruning (for realism, not a tuning target)
Lowest-magnitude query heads and MLP channels masked to the target fraction of prunable
parameters, first and last blocks kept, sampled at T=0.6:

| target | achieved | accuracy |
|---|---|---|
| 0% | 0.0% | {100 * d['accuracy']:.1f}% |
{rows}

The calibrated methods (Wanda-sp, GISP, RESP) are measured by the recipes in `recipes/`, on this
same model.

Machine: {figures['machine']}. Measuring took {figures['measure_seconds']} s.
"""


def write_card(name: str = "tiny-reasoner", *, n: int = 500, seed: int = 0, threads: int = 2, progress=None) -> Path:
    from resp_dsl import zoo

    model_dir = zoo.path(name)
    training = json.loads((model_dir / "training.json").read_text()) if (model_dir / "training.json").is_file() else {}
    figures = measure(name, n=n, seed=seed, threads=threads, progress=progress)
    text = render(name, figures, training)
    tmp = model_dir / ".README.md.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, model_dir / "README.md")
    (model_dir / ".card.json.tmp").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    os.replace(model_dir / ".card.json.tmp", model_dir / "card.json")
    return model_dir / "README.md"
