"""Wanda-sp importance: |W_ij| · ‖X_j‖₂ summed per structure, from input activation norms."""

from __future__ import annotations

import torch


def accumulate_sq_norms(acc: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Add Σ_t x_tj² (x: (N, in), rows already restricted to counted tokens) into `acc` (in,)."""
    return acc.add_(x.float().pow(2).sum(0))


def wanda_rows(weight: torch.Tensor, sq_norms: torch.Tensor) -> torch.Tensor:
    """Per output row, Σ_j |W_ij| ‖X_j‖."""
    return weight.float().abs() @ sq_norms.sqrt()


def wanda_cols(weight: torch.Tensor, sq_norms: torch.Tensor) -> torch.Tensor:
    """Per input column, ‖X_j‖ Σ_i |W_ij|."""
    return weight.float().abs().sum(0) * sq_norms.sqrt()


def flap_wanda_cols(weight: torch.Tensor, sq_norms: torch.Tensor, tokens: int) -> torch.Tensor:
    """Per input column, mean_i |W_ij| · sqrt(Σ_t x_tj² / tokens): FLAP's structured Wanda metric
    (|W| · sqrt(scaler_row), averaged over the output rows)."""
    return weight.float().abs().mean(0) * (sq_norms / tokens).sqrt()
