"""Apply a Selection to a model: physical slicing (smaller matrices) or masking (zeros, same shapes).

Physical mode replaces each changed block's attention by a `PrunedAttention` (any number of query
heads, including none, each reading its KV head through a gather, so the KV cache holds only the
kept KV heads) and slices the MLP projections. q_norm/k_norm of Qwen3 act on head_dim and are
shared by all heads, so they are kept as they are. Masked mode zeroes the same weights and keeps
the stock modules: the output is identical, and the checkpoint loads anywhere.
"""

from __future__ import annotations

import torch

from resp_dsl.kernels.slicing import head_rows, slice_cols, slice_rows, zero_cols_, zero_rows_
from resp_dsl.models import modeling_resp_pruned as pm
from resp_dsl.models.adapters import DenseDims, get_adapter
from resp_dsl.pruning.state import dense_dims, kept_layout, pruning_mode, record_state

MODES = ("physical", "masked")


def _layout_of(selection) -> list[dict[str, list[int]]]:
    layers = selection.layers if hasattr(selection, "layers") else selection["layers"]
    return [{k: [int(i) for i in l[k]] for k in ("q_heads", "kv_heads", "channels")} for l in layers]


def layer_spec(layer: dict[str, list[int]], dims: DenseDims) -> dict:
    """The per-layer shape entry of `config.resp_pruned_layers` for a kept layout."""
    rep = dims.heads_per_group
    kv_pos = {g: j for j, g in enumerate(layer["kv_heads"])}
    return {
        "num_attention_heads": len(layer["q_heads"]),
        "num_key_value_heads": len(layer["kv_heads"]),
        "kv_index": [kv_pos[h // rep] for h in layer["q_heads"]],
        "intermediate_size": len(layer["channels"]),
    }


def _check(selection_layout, current, dims):
    if len(selection_layout) != dims.num_layers:
        raise ValueError(f"the selection has {len(selection_layout)} blocks, the model {dims.num_layers}")
    rep = dims.heads_per_group
    for i, (new, cur) in enumerate(zip(selection_layout, current)):
        for key in ("q_heads", "kv_heads", "channels"):
            gone = set(new[key]) - set(cur[key])
            if gone:
                raise ValueError(f"block {i}: the selection keeps {key} {sorted(gone)} that are already pruned")
        if any(h // rep not in new["kv_heads"] for h in new["q_heads"]):
            raise ValueError(f"block {i}: a kept query head reads a removed KV head")


@torch.no_grad()
def apply_selection(model, selection, mode: str = "physical"):
    """Prune `model` in place to the kept structures of `selection`; returns the model."""
    if mode not in MODES:
        raise ValueError(f"unknown pruning mode {mode!r}: choose one of {', '.join(MODES)}")
    adapter = get_adapter(model)
    dims = dense_dims(model)
    sel_dense = selection.dense if hasattr(selection, "dense") else selection.get("dense")
    if sel_dense and DenseDims.from_dict(sel_dense) != dims:
        raise ValueError("the selection was made for a model with other dense dimensions")
    current = kept_layout(model)
    new = _layout_of(selection)
    _check(new, current, dims)
    previous = pruning_mode(model)
    if mode == "masked" and previous == "physical":
        raise ValueError("a physically pruned model cannot be masked: prune it physically")
    physical_now = previous == "physical"
    for i, layer in enumerate(adapter.layers(model)):
        # Module positions of each dense index: list order when physical, the index itself when dense.
        local = {k: ({d: j for j, d in enumerate(current[i][k])} if physical_now else {d: d for d in current[i][k]})
                 for k in ("q_heads", "kv_heads", "channels")}
        keep = {k: torch.tensor([local[k][d] for d in new[i][k]], dtype=torch.long) for k in local}
        drop = {k: torch.tensor([local[k][d] for d in current[i][k] if d not in set(new[i][k])], dtype=torch.long)
                for k in local}
        if mode == "masked":
            _mask_layer(adapter, layer, drop, dims.head_dim)
        else:
            _slice_layer(adapter, layer, model.config, i, keep, layer_spec(new[i], dims), dims.head_dim)
    if mode == "physical":
        setattr(model.config, pm.LAYERS_KEY, [layer_spec(l, dims) for l in new])
    record_state(model, new, mode, dims)
    return model


def _mask_layer(adapter, layer, drop, hd):
    attn, mlp = adapter.attention(layer), adapter.mlp(layer)
    q_rows, kv_rows = head_rows(drop["q_heads"], hd), head_rows(drop["kv_heads"], hd)
    for name, rows in ((adapter.q, q_rows), (adapter.k, kv_rows), (adapter.v, kv_rows)):
        lin = getattr(attn, name)
        zero_rows_(lin.weight, rows)
        zero_rows_(lin.bias, rows)
    zero_cols_(getattr(attn, adapter.o).weight, q_rows)
    for name in (adapter.gate, adapter.up):
        lin = getattr(mlp, name)
        zero_rows_(lin.weight, drop["channels"])
        zero_rows_(lin.bias, drop["channels"])
    zero_cols_(getattr(mlp, adapter.down).weight, drop["channels"])


def _slice_layer(adapter, layer, config, idx, keep, spec, hd):
    attn, mlp = adapter.attention(layer), adapter.mlp(layer)
    q_rows, kv_rows = head_rows(keep["q_heads"], hd), head_rows(keep["kv_heads"], hd)
    pruned = pm.make_pruned_attention(attn, config, idx, spec)
    for name, rows in ((adapter.q, q_rows), (adapter.k, kv_rows), (adapter.v, kv_rows)):
        src, dst = getattr(attn, name), getattr(pruned, name)
        dst.weight.copy_(slice_rows(src.weight, rows))
        if src.bias is not None:
            dst.bias.copy_(slice_rows(src.bias, rows))
    src_o, dst_o = getattr(attn, adapter.o), getattr(pruned, adapter.o)
    dst_o.weight.copy_(slice_cols(src_o.weight, q_rows))
    if src_o.bias is not None:
        dst_o.bias.copy_(src_o.bias)
    setattr(layer, adapter.attn_attr, pruned)
    ch = keep["channels"]
    gate, up, down = (getattr(mlp, n) for n in (adapter.gate, adapter.up, adapter.down))
    new_gate = _linear_like(gate, slice_rows(gate.weight, ch), slice_rows(gate.bias, ch))
    new_up = _linear_like(up, slice_rows(up.weight, ch), slice_rows(up.bias, ch))
    new_down = _linear_like(down, slice_cols(down.weight, ch), None if down.bias is None else down.bias.clone())
    setattr(mlp, adapter.gate, new_gate)
    setattr(mlp, adapter.up, new_up)
    setattr(mlp, adapter.down, new_down)
    if hasattr(mlp, "intermediate_size"):
        mlp.intermediate_size = int(ch.numel())


def _linear_like(src: torch.nn.Linear, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.nn.Linear:
    out = pm._linear(weight.shape[1], weight.shape[0], bias is not None, weight.dtype, weight.device)
    out.weight.copy_(weight)
    if bias is not None:
        out.bias.copy_(bias)
    out.requires_grad_(src.weight.requires_grad)
    return out
