"""Export a pruned model as a checkpoint directory, atomically, in safetensors only.

Formats:
- "per_layer": every block keeps its own head / KV-head / channel counts. config.json keeps the
  family's model_type, adds `resp_pruned_layers` and an `auto_map` to `modeling_resp_pruned.py`
  (copied into the directory), so `AutoModelForCausalLM.from_pretrained(dir, trust_remote_code=True)`
  loads it; `resp_dsl.load_pruned(dir)` loads it without remote code. Stock loaders without
  remote code cannot: no stock family config has per-layer sizes.
- "uniform": a stock checkpoint (no remote code, vLLM-ready). Every block gets the largest kept
  counts over all blocks (KV heads, query heads per KV head, channels); blocks that kept fewer are
  zero-padded, which is exact. Blocks kept dense (protected) therefore keep every block dense:
  the size shrinks only when all blocks were pruned alike.
- "masked": the dense shapes with pruned structures zeroed; loads anywhere.

Never writes into the source model's directory, refuses a non-empty target unless `overwrite`,
writes into a temporary sibling directory and renames it into place, then checks the written
tensors against the model and records per-file SHA-256 in resp_dsl.json.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from resp_dsl.files import sha256_file, write_json_atomic
from resp_dsl.vocab import EXPORT_FORMATS
from resp_dsl.kernels.slicing import head_rows
from resp_dsl.models import modeling_resp_pruned as pm
from resp_dsl.models.adapters import get_adapter
from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.select import sparsity_of
from resp_dsl.pruning.state import STATE_KEY, dense_dims, kept_layout, linear_biases, pruning_mode

FORMATS = EXPORT_FORMATS
META_FILE = "resp_dsl.json"
MODELING_FILE = "modeling_resp_pruned.py"


class ExportError(ValueError):
    """An export that would overwrite something or cannot be made."""


class TargetExistsError(ExportError):
    """The target directory already holds files (replace them only when asked to)."""



def _source_dir(model) -> Path | None:
    name = getattr(model.config, "_name_or_path", "") or getattr(model, "name_or_path", "")
    p = Path(name) if name else None
    return p.resolve() if p is not None and p.exists() else None


def _check_target(out: Path, source: Path | None, overwrite: bool) -> None:
    if source is not None and (out == source or source in out.parents or out in source.parents):
        raise ExportError(f"refusing to export into {out}: it overlaps the source model at {source}")
    if out.exists():
        if not out.is_dir():
            raise ExportError(f"{out} exists and is not a directory")
        if any(out.iterdir()) and not overwrite:
            raise TargetExistsError(f"{out} is not empty; pass overwrite=True to replace it")
        if any(out.iterdir()) and not (out / META_FILE).is_file():
            raise ExportError(f"{out} is not an export made by resp-dsl (no {META_FILE}); it is never replaced")


def export_model(model, tokenizer, out_dir, *, format: str = "per_layer", metadata: dict | None = None,
                 overwrite: bool = False) -> Path:
    """Write `model` (and `tokenizer`, when given) to `out_dir` in `format`; returns the directory."""
    if format not in FORMATS:
        raise ExportError(f"unknown export format {format!r}: choose one of {', '.join(FORMATS)}")
    get_adapter(model)
    if Path(out_dir).is_symlink():
        raise ExportError(f"{out_dir} is a symbolic link; exports are written only into real directories")
    out = Path(out_dir).resolve()
    source = _source_dir(model)
    _check_target(out, source, overwrite)
    dims = dense_dims(model)
    layout = kept_layout(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        if format == "per_layer":
            to_save = model if pruning_mode(model) == "physical" else apply_selection(
                copy.deepcopy(model), {"layers": layout}, mode="physical")
        elif format == "masked":
            to_save = model if pruning_mode(model) != "physical" else _scatter(model, layout, dims, "dense")
        else:
            to_save = _scatter(model, layout, dims, "uniform")
        to_save.save_pretrained(tmp)
        _rewrite_config(tmp / "config.json", to_save, format)
        if format == "per_layer":
            shutil.copyfile(Path(pm.__file__), tmp / MODELING_FILE)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)
        _verify_written(tmp, to_save)
        p_sparsity, s_sparsity = sparsity_of(layout, dims, linear_biases(model))
        meta = {
            "format": format,
            "source_model": str(source) if source else (getattr(model.config, "_name_or_path", "") or None),
            "recipe_key": (metadata or {}).get("recipe_key"),
            "achieved_sparsity": p_sparsity,
            "achieved_sparsity_structures": s_sparsity,
            "family": model.config.model_type,
            "dense": dims.to_dict(),
            "layers": layout,
            "files": {f.name: sha256_file(f) for f in sorted(tmp.glob("*.safetensors"))},
            "metadata": metadata or {},
        }
        _write_json(tmp / META_FILE, meta)
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_json(path: Path, data: dict) -> None:
    write_json_atomic(path, data)


def _rewrite_config(path: Path, model, format: str) -> None:
    cfg = json.loads(path.read_text())
    if format == "per_layer":
        name = pm.pruned_class_name(cfg["model_type"])
        cfg["architectures"] = [name]
        cfg["auto_map"] = {"AutoModelForCausalLM": f"{MODELING_FILE[:-3]}.{name}"}
    else:
        cfg.pop(pm.LAYERS_KEY, None)
        cfg.pop("auto_map", None)
        if format == "uniform":
            cfg.pop(STATE_KEY, None)  # the padded shapes no longer map 1:1 to dense indices
    _write_json(path, cfg)


def _move_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    trash = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
    os.rename(out, trash / "old")
    os.rename(tmp, out)
    shutil.rmtree(trash, ignore_errors=True)


def _verify_written(directory: Path, model) -> None:
    from safetensors import safe_open

    state = model.state_dict()
    seen = 0
    for f in sorted(directory.glob("*.safetensors")):
        with safe_open(str(f), framework="pt") as st:
            for key in st.keys():
                if key not in state:
                    raise ExportError(f"written tensor {key} is not in the model")
                if not torch.equal(st.get_tensor(key), state[key].detach().cpu()):
                    raise ExportError(f"tensor {key} reads back different from what was written")
                seen += 1
    if seen == 0:
        raise ExportError(f"no safetensors file was written in {directory}")


@torch.no_grad()
def _scatter(model, layout, dims, target: str):
    """A stock-shaped model holding `model`'s kept structures: dense slots, or uniform padded slots."""
    from transformers import AutoModelForCausalLM

    adapter = get_adapter(model)
    physical = pruning_mode(model) == "physical"
    rep = dims.heads_per_group
    if target == "dense":
        n_kv, n_rep, n_ch = dims.num_kv_heads, rep, dims.intermediate_size
    else:
        n_kv = max(1, max(len(l["kv_heads"]) for l in layout))
        n_rep = max(1, max((sum(1 for h in l["q_heads"] if h // rep == g) for l in layout for g in l["kv_heads"]),
                           default=1))
        n_ch = max(1, max(len(l["channels"]) for l in layout))
    config = copy.deepcopy(model.config)
    for key in (pm.LAYERS_KEY, STATE_KEY, "auto_map"):
        if hasattr(config, key):
            delattr(config, key)
    config.num_key_value_heads = n_kv
    config.num_attention_heads = n_kv * n_rep
    config.intermediate_size = n_ch
    config.head_dim = dims.head_dim
    if target == "dense":
        config.resp_dsl = {**getattr(model.config, STATE_KEY), "mode": "masked"}
    dtype = next(model.parameters()).dtype
    # Built on CPU: the export is written from host memory anyway.
    stock = AutoModelForCausalLM.from_config(config, dtype=dtype)
    src_state = model.state_dict()
    block_prefixes = set()
    for i, (src, dst) in enumerate(zip(adapter.layers(model), adapter.layers(stock))):
        l = layout[i]
        q_local = list(range(len(l["q_heads"]))) if physical else l["q_heads"]
        kv_local = list(range(len(l["kv_heads"]))) if physical else l["kv_heads"]
        ch_local = list(range(len(l["channels"]))) if physical else l["channels"]
        if target == "dense":
            q_slot, kv_slot, ch_slot = l["q_heads"], l["kv_heads"], l["channels"]
        else:
            kv_slot = list(range(len(l["kv_heads"])))
            pos_in_group, q_slot = {}, []
            for h in l["q_heads"]:
                j = l["kv_heads"].index(h // rep)
                t = pos_in_group.get(j, 0)
                pos_in_group[j] = t + 1
                q_slot.append(j * n_rep + t)
            ch_slot = list(range(len(l["channels"])))
        _copy_block(adapter, src, dst, dims.head_dim, q_local, q_slot, kv_local, kv_slot, ch_local, ch_slot)
        block_prefixes.add(f"{adapter.layers_attr}.{i}.")
    for name, t in stock.state_dict().items():
        if not any(name.startswith(p) for p in block_prefixes) or not _is_projection(adapter, name):
            t.copy_(src_state[name])
    return stock.eval()


def _is_projection(adapter, name: str) -> bool:
    parts = name.split(".")
    return len(parts) >= 2 and parts[-2] in {adapter.q, adapter.k, adapter.v, adapter.o,
                                             adapter.gate, adapter.up, adapter.down}


def _copy_block(adapter, src, dst, hd, q_local, q_slot, kv_local, kv_slot, ch_local, ch_slot):
    sa, da = adapter.attention(src), adapter.attention(dst)
    sm, dm = adapter.mlp(src), adapter.mlp(dst)
    for lin in (*(getattr(da, n) for n in (adapter.q, adapter.k, adapter.v, adapter.o)),
                *(getattr(dm, n) for n in (adapter.gate, adapter.up, adapter.down))):
        lin.weight.zero_()
        if lin.bias is not None:
            lin.bias.zero_()
    qs, qd = head_rows(q_local, hd), head_rows(q_slot, hd)
    ks, kd = head_rows(kv_local, hd), head_rows(kv_slot, hd)
    cs, cd = torch.tensor(ch_local, dtype=torch.long), torch.tensor(ch_slot, dtype=torch.long)
    for name, s_idx, d_idx in ((adapter.q, qs, qd), (adapter.k, ks, kd), (adapter.v, ks, kd)):
        _copy_rows(getattr(sa, name), getattr(da, name), s_idx, d_idx)
    for name in (adapter.gate, adapter.up):
        _copy_rows(getattr(sm, name), getattr(dm, name), cs, cd)
    _copy_cols(getattr(sa, adapter.o), getattr(da, adapter.o), qs, qd)
    _copy_cols(getattr(sm, adapter.down), getattr(dm, adapter.down), cs, cd)


def _copy_rows(s, d, s_idx, d_idx):
    if s_idx.numel():
        d.weight[d_idx] = s.weight[s_idx.to(s.weight.device)].to(d.weight.device)
        if s.bias is not None:
            d.bias[d_idx] = s.bias[s_idx.to(s.bias.device)].to(d.bias.device)


def _copy_cols(s, d, s_idx, d_idx):
    if s_idx.numel():
        d.weight[:, d_idx] = s.weight[:, s_idx.to(s.weight.device)].to(d.weight.device)
    if s.bias is not None:
        d.bias.copy_(s.bias)
