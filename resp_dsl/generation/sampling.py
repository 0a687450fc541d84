"""Next-token sampling as a pure function of logits and one uniform number per row.

Randomness comes from the caller, one ``random.Random`` per prompt index, so a row's
sample never depends on which other prompts share its batch::

    u = torch.tensor([rngs[i].random() for i in rows], dtype=torch.float64)
    next_ids = sample_next(logits, u, temperature=0.6, top_p=0.95, top_k=0)

Semantics follow ``transformers``' sampling: divide by temperature, keep the ``top_k``
most likely tokens (0: all), keep the smallest set whose probability reaches ``top_p``
(at least one token), renormalise, draw. ``temperature == 0`` is greedy.
"""

from __future__ import annotations

import random

import torch


def row_rng(seed: int, index: int) -> random.Random:
    """The random stream of prompt ``index`` under ``seed`` (stable across runs and platforms)."""
    return random.Random(f"resp-dsl:{seed}:{index}")


def filter_logits(logits: torch.Tensor, *, temperature: float, top_p: float, top_k: int) -> torch.Tensor:
    """Float32 logits [B, V] scaled by temperature with tokens outside top-k / top-p set to -inf."""
    x = logits.float() / temperature
    vocab = x.shape[-1]
    if 0 < top_k < vocab:
        kth = torch.topk(x, top_k, dim=-1).values[..., -1:]
        x = x.masked_fill(x < kth, float("-inf"))
    if 0.0 < top_p < 1.0:
        sorted_x, order = torch.sort(x, dim=-1, descending=True)
        probs = sorted_x.softmax(dim=-1)
        # drop a token if the tokens strictly more likely already reach top_p
        before = probs.cumsum(dim=-1) - probs
        drop_sorted = before >= top_p
        drop_sorted[..., 0] = False
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        x = x.masked_fill(drop, float("-inf"))
    return x


def sample_next(logits: torch.Tensor, u: torch.Tensor, *, temperature: float, top_p: float = 1.0,
                top_k: int = 0) -> torch.Tensor:
    """Token ids [B] drawn from ``logits`` [B, V] by inverse CDF with uniforms ``u`` [B] in [0, 1)."""
    if temperature <= 0:
        return logits.argmax(dim=-1)
    x = filter_logits(logits, temperature=temperature, top_p=top_p, top_k=top_k)
    probs = x.softmax(dim=-1).double()
    cdf = probs.cumsum(dim=-1)
    target = (u.to(device=cdf.device, dtype=torch.float64) * cdf[:, -1]).unsqueeze(-1)
    idx = torch.searchsorted(cdf, target, right=True).squeeze(-1)
    idx = idx.clamp(max=probs.shape[-1] - 1)
    # never land on a filtered token (possible only through rounding at the top of the CDF)
    bad = probs.gather(-1, idx.unsqueeze(-1)).squeeze(-1) <= 0
    if bool(bad.any()):
        idx = torch.where(bad, probs.argmax(dim=-1), idx)
    return idx
