"""What each graph op does when it runs: thin wrappers over the library.

Every op reads its parents' artifacts from the store, calls the pure library
code (generation, scoring, selection, evaluation, export) and writes its own
artifact into the temporary directory the store hands it. Artifacts are plain,
portable files:

=============  ==============================================================
op             artifact
=============  ==============================================================
load_model     ``model.json``: where the weights are (never copied)
calibrate      ``traces.jsonl``: prompt, text, token ids, n_prompt, settings
regenerate     ``traces.jsonl`` (a fraction rho re-sampled by the model)
score          ``scores.safetensors`` + ``scores.json``
prune          ``model.json`` + ``selection.json`` (kept indices, dense basis)
eval           ``result.json`` (accuracy, per-example outputs)
export         ``export.json`` (where, format, checksums of the export)
report         ``table.md``, ``table.csv``, ``table.json``, ``*.png``
=============  ==============================================================

A pruned model is stored as its selection (kept structures in dense
indices) on top of its base model: RESP removes structures without changing
the remaining weights, so base + selection rebuilds it exactly.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resp_dsl.scorers import SCORERS

# The ops this runtime can execute, with the artifact version each writes.
# ATTENTION: the compiler's op table carries the op versions that enter the keys;
# bump them there when what an op computes changes.
OpFn = Callable[["RunContext", Any, dict[str, "Artifact"], Path], dict]


class OpError(RuntimeError):
    """An op failed for a reason the user can act on."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


@dataclass
class Artifact:
    """A finished node's entry in the store."""

    key: str
    op: str
    path: Path
    meta: dict = field(default_factory=dict)

    def file(self, name: str) -> Path:
        return self.path / name

    def json(self, name: str) -> Any:
        return json.loads(self.file(name).read_text(encoding="utf-8"))


@dataclass
class RunContext:
    """What ops share during one run: the store, loaded models, output dir, progress hooks."""

    store: Any
    out_dir: Path
    progress: Callable[[str, int, int], None] = lambda label, done, total: None
    log: Callable[[str], None] = print
    overwrite_exports: bool = False
    key: str = ""  # the key of the node being run
    threads: int | None = None  # torch CPU threads, set when torch is first needed
    _models: dict = field(default_factory=dict)  # (base path, dtype, device) -> (model, tok)
    _built: dict = field(default_factory=dict)  # model artifact key -> (model, tok)

    _extractors: dict = field(default_factory=dict)
    summaries: dict = field(default_factory=dict)  # node id -> summary of every node finished in this run
    batch_size: int | str | None = None  # `run --batch-size`: generation/eval batches (not in any key)

    def checkpoint(self, name: str):
        """The in-op checkpoint file ``name`` of the running node, its records bound to the node key."""
        from resp_dsl.runtime.store import JsonlCheckpoint

        if getattr(self, "partial", None) is None:
            return None
        return JsonlCheckpoint(self.partial / name, key=self.key, warn=self.log)

    def extractor(self, source: str, like_model):
        """The answer-extractor model named by an eval's `extractor=`, loaded once per run."""
        if source not in self._extractors:
            from resp_dsl.evaluation.extractor import ModelExtractor

            path, _ = resolve_model(source)
            device = str(next(like_model.parameters()).device)
            self._extractors[source] = ModelExtractor.load(path, dtype="auto", device=device)
        return self._extractors[source]

    # -- models ---------------------------------------------------------------------------
    def base_model(self, spec: dict):
        """The dense model of a `model.json` base spec, loaded once per run."""
        key = (spec["path"], spec["dtype"], spec["device"])
        if key not in self._models:
            if self.threads:
                import torch  # a fully cached run never gets here, so never imports torch

                torch.set_num_threads(self.threads)
            self._models[key] = load_base(spec)
        return self._models[key]

    def model(self, art: Artifact):
        """The model of a load_model or prune artifact, built once and cached (kept small: 2)."""
        if art.key in self._built:
            return self._built[art.key]
        info = art.json("model.json")
        base, tok = self.base_model(info["base"])
        if info.get("selection") is None:
            model = base
        else:
            from resp_dsl.pruning.apply import apply_selection
            from resp_dsl.pruning.select import Selection

            model = copy.deepcopy(base)
            sel = Selection.from_dict(art.json("selection.json"))
            apply_selection(model, sel, mode=info.get("mode", "physical"))
            model.eval()
        if len(self._built) >= 2:
            self._built.pop(next(iter(self._built)))
        self._built[art.key] = (model, tok)
        return model, tok


# ---------------------------------------------------------------------------------------
# model loading


