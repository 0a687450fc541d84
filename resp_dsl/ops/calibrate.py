"""calibrate: the calibration set (generic text, task gold answers, or the model's own sampled traces)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from resp_dsl.ops.base import Cost, Op, PlanState, Sampling, generation_memory, sampling_note
from resp_dsl.vocab import CalibrationSource

PROMPT_ALLOWANCE = 200  # tokens a calibration prompt adds to its trace, for the plan's estimates


class CalibrateParams(Sampling):
    source: CalibrationSource
    dataset: str
    split: str
    shots: int = 0  # worked examples in each calibration prompt
    n: int
    seed: int
    max_tokens: int
    text_file: str | None = None
    task_file: str | None = None  # a local task file (hashed into the key); None: the built-in task


class Calibrate(Op):
    name = "calibrate"
    version = 2
    params = CalibrateParams
    inputs = ("model",)
    doc = "build the calibration set (generic text, gold answers, or self-generated traces)"
    seeded = True
    limit_param = "n"

    def cost(self, node, state: PlanState) -> Cost:
        p, c = node.params, Cost()
        state.calibration[node.id] = (p["n"], p["max_tokens"] + PROMPT_ALLOWANCE)
        if p["source"] == "self_generated":
            c.tokens_generated = p["n"] * p["max_tokens"]
            c.note = f"{p['n']} traces ≤{p['max_tokens']} tok, {sampling_note(p)}, seed {p['seed']}"
        else:
            c.note = f"{p['n']} samples ≤{p['max_tokens']} tokens"
        if state.config:
            c.memory_bytes = generation_memory(state.config, p["max_tokens"])
        return c

    def shard_kind(self, params: dict) -> str | None:
        return "generation" if params.get("source") == "self_generated" else None

    def run(self, ctx, node, inputs, out: Path) -> dict:
        from resp_dsl.runtime.context import (
            OpError,
            generate,
            records_from_generations,
            sampling_in_force,
            trace_stats,
            write_traces,
        )

        p = node.params
        model_art = inputs["model"]
        model, tok = ctx.model(model_art)
        source = p["source"]
        sampling = sampling_in_force(p, model)
        settings = {**sampling, "max_tokens": p["max_tokens"], "seed": p["seed"]}
        if source == "self_generated":
            prompts, _ = calibration_prompts(p, tok)
            gens = generate(ctx, model, tok, prompts, {**p, **sampling}, out, "calibrate: traces", p["seed"], model_art)
            records = records_from_generations(gens, tok, source, settings, model_art.key)
        elif source == "task":
            prompts, examples = calibration_prompts(p, tok)
            records = []
            for i, (prompt, ex) in enumerate(zip(prompts, examples)):
                prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
                answer_ids = tok(ex.solution, add_special_tokens=False)["input_ids"]
                if tok.eos_token_id is not None:
                    answer_ids = answer_ids + [tok.eos_token_id]
                answer_ids = answer_ids[: p["max_tokens"]]
                records.append({"index": i, "source": source, "prompt": prompt, "text": ex.solution,
                                "input_ids": prompt_ids + answer_ids, "n_prompt": len(prompt_ids),
                                "model": None, "settings": settings})
        elif source == "generic":
            texts = generic_texts(p, n=p["n"], seed=p["seed"])
            records = []
            for i, text in enumerate(texts):
                ids = tok(text, add_special_tokens=False)["input_ids"][: p["max_tokens"]]
                records.append({"index": i, "source": source, "prompt": "", "text": tok.decode(ids),
                                "input_ids": ids, "n_prompt": 0, "model": None, "settings": settings})
        else:
            raise OpError(f"unknown calibration source {source!r}")
        write_traces(out / "traces.jsonl", records)
        return trace_stats(records)


def calibration_prompts(params: dict, tok) -> tuple[list[str], list[Any]]:
    """The prompts (and examples) of the n seeded, shuffled problems a calibration set draws."""
    from resp_dsl.runtime.context import task_of

    task = task_of(params)
    examples = task.draw(params["split"], params["n"], params["seed"])
    return [task.build_prompt(ex, tok, shots=params.get("shots", 0), chat=params.get("chat", True),
                              enable_thinking=params.get("enable_thinking", True)) for ex in examples], examples


def generic_texts(params: dict, *, n: int, seed: int) -> list[str]:
    """n generic documents: a local text file, the bundled corpus, or C4 from the hub."""
    from resp_dsl.runtime.context import OpError

    rng = random.Random(seed)
    corpus = params.get("corpus") or params.get("dataset") or "c4"
    if params.get("text_file"):
        path = Path(params["text_file"]).expanduser()
        if not path.is_file():
            raise OpError(f"generic text file {path} does not exist")
        paras = [t.strip() for t in path.read_text(encoding="utf-8", errors="replace").split("\n\n") if t.strip()]
        if not paras:
            raise OpError(f"{path} has no text")
        return [paras[rng.randrange(len(paras))] for _ in range(n)]
    if corpus == "stdlib_docs":
        from resp_dsl.zoo.generic import split_docstrings

        docs = split_docstrings()["validation"]
        return [docs[rng.randrange(len(docs))] for _ in range(n)]
    if corpus in ("c4", "wikitext"):
        from datasets import load_dataset

        try:
            if corpus == "c4":
                ds = load_dataset("allenai/c4", "en", split="validation", streaming=True)
            else:
                ds = load_dataset("Salesforce/wikitext", "wikitext-103-raw-v1", split="train", streaming=True)
        except Exception as exc:
            raise OpError(f"cannot load C4 from the hub: {exc}".splitlines()[0],
                          hint="offline? use `calibrate generic from FILE` with a local text file") from None
        texts = []
        for row in ds.shuffle(seed=seed, buffer_size=10_000):
            if len(row["text"].strip()) < 200:  # wikitext has headings and blank lines
                continue
            texts.append(row["text"])
            if len(texts) >= n:
                break
        return texts
    raise OpError(f"unknown generic corpus {corpus!r}", hint="use c4, wikitext, stdlib_docs, or a local text file")


OP = Calibrate()
