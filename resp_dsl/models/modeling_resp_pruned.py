"""Decoder models whose blocks keep different numbers of heads, KV heads and MLP channels.

This file is self-contained (torch and transformers only): the per-layer export
copies it next to the checkpoint and names it in `auto_map`, so that
`AutoModelForCausalLM.from_pretrained(dir, trust_remote_code=True)` works without
resp-dsl installed. `resp_dsl.load_pruned` imports the very same classes from the
package instead, so no remote code is ever executed by our own loader.

The per-layer shapes live in `config.resp_pruned_layers`, one dict per block:
    {"num_attention_heads": 5, "num_key_value_heads": 2,
     "kv_index": [0, 0, 0, 1, 1], "intermediate_size": 640}
`kv_index[h]` is the (pruned, local) KV head that query head h reads.

Non-uniform query heads per KV group are handled by gathering K/V per query head
inside the attention call; the KV cache stores only the kept KV heads, so it is
never larger than the dense model's.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn
import transformers
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

LAYERS_KEY = "resp_pruned_layers"


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def _eager_attention(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    # Same maths as the stock eager path.
    rep = getattr(module, "num_key_value_groups", 1)
    if rep > 1:
        key = key.repeat_interleave(rep, dim=1)
        value = value.repeat_interleave(rep, dim=1)
    weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            weights = weights.masked_fill(~attention_mask, torch.finfo(weights.dtype).min)
        else:
            weights = weights + attention_mask
    weights = nn.functional.softmax(weights, dim=-1, dtype=torch.float32).to(query.dtype)
    weights = nn.functional.dropout(weights, p=dropout, training=module.training)
    out = torch.matmul(weights, value).transpose(1, 2).contiguous()
    return out, weights


def _attention_interface(name):
    if name in (None, "eager"):
        return _eager_attention
    get = getattr(ALL_ATTENTION_FUNCTIONS, "get_interface", None)  # transformers >= 4.56
    return get(name, _eager_attention) if get else ALL_ATTENTION_FUNCTIONS[name]


def _linear(n_in: int, n_out: int, bias: bool, dtype, device) -> nn.Linear:
    # A block may keep nothing: zero-sized Linears are valid, their init warning is noise.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
        return nn.Linear(n_in, n_out, bias=bias, dtype=dtype, device=device)


def is_grouped(kv_index: list[int], num_kv: int) -> bool:
    """True when every KV head serves the same number of consecutive query heads (stock GQA layout)."""
    if num_kv == 0 or len(kv_index) % num_kv:
        return False
    rep = len(kv_index) // num_kv
    return list(kv_index) == [j for j in range(num_kv) for _ in range(rep)]


class PrunedAttention(nn.Module):
    """Self-attention with any number of query heads (including zero) and a per-head KV map."""

    def __init__(self, config, layer_idx: int, spec: dict, *, scaling: float, sliding_window=None,
                 q_norm: nn.Module | None = None, k_norm: nn.Module | None = None,
                 bias: tuple[bool, bool, bool, bool] = (False, False, False, False),
                 dtype=None, device=None):
        super().__init__()
        self.config = config
        self.layer_idx = layer_idx
        self.head_dim = int(config.head_dim)
        self.num_heads = int(spec["num_attention_heads"])
        self.num_key_value_heads = int(spec["num_key_value_heads"])
        kv_index = [int(j) for j in spec["kv_index"]]
        if len(kv_index) != self.num_heads or any(not 0 <= j < self.num_key_value_heads for j in kv_index):
            raise ValueError(f"layer {layer_idx}: kv_index {kv_index} does not fit "
                             f"{self.num_heads} heads / {self.num_key_value_heads} kv heads")
        self.grouped = is_grouped(kv_index, self.num_key_value_heads)
        # The attention backends expand K/V by this factor; when we gather ourselves it is 1.
        self.num_key_value_groups = (self.num_heads // self.num_key_value_heads) if self.grouped else 1
        # A plain tuple, not a buffer: from_pretrained builds modules on the meta device and does not
        # restore non-persistent buffers, so the index tensor is made on first use per device.
        self.kv_map = tuple(kv_index)
        self._kv_index = {}
        self.scaling = scaling
        self.sliding_window = sliding_window
        self.attention_dropout = float(getattr(config, "attention_dropout", 0.0) or 0.0)
        self.is_causal = True
        hidden, hd = config.hidden_size, self.head_dim
        self.q_proj = _linear(hidden, self.num_heads * hd, bias[0], dtype, device)
        self.k_proj = _linear(hidden, self.num_key_value_heads * hd, bias[1], dtype, device)
        self.v_proj = _linear(hidden, self.num_key_value_heads * hd, bias[2], dtype, device)
        self.o_proj = _linear(self.num_heads * hd, hidden, bias[3], dtype, device)
        # q_norm/k_norm of Qwen3 act on head_dim and are shared by all heads: nothing to slice.
        self.q_norm = q_norm
        self.k_norm = k_norm

    def forward(self, hidden_states, position_embeddings, attention_mask, past_key_values=None, **kwargs):
        bsz, seq = hidden_states.shape[:-1]
        hd = self.head_dim
        query = self.q_proj(hidden_states).view(bsz, seq, self.num_heads, hd)
        key = self.k_proj(hidden_states).view(bsz, seq, self.num_key_value_heads, hd)
        value = self.v_proj(hidden_states).view(bsz, seq, self.num_key_value_heads, hd).transpose(1, 2)
        if self.q_norm is not None:
            query = self.q_norm(query)
            key = self.k_norm(key)
        query, key = query.transpose(1, 2), key.transpose(1, 2)
        cos, sin = position_embeddings
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        query = query * cos + _rotate_half(query) * sin
        key = key * cos + _rotate_half(key) * sin
        if past_key_values is not None:
            # Always update, even with zero KV heads, so the cache keeps its sequence length.
            key, value = past_key_values.update(key, value, self.layer_idx)
        if self.num_heads == 0:
            return self.o_proj(hidden_states.new_zeros(bsz, seq, 0)), None
        if not self.grouped:
            index = self._kv_index.get(key.device)
            if index is None:
                index = self._kv_index[key.device] = torch.tensor(self.kv_map, dtype=torch.long, device=key.device)
            key = key.index_select(1, index)
            value = value.index_select(1, index)
        interface = _attention_interface(self.config._attn_implementation)
        if self.sliding_window is not None:
            kwargs["sliding_window"] = self.sliding_window
        out, weights = interface(
            self, query, key, value, attention_mask,
            dropout=0.0 if not self.training else self.attention_dropout,
            scaling=self.scaling, **kwargs,
        )
        out = out.reshape(bsz, seq, self.num_heads * hd).contiguous()
        return self.o_proj(out), weights


def _bias_of(linear: nn.Linear) -> bool:
    return linear.bias is not None


def make_pruned_attention(dense, config, layer_idx: int, spec: dict) -> PrunedAttention:
    """An empty PrunedAttention shaped by `spec`, taking norms, scaling and bias flags from `dense`."""
    w = dense.q_proj.weight
    return PrunedAttention(
        config, layer_idx, spec,
        scaling=float(dense.scaling),
        sliding_window=getattr(dense, "sliding_window", None),
        q_norm=getattr(dense, "q_norm", None), k_norm=getattr(dense, "k_norm", None),
        bias=tuple(_bias_of(getattr(dense, n)) for n in ("q_proj", "k_proj", "v_proj", "o_proj")),
        dtype=w.dtype, device=w.device,
    )


def resize_mlp(mlp: nn.Module, size: int) -> None:
    """Replace the MLP's projections by empty ones with `size` intermediate channels."""
    w = mlp.gate_proj.weight
    hidden = w.shape[1]
    mlp.gate_proj = _linear(hidden, size, _bias_of(mlp.gate_proj), w.dtype, w.device)
    mlp.up_proj = _linear(hidden, size, _bias_of(mlp.up_proj), w.dtype, w.device)
    mlp.down_proj = _linear(size, hidden, _bias_of(mlp.down_proj), w.dtype, w.device)
    mlp.intermediate_size = size


