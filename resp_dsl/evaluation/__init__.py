"""Evaluation: exact-match accuracy of a model on a task, with every example's output kept.

Two paths with one result type:

* ``evaluate_lm_eval``: through lm-eval 0.4 (``HFLM(pretrained=model, tokenizer=tok)`` and
  ``simple_evaluate``), on the task configs shipped in ``resp_dsl/evaluation/tasks/``
  (local data through ``dataset_path: json``) or lm-eval's stock ``gsm8k_cot`` for hub data.
  This is the protocol published numbers use.
* ``evaluate_direct``: the project's own batched generation and answer extraction, seeded
  per example and resumable from a checkpoint; fast, used by tests and by progressive runs.

For the same greedy settings both give the same answers (tested on the tiny model).

    res = evaluate_direct(model, tok, "tiny_gsm", limit=100, max_new_tokens=96, temperature=0.6)
    res.accuracy, res.per_example[0]["output"]
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from resp_dsl.generation.base import TEMPERATURE, TOP_K, TOP_P
from resp_dsl.tasks import Task, TaskError, get_task

TASKS_DIR = Path(__file__).resolve().parent / "tasks"


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Accuracy on ``n`` examples plus one record per example.

    Each ``per_example`` record has at least ``id``, ``target``, ``pred``, ``correct``,
    ``output`` (the model's text) and ``prompt``.
    """

    task: str
    n: int
    correct: int
    accuracy: float
    per_example: list[dict[str, Any]]
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvalResult:
        return cls(task=d["task"], n=int(d["n"]), correct=int(d["correct"]), accuracy=float(d["accuracy"]),
                   per_example=list(d["per_example"]), settings=dict(d.get("settings", {})))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write as JSON atomically (temp file + rename)."""
        from resp_dsl.files import write_text_atomic

        return write_text_atomic(path, json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EvalResult:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _summarise(task: str, records: list[dict[str, Any]], settings: dict[str, Any]) -> EvalResult:
    correct = sum(bool(r["correct"]) for r in records)
    return EvalResult(task=task, n=len(records), correct=correct,
                      accuracy=correct / len(records) if records else 0.0, per_example=records, settings=settings)


def evaluate_direct(
    model: Any,
    tokenizer: Any,
    task: Task | str,
    *,
    split: str = "test",
    limit: int | None = None,
    shots: int | None = None,
    chat: bool = True,
    enable_thinking: bool = True,
    max_new_tokens: int = 2048,
    temperature: float = TEMPERATURE,
    top_p: float = TOP_P,
    top_k: int = TOP_K,
    seed: int = 0,
    draw_seed: int | None = None,
    batch_size: int = 64,
    backend: str = "hf",
    backend_options: dict | None = None,
    progress: Any = None,
    checkpoint: Any = None,
    extractor: Any = None,
) -> EvalResult:
    """Generate an answer for the first ``limit`` examples of ``split`` and score them.

    ``draw_seed`` (with ``limit``): instead, the ``limit`` problems a calibration with that seed draws
    from ``split`` (``Task.draw``: `eval ... on calibration`). ``seed`` stays the sampling seed.

    ``extractor`` (a ``resp_dsl.evaluation.extractor.ModelExtractor``) reads the final answers
    with an instruct model instead of the task's regex; both readings are kept per example.

    ``checkpoint`` (e.g. ``JsonlCheckpoint`` in the store's partial dir) makes a killed
    evaluation resume from its last finished batch; sampling is seeded per example, so the
    resumed result equals an uninterrupted one.
    """
    from resp_dsl.generation import get_backend

    task_obj = get_task(task) if isinstance(task, str) else task
    generate = get_backend(backend)
    if draw_seed is None:
        examples = task_obj.load(split, limit=limit)
    elif limit is None:
        raise TaskError("a calibration draw needs its size: pass limit=n with draw_seed")
    else:
        examples = task_obj.draw(split, limit, draw_seed)
    prompts = [task_obj.build_prompt(ex, tokenizer, shots=shots, chat=chat, enable_thinking=enable_thinking)
               for ex in examples]
    gens = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, temperature=temperature,
                    top_p=top_p, top_k=top_k, seed=seed, batch_size=batch_size, stop=task_obj.stop,
                    progress=progress, checkpoint=checkpoint, **(backend_options or {}))
    records = []
    for ex, gen in zip(examples, gens):
        rec = task_obj.score(gen.text, ex)
        rec.update(question=ex.question, output=gen.text, prompt=gen.prompt, finish_reason=gen.finish_reason,
                   n_new_tokens=len(gen.token_ids))
        records.append(rec)
    if extractor is not None:
        from resp_dsl.evaluation.extractor import apply_extractor

        apply_extractor(extractor, task_obj, examples, records)
    settings = {"path": "direct", "split": split, "limit": limit, **({} if draw_seed is None else
                {"draw_seed": draw_seed}), "shots": task_obj.default_shots if shots is None
                else shots, "chat": chat, "enable_thinking": enable_thinking, "max_new_tokens": max_new_tokens,
                "temperature": temperature, "top_p": top_p, "top_k": top_k, "seed": seed, "backend": backend,
                "task": task_obj.fingerprint(), "extractor": getattr(extractor, "name", None)}
    return _summarise(task_obj.name, records, settings)


# -- lm-eval ---------------------------------------------------------------------------------

def lm_eval_task_config(task: Task | str, *, split: str = "test") -> dict[str, Any]:
    """The lm-eval task config (a dict ``TaskManager.load`` accepts) that evaluates ``task``.

    Local data (``tiny_gsm``, ``jsonl:``, ``gsm8k``/``mathqa`` with ``data_dir``/``data_files``)
    becomes ``dataset_path: json`` with ``data_files``; hub data keeps the config's dataset.
    """
    from lm_eval.tasks._yaml_loader import load_yaml

    task_obj = get_task(task) if isinstance(task, str) else task
    if task_obj.name == "gsm8k":
        import lm_eval.tasks as stock

        cfg = load_yaml(Path(stock.__file__).parent / "gsm8k" / "gsm8k-cot.yaml", resolve_func=True)
        cfg["task"] = "gsm8k_cot" if task_obj.data_files is None else "resp_gsm8k_cot_json"
        if task_obj.path not in (None, "openai/gsm8k"):
            cfg["dataset_path"] = task_obj.path
    else:
        yaml_name = {"tiny_gsm": "resp_tiny_gsm", "tiny_gsm_hard": "resp_tiny_gsm", "mathqa": "resp_mathqa_gen", "jsonl": "resp_gsm_jsonl"}.get(task_obj.name)
        if yaml_name is None:
            raise TaskError(f"task {task_obj.name!r} has no lm-eval config", hint="use evaluate_direct")
        if task_obj.name == "jsonl" and (task_obj.question_field, task_obj.answer_field) != ("question", "answer"):
            raise TaskError("the lm-eval path reads jsonl tasks in GSM8K's schema (question, answer) only",
                            hint="rename the fields in the file or use evaluate_direct")
        cfg = load_yaml(TASKS_DIR / f"{yaml_name}.yaml", resolve_func=True)
        if task_obj.name == "mathqa" and task_obj.data_files is None:
            cfg["dataset_path"] = task_obj.path
    data_files = task_obj.data_files
    if data_files is None and task_obj.name == "jsonl":
        data_files = {split: str(task_obj.file)}
    if data_files is not None:
        if split not in data_files:
            raise TaskError(f"task {task_obj.name} has no data for split {split!r}",
                            hint=f"splits: {', '.join(sorted(data_files))}")
        cfg.update(dataset_path="json", dataset_name=None,
                   dataset_kwargs={"data_files": {k: str(v) for k, v in data_files.items()}})
        for key in ("training_split", "validation_split", "fewshot_split"):
            if cfg.get(key) is not None and cfg[key] not in data_files:
                cfg.pop(key)  # a local copy may hold fewer splits than the hub dataset
    cfg["test_split"] = split
    return cfg


def _per_example_from_samples(samples: list[dict[str, Any]], task_obj: Task, split: str,
                              filter_name: str | None) -> list[dict[str, Any]]:
    if filter_name is not None:
        samples = [s for s in samples if s.get("filter") == filter_name]
    out = []
    for s in sorted(samples, key=lambda s: s["doc_id"]):
        output = s["resps"][0][0] if s.get("resps") else ""
        filtered = s.get("filtered_resps", [output])[0]
        ex = task_obj.to_example(s["doc"], s["doc_id"], split)
        args = s.get("arguments") or []
        prompt = args[0][0] if args and isinstance(args[0], (list, tuple)) else (args[0] if args else "")
        if filter_name not in (None, "none"):
            pred = filtered  # what lm-eval's filter kept (stock tasks)
        else:  # what resp-dsl's extractor reads (shipped tasks score with it too)
            extract_for = getattr(task_obj, "extract_for", None)
            pred = extract_for(output, ex) if extract_for else task_obj.extract(output)
        out.append({"id": ex.id, "target": ex.target, "pred": pred, "correct": bool(s["exact_match"]),
                    "question": ex.question, "output": output, "prompt": prompt})
    return out


def evaluate_lm_eval(
    model: Any,
    tokenizer: Any,
    task: Task | str,
    *,
    split: str = "test",
    limit: int | None = None,
    shots: int | None = None,
    chat: bool = True,
    enable_thinking: bool = True,
    max_new_tokens: int = 2048,
    temperature: float = TEMPERATURE,
    top_p: float = TOP_P,
    top_k: int = TOP_K,
    seed: int = 0,
    batch_size: int = 64,
    gsm8k_filter: str = "flexible-extract",
    think_end_token: str = "</think>",
) -> EvalResult:
    """Evaluate through lm-eval's ``simple_evaluate`` with the in-memory model.

    The chat template is applied (few-shot as multi-turn) when ``chat`` and the tokenizer has
    one; ``enable_thinking`` reaches the template, and the text after ``think_end_token``
    is what gets scored. Stock ``gsm8k_cot`` reports exact match under lm-eval's filters
    (``gsm8k_filter``: ``flexible-extract`` or ``strict-match``); the shipped tasks use
    resp-dsl's extractor. Sampling runs through ``transformers.generate`` with lm-eval's
    seeding, so sampled answers depend on lm-eval's batching (greedy ones do not).
    """
    from lm_eval import evaluator
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from resp_dsl.tasks.base import has_chat_template

    task_obj = get_task(task) if isinstance(task, str) else task
    cfg = lm_eval_task_config(task_obj, split=split)
    use_chat = chat and has_chat_template(tokenizer)
    think_id = tokenizer.convert_tokens_to_ids(think_end_token) if think_end_token else None
    if think_id is None or think_id == getattr(tokenizer, "unk_token_id", None):
        think_id = None
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, max_length=_max_length(model, tokenizer),
              enable_thinking=enable_thinking if use_chat else None,
              think_end_token=(think_id if think_id is not None else think_end_token) if use_chat else None)
    gen_kwargs: dict[str, Any] = {"max_gen_toks": max_new_tokens, "do_sample": temperature > 0}
    if temperature > 0:
        gen_kwargs.update(temperature=temperature, top_p=top_p, top_k=top_k)
    tm = TaskManager(include_path=str(TASKS_DIR), include_defaults=task_obj.name == "gsm8k" and task_obj.data_files is None)
    spec: Any = cfg["task"] if cfg["task"] == "gsm8k_cot" and split == "test" else cfg
    results = evaluator.simple_evaluate(
        model=lm, tasks=[spec], task_manager=tm, num_fewshot=shots, limit=limit, batch_size=batch_size,
        apply_chat_template=use_chat, fewshot_as_multiturn=use_chat, gen_kwargs=gen_kwargs, log_samples=True,
        random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed, fewshot_random_seed=seed,
        bootstrap_iters=0,
    )
    name = cfg["task"]
    filter_name = gsm8k_filter if task_obj.name == "gsm8k" else "none"
    per_example = _per_example_from_samples(results["samples"][name], task_obj, split, filter_name)
    settings = {"path": "lm-eval", "lm_eval_task": name, "filter": filter_name, "split": split, "limit": limit,
                "shots": shots, "chat": use_chat, "enable_thinking": enable_thinking,
                "max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p, "top_k": top_k,
                "seed": seed, "task": task_obj.fingerprint()}
    return _summarise(task_obj.name, per_example, settings)


def _max_length(model: Any, tokenizer: Any) -> int | None:
    n = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    return int(n) if n else None


__all__ = ["EvalResult", "evaluate_direct", "evaluate_lm_eval", "lm_eval_task_config"]
