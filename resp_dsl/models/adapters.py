"""Model-family adapters: where each prunable structure lives in a decoder model.

A family is data, never an if-chain on architecture names: pruning code asks the
adapter for a block's projections and the dense dimensions, and works the same for
every registered family. Register a new family by adding a `FamilyAdapter` to
`ADAPTERS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from resp_dsl.families import FAMILIES


class UnsupportedModelError(ValueError):
    """Raised for a model whose family has no adapter."""


@dataclass(frozen=True)
class DenseDims:
    """Dimensions of the dense (unpruned) model, the reference for every sparsity figure."""

    num_layers: int
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int

    @property
    def heads_per_group(self) -> int:
        return self.num_heads // self.num_kv_heads

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> "DenseDims":
        return cls(**{k: int(d[k]) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class FamilyAdapter:
    """How one family lays out a decoder block.

    All supported families share the Llama layout (`model.layers[i].self_attn.{q,k,v,o}_proj`,
    `model.layers[i].mlp.{gate,up,down}_proj`); they differ in per-head norms and biases.
    `qk_norm` is "shared" when q_norm/k_norm act on head_dim and are shared by all heads
    (Qwen3), so they are never sliced.
    """

    model_type: str
    qk_norm: str | None = None
    layers_attr: str = "model.layers"
    attn_attr: str = "self_attn"
    mlp_attr: str = "mlp"
    q: str = "q_proj"
    k: str = "k_proj"
    v: str = "v_proj"
    o: str = "o_proj"
    gate: str = "gate_proj"
    up: str = "up_proj"
    down: str = "down_proj"

    def dense_dims(self, config) -> DenseDims:
        heads = int(config.num_attention_heads)
        kv = int(getattr(config, "num_key_value_heads", None) or heads)
        # head_dim from the config whenever it is set: Qwen3-0.6B has head_dim != hidden/heads.
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        return DenseDims(
            num_layers=int(config.num_hidden_layers), hidden_size=int(config.hidden_size),
            num_heads=heads, num_kv_heads=kv, head_dim=int(head_dim),
            intermediate_size=int(config.intermediate_size),
        )

    def layers(self, model):
        obj = model
        for part in self.layers_attr.split("."):
            obj = getattr(obj, part)
        return obj

    def attention(self, layer):
        return getattr(layer, self.attn_attr)

    def mlp(self, layer):
        return getattr(layer, self.mlp_attr)


ADAPTERS: dict[str, FamilyAdapter] = {
    name: FamilyAdapter(name, **({"qk_norm": "shared"} if fam.qk_norm else {})) for name, fam in FAMILIES.items()
}


def takes_logits_to_keep(model) -> bool:
    """Whether the model's forward accepts ``logits_to_keep`` (run the output head on some positions only)."""
    import inspect

    try:
        return "logits_to_keep" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def get_adapter(model_or_config) -> FamilyAdapter:
    """The adapter for a model or config, keyed by `config.model_type`."""
    config = getattr(model_or_config, "config", model_or_config)
    model_type = getattr(config, "model_type", None)
    if model_type not in ADAPTERS:
        raise UnsupportedModelError(
            f"unsupported model family {model_type!r}: resp-dsl prunes {', '.join(sorted(ADAPTERS))}"
        )
    return ADAPTERS[model_type]
