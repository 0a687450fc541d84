"""eval: accuracy on a task, with our seeded sampler or through lm-eval."""

from __future__ import annotations

from pathlib import Path

from resp_dsl.ops.base import Cost, Op, Params, PlanState, Sampling, generation_memory, sampling_note
from resp_dsl.vocab import AnswerKind, Harness


class Draw(Params):
    """The problems a calibration drew (`eval ... on calibration`): `n` seeded, shuffled problems of `split`
    (``Task.draw``)."""

    split: str
    n: int
    seed: int


class EvalParams(Sampling):
    task: str
    task_file: str | None = None
    answer: AnswerKind
    split: str
    shots: int
    max_new_tokens: int
    seed: int
    limit: int | None
    chat: bool
    enable_thinking: bool
    harness: Harness = "direct"
    extractor: str | None = None
    draw: Draw | None = None  # None: the first `limit` problems of `split`


def problems(params: dict) -> int | None:
    """How many problems an eval node reads: the task's split size (a local file or bundled data
    is counted), capped by `limit`; None where it cannot be known offline."""
    from resp_dsl import zoo
    from resp_dsl.tasks import TASKS

    if params.get("draw"):
        return params["draw"]["n"]  # a draw larger than the split is refused when the calibration runs
    n = None
    if params.get("task_file"):
        try:
            with open(params["task_file"], "rb") as f:
                n = sum(1 for line in f if line.strip())
        except OSError:
            n = None
    elif params["task"] in TASKS:
        n = TASKS[params["task"]].split_sizes.get(params["split"])
    if n is None and not params.get("task_file") and zoo.is_bundled_task(params["task"]):
        try:
            with zoo.task_data_path(params["task"], params["split"]).open("rb") as f:
                n = sum(1 for line in f if line.strip())
        except OSError:
            n = None
    if params.get("limit"):
        n = min(n, params["limit"]) if n is not None else params["limit"]
    return n


class Eval(Op):
    name = "eval"
    version = 2
    params = EvalParams
    inputs = ("model",)
    doc = "accuracy on a task (lm-eval)"
    seeded = True
    limit_param = "limit"
    reported_as = "result"
    resource_group = "eval"
    omit_when_default = ("draw",)  # added after keys were published

    def labels(self, node, graph) -> dict:
        # `split` only for a draw: the labels enter report keys, and an eval's own split is in its result
        # (runtime/report.py reads it there), so every report of evals on a split keeps its key
        if node.params.get("draw"):
            return {"task": node.params.get("task"), "split": "calibration"}
        return {"task": node.params.get("task")}

    def cost(self, node, state: PlanState) -> Cost:
        p, c = node.params, Cost()
        n = problems(p)
        if n is not None:
            c.tokens_generated = n * p["max_new_tokens"]
        d = p.get("draw")
        what = (f"{n:,} calibration problems ({d['split']}, seed {d['seed']})" if d else
                (f"{n:,}" if n is not None else "?") + " problems")
        c.note = f"{what} × ≤{p['max_new_tokens']} tok, {sampling_note(p)}"
        if state.config:
            c.memory_bytes = generation_memory(state.config, p["max_new_tokens"])
        return c

    def shard_kind(self, params: dict) -> str | None:
        return "generation" if params.get("harness") != "lm_eval" else None  # lm-eval batches on its own

    def run(self, ctx, node, inputs, out: Path) -> dict:
        from resp_dsl.evaluation import evaluate_direct, evaluate_lm_eval
        from resp_dsl.runtime.context import OpError, backend_options, sampling_in_force, task_of, vllm_model

        p = node.params
        draw = p.get("draw")  # `on calibration`: the calibration's draw fixes the split and the problems
        if draw and p["harness"] == "lm_eval":
            raise OpError("an evaluation on a calibration draw runs with the direct harness only",
                          hint="drop harness=lm_eval")
        model, tok = ctx.model(inputs["model"])
        task = task_of(p)
        split, limit = (draw["split"], draw["n"]) if draw else (p["split"], p["limit"])
        common = dict(split=split, limit=limit, shots=p["shots"], chat=p["chat"],
                      enable_thinking=p["enable_thinking"],
                      max_new_tokens=p["max_new_tokens"], **sampling_in_force(p, model), seed=p["seed"],
                      batch_size=ctx.batch_size or p.get("batch_size", 64))
        if p["harness"] == "lm_eval":
            result = evaluate_lm_eval(model, tok, task, **common)
        else:
            checkpoint = ctx.checkpoint("eval.jsonl")
            backend = inputs["model"].json("model.json")["base"].get("backend") or "hf"
            if backend == "vllm":
                model = vllm_model(ctx, inputs["model"], tok)
            extractor = ctx.extractor(p["extractor"], model) if p.get("extractor") else None
            options = backend_options(backend, inputs["model"])
            result = evaluate_direct(model, tok, task, **common, draw_seed=draw["seed"] if draw else None,
                                     backend=backend, extractor=extractor,
                                     backend_options=options,
                                     progress=lambda d, t: ctx.progress(f"eval {p['task']}: problems", d, t),
                                     checkpoint=checkpoint)
        result.save(out / "result.json")
        return {"accuracy": result.accuracy, "n": result.n, "correct": result.correct}


OP = Eval()