def resolve_model(source: str) -> tuple[str, bool]:
    """(path or hub id, is_local) for a recipe's model reference (`zoo:NAME`, a directory, or a hub id)."""
    if source.startswith("zoo:"):
        from resp_dsl import zoo

        try:
            return str(zoo.path(source[4:])), True
        except LookupError as exc:
            raise OpError(str(exc), hint="`resp-dsl ls` lists the bundled models") from None
    p = Path(source).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise OpError(f"{p} has no config.json: not a Hugging Face model directory")
        return str(p.resolve()), True
    return source, False


def load_base(spec: dict):
    """Load tokenizer and dense model; refuse unsupported families before reading the weights."""
    import torch
    from transformers import AutoConfig

    from resp_dsl.models.adapters import UnsupportedModelError, get_adapter
    from resp_dsl.models.loading import LoadError, load_model

    path = spec["path"]
    try:
        config = AutoConfig.from_pretrained(path, revision=spec.get("revision"))
    except OSError as exc:
        raise OpError(f"cannot read the config of {path!r}: {exc}".splitlines()[0],
                      hint="a hub id needs a network (and HF_TOKEN for gated models); "
                           "a local path must be a model directory") from None
    try:
        get_adapter(config)
    except UnsupportedModelError as exc:
        raise OpError(str(exc)) from None
    device = spec.get("device") or "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise OpError(f"device {device!r} requested but CUDA is not available", hint="use device cpu")
    try:
        return load_model(path, dtype=spec["dtype"], device=device, revision=spec.get("revision"))
    except (LoadError, ValueError) as exc:
        raise OpError(str(exc)) from None


def fresh_tokenizer(spec: dict):
    """The tokenizer of a `model.json` base spec, as loaded from its directory (pad = eos if unset)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(spec["path"], revision=spec.get("revision"))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def op_load_model(ctx: RunContext, node, inputs: dict[str, Artifact], out: Path) -> dict:
    p = node.params
    path, local = resolve_model(p["model"])
    spec = {"source": p["model"], "path": path, "local": local, "dtype": p["dtype"], "device": p["device"],
            "revision": p["revision"], "backend": p["backend"]}
    if spec["backend"] == "vllm":
        from resp_dsl.generation import get_backend

        get_backend("vllm")  # fails now, with the extra to install, if vLLM is missing
    model, _ = ctx.base_model(spec)
    n_params = sum(t.numel() for t in model.parameters())
    _write_json(out / "model.json", {"base": spec, "selection": None, "parameters": n_params,
                                     "model_type": model.config.model_type})
    return {"parameters": n_params}


# ---------------------------------------------------------------------------------------
# calibration


def _prompt_for(task, example, tok, params) -> str:
    return task.build_prompt(example, tok, shots=params.get("shots", 0), chat=params.get("chat", True),
                             enable_thinking=params.get("enable_thinking", True))


def _task(params: dict):
    """The task of a calibrate (``dataset``) or eval (``task``, ``task_file``) node."""
    from resp_dsl.tasks import TaskError, get_task

    name = params.get("task") or params["dataset"]
    file = params.get("task_file")  # a bare name is always the built-in task, never a file named like it
    try:
        return get_task(f"jsonl:{file}") if file else get_task(name)
    except TaskError as exc:
        raise OpError(str(exc), hint=getattr(exc, "hint", None)) from None


def _calibration_prompts(params: dict, tok) -> tuple[list[str], list[Any]]:
    task = _task(params)
    examples = task.load(params["split"], limit=params["n"], seed=params["seed"], shuffle=True)
    return [_prompt_for(task, ex, tok, params) for ex in examples], examples


def _records_from_generations(gens, tok, source: str, settings: dict, model_key: str | None) -> list[dict]:
    out = []
    for i, g in enumerate(gens):
        prompt_ids = tok(g.prompt, add_special_tokens=False)["input_ids"]
        out.append({"index": i, "source": source, "prompt": g.prompt, "text": g.text,
                    "input_ids": prompt_ids + list(g.token_ids), "n_prompt": len(prompt_ids),
                    "finish_reason": g.finish_reason, "model": model_key, "settings": settings})
    return out


def _vllm_model(ctx: RunContext, model_art: Artifact, tok) -> str:
    """A directory stock vLLM can serve: the base model, or a pruned model's masked (dense-shape) export."""
    info = model_art.json("model.json")
    if info.get("selection") is None:
        return info["base"]["path"]
    from resp_dsl.pruning.export import export_model

    target = ctx.store.partial_dir(model_art.key) / "vllm-masked"
    if not (target / "resp_dsl.json").is_file():
        from resp_dsl.pruning.apply import apply_selection
        from resp_dsl.pruning.select import Selection

        base, _ = ctx.base_model(info["base"])
        masked = copy.deepcopy(base)
        apply_selection(masked, Selection.from_dict(model_art.json("selection.json")), mode="masked")
        export_model(masked, tok, target, format="masked", metadata={"recipe_key": model_art.key}, overwrite=True)
    return str(target)


