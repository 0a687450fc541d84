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

        from resp_dsl.models.adapters import takes_logits_to_keep
        from resp_dsl.pruning.calib import make_batches
        from resp_dsl.pruning.scoring import COLS, ROWS, pad_id, projections, source_mask

        device = next(model.parameters()).device
        mask_box: dict = {}
        stats = [{n: [0, None, None] for n in COLS} for _ in layers]  # count, Σx, Σx² (fp64)
        handles = []

        def hook_for(i, name):
            def hook(module, args):
                x = args[0][mask_box["mask"]].double()
                s = stats[i][name]
                s[0] += x.shape[0]
                s[1] = x.sum(0) if s[1] is None else s[1] + x.sum(0)
                s[2] = x.pow(2).sum(0) if s[2] is None else s[2] + x.pow(2).sum(0)
            return hook

        for i, layer in enumerate(layers):
            p = projections(adapter, layer)
            for name in COLS:
                handles.append(p[name].register_forward_pre_hook(hook_for(i, name)))
        try:
            with torch.no_grad():
                batches = list(make_batches(samples, batch_size, loss=loss, pad_id=pad_id(model)))
                for done, batch in enumerate(batches, 1):
                    mask_box["mask"] = source_mask(batch).to(device)
                    model(input_ids=batch.input_ids.to(device), attention_mask=batch.attention_mask.to(device),
                          use_cache=False, **({"logits_to_keep": 1} if takes_logits_to_keep(model) else {}))
                    if progress:
                        progress(done, len(batches))
        finally:
            for h in handles:
                h.remove()
        out = []
        for i, layer in enumerate(layers):
            p = projections(adapter, layer)
            t = {n: torch.zeros(p[n].weight.shape[0], device=p[n].weight.device) for n in ROWS}
            for n in COLS:
                count, s1, s2 = stats[i][n]
                w = p[n].weight
                if not count:
                    t[n] = torch.zeros(w.shape[1], device=w.device)
                    continue
                var = (s2 / count - (s1 / count) ** 2).clamp_min(0)
                t[n] = (var * w.double().pow(2).sum(0)).float()
            out.append(t)
        return out, False


FLAP = Flap("flap", "FLAP fluctuation: input variance x squared weight-column norm of o_proj/down_proj (forward only)")
