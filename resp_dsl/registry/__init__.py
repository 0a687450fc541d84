"""Model configs reachable without a network, and parameter arithmetic on them.

``resolve(source)`` looks, in order, at an explicit ``--model-config FILE``, a local
model directory's config.json, a built bundled zoo model's config.json, and the registry
(models.json: Qwen3 0.6B..32B, Llama 3 8B; plus ``zoo:NAME`` for every bundled model, from
its spec, so recipes on a zoo model are checked and costed before it is built). Pure Python: no torch, no transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from resp_dsl.families import FAMILIES

SUPPORTED_TYPES = tuple(FAMILIES)


class ConfigError(Exception):
    """A config that exists but cannot be used (unreadable, missing fields)."""


# Upper bounds far above any real model: a config beyond them is an error in `check`, so the
# costing in `plan` (per-block lists, products) never runs out of memory or time.
MAX_DIM = {"hidden_size": 1 << 20, "num_hidden_layers": 10_000, "num_attention_heads": 1 << 16,
           "num_key_value_heads": 1 << 16, "head_dim": 1 << 16, "intermediate_size": 1 << 24,
           "vocab_size": 1 << 26}


@dataclass(frozen=True)
class ModelConfig:
    model_type: str
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool
    origin: str = "registry"

    @classmethod
    def from_dict(cls, d: dict, origin: str) -> "ModelConfig":
        try:
            heads = int(d["num_attention_heads"])
            hidden = int(d["hidden_size"])
            head_dim = d.get("head_dim") or hidden // heads  # Qwen3 sets head_dim explicitly
            return cls(model_type=str(d.get("model_type", "?")), hidden_size=hidden,
                       num_hidden_layers=int(d["num_hidden_layers"]), num_attention_heads=heads,
                       num_key_value_heads=int(d.get("num_key_value_heads") or heads), head_dim=int(head_dim),
                       intermediate_size=int(d["intermediate_size"]), vocab_size=int(d.get("vocab_size", 0)),
                       tie_word_embeddings=bool(d.get("tie_word_embeddings", False)), origin=origin)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            raise ConfigError(f"config lacks a usable field: {exc}") from None

    # -- parameter arithmetic (per block unless said otherwise)
    @property
    def head_params(self) -> int:
        """One query head: its q_proj rows and o_proj columns."""
        return 2 * self.hidden_size * self.head_dim

    @property
    def kv_group_params(self) -> int:
        """One KV group: its k/v rows plus the query heads that share it."""
        per_group = self.num_attention_heads // max(1, self.num_key_value_heads)
        return 2 * self.hidden_size * self.head_dim + per_group * self.head_dim * 2 * self.hidden_size

    @property
    def channel_params(self) -> int:
        """One MLP channel: gate/up rows and the down_proj column."""
        return 3 * self.hidden_size

    def block_params(self) -> int:
        h, d = self.hidden_size, self.head_dim
        attn = h * d * (2 * self.num_attention_heads + 2 * self.num_key_value_heads)
        fam = FAMILIES.get(self.model_type)
        norms = 2 * h + (2 * d if fam is not None and fam.qk_norm else 0)
        return attn + 3 * h * self.intermediate_size + norms

    def prunable_block_params(self) -> int:
        return self.num_attention_heads * self.head_params + self.intermediate_size * self.channel_params

    def total_params(self) -> int:
        emb = self.vocab_size * self.hidden_size
        return emb * (1 if self.tie_word_embeddings else 2) + self.num_hidden_layers * self.block_params() + self.hidden_size

    def problems(self) -> list[str]:
        """Inconsistencies between head, KV-group and channel counts."""
        out = []
        for name in ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                     "head_dim", "intermediate_size"):
            if getattr(self, name) <= 0:
                out.append(f"{name} must be positive, got {getattr(self, name)}")
            elif getattr(self, name) > MAX_DIM[name]:
                out.append(f"{name} {getattr(self, name):.3g} is implausibly large (at most {MAX_DIM[name]:,})")
        if self.vocab_size > MAX_DIM["vocab_size"]:
            out.append(f"vocab_size {self.vocab_size:.3g} is implausibly large (at most {MAX_DIM['vocab_size']:,})")
        if not out and self.num_attention_heads % self.num_key_value_heads:
            out.append(f"{self.num_attention_heads} query heads do not divide into "
                       f"{self.num_key_value_heads} KV groups")
        fam = FAMILIES.get(self.model_type)
        if (not out and fam is not None and not fam.head_dim_free
                and self.head_dim * self.num_attention_heads != self.hidden_size):
            out.append(f"head_dim {self.head_dim} x {self.num_attention_heads} heads != hidden_size {self.hidden_size}")
        return out


_REGISTRY: dict | None = None


def registry() -> dict[str, dict]:
    """The shipped configs, by hub id (and ``zoo:<name>``)."""
    global _REGISTRY
    if _REGISTRY is None:
        text = resources.files("resp_dsl.registry").joinpath("models.json").read_text(encoding="utf-8")
        models = json.loads(text)["models"]
        from resp_dsl.zoo.spec import MODELS as ZOO

        for name, spec in ZOO.items():  # the bundled models, from their specs (torch-free)
            models[f"zoo:{name}"] = spec.model.config_dict()
        _REGISTRY = models
    return _REGISTRY


# transformers' GenerationConfig defaults: in force for a field a model's generation_config leaves out.
HF_SAMPLING_DEFAULTS = {"temperature": 1.0, "top_p": 1.0, "top_k": 50}
SAMPLING_KEYS = tuple(HF_SAMPLING_DEFAULTS)


def generation_defaults(source: str) -> dict | None:
    """The sampling settings (temperature, top_p, top_k) a model's generation_config puts in force.

    Read offline from a local or zoo model directory's generation_config.json, or from the
    registry's copy for known hub models; None when they cannot be known without the hub
    (the runtime then reads them from the loaded model and records them). A directory
    without generation_config.json gets transformers' defaults, as ``generate`` would.
    """
    if source.startswith("zoo:"):
        from resp_dsl import zoo  # torch-free

        directory: Path | None = zoo.path(source[4:], must_exist=False) if source[4:] in zoo.MODELS else None
    else:
        directory = Path(source).expanduser()
    if directory is not None and (directory / "config.json").is_file():
        data: dict = {}
        gen = directory / "generation_config.json"
        if gen.is_file():
            try:
                data = json.loads(gen.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ConfigError(f"cannot read {gen}: {exc}") from None
        return sampling_from(data)
    entry = registry().get(source) or {k.lower(): v for k, v in registry().items()}.get(source.lower())
    if entry is None or "generation" not in entry:
        return None
    return sampling_from(entry["generation"])


def sampling_from(generation_config: dict) -> dict:
    """temperature / top_p / top_k of a generation_config dict, transformers' defaults filling the gaps."""
    out = dict(HF_SAMPLING_DEFAULTS)
    for key in SAMPLING_KEYS:
        value = generation_config.get(key) if isinstance(generation_config, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = int(value) if key == "top_k" else float(value)
    return out


def read_config_file(path: str | Path, origin: str | None = None) -> ModelConfig:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object")
    if "text_config" in data and "hidden_size" not in data:
        data = data["text_config"]
    return ModelConfig.from_dict(data, origin or str(path))


def resolve(source: str, override: str | Path | None = None) -> ModelConfig | None:
    """The config of ``source`` if it can be had offline, else None (ConfigError if broken)."""
    if override is not None:
        return read_config_file(override)
    if source.startswith("zoo:"):
        from resp_dsl import zoo  # torch-free

        if source[4:] in zoo.MODELS:
            local = zoo.path(source[4:], must_exist=False) / "config.json"
            if local.is_file():
                return read_config_file(local, f"zoo {source[4:]}")
    else:
        path = Path(source).expanduser()
        if (path / "config.json").is_file():
            return read_config_file(path / "config.json")
        if path.is_file() and path.suffix == ".json":
            return read_config_file(path)
    entry = registry().get(source)
    if entry is None:
        lowered = {k.lower(): v for k, v in registry().items()}
        entry = lowered.get(source.lower())
    return ModelConfig.from_dict(entry, "registry") if entry else None