def sampling_in_force(params: dict, model) -> dict:
    """temperature / top_p / top_k of a node: its params (resolved when compiling from the model's
    generation_config), or, where they could not be known offline, the loaded model's generation_config."""
    from resp_dsl.registry import SAMPLING_KEYS, sampling_from

    missing = [k for k in SAMPLING_KEYS if params.get(k) is None]
    loaded = {}
    if missing:
        gc = getattr(model, "generation_config", None)
        loaded = sampling_from(gc.to_dict() if gc is not None else {})
    return {k: params[k] if params.get(k) is not None else loaded[k] for k in SAMPLING_KEYS}


def _generate(ctx: RunContext, model, tok, prompts: list[str], params: dict, out: Path, label: str, seed: int,
              model_art: Artifact | None = None):
    from resp_dsl.generation import get_backend

    backend_name = params.get("backend") or (model_art.json("model.json")["base"].get("backend") if model_art else None)
    backend = get_backend(backend_name or "hf")
    if backend_name == "vllm" and model_art is not None:
        model = _vllm_model(ctx, model_art, tok)
    checkpoint = ctx.checkpoint("generations.jsonl")
    return backend(model, tok, prompts, max_new_tokens=params["max_tokens"],
                   temperature=params["temperature"], top_p=params["top_p"], top_k=params["top_k"],
                   seed=seed, batch_size=ctx.batch_size or params.get("batch_size", 64),
                   progress=lambda d, t: ctx.progress(label, d, t), checkpoint=checkpoint)


def op_calibrate(ctx: RunContext, node, inputs: dict[str, Artifact], out: Path) -> dict:
    p = node.params
    model_art = inputs["model"]
    model, tok = ctx.model(model_art)
    source = p["source"]
    sampling = sampling_in_force(p, model)
    settings = {**sampling, "max_tokens": p["max_tokens"], "seed": p["seed"]}
    if source == "self_generated":
        prompts, _ = _calibration_prompts(p, tok)
        gens = _generate(ctx, model, tok, prompts, {**p, **sampling}, out, "calibrate: traces", p["seed"], model_art)
        records = _records_from_generations(gens, tok, source, settings, model_art.key)
    elif source == "task":
        prompts, examples = _calibration_prompts(p, tok)
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
    return _trace_stats(records)


def generic_texts(params: dict, *, n: int, seed: int) -> list[str]:
    """n generic documents: a local text file, the bundled corpus, or C4 from the hub."""
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
        except Exception as exc:  # noqa: BLE001 - datasets raises many kinds when offline
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


def op_regenerate(ctx: RunContext, node, inputs: dict[str, Artifact], out: Path) -> dict:
    """Re-sample a fraction rho of the calibration traces with the current (pruned) model.

    The milestone samples with its own seed, ``regeneration_seed(calibration seed, milestone)``,
    which also picks the traces to replace; both are recorded with every fresh trace.
    """
    from resp_dsl.sparsity import regenerated_indices, regeneration_seed

    p = node.params
    rho = float(p["rho"])
    seed = regeneration_seed(p["seed"], p["milestone"])
    old = read_traces(inputs["calibration"].file("traces.jsonl"))
    chosen = regenerated_indices(len(old), rho, seed)
    records = [dict(r) for r in old]
    if chosen:
        model_art = inputs["model"]
        model, tok = ctx.model(model_art)
        prompts = [old[i]["prompt"] for i in chosen]
        if any(not pr for pr in prompts):
            raise OpError("only self-generated or task calibration can be regenerated (generic text has no prompt)")
        calib = dict(old[chosen[0]].get("settings") or {})
        gen_params = {**calib, **sampling_in_force(calib, model), **{k: v for k, v in p.items() if k in ("batch_size", "backend")}}
        gens = _generate(ctx, model, tok, prompts, gen_params, out, f"regenerate ρ={rho}", seed, model_art)
        settings = {**{k: gen_params[k] for k in ("temperature", "top_p", "top_k", "max_tokens")},
                    "seed": seed, "calibration_seed": p["seed"], "milestone": p["milestone"]}
        fresh = _records_from_generations(gens, tok, "self_generated", settings, model_art.key)
        for i, rec in zip(chosen, fresh):
            records[i] = {**rec, "index": i, "regenerated": True}
    write_traces(out / "traces.jsonl", records)
    return {**_trace_stats(records), "regenerated": len(chosen), "sampling_seed": seed}


