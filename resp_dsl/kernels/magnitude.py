"""Magnitude importance: Σ |W_ij| over a structure (no data)."""

from __future__ import annotations

import torch


def magnitude_rows(weight: torch.Tensor) -> torch.Tensor:
    """Per output row, Σ_j |W_ij|."""
    return weight.float().abs().sum(1)


def magnitude_cols(weight: torch.Tensor) -> torch.Tensor:
    """Per input column, Σ_i |W_ij|."""
    return weight.float().abs().sum(0)
