"""What the ops share when they run: the run context, artifacts, model loading, traces.

Each op's own code lives in its module of ``resp_dsl.ops`` (its ``run``); this module holds
what several of them use: the `RunContext` (store, loaded models, progress), the
`Artifact` of a finished node, loading a base model, sampling settings in force,
generation through a backend, and the traces file that calibrate and regenerate write.
Artifacts are plain, portable files:

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
the remaining weights, so base + selection rebuilds it exactly. No torch at import.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
        key = (spec["path"], spec["dtype"], spec["device"], spec.get("devices", 1))
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
    from resp_dsl.models.loading import LoadError, load_model, resolve_device

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
    device = resolve_device(spec.get("device"))
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise OpError(f"device {device!r} requested but CUDA is not available", hint="use device cpu")
    devices = int(spec.get("devices", 1))
    if devices > torch.cuda.device_count() and devices > 1:
        raise OpError(f"devices={devices} requested but torch sees {torch.cuda.device_count()} GPU(s)",
                      hint="lower devices=, or run where that many GPUs are visible (CUDA_VISIBLE_DEVICES)")
    try:
        return load_model(path, dtype=spec["dtype"], device=device, revision=spec.get("revision"), devices=devices)
    except (LoadError, ValueError) as exc:
        raise OpError(str(exc)) from None


def fresh_tokenizer(spec: dict):
    """The tokenizer of a `model.json` base spec, as loaded from its directory (pad = eos if unset)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(spec["path"], revision=spec.get("revision"))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


# ---------------------------------------------------------------------------------------
# calibration


def task_of(params: dict):
    """The task of a calibrate (``dataset``) or eval (``task``, ``task_file``) node."""
    from resp_dsl.tasks import TaskError, get_task

    name = params.get("task") or params["dataset"]
    file = params.get("task_file")  # a bare name is always the built-in task, never a file named like it
    try:
        return get_task(f"jsonl:{file}") if file else get_task(name)
    except TaskError as exc:
        raise OpError(str(exc), hint=getattr(exc, "hint", None)) from None


def records_from_generations(gens, tok, source: str, settings: dict, model_key: str | None) -> list[dict]:
    out = []
    for i, g in enumerate(gens):
        prompt_ids = tok(g.prompt, add_special_tokens=False)["input_ids"]
        out.append({"index": i, "source": source, "prompt": g.prompt, "text": g.text,
                    "input_ids": prompt_ids + list(g.token_ids), "n_prompt": len(prompt_ids),
                    "finish_reason": g.finish_reason, "model": model_key, "settings": settings})
    return out


def vllm_model(ctx: RunContext, model_art: Artifact, tok) -> str:
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


def generate(ctx: RunContext, model, tok, prompts: list[str], params: dict, out: Path, label: str, seed: int,
              model_art: Artifact | None = None):
    from resp_dsl.generation import get_backend

    backend_name = params.get("backend") or (model_art.json("model.json")["base"].get("backend") if model_art else None)
    backend = get_backend(backend_name or "hf")
    if backend_name == "vllm" and model_art is not None:
        model = vllm_model(ctx, model_art, tok)
    checkpoint = ctx.checkpoint("generations.jsonl")
    extra = backend_options(backend_name, model_art)
    return backend(model, tok, prompts, max_new_tokens=params["max_tokens"], **extra,
                   temperature=params["temperature"], top_p=params["top_p"], top_k=params["top_k"],
                   seed=seed, batch_size=ctx.batch_size or params.get("batch_size", 64),
                   progress=lambda d, t: ctx.progress(label, d, t), checkpoint=checkpoint)


def backend_options(backend_name: str | None, model_art: Artifact | None) -> dict:
    """What a backend needs beyond the prompts: vLLM's tensor_parallel_size for a model spread over GPUs."""
    devices = int(model_art.json("model.json")["base"].get("devices", 1)) if model_art is not None else 1
    return {"tensor_parallel_size": devices} if backend_name == "vllm" and devices > 1 else {}


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


def trace_stats(records: list[dict]) -> dict:
    n_tokens = sum(len(r["input_ids"]) - r["n_prompt"] for r in records)
    return {"samples": len(records), "decode_tokens": n_tokens}
