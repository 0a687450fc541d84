"""FLAP's fluctuation metric (An et al., 2024): how much removing an input channel of a block's
output projections perturbs the block's output.

Per input column j of o_proj (grouped per query head) and of down_proj (one MLP channel):
    score_j = Var_t(X_tj) · ‖W_:,j‖²
the variance of the column's input activation over the calibration tokens (the token scope:
all tokens of each sample by default, `decode_only` for the trace), times the squared L2 norm of
the weight column. Forward only. Not included: FLAP's bias compensation (adding W·E[X] of the
removed columns to the output bias; Qwen3 and Llama projections have no bias to carry it) and
its per-layer standardisation of scores (use `normalize=block` for a per-block comparison).
"""

from __future__ import annotations

from resp_dsl.scorers.base import Scorer


class Flap(Scorer):
    def terms(self, model, adapter, layers, samples, *, loss, batch_size, progress, **_):
        import torch

        from resp_dsl.pruning.scoring import COLS, ROWS, for_each_input, projections

        stats = [{n: [0, 0.0, 0.0] for n in COLS} for _ in layers]  # count, Σx, Σx² (fp64)

        def accumulate(i, name, x):
            x = x.double()
            s = stats[i][name]
            s[0] += x.shape[0]
            s[1] = s[1] + x.sum(0)
            s[2] = s[2] + x.pow(2).sum(0)

        for_each_input(model, adapter, layers, samples, names=COLS, loss=loss, batch_size=batch_size,
                       progress=progress, accumulate=accumulate)
        out = []
        for i, layer in enumerate(layers):
            p = projections(adapter, layer)
            t = {n: torch.zeros(p[n].weight.shape[0], device=p[n].weight.device) for n in ROWS}
            for n in COLS:
                count, s1, s2 = stats[i][n]
                w = p[n].weight
                var = (s2 / count - (s1 / count) ** 2).clamp_min(0) if count else torch.zeros(w.shape[1])
                t[n] = (var.to(w.device) * w.detach().double().pow(2).sum(0)).float()
            out.append(t)
        return out, False


FLAP = Flap("flap", "FLAP fluctuation: input variance x squared weight-column norm of o_proj/down_proj (forward only)")
