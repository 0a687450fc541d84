"""Every arm has what it needs: a model, a score before pruning, calibration data for
scores that use it, and a schedule once it scores."""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic
from resp_dsl.scorers import SCORERS


def check(recipe, ctx) -> list[Diagnostic]:
    out = []
    for arm in recipe.arms:
        if arm.model is None:
            out.append(Diagnostic(C.MISSING_MODEL, arm.span, f'arm "{arm.label}" has no `model`',
                                  hint='add e.g. model "Qwen/Qwen3-8B" at the top of the recipe'))
        if arm.schedule and arm.score is None:
            out.append(Diagnostic(C.MISSING_SCORE, arm.schedule[0].span, f'arm "{arm.label}" prunes without a `score`',
                                  hint="add e.g. score taylor decode_only"))
        if arm.score is not None and SCORERS[arm.score.method].calibrated and arm.calibration is None:
            out.append(Diagnostic(C.MISSING_CALIBRATION, arm.score.span,
                                  f'{arm.score.method} scores need calibration data, arm "{arm.label}" has none',
                                  hint="add e.g. calibrate self_generated from gsm8k n=128"))
        if arm.score is not None and not arm.schedule and not arm.implicit:
            out.append(Diagnostic(C.MISSING_SCHEDULE, arm.span, f'arm "{arm.label}" scores but never prunes',
                                  hint="add e.g. schedule milestones [0.1..0.4] regen ρ=1.0 or prune to 0.3"))
        if arm.calibration is None and any(s.rho > 0 for s in arm.schedule):
            seg = next(s for s in arm.schedule if s.rho > 0)
            out.append(Diagnostic(C.MISSING_CALIBRATION, seg.span, "regeneration needs calibration traces to regenerate"))
    return out
