"""Magnitude: the L1 norm of a structure's weights. Data-free (no calibration)."""

from __future__ import annotations

from resp_dsl.scorers.base import Scorer


class Magnitude(Scorer):
    def terms(self, model, adapter, layers, samples, **_):
        import torch

        from resp_dsl.kernels import magnitude as kmag
        from resp_dsl.pruning.scoring import COLS, ROWS, projections

        out = []
        with torch.no_grad():
            for layer in layers:
                p = projections(adapter, layer)
                t = {n: kmag.magnitude_rows(p[n].weight) for n in ROWS}
                t.update({n: kmag.magnitude_cols(p[n].weight) for n in COLS})
                out.append(t)
        return out, False


MAGNITUDE = Magnitude("magnitude", "L1 norm of each structure's weights (data-free)", calibrated=False,
                      token_scope=False)
