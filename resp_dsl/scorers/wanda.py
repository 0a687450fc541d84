"""Wanda-sp: |W_ij| · ‖X_j‖₂ per structure, from the input activations' norms over the
calibration tokens (all tokens of each sample by default, as Wanda/FLAP; `decode_only` keeps the trace).

Variants:
- ``all_weights`` (default): summed over every weight of a structure: the rows of q/k/v (gate/up) and
  the columns of o_proj (down_proj) that belong to a head (a channel).
- ``outputs``: FLAP's structured Wanda, as GISP's code (``pruners/wanda_sp.py``) runs it for its
  Wanda-sp baseline: the input columns of o_proj (per head) and of down_proj (per channel) only,
  the mean over output rows of |W_ij| times the root of the column's mean squared input. Its
  constants differ between o_proj and down_proj, so compare heads with channels only inside one
  type: it is meant for ``allocate=uniform`` / ``sequential``, which never do otherwise.
"""

from __future__ import annotations

from resp_dsl.scorers.base import Scorer


class WandaSP(Scorer):
    def terms(self, model, adapter, layers, samples, *, loss, variant, batch_size, progress, **_):
        import torch

        from resp_dsl.kernels import wanda as kwanda
        from resp_dsl.pruning.scoring import COLS, ROWS, for_each_input, projections

        names = COLS if variant == "outputs" else (*ROWS, *COLS)
        norms = [{} for _ in layers]
        counts = [{} for _ in layers]

        def accumulate(i, name, x):
            acc = norms[i].get(name)
            if acc is None:
                acc = norms[i][name] = torch.zeros(x.shape[-1], dtype=torch.float32, device=x.device)
                counts[i][name] = 0
            kwanda.accumulate_sq_norms(acc, x)
            counts[i][name] += x.shape[0]

        for_each_input(model, adapter, layers, samples, names=names, loss=loss, batch_size=batch_size,
                       progress=progress, accumulate=accumulate)
        out = []
        with torch.no_grad():
            for i, layer in enumerate(layers):
                p = projections(adapter, layer)
                t = {}
                for n in (*ROWS, *COLS):
                    w = p[n].weight
                    if n not in names:
                        t[n] = torch.zeros(w.shape[0], device=w.device)  # rows that this variant does not read
                        continue
                    acc = norms[i].get(n, torch.zeros(w.shape[1], device=w.device))  # no counted token: zeros
                    if variant == "outputs":
                        t[n] = kwanda.flap_wanda_cols(w, acc, max(1, counts[i].get(n, 0)))
                    else:
                        t[n] = kwanda.wanda_rows(w, acc) if n in ROWS else kwanda.wanda_cols(w, acc)
                out.append(t)
        return out, False


WANDA = WandaSP("wanda", "Wanda-sp: |weight| x input activation norm, per structure (forward only)",
                variants=("all_weights", "outputs"))
