"""Evaluation and export points lie on the arm's path.

Milestones and one-shot targets are reached exactly; an iterative segment, and a milestone
schedule with ``steps``, pass through every sparsity up to their end, so any point inside
can be evaluated (it becomes a checkpoint on the path).
"""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic


def reachable(arm, point: float) -> bool:
    if point == 0.0:
        return True
    start = 0.0
    for seg in arm.schedule:
        stepped = seg.kind == "iterative" or (seg.kind == "milestones" and seg.steps is not None)
        if stepped and start < point <= max(seg.targets) + 1e-9:
            return True
        if any(abs(point - t) < 1e-9 for t in seg.targets):
            return True
        start = max(seg.targets) if seg.kind != "oneshot" else start
    return False


def check(recipe, ctx) -> list[Diagnostic]:
    out, seen = [], set()
    for arm in recipe.arms:
        if not arm.schedule:
            continue
        path = ", ".join(f"{t:g}" for t in arm.checkpoints())
        for kind, items in (("evaluation", arm.evals), ("export", arm.exports)):
            for item in items:
                for p in item.points:
                    if 0 <= p < 1 and not reachable(arm, p) and (item.span, p) not in seen:
                        seen.add((item.span, p))
                        out.append(Diagnostic(C.EVAL_POINT_NOT_REACHED, item.spans.get(f"{p:g}", item.span),
                                              f'{kind} at {p:g}: arm "{arm.label}" never reaches that sparsity',
                                              hint=f"its schedule reaches {path}"))
    return out
