"""First-order Taylor importance |W ⊙ G|, and the running sums that avoid keeping G.

Element-wise (the reference's `param_first`): score_ij = |W_ij G_ij| with G the gradient of
the loss over the whole calibration set, then summed over a structure. The absolute value
sits inside the sum, so G must be complete before it is taken: `accumulate_weight_grad`.

Vectorised (LLM-Pruner's `vectorize`): score = |Σ_{ij in structure} W_ij G_ij|. The sum is
linear in G, so per-row and per-column sums of W ⊙ G can be accumulated micro-batch by
micro-batch and no (out, in) matrix is ever formed:
    Σ_j W_ij G_ij = Σ_t gy_ti · (x_t · W_i)   (row i, needs y = x Wᵀ)
    Σ_i W_ij G_ij = Σ_t x_tj · (gy_t W)_j     (column j, needs gx = gy W)
"""

from __future__ import annotations

import torch


def taylor_scores(weight: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Element-wise first-order Taylor importance |W ⊙ G|."""
    return (weight.float() * grad.float()).abs()


def accumulate_weight_grad(acc: torch.Tensor, x: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """Add the weight gradient gyᵀ x of a Linear (x: (N, in), gy: (N, out)) into `acc` (out, in)."""
    return acc.addmm_(gy.float().T, x.float())


def row_wg_sums(weight: torch.Tensor, x: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """Per output row, Σ_j W_ij G_ij for this micro-batch's gradient, without forming G."""
    y = x.float() @ weight.float().T
    return (y * gy.float()).sum(0)


def col_wg_sums(weight: torch.Tensor, x: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """Per input column, Σ_i W_ij G_ij for this micro-batch's gradient, without forming G."""
    gx = gy.float() @ weight.float()
    return (x.float() * gx).sum(0)