def write_traces(path: Path, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")


def read_traces(path: Path) -> list[dict]:
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if [r["index"] for r in recs] != list(range(len(recs))):
        raise OpError(f"{path}: trace indices are not 0..{len(recs) - 1}")
    return recs


def calib_samples(path: Path):
    from resp_dsl.pruning.calib import CalibSample

    return [CalibSample(list(r["input_ids"]), int(r["n_prompt"])) for r in read_traces(path)]


def _trace_stats(records: list[dict]) -> dict:
    n_tokens = sum(len(r["input_ids"]) - r["n_prompt"] for r in records)
    return {"samples": len(records), "decode_tokens": n_tokens}


# ---------------------------------------------------------------------------------------
# score and prune


def _score_kwargs(p: dict) -> dict:
    """The scoring library's arguments from a score node's params (the compiler filled every field)."""
    kwargs = {"method": p["method"], "batch_size": p.get("batch_size") or 8}
    if p["loss"] is not None:
        kwargs["loss"] = p["loss"]  # token scope: Taylor's loss, Wanda-sp's activation norms
    if p["variant"] is not None:
        kwargs["variant"] = p["variant"]
    return kwargs


# Above this size the element-wise Taylor score accumulates its gradient a quarter of the
# blocks at a time (4 passes over the calibration set): peak memory stays near a plain
# forward/backward instead of weights + a full fp32 gradient. Smaller models take one pass.
ONE_PASS_MAX_PARAMS = 1_000_000_000


def layers_per_pass(model, score_kwargs: dict) -> int | None:
    if score_kwargs.get("method") != "taylor" or score_kwargs.get("variant") != "elementwise":
        return None
    if sum(t.numel() for t in model.parameters()) <= ONE_PASS_MAX_PARAMS:
        return None
    return max(1, model.config.num_hidden_layers // 4)


def op_score(ctx: RunContext, node, inputs: dict[str, Artifact], out: Path) -> dict:
    from safetensors.torch import save_file

    from resp_dsl.pruning.scoring import score_structures

    p = node.params
    model, _ = ctx.model(inputs["model"])
    samples = calib_samples(inputs["calibration"].file("traces.jsonl")) if "calibration" in inputs else []
    kwargs = _score_kwargs(p)
    kwargs["layers_per_pass"] = layers_per_pass(model, kwargs)
    scores = score_structures(model, samples, **kwargs,
                              progress=lambda d, t: ctx.progress("score: calibration batches", d, t))
    save_file({k: v.contiguous() for k, v in scores.to_tensors().items()}, str(out / "scores.safetensors"))
    _write_json(out / "scores.json", {"meta": getattr(scores, "meta", {}), "params": _score_kwargs(p),
                                      "normalize": p["normalize"], "unit": _unit(p)})
    return {"samples": len(samples)}


def _unit(score_params: dict) -> str:
    """Query heads one by one, or whole KV groups, as the recipe's `score ... on` says."""
    return "kv_groups" if "kv_groups" in (score_params.get("structures") or []) else "heads"


def _protect(p: dict):
    from resp_dsl.pruning.select import ProtectSpec

    prot = p["protect"]
    return ProtectSpec(first_fraction=float(prot["first_fraction"]), last=bool(prot["last"]),
                       blocks=tuple(int(b) for b in prot["blocks"]))


def _select_kwargs(p: dict, score_params: dict) -> dict:
    return {"basis": p["basis"], "protect": _protect(p),
            "normalize": score_params["normalize"], "unit": score_params.get("unit") or _unit(score_params)}


def op_prune(ctx: RunContext, node, inputs: dict[str, Artifact], out: Path) -> dict:
    """Prune from the parent checkpoint (at sparsity ``start``) to ``target`` in ``steps`` linear steps.

    The first step selects with the parent score node's scores; every later step re-scores the
    current model on the same calibration traces. Only the final selection is stored.
    """
    from safetensors.torch import load_file

    from resp_dsl.pruning.schedule import prune_iterative
    from resp_dsl.pruning.scoring import StructureScores
    from resp_dsl.pruning.select import select_structures

    p = node.params
    model_art = inputs["model"]
    model, _ = ctx.model(model_art)
    mode, steps = p["mode"], int(p["steps"])
    if "scores" not in inputs:
        raise OpError("pruning needs a score node")
    scores = StructureScores.from_tensors(load_file(str(inputs["scores"].file("scores.safetensors"))))
    score_p = inputs["scores"].json("scores.json")
    samples = []
    if steps > 1:
        if "calibration" not in inputs and SCORERS[p["score"]["method"]].calibrated:
            raise OpError("iterative pruning re-scores at every step and needs calibration data")
        samples = calib_samples(inputs["calibration"].file("traces.jsonl")) if "calibration" in inputs else []
    if steps == 1:  # selection only: the parent model is not touched, so not copied
        selection = select_structures(model, scores, target=float(p["target"]), **_select_kwargs(p, score_p))
    else:
        work = copy.deepcopy(model)  # iterative pruning mutates; the cached parent must stay intact
        kwargs = _score_kwargs(p["score"])
        kwargs["layers_per_pass"] = layers_per_pass(work, kwargs)
        history = prune_iterative(work, samples, target=float(p["target"]), steps=steps, start=float(p["start"]),
                                  first_scores=scores, score_kwargs=kwargs, select_kwargs=_select_kwargs(p, score_p),
                                  mode=mode, on_step=lambda i, sel, m: ctx.progress("prune: steps", i + 1, steps))
        selection = history[-1]
    info = model_art.json("model.json")
    _write_json(out / "selection.json", selection.to_dict())
    _write_json(out / "model.json", {"base": info["base"], "selection": "selection.json", "mode": mode,
                                     "parent": model_art.key, "achieved": selection.achieved,
                                     "model_type": info.get("model_type")})
    return {"target": float(p["target"]), "basis": p["basis"], "steps": steps, "achieved": selection.achieved,
            "achieved_params": selection.achieved_params, "achieved_structures": selection.achieved_structures}


# ---------------------------------------------------------------------------------------
# eval, export, report


def op_eval(ctx: RunContext, node, inputs: dict[str, Artifact], out: Path) -> dict:
    from resp_dsl.evaluation import evaluate_direct, evaluate_lm_eval

    p = node.params
    model, tok = ctx.model(inputs["model"])
    task = _task(p)
    common = dict(split=p["split"], limit=p["limit"], shots=p["shots"], chat=p["chat"],
                  enable_thinking=p["enable_thinking"],
                  max_new_tokens=p["max_new_tokens"], **sampling_in_force(p, model), seed=p["seed"],
                  batch_size=ctx.batch_size or p.get("batch_size", 64))
    if p["harness"] == "lm_eval":
        result = evaluate_lm_eval(model, tok, task, **common)
    else:
        checkpoint = ctx.checkpoint("eval.jsonl")
        backend = inputs["model"].json("model.json")["base"].get("backend") or "hf"
        if backend == "vllm":
            model = _vllm_model(ctx, inputs["model"], tok)
        extractor = ctx.extractor(p["extractor"], model) if p.get("extractor") else None
        result = evaluate_direct(model, tok, task, **common, backend=backend, extractor=extractor,
                                 progress=lambda d, t: ctx.progress(f"eval {p['task']}: problems", d, t),
                                 checkpoint=checkpoint)
    result.save(out / "result.json")
    return {"accuracy": result.accuracy, "n": result.n, "correct": result.correct}


def op_export(ctx: RunContext, node, inputs: dict[str, Artifact], out: Path) -> dict:
    from resp_dsl.runtime import exports

    p = node.params
    try:
        target = exports.export_target(ctx.out_dir, p)
    except exports.ExportProblem as exc:
        raise OpError(str(exc), hint="export paths are relative to --out") from None
    why = exports.may_replace(target, inputs["model"].key, ctx.overwrite_exports)
    if why:
        raise OpError(why, hint="pass --overwrite-exports to `resp-dsl run` to replace an earlier export, or choose another "
                             "`export ... to` path or --out")
    files = exports.write(ctx, p, inputs["model"], target, inputs.get("scores"))
    _write_json(out / exports.EXPORT_RECORD, {"path": p["path"], "format": p["format"],
                                              "files": files})
    if ctx.key:
        ctx.store.note_export(ctx.key, target)
    return {"path": p["path"]}


def op_report(ctx: RunContext, node, inputs: dict[str, Artifact], out: Path) -> dict:
    from resp_dsl.runtime.report import write_report

    achieved = {nid: s for nid, s in ctx.summaries.items() if "achieved" in s}  # prune summaries
    return write_report(node.params, inputs, out, ctx.out_dir, achieved)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


OPS: dict[str, OpFn] = {
    "load_model": op_load_model,
    "calibrate": op_calibrate,
    "regenerate": op_regenerate,
    "score": op_score,
    "prune": op_prune,
    "eval": op_eval,
    "export": op_export,
    "report": op_report,
}
