"""Normalisation and global ranking of structures against an exact removal budget.

Normalisations (`normalize_scores`), applied before heads and channels are ranked together:
- "none": raw scores. Heads (thousands of weights) dwarf channels (3·hidden weights).
- "type": each score divided by its structure's parameter count: importance per parameter,
  so a head and a channel compete on equal footing.
- "reference": the RESP authors' constants: head / (4·head_dim·hidden), channel /
  (3·intermediate_size). GISP's code uses the same two constants (its "block-wise
  normalisation" is one constant per attention / MLP block type), so both papers' methods use it.
- "block": each transformer block's scores of one type divided by that block's mean for the
  type: structures compete relative to their own block. A resp-dsl option, not GISP's method.
"""

from __future__ import annotations

import torch

from resp_dsl import vocab

NORMALIZATIONS = vocab.NORMALIZATIONS


def normalize_scores(scores: torch.Tensor, *, mode: str, params: float, reference: float,
                     block_mean: float) -> torch.Tensor:
    """Normalise one block's scores of one structure type."""
    if mode == "none":
        return scores
    if mode == "type":
        return scores / params
    if mode == "reference":
        return scores / reference
    if mode == "block":
        return scores / block_mean if block_mean > 0 else scores
    raise ValueError(f"unknown normalisation {mode!r}: choose one of {', '.join(NORMALIZATIONS)}")


def rank_ascending(scores: torch.Tensor) -> torch.Tensor:
    """Indices from least to most important; ties keep candidate order (deterministic)."""
    return torch.sort(scores.double(), stable=True).indices


def group_release_costs(order: torch.Tensor, group: torch.Tensor, group_cost: torch.Tensor) -> torch.Tensor:
    """Extra cost paid at each ranked position when it removes the last member of a group.

    `group[i]` is candidate i's group id (-1 for none), `group_cost[g]` what the group frees once empty
    (the K/V rows of a KV head). Groups whose members are not all candidates never empty: give them
    group -1 for those members' ids, and leave them out of `group` entirely (the caller's job).
    """
    extra = torch.zeros(order.numel(), dtype=torch.float64)
    if group_cost.numel() == 0:
        return extra
    pos = torch.empty_like(order)
    pos[order] = torch.arange(order.numel())
    member = group >= 0
    last = torch.full((group_cost.numel(),), -1, dtype=torch.long)
    last.scatter_reduce_(0, group[member], pos[member], reduce="amax")
    done = last >= 0
    extra.index_add_(0, last[done], group_cost[done].double())
    return extra


def cut_prefix(costs_in_order: torch.Tensor, budget: float) -> int:
    """Length of the longest ranked prefix whose total cost does not exceed `budget`."""
    csum = torch.cumsum(costs_in_order.double(), 0)
    # A relative tolerance absorbs float rounding of budget = target · total.
    return int((csum <= budget * (1 + 1e-12) + 1e-9).sum())
