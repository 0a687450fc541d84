"""Importance of every query head, KV head and MLP channel: Taylor, Wanda-sp, magnitude.

Taylor scoring never sets `.grad` on a weight. All parameters are frozen; the hidden states
entering the scored blocks are made a leaf that requires grad, so autograd still runs the
backward pass, and a hook on each projection's output receives ∂L/∂y during backward:
- variant="vectorized": per-row and per-column sums of W ⊙ G are accumulated straight from
  (x, ∂L/∂y) (see `kernels.taylor`), so memory is one forward/backward plus O(rows) vectors.
- variant="elementwise": |W ⊙ G| needs G over the whole calibration set before the absolute
  value, so G is accumulated in float32 for the blocks being scored. `layers_per_pass=k`
  scores k blocks per pass over the data (L/k passes, each stopping backward below its
  blocks): peak memory ≈ forward/backward + k blocks' weights in fp32, at the cost of repeated
  forward passes. `layers_per_pass=None` scores all blocks in one pass (G for every block:
  as much memory as keeping `.grad`, in fp32, but never more).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from resp_dsl.kernels import magnitude as kmag
from resp_dsl.kernels import taylor as ktaylor
from resp_dsl.kernels import wanda as kwanda
from resp_dsl.kernels.slicing import assemble_layer
from resp_dsl.models.adapters import get_adapter
from resp_dsl.pruning.calib import CalibSample, batch_losses, counted_samples, make_batches
from resp_dsl.pruning.state import dense_dims, kept_layout, pruning_mode

METHODS = ("taylor", "wanda", "magnitude")
VARIANTS = ("elementwise", "vectorized")
ROWS = ("q", "k", "v", "gate", "up")
COLS = ("o", "down")


@dataclass
class LayerScores:
    """Scores of one block's live structures, with their indices in the dense model."""

    heads: torch.Tensor
    kv: torch.Tensor
    channels: torch.Tensor
    head_index: torch.Tensor
    kv_index: torch.Tensor
    channel_index: torch.Tensor


@dataclass
class StructureScores:
    """Per-block importance of query heads, KV heads and MLP channels."""

    layers: list[LayerScores]
    meta: dict = field(default_factory=dict)

    def to_tensors(self) -> dict[str, torch.Tensor]:
        out = {}
        for i, l in enumerate(self.layers):
            for name in LayerScores.__dataclass_fields__:
                out[f"layers.{i}.{name}"] = getattr(l, name).detach().cpu().contiguous()
        return out

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], meta: dict | None = None) -> "StructureScores":
        n = 1 + max(int(k.split(".")[1]) for k in tensors) if tensors else 0
        layers = [
            LayerScores(**{name: tensors[f"layers.{i}.{name}"] for name in LayerScores.__dataclass_fields__})
            for i in range(n)
        ]
        return cls(layers, dict(meta or {}))


def _projections(adapter, layer) -> dict[str, torch.nn.Linear]:
    attn, mlp = adapter.attention(layer), adapter.mlp(layer)
    return {
        "q": getattr(attn, adapter.q), "k": getattr(attn, adapter.k), "v": getattr(attn, adapter.v),
        "o": getattr(attn, adapter.o), "gate": getattr(mlp, adapter.gate), "up": getattr(mlp, adapter.up),
        "down": getattr(mlp, adapter.down),
    }


def _live_positions(model, layout) -> list[dict[str, torch.Tensor]]:
    """Local module positions of live structures: all rows of a physical model, kept ones of a masked one."""
    physical = pruning_mode(model) == "physical"
    out = []
    for l in layout:
        out.append({
            key: torch.arange(len(l[name])) if physical else torch.tensor(l[name], dtype=torch.long)
            for key, name in (("heads", "q_heads"), ("kv", "kv_heads"), ("channels", "channels"))
        })
    return out


