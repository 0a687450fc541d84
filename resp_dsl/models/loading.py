"""Load a resp-dsl export (per_layer, uniform or masked) without executing remote code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


class LoadError(ValueError):
    """A checkpoint directory that cannot be loaded safely."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
            if not f.is_file() or _sha256(f) != digest:
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
