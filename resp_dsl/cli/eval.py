"""`resp-dsl eval DIR --task T --limit N`: accuracy of any model directory on a task.

DIR may be a dense model, a resp-dsl export of any format (per_layer, uniform, masked)
or a hub id; it is loaded by the project's one loader (`resp_dsl.models.loading`). The
task's sampling settings default to the ones `stdlib/tasks` gives it, so the number
matches what a recipe's `eval` of the same task reports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from resp_dsl.cli.check import batch_size_arg


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="DIR", help="model directory (dense or any export format) or hub id")
    parser.add_argument("--task", default="tiny_gsm", help="task name (`resp-dsl ls tasks`) or jsonl:PATH (default tiny_gsm)")
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate the first N problems (default: all)")
    parser.add_argument("--split", help="dataset split (default: the task's, usually test)")
    parser.add_argument("--shots", type=int, help="few-shot exemplars (default: the task's in stdlib/tasks)")
    parser.add_argument("--max-new-tokens", type=int, help="generation budget per problem (default: the task's)")
    parser.add_argument("--temperature", type=float, help="sampling temperature, 0 = greedy (default: the task's)")
    parser.add_argument("--top-p", type=float,
                        help="nucleus sampling mass (default: the task's, else the model's generation_config)")
    parser.add_argument("--top-k", type=int,
                        help="keep the k most likely tokens, 0 = all (default: the model's generation_config)")
    parser.add_argument("--seed", type=int, help="sampling seed, per problem (default: the task's)")
    parser.add_argument("--batch-size", type=batch_size_arg, default=64, metavar="N|auto",
                        help="prompts per generation batch (default 64); auto starts at 256 on CUDA, halves on OOM")
    parser.add_argument("--dtype", default="fp32", help="fp32, bf16, fp16 or auto (default fp32)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i] (default cpu)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--log-samples", type=Path, metavar="FILE",
                        help="write every problem (prompt, output, extracted answer, gold, correct) as JSONL")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def task_settings(name: str) -> dict:
    """The settings `stdlib/tasks` gives a task (the field defaults of a task statement otherwise)."""
    from resp_dsl.compile.pipeline import compile_text
    from resp_dsl.ir.models import TaskSpec

    res = compile_text("use stdlib/tasks\n", name="<eval>", graph=False)
    spec = res.ir.tasks.get(name) if res.ir is not None else None
    if spec is not None:
        return spec.model_dump(exclude={"span", "name", "source", "path"})
    return {k: f.default for k, f in TaskSpec.model_fields.items()
            if k not in ("span", "name", "source", "path") and not f.is_required()}


def run(args) -> int:
    from resp_dsl.cli.check import torch_for

    if torch_for("eval", args.threads) is None:
        return 2
    from resp_dsl.evaluation import evaluate_direct
    from resp_dsl.models.loading import LoadError, load_model
    from resp_dsl.tasks import TaskError, get_task

    s = task_settings(args.task)
    overrides = {"split": args.split, "shots": args.shots, "max_new_tokens": args.max_new_tokens,
                 "temperature": args.temperature, "top_p": args.top_p, "top_k": args.top_k, "seed": args.seed}
    s.update({k: v for k, v in overrides.items() if v is not None})
    try:
        task = get_task(args.task)
        model, tok = load_model(args.model, dtype=args.dtype, device=args.device)
    except (LoadError, TaskError, ValueError, OSError) as exc:
        print(f"resp-dsl: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    from resp_dsl.runtime.context import sampling_in_force

    s.update(sampling_in_force(s, model))  # what the task leaves open: the model's generation_config
    result = evaluate_direct(model, tok, task, split=s["split"], limit=args.limit, shots=s["shots"],
                             chat=s.get("chat", True), enable_thinking=s.get("enable_thinking", True),
                             max_new_tokens=s["max_new_tokens"], temperature=s["temperature"], top_p=s["top_p"],
                             top_k=s["top_k"], seed=s["seed"], batch_size=args.batch_size)
    if args.log_samples:
        from resp_dsl.runtime.provenance import samples_of, write_samples

        write_samples(samples_of(result.to_dict()), args.log_samples)
    summary = {"model": str(args.model), "task": args.task, "n": result.n, "correct": result.correct,
               "accuracy": result.accuracy, **{k: s[k] for k in ("split", "shots", "max_new_tokens", "temperature",
                                                                 "top_p", "top_k", "seed")}}
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{args.model} on {args.task} {s['split']}[:{result.n}] (T={s['temperature']} seed={s['seed']}): "
              f"{result.correct}/{result.n} = {100 * result.accuracy:.1f}%")
    return 0
