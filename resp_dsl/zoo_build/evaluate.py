"""`resp-dsl zoo eval`: accuracy of a bundled model on its own task.

It goes through the same code as every task: `resp_dsl.tasks` loads the
GSM8K-schema split and builds the chat prompt, the batched `hf` generation
backend samples, and the GSM8K answer extractor reads the final number.
"""

from __future__ import annotations

import json
import sys
import time

from resp_dsl.generation.base import TEMPERATURE, TOP_P
from resp_dsl.stats import wilson  # the project's one Wilson interval


def bits(flags) -> str:
    """Per-problem correctness as a string of 0/1 (what the card's reproducibility spot check compares)."""
    return "".join("1" if f else "0" for f in flags)


def text_hashes(gens) -> str:
    """The first 6 hex digits of each generation's sha256, concatenated (a compact record of what was generated)."""
    import hashlib

    return "".join(hashlib.sha256(g.text.encode("utf-8")).hexdigest()[:6] for g in gens)


def generate_on_task(model, tokenizer, *, name: str = "tiny-reasoner", n: int = 500, split: str = "test",
                     temperature: float = TEMPERATURE, top_p: float = TOP_P, seed: int = 0, batch_size: int = 64,
                     max_new_tokens: int | None = None, progress=None, start: int = 0):
    """(examples, generations, correct flags, seconds) of a model on problems `start`..`start+n-1` (file
    order) of a split of its bundled task."""
    from resp_dsl.generation.hf import generate
    from resp_dsl.tasks import get_task
    from resp_dsl.zoo.spec import get

    spec = get(name)
    task = get_task(spec.task)
    examples = task.load(split, limit=start + n)[start:]
    prompts = [task.build_prompt(ex, tokenizer) for ex in examples]
    t0 = time.perf_counter()
    gens = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens or spec.max_new_tokens,
                    temperature=temperature, top_p=top_p if temperature > 0 else 1.0, seed=seed,
                    batch_size=batch_size, stop=list(task.stop), progress=progress)
    elapsed = time.perf_counter() - t0
    correct = [task.is_correct(task.extract(g.text), ex) for g, ex in zip(gens, examples)]
    return examples, gens, correct, elapsed


def accuracy(model, tokenizer, *, name: str = "tiny-reasoner", n: int = 500, split: str = "test",
             temperature: float = TEMPERATURE, top_p: float = TOP_P, seed: int = 0, batch_size: int = 64,
             max_new_tokens: int | None = None, progress=None) -> dict:
    """Sampled (or greedy, temperature 0) accuracy on the first `n` problems of a split, with a 95% Wilson interval."""
    examples, gens, correct, elapsed = generate_on_task(
        model, tokenizer, name=name, n=n, split=split, temperature=temperature, top_p=top_p, seed=seed,
        batch_size=batch_size, max_new_tokens=max_new_tokens, progress=progress)
    new_tokens = sum(len(g.token_ids) for g in gens)
    k = int(sum(correct))
    return {
        "split": split, "n": len(examples), "correct": k,
        "accuracy": k / max(1, len(examples)), "ci95": [round(x, 4) for x in wilson(k, len(examples))],
        "temperature": temperature, "top_p": top_p if temperature > 0 else 1.0, "seed": seed,
        "generated_tokens": new_tokens, "seconds": round(elapsed, 2),
        "tokens_per_s": round(new_tokens / elapsed, 1) if elapsed > 0 else None,
        "batch_size": batch_size, "correct_bits": bits(correct), "text_sha6": text_hashes(gens),
    }


def load_bundled(name: str = "tiny-reasoner", model_dir=None):
    """The bundled model, or any model directory (dense or an export of any format), in fp32."""
    from resp_dsl import zoo
    from resp_dsl.models.loading import load_model

    return load_model(model_dir or zoo.path(name), dtype="fp32", device="cpu")


def evaluate_bundled(args) -> int:
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from resp_dsl.models.loading import LoadError

    torch.set_num_threads(args.threads)
    try:
        model, tok = load_bundled(args.name, args.model)
    except (LoadError, OSError, ValueError) as exc:
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    temperature = 0.0 if args.greedy else args.temperature
    console = Console(stderr=True)
    with Progress(TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as prog:
        bar = prog.add_task("eval", total=args.n)
        result = accuracy(model, tok, name=args.name, n=args.n, split=args.split, temperature=temperature, seed=args.seed,
                          batch_size=args.batch_size,
                          progress=lambda done, total: prog.update(bar, completed=done, total=total))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        mode = "greedy" if temperature == 0 else f"T={temperature} top_p={result['top_p']} seed={args.seed}"
        print(f"{args.name} on {result['split']}[:{result['n']}] ({mode}): "
              f"{result['correct']}/{result['n']} = {100 * result['accuracy']:.1f}%  "
              f"({result['tokens_per_s']} generated tokens/s at batch {result['batch_size']})")
    return 0
