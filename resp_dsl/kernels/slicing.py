"""Index arithmetic of heads, KV groups and channels, and slicing of weight matrices.

A query head h owns rows h·d … h·d+d-1 of q_proj and the same columns of o_proj; a KV head g
owns those rows of k_proj and v_proj; an MLP channel c owns row c of gate_proj and up_proj
and column c of down_proj.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def head_rows(heads: Sequence[int] | torch.Tensor, head_dim: int) -> torch.Tensor:
    """Row (or column) indices covered by `heads`, in order."""
    heads = torch.as_tensor(list(heads) if not isinstance(heads, torch.Tensor) else heads, dtype=torch.long)
    return (heads[:, None] * head_dim + torch.arange(head_dim)).reshape(-1)


def sum_per_head(v: torch.Tensor, head_dim: int) -> torch.Tensor:
    """Sum a per-row vector (heads·head_dim,) into one value per head."""
    return v.reshape(-1, head_dim).sum(1)


def assemble_layer(terms: dict[str, torch.Tensor], head_dim: int, *, absolute: bool) -> dict[str, torch.Tensor]:
    """Per-structure scores of one block from per-row/per-column terms of its projections.

    `terms` holds "q", "k", "v", "gate", "up" (per output row) and "o", "down" (per input column).
    With `absolute`, the structure total is made non-negative after summation (vectorised Taylor);
    otherwise the terms are already non-negative.
    """
    heads = sum_per_head(terms["q"], head_dim) + sum_per_head(terms["o"], head_dim)
    kv = sum_per_head(terms["k"], head_dim) + sum_per_head(terms["v"], head_dim)
    channels = terms["gate"] + terms["up"] + terms["down"]
    out = {"heads": heads, "kv": kv, "channels": channels}
    return {k: v.abs() for k, v in out.items()} if absolute else out


def slice_rows(t: torch.Tensor | None, rows: torch.Tensor) -> torch.Tensor | None:
    """Keep `rows` of a weight (out, in) or a bias (out,)."""
    return None if t is None else t.index_select(0, rows.to(t.device)).clone()


def slice_cols(t: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Keep columns `cols` of a weight (out, in)."""
    return t.index_select(1, cols.to(t.device)).clone()


def zero_rows_(t: torch.Tensor | None, rows: torch.Tensor) -> None:
    """Zero rows of a weight or entries of a bias in place."""
    if t is not None and rows.numel():
        t.index_fill_(0, rows.to(t.device), 0.0)


def zero_cols_(t: torch.Tensor, cols: torch.Tensor) -> None:
    """Zero columns of a weight in place."""
    if cols.numel():
        t.index_fill_(1, cols.to(t.device), 0.0)
