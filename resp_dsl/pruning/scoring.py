"""Importance of every query head, KV head and MLP channel, by any scorer of ``scorers.SCORERS``.

The scorers (Taylor, Wanda-sp, magnitude, ...) live in ``resp_dsl/scorers``, one file each; this
module holds what they share (the projections of a block, batching helpers, the structure scores)
and sums their per-row / per-column terms into heads, KV heads and channels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from resp_dsl.kernels.slicing import assemble_layer
from resp_dsl.models.adapters import get_adapter
from resp_dsl.pruning.calib import CalibSample
from resp_dsl.pruning.state import dense_dims, kept_layout, pruning_mode
from resp_dsl.scorers import SCORERS, TOKEN_SCOPES

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


def projections(adapter, layer) -> dict[str, torch.nn.Linear]:
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


def pad_id(model) -> int:
    pad = getattr(model.config, "pad_token_id", None)
    return int(pad) if pad is not None else 0


def score_structures(
    model,
    samples: Sequence[CalibSample],
    *,
    method: str = "taylor",
    loss: str = "decode_only",
    variant: str | None = None,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
    layers_per_pass: int | None = None,
) -> StructureScores:
    """Score every live structure of `model` on `samples` with the scorer `method` (``scorers.SCORERS``).

    >>> scores = score_structures(model, [CalibSample([5, 6, 7, 8], n_prompt=2)], method="taylor")
    >>> scores.layers[0].heads.shape  # one score per query head of block 0
    """
    if method not in SCORERS:
        raise ValueError(f"unknown score method {method!r}: choose one of {', '.join(SCORERS)}")
    scorer = SCORERS[method]
    if scorer.variants:
        variant = variant or scorer.variants[0]
        if variant not in scorer.variants:
            raise ValueError(f"unknown {method} variant {variant!r}: choose one of {', '.join(scorer.variants)}")
    else:
        variant = None
    if scorer.token_scope and loss not in TOKEN_SCOPES:
        raise ValueError(f"unknown token scope {loss!r}: choose one of {', '.join(TOKEN_SCOPES)}")
    if scorer.calibrated and not samples:
        raise ValueError(f"{method} scoring needs calibration samples")
    adapter = get_adapter(model)
    layers = adapter.layers(model)
    meta = {"method": method, **({"loss": loss} if scorer.token_scope else {}),
            **({"variant": variant} if variant else {})}
    from resp_dsl import sharding

    work = sharding.active()
    if isinstance(work, sharding.Shard):  # one shard of the calibration batches: its accumulators
        n_batches = -(-len(samples) // batch_size)
        raise sharding.ShardFinished(scorer.partials(
            model, adapter, layers, samples, loss=loss, variant=variant, batch_size=batch_size, progress=progress,
            layers_per_pass=layers_per_pass, batches=sharding.take(range(n_batches), work)))
    if isinstance(work, sharding.Reduced):  # every shard's accumulators, reduced: finish from them
        terms, absolute = scorer.terms_from_partials(adapter, layers, work.partials, variant=variant)
    else:
        terms, absolute = scorer.terms(model, adapter, layers, samples, loss=loss, variant=variant,
                                       batch_size=batch_size, progress=progress, layers_per_pass=layers_per_pass)
    return _finish(terms, model, dense_dims(model).head_dim, absolute, meta)


def reduce_partials(parts: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The sum of the shards' accumulators (``Scorer.partials``), in the order given, in float64.

    A name missing from a shard (its batches never reached that projection) adds nothing. The
    order is fixed by the caller (shard 0, 1, ...), so the same shards always give the same bits.
    """
    total: dict[str, torch.Tensor] = {}
    for part in parts:
        for name, t in part.items():
            t64 = t.detach().to(torch.float64)
            total[name] = total[name] + t64 if name in total else t64.clone()
    return total


class StopForward(Exception):
    """Raised by a hook to end a forward pass early: ``for_each_input`` has what it needs from the
    blocks before it (``pruning.schedule.select_sequential`` scores one block at a time)."""


def for_each_input(model, adapter, layers, samples, *, names, loss: str, batch_size: int, progress,
                   accumulate: Callable[[int, str, torch.Tensor], None]) -> None:
    """One forward pass over the calibration set (no grad): ``accumulate(block, name, x)`` receives
    the input rows of each named projection at the counted tokens of the token scope ``loss``.
    The output head runs on one position only (its logits are not needed)."""
    from resp_dsl.models.adapters import takes_logits_to_keep
    from resp_dsl.pruning.calib import make_batches

    device = next(model.parameters()).device
    box: dict = {}

    def hook_for(i, name):
        def hook(module, args):
            accumulate(i, name, args[0][box["mask"]])
        return hook

    handles = [lin.register_forward_pre_hook(hook_for(i, name))
               for i, layer in enumerate(layers) for name, lin in projections(adapter, layer).items() if name in names]
    extra = {"logits_to_keep": 1} if takes_logits_to_keep(model) else {}
    try:
        with torch.no_grad():
            batches = list(make_batches(samples, batch_size, loss=loss, pad_id=pad_id(model)))
            for done, batch in enumerate(batches, 1):
                box["mask"] = source_mask(batch).to(device)
                try:
                    model(input_ids=batch.input_ids.to(device), attention_mask=batch.attention_mask.to(device),
                          use_cache=False, **extra)
                except StopForward:
                    pass
                if progress:
                    progress(done, len(batches))
    finally:
        for h in handles:
            h.remove()


def source_mask(batch) -> torch.Tensor:
    """(B, T) positions whose next-token target counts: the positions the loss reads."""
    b = batch.targets > 0
    return torch.cat([b, torch.zeros_like(b[:, :1])], dim=1)


def leaf_hook(module, args, output):
    # The scored blocks' input becomes a leaf: backward runs through them and stops below.
    if isinstance(output, tuple):
        return (output[0].detach().requires_grad_(True), *output[1:])
    return output.detach().requires_grad_(True)