def _finish(terms_per_layer, model, head_dim, absolute, meta) -> StructureScores:
    layout = kept_layout(model)
    live = _live_positions(model, layout)
    layers = []
    for terms, l, pos in zip(terms_per_layer, layout, live):
        s = assemble_layer({k: v.detach().float().cpu() for k, v in terms.items()}, head_dim, absolute=absolute)
        layers.append(LayerScores(
            heads=s["heads"][pos["heads"]], kv=s["kv"][pos["kv"]], channels=s["channels"][pos["channels"]],
            head_index=torch.tensor(l["q_heads"], dtype=torch.long),
            kv_index=torch.tensor(l["kv_heads"], dtype=torch.long),
            channel_index=torch.tensor(l["channels"], dtype=torch.long),
        ))
    return StructureScores(layers, meta)


def _pad_id(model) -> int:
    pad = getattr(model.config, "pad_token_id", None)
    return int(pad) if pad is not None else 0


def score_structures(
    model,
    samples: Sequence[CalibSample],
    *,
    method: str = "taylor",
    loss: str = "decode_only",
    variant: str = "elementwise",
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
    layers_per_pass: int | None = None,
) -> StructureScores:
    """Score every live structure of `model` on `samples`.

    >>> scores = score_structures(model, [CalibSample([5, 6, 7, 8], n_prompt=2)], method="taylor")
    >>> scores.layers[0].heads.shape  # one score per query head of block 0
    """
    if method not in METHODS:
        raise ValueError(f"unknown score method {method!r}: choose one of {', '.join(METHODS)}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown Taylor variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    adapter = get_adapter(model)
    layers = adapter.layers(model)
    head_dim = dense_dims(model).head_dim
    meta = {"method": method}
    if method == "magnitude":
        terms = []
        for layer in layers:
            with torch.no_grad():
                p = _projections(adapter, layer)
                t = {n: kmag.magnitude_rows(p[n].weight) for n in ROWS}
                t.update({n: kmag.magnitude_cols(p[n].weight) for n in COLS})
            terms.append(t)
        return _finish(terms, model, head_dim, False, meta)
    if not samples:
        raise ValueError(f"{method} scoring needs calibration samples")
    meta["loss"] = loss
    if method == "wanda":
        terms = _wanda_terms(model, adapter, layers, samples, loss, batch_size, progress)
        return _finish(terms, model, head_dim, False, meta)
    meta["variant"] = variant
    terms = _taylor_terms(model, adapter, layers, samples, loss, variant, batch_size, progress, layers_per_pass)
    return _finish(terms, model, head_dim, variant == "vectorized", meta)


def _source_mask(batch) -> torch.Tensor:
    """(B, T) positions whose next-token target counts: the positions the loss reads."""
    b = batch.targets > 0
    return torch.cat([b, torch.zeros_like(b[:, :1])], dim=1)


@torch.no_grad()
def _wanda_terms(model, adapter, layers, samples, loss, batch_size, progress):
    device = next(model.parameters()).device
    mask_box = {}
    norms = [{n: None for n in (*ROWS, *COLS)} for _ in layers]
    handles = []

    def hook_for(i, name):
        def hook(module, args):
            x = args[0]
            rows = x[mask_box["mask"]]
            acc = norms[i][name]
            if acc is None:
                acc = norms[i][name] = torch.zeros(x.shape[-1], dtype=torch.float32, device=x.device)
            kwanda.accumulate_sq_norms(acc, rows)
        return hook

    for i, layer in enumerate(layers):
        for name, lin in _projections(adapter, layer).items():
            handles.append(lin.register_forward_pre_hook(hook_for(i, name)))
    try:
        batches = list(make_batches(samples, batch_size, loss=loss, pad_id=_pad_id(model)))
        for done, batch in enumerate(batches, 1):
            mask_box["mask"] = _source_mask(batch).to(device)
            model(input_ids=batch.input_ids.to(device), attention_mask=batch.attention_mask.to(device), use_cache=False)
            if progress:
                progress(done, len(batches))
    finally:
        for h in handles:
            h.remove()
    terms = []
    for i, layer in enumerate(layers):
        p = _projections(adapter, layer)
        t = {}
        for n in (*ROWS, *COLS):
            acc = norms[i][n]
            if acc is None:  # no counted token reached this block (cannot happen with samples)
                acc = torch.zeros(p[n].weight.shape[1], device=p[n].weight.device)
            t[n] = kwanda.wanda_rows(p[n].weight, acc) if n in ROWS else kwanda.wanda_cols(p[n].weight, acc)
        terms.append(t)
    return terms


def _leaf_hook(module, args, output):
    # The scored blocks' input becomes a leaf: backward runs through them and stops below.
    if isinstance(output, tuple):
        return (output[0].detach().requires_grad_(True), *output[1:])
    return output.detach().requires_grad_(True)


def _taylor_terms(model, adapter, layers, samples, loss, variant, batch_size, progress, layers_per_pass):
    device = next(model.parameters()).device
    n_counted = counted_samples(samples, loss)
    if n_counted == 0:
        raise ValueError(f"no calibration sample has a target under loss={loss!r} (all tokens are prompt)")
    n_layers = len(layers)
    per_pass = n_layers if variant == "vectorized" or layers_per_pass is None else max(1, int(layers_per_pass))
    chunks = [range(a, min(a + per_pass, n_layers)) for a in range(0, n_layers, per_pass)]
    batches = list(make_batches(samples, batch_size, loss=loss, pad_id=_pad_id(model)))
    total, done = len(batches) * len(chunks), 0
    frozen = [(p, p.requires_grad) for p in model.parameters()]
    training = model.training
    terms: list[dict] = [dict() for _ in layers]
    model.eval()
    try:
        for p, _ in frozen:
            p.requires_grad_(False)
        for chunk in chunks:
            acc = {}  # (layer, name) -> accumulators
            handles = []
            leaf_owner = adapter.layers(model)[chunk[0] - 1] if chunk[0] > 0 else model.get_input_embeddings()
            handles.append(leaf_owner.register_forward_hook(_leaf_hook))
            for i in chunk:
                for name, lin in _projections(adapter, layers[i]).items():
                    handles.append(lin.register_forward_hook(_grad_hook(acc, (i, name), lin, variant, name in ROWS)))
            try:
                for batch in batches:
                    total_loss = batch_losses(model, batch).sum() / n_counted
                    total_loss.backward()
                    done += 1
                    if progress:
                        progress(done, total)
            finally:
                for h in handles:
                    h.remove()
            for (i, name), a in acc.items():
                terms[i][name] = _terms_from(a, variant, name in ROWS)
                a.clear()
    finally:
        for p, flag in frozen:
            p.requires_grad_(flag)
        model.train(training)
    for i, layer in enumerate(layers):
        # A projection with no rows never fires a useful hook: its terms are empty vectors.
        for name, lin in _projections(adapter, layer).items():
            if name not in terms[i]:
                size = lin.weight.shape[0] if name in ROWS else lin.weight.shape[1]
                terms[i][name] = torch.zeros(size, device=lin.weight.device)
    return terms


def _grad_hook(acc, key, lin, variant, rows):
    def forward_hook(module, args, output):
        if not output.requires_grad:
            return
        x = args[0]

        def backward_hook(gy):
            xf = x.reshape(-1, x.shape[-1])
            g = gy.reshape(-1, gy.shape[-1])
            a = acc.setdefault(key, {"weight": module.weight, "bias": module.bias})
            if module.bias is not None:
                a["gb"] = a.get("gb", 0) + g.float().sum(0)
            if variant == "elementwise":
                if "G" not in a:
                    a["G"] = torch.zeros(module.weight.shape, dtype=torch.float32, device=g.device)
                ktaylor.accumulate_weight_grad(a["G"], xf, g)
            else:
                fn = ktaylor.row_wg_sums if rows else ktaylor.col_wg_sums
                a["s"] = a.get("s", 0) + fn(module.weight, xf, g)

        output.register_hook(backward_hook)

    return forward_hook


def _terms_from(a: dict, variant: str, rows: bool) -> torch.Tensor:
    w, b = a["weight"], a["bias"]
    if variant == "elementwise":
        e = ktaylor.taylor_scores(w, a["G"])
        t = e.sum(1) if rows else e.sum(0)
        if rows and b is not None:
            t = t + ktaylor.taylor_scores(b, a["gb"])
        return t
    t = a["s"]
    if rows and b is not None:
        t = t + b.float() * a["gb"]
    return t
