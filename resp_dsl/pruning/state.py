"""What a model has kept so far, in the dense model's indices, recorded on `model.config.resp_dsl`.

Sparsity is always measured against the original dense model, so the dense dimensions and the
kept query heads / KV heads / channels of every block travel with the model (and into exports):
    model.config.resp_dsl = {"family": "qwen3", "mode": "physical", "dense": {...},
                             "layers": [{"q_heads": [...], "kv_heads": [...], "channels": [...]}, ...]}
"""

from __future__ import annotations

from resp_dsl.models.adapters import DenseDims, get_adapter

STATE_KEY = "resp_dsl"


def dense_dims(model) -> DenseDims:
    """The dense model's dimensions (from the recorded state once the model has been pruned)."""
    state = getattr(model.config, STATE_KEY, None)
    if state:
        return DenseDims.from_dict(state["dense"])
    return get_adapter(model).dense_dims(model.config)


def full_layout(dims: DenseDims) -> list[dict[str, list[int]]]:
    """Every structure of every block kept."""
    return [
        {"q_heads": list(range(dims.num_heads)), "kv_heads": list(range(dims.num_kv_heads)),
         "channels": list(range(dims.intermediate_size))}
        for _ in range(dims.num_layers)
    ]


def kept_layout(model) -> list[dict[str, list[int]]]:
    """Per block, the dense indices of the structures still present (all of them for a dense model)."""
    state = getattr(model.config, STATE_KEY, None)
    if state:
        return [{k: list(v) for k, v in layer.items()} for layer in state["layers"]]
    return full_layout(dense_dims(model))


def pruning_mode(model) -> str | None:
    """"physical", "masked", or None for a model never pruned."""
    state = getattr(model.config, STATE_KEY, None)
    return state.get("mode") if state else None


def record_state(model, layout: list[dict[str, list[int]]], mode: str, dims: DenseDims) -> None:
    """Store the kept layout on the model's config (serialised with it into config.json)."""
    setattr(model.config, STATE_KEY, {
        "family": model.config.model_type, "mode": mode, "dense": dims.to_dict(),
        "layers": [{k: [int(i) for i in v] for k, v in layer.items()} for layer in layout],
    })


def structure_params(dims: DenseDims, *, bias: dict[str, bool] | None = None) -> dict[str, int]:
    """Parameters owned by one query head, one KV head and one channel (biases included)."""
    b = bias or {}
    hd, hidden = dims.head_dim, dims.hidden_size
    return {
        "head": 2 * hd * hidden + hd * int(b.get("q", False)),
        "kv": 2 * hd * hidden + 2 * hd * int(b.get("k", False)),
        "channel": 3 * hidden + 2 * int(b.get("gate", False)),
    }


def linear_biases(model) -> dict[str, bool]:
    """Which projections of the first block carry a bias."""
    adapter = get_adapter(model)
    layer = adapter.layers(model)[0]
    attn, mlp = adapter.attention(layer), adapter.mlp(layer)
    return {
        "q": getattr(attn, adapter.q).bias is not None, "k": getattr(attn, adapter.k).bias is not None,
        "gate": getattr(mlp, adapter.gate).bias is not None,
    }


def layout_params(layout, dims: DenseDims, bias: dict[str, bool]) -> int:
    """Structure parameters (attention and MLP projections, no shared biases) kept by `layout`."""
    sp = structure_params(dims, bias=bias)
    return sum(
        len(l["q_heads"]) * sp["head"] + len(l["kv_heads"]) * sp["kv"] + len(l["channels"]) * sp["channel"]
        for l in layout
    )
