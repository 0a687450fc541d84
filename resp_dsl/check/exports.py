"""A `uniform` export that cannot be smaller than the dense model (warning).

A uniform (stock-shaped) export pads every block to the widest kept counts. A block kept
dense by `protect` is the widest possible, so the export keeps every parameter of the dense
model: the pruning is invisible in its size. `per_layer` or `masked` exports keep the
per-block sizes. (`export uniform round=...` rounds the pruned blocks' counts to their mean instead
of padding to the widest; protected blocks still stay dense.)
"""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic


def check(recipe, ctx) -> list[Diagnostic]:
    from resp_dsl.ops.base import human
    from resp_dsl.ops.export import uniform_export_params

    out = []
    for arm in recipe.arms:
        if arm.model is None or not arm.schedule:
            continue
        cfg = ctx.usable_config(arm.model.source)
        protect = {"first_fraction": arm.protect.first_fraction, "last": arm.protect.last,
                   "blocks": list(arm.protect.blocks)}
        for ex in arm.exports:
            if ex.format != "uniform":
                continue
            points = [p for p in ex.points if p > 0]
            if not points:
                continue
            if cfg is not None:
                low, high, prot = uniform_export_params(cfg, max(points), protect)
                if low != high:
                    continue
                size = f"all {human(high)} parameters of the dense model"
            elif arm.protect.last or arm.protect.blocks:
                size = "every parameter of the dense model"
            else:
                continue
            out.append(Diagnostic(
                C.UNIFORM_EXPORT_DENSE, ex.span,
                f"this uniform export keeps {size}: protected blocks stay dense and a uniform export pads "
                "every block to the widest one",
                hint="export per_layer (loads with trust_remote_code=True or resp_dsl.load_pruned) or masked; "
                     "uniform shrinks only when every block is pruned (`round=` cannot help: it rounds the "
                     "pruned blocks, the protected ones stay dense)"))
    return out
