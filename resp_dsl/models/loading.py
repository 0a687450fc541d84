"""The one model loader: a dense directory, a resp-dsl export (per_layer, uniform or masked) or a hub id,
without executing remote code. Every place the project loads a model comes through here."""

from __future__ import annotations

import json
from pathlib import Path

from resp_dsl.files import sha256_file


class LoadError(ValueError):
    """A checkpoint directory that cannot be loaded safely."""




def load_pruned(path, *, dtype=None, device="cpu"):
    """Load any export format; per-layer models use the packaged modeling code, never the copied file.

    Checksums recorded in resp_dsl.json are verified first; only safetensors weights are read.
    """
    from transformers import AutoModelForCausalLM

    from resp_dsl.families import FAMILIES, supported
    from resp_dsl.models.modeling_resp_pruned import LAYERS_KEY, pruned_class

    root = Path(path)
    cfg_path = root / "config.json"
    if not cfg_path.is_file():
        raise LoadError(f"{root}: no config.json, not a model directory")
    if not any(root.glob("*.safetensors")):
        raise LoadError(f"{root}: no safetensors weights (pickled checkpoints are never loaded)")
    meta_path = root / "resp_dsl.json"
    if meta_path.is_file():
        for name, digest in json.loads(meta_path.read_text()).get("files", {}).items():
            f = root / name
            if not f.is_file() or sha256_file(f) != digest:
                raise LoadError(f"{f}: missing or checksum mismatch, the export is corrupt")
    cfg = json.loads(cfg_path.read_text())
    kwargs = {"use_safetensors": True, "output_loading_info": True}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if cfg.get(LAYERS_KEY):
        model_type = cfg.get("model_type")
        if model_type not in FAMILIES:
            raise LoadError(f"{root}: per-layer pruned {model_type!r} is not a supported family ({supported()})")
        model, info = pruned_class(model_type).from_pretrained(str(root), **kwargs)
    else:
        model, info = AutoModelForCausalLM.from_pretrained(str(root), trust_remote_code=False, **kwargs)
    bad = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if bad:
        raise LoadError(f"{root}: weights do not match the config: {bad}")
    return model.to(device).eval()


DTYPES = ("fp32", "float32", "bf16", "bfloat16", "fp16", "float16", "auto")


def torch_dtype(name: str):
    """A recipe/CLI dtype word as torch's dtype ("auto" stays "auto"); ValueError for other words."""
    import torch

    table = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
             "fp16": torch.float16, "float16": torch.float16, "auto": "auto"}
    if name not in table:
        raise ValueError(f"unknown dtype {name!r}; choose one of {', '.join(DTYPES)}")
    return table[name]


def resolve_device(word: str | None) -> str:
    """A recipe's device word as torch's: "auto" (the default) is the first of cuda, mps, cpu that
    this machine has; any other word passes through."""
    import torch

    if word in (None, "", "auto"):
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    return word


def spread_memory(devices: int, headroom: float = 0.9) -> dict:
    """accelerate's ``max_memory`` for GPUs 0..devices-1 (a fraction of each one's memory), no CPU offload."""
    import torch

    return {i: int(torch.cuda.get_device_properties(i).total_memory * headroom) for i in range(devices)}


def load_model(source, *, dtype: str = "fp32", device: str = "cpu", revision: str | None = None,
               devices: int = 1):
    """(model, tokenizer) of a local model directory of any format, or of a hub id.

    A local directory goes through `load_pruned` (checksums verified, safetensors only, a
    per-layer export with the packaged modeling code); a hub id through `from_pretrained`.
    ``devices`` > 1 spreads one copy over GPUs 0..devices-1 with accelerate's ``device_map="auto"``
    and a ``max_memory`` that names only those GPUs (a dense model directory or a hub id).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    root = Path(str(source)).expanduser()
    if devices > 1:
        if root.is_dir() and (root / "resp_dsl.json").is_file():
            raise LoadError(f"{root} is a pruned export; devices={devices} loads dense models only (the pruned "
                            "model is rebuilt from its base and selection)")
        tok = AutoTokenizer.from_pretrained(str(source), revision=revision)
        model = AutoModelForCausalLM.from_pretrained(str(source), revision=revision, dtype=torch_dtype(dtype),
                                                     use_safetensors=True, device_map="auto",
                                                     max_memory=spread_memory(devices)).eval()
    elif root.is_dir():
        model = load_pruned(root, dtype=torch_dtype(dtype), device=device)
        tok = AutoTokenizer.from_pretrained(str(root))
    elif root.exists():
        raise LoadError(f"{root} is a file, not a model directory")
    else:
        tok = AutoTokenizer.from_pretrained(str(source), revision=revision)
        model = AutoModelForCausalLM.from_pretrained(str(source), revision=revision, dtype=torch_dtype(dtype),
                                                     use_safetensors=True).to(device).eval()
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return model, tok
