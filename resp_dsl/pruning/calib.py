"""Calibration samples and right-padded micro-batches whose padding never contributes.

A `CalibSample` is a token sequence whose first `n_prompt` tokens are the prompt. With
loss="decode_only" only the targets after the prompt count (RESP: the model's own trace);
with loss="full" every target counts; generic text simply has n_prompt=0.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from resp_dsl.models.adapters import takes_logits_to_keep

LOSSES = ("decode_only", "full")


@dataclass(frozen=True)
class CalibSample:
    input_ids: list[int]
    n_prompt: int = 0

    def __post_init__(self):
        if not 0 <= self.n_prompt <= len(self.input_ids):
            raise ValueError(f"n_prompt={self.n_prompt} outside a sample of {len(self.input_ids)} tokens")


@dataclass
class CalibBatch:
    """input_ids/attention_mask (B, T); `targets` (B, T-1) weights of predicting token t+1 at position t."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    targets: torch.Tensor
    n_samples: int


def target_mask(sample: CalibSample, length: int, loss: str) -> torch.Tensor:
    """Which of the `length - 1` next-token targets count, for one (right-padded) sample."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}: choose one of {', '.join(LOSSES)}")
    n = len(sample.input_ids)
    pos = torch.arange(1, length)  # the token being predicted
    first = max(sample.n_prompt, 1) if loss == "decode_only" else 1
    return ((pos >= first) & (pos < n)).float()


def make_batches(samples: Sequence[CalibSample], batch_size: int, *, loss: str, pad_id: int = 0) -> Iterator[CalibBatch]:
    """Micro-batches in sample order, right-padded with `pad_id`; padded targets weigh zero."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    for start in range(0, len(samples), batch_size):
        chunk = samples[start:start + batch_size]
        length = max(len(s.input_ids) for s in chunk)
        ids = torch.full((len(chunk), length), pad_id, dtype=torch.long)
        attn = torch.zeros((len(chunk), length), dtype=torch.long)
        for i, s in enumerate(chunk):
            ids[i, :len(s.input_ids)] = torch.tensor(s.input_ids, dtype=torch.long)
            attn[i, :len(s.input_ids)] = 1
        targets = torch.stack([target_mask(s, length, loss) for s in chunk])
        yield CalibBatch(ids, attn, targets, len(chunk))


def sample_losses(logits: torch.Tensor, batch: CalibBatch) -> torch.Tensor:
    """Per-sample mean cross-entropy over counted targets (0 for a sample with none)."""
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    nll = -logp.gather(-1, batch.input_ids[:, 1:, None].to(logits.device)).squeeze(-1)
    w = batch.targets.to(logits.device)
    count = w.sum(1)
    return (nll * w).sum(1) / count.clamp_min(1)


def batch_losses(model, batch: CalibBatch) -> torch.Tensor:
    """Per-sample mean NLL of a micro-batch, computing logits only where a target counts.

    The output head (and the float32 log-softmax over the vocabulary: 151,936 entries for
    Qwen3) runs only at positions where some sample of the batch has a counted target, through
    the model's own ``logits_to_keep``; prompt-only and padding positions are skipped. Equal to
    ``sample_losses`` over full logits.
    """
    device = next(model.parameters()).device
    ids = batch.input_ids.to(device)
    keep = batch.targets.any(0).nonzero().squeeze(1)  # positions t whose next token counts somewhere
    if keep.numel() == 0 or not takes_logits_to_keep(model):
        out = model(input_ids=ids, attention_mask=batch.attention_mask.to(device), use_cache=False)
        return sample_losses(out.logits, batch)
    out = model(input_ids=ids, attention_mask=batch.attention_mask.to(device), use_cache=False,
                logits_to_keep=keep.to(device))
    logp = torch.log_softmax(out.logits.float(), dim=-1)
    nll = -logp.gather(-1, ids[:, keep + 1, None]).squeeze(-1)
    w = batch.targets[:, keep].to(device)
    return (nll * w).sum(1) / batch.targets.sum(1).to(device).clamp_min(1)


def counted_samples(samples: Sequence[CalibSample], loss: str) -> int:
    """How many samples have at least one counted target (the divisor of the mean loss)."""
    return sum(int(target_mask(s, len(s.input_ids), loss).sum() > 0) for s in samples)