def resize_layers(layers, config, specs: list[dict]) -> None:
    """Reshape every decoder block to its per-layer spec (weights are left uninitialised)."""
    if len(specs) != len(layers):
        raise ValueError(f"{LAYERS_KEY} has {len(specs)} entries for {len(layers)} layers")
    for i, (layer, spec) in enumerate(zip(layers, specs)):
        layer.self_attn = make_pruned_attention(layer.self_attn, config, i, spec)
        resize_mlp(layer.mlp, int(spec["intermediate_size"]))


def _pruned_class(base):
    class _Pruned(base):
        def __init__(self, config):
            super().__init__(config)
            specs = getattr(config, LAYERS_KEY, None)
            if specs:
                resize_layers(self.model.layers, config, specs)

    _Pruned.__name__ = _Pruned.__qualname__ = "RespPruned" + base.__name__
    return _Pruned


PREFIX = "RespPruned"
_CLASSES: dict[str, type] = {}


def pruned_class_name(model_type: str) -> str:
    """The exported class name of a family, from transformers' own causal-LM mapping
    (``qwen3`` -> ``RespPrunedQwen3ForCausalLM``); no list of families is kept here."""
    base = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(model_type)
    if base is None:
        raise ValueError(f"transformers has no causal LM for model type {model_type!r}")
    return PREFIX + base


def pruned_class(model_type: str) -> type:
    """The per-layer pruned causal LM of a family (built once)."""
    return _by_name(pruned_class_name(model_type))


def _by_name(name: str) -> type:
    if name not in _CLASSES:
        base = getattr(transformers, name[len(PREFIX):], None)
        if base is None:
            raise AttributeError(name)
        _CLASSES[name] = _pruned_class(base)
    return _CLASSES[name]


def __getattr__(name: str):
    # `auto_map` names e.g. "modeling_resp_pruned.RespPrunedQwen3ForCausalLM": built on first access.
    if name.startswith(PREFIX):
        return _by_name(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
