"""Wanda-sp: |W_ij| · ‖X_j‖₂ summed per structure, from the input activations' norms over the
calibration tokens (all tokens of each sample by default, as Wanda/FLAP; `decode_only` keeps the trace)."""

from __future__ import annotations

from resp_dsl.scorers.base import Scorer


class WandaSP(Scorer):
    def terms(self, model, adapter, layers, samples, *, loss, batch_size, progress, **_):
        import torch

        from resp_dsl.kernels import wanda as kwanda
        from resp_dsl.pruning.scoring import COLS, ROWS, for_each_input, projections

        norms = [{} for _ in layers]

        def accumulate(i, name, x):
            acc = norms[i].get(name)
            if acc is None:
                acc = norms[i][name] = torch.zeros(x.shape[-1], dtype=torch.float32, device=x.device)
            kwanda.accumulate_sq_norms(acc, x)

        for_each_input(model, adapter, layers, samples, names=(*ROWS, *COLS), loss=loss, batch_size=batch_size,
                       progress=progress, accumulate=accumulate)
        out = []
        with torch.no_grad():
            for i, layer in enumerate(layers):
                p = projections(adapter, layer)
                t = {}
                for n in (*ROWS, *COLS):
                    w = p[n].weight
                    acc = norms[i].get(n, torch.zeros(w.shape[1], device=w.device))  # no counted token: zeros
                    t[n] = kwanda.wanda_rows(w, acc) if n in ROWS else kwanda.wanda_cols(w, acc)
                out.append(t)
        return out, False


WANDA = WandaSP("wanda", "Wanda-sp: |weight| x input activation norm, summed per structure (forward only)")
