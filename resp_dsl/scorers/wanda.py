"""Wanda-sp: |W_ij| · ‖X_j‖₂ summed per structure, from the input activations' norms over the
calibration tokens (all tokens of each sample by default, as Wanda/FLAP; `decode_only` keeps the trace)."""

from __future__ import annotations

from resp_dsl.scorers.base import Scorer


class WandaSP(Scorer):
    def terms(self, model, adapter, layers, samples, *, loss, batch_size, progress, **_):
        import torch

        with torch.no_grad():
            return wanda_terms(model, adapter, layers, samples, loss, batch_size, progress), False


WANDA = WandaSP("wanda", "Wanda-sp: |weight| x input activation norm, summed per structure (forward only)")


def wanda_terms(model, adapter, layers, samples, loss, batch_size, progress):
    import torch

    from resp_dsl.kernels import wanda as kwanda
    from resp_dsl.models.adapters import takes_logits_to_keep
    from resp_dsl.pruning.calib import make_batches
    from resp_dsl.pruning.scoring import COLS, ROWS, pad_id, projections, source_mask

    device = next(model.parameters()).device
    mask_box = {}
    norms = [{n: None for n in (*ROWS, *COLS)} for _ in layers]
    handles = []

    def hook_for(i, name):
        def hook(module, args):
            x = args[0]
            rows = x[mask_box["mask"]]
            acc = norms[i][name]
            if acc is None:
                acc = norms[i][name] = torch.zeros(x.shape[-1], dtype=torch.float32, device=x.device)
            kwanda.accumulate_sq_norms(acc, rows)
        return hook

    for i, layer in enumerate(layers):
        for name, lin in projections(adapter, layer).items():
            handles.append(lin.register_forward_pre_hook(hook_for(i, name)))
    try:
        batches = list(make_batches(samples, batch_size, loss=loss, pad_id=pad_id(model)))
        for done, batch in enumerate(batches, 1):
            mask_box["mask"] = source_mask(batch).to(device)
            model(input_ids=batch.input_ids.to(device), attention_mask=batch.attention_mask.to(device), use_cache=False,
                  **({"logits_to_keep": 1} if takes_logits_to_keep(model) else {}))  # activations only
            if progress:
                progress(done, len(batches))
    finally:
        for h in handles:
            h.remove()
    terms = []
    for i, layer in enumerate(layers):
        p = projections(adapter, layer)
        t = {}
        for n in (*ROWS, *COLS):
            acc = norms[i][n]
            if acc is None:  # no counted token reached this block (cannot happen with samples)
                acc = torch.zeros(p[n].weight.shape[1], device=p[n].weight.device)
            t[n] = kwanda.wanda_rows(p[n].weight, acc) if n in ROWS else kwanda.wanda_cols(p[n].weight, acc)
        terms.append(t)
    return terms
