"""The model families resp-dsl prunes: one table, read by `check`, the adapters, the random-model
factory and the loader. Pure data, no torch: the front end imports it.

Adding a family (one line here) needs a family whose decoder blocks follow the Llama layout
(``model.layers[i].self_attn.{q,k,v,o}_proj``, ``.mlp.{gate,up,down}_proj``); a different layout
also needs its adapter fields set here (see ``models.adapters.FamilyAdapter``). The exported
remote-code file (``models/modeling_resp_pruned.py``) derives its classes from transformers' own
mapping, so it needs no list of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Family:
    model_type: str  # config.model_type
    config_class: str  # the transformers config class (for random test models)
    qk_norm: bool = False  # per-head RMSNorm on q and k (Qwen3): 2·head_dim parameters per block
    head_dim_free: bool = False  # the config's head_dim may differ from hidden / heads
    config_defaults: dict = field(default_factory=dict)  # settings a small random config needs


FAMILIES: dict[str, Family] = {f.model_type: f for f in (
    Family("qwen3", "Qwen3Config", qk_norm=True, head_dim_free=True),
    Family("llama", "LlamaConfig", head_dim_free=True),
    Family("qwen2", "Qwen2Config"),
    Family("mistral", "MistralConfig", head_dim_free=True, config_defaults={"sliding_window": None}),
)}


def supported() -> str:
    """The family names, for messages."""
    return ", ".join(FAMILIES)
