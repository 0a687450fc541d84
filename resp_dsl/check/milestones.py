"""Sparsities along a schedule strictly increase (milestones, and chained segments)."""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic


def check(recipe, ctx) -> list[Diagnostic]:
    out, seen = [], set()
    for arm in recipe.arms:
        prev = 0.0
        for i, seg in enumerate(arm.schedule):
            if seg.kind == "oneshot" and i != len(arm.schedule) - 1:
                key = ("last", seg.span)
                if key not in seen:
                    seen.add(key)
                    out.append(Diagnostic(C.INCOMPATIBLE_OPTIONS, seg.span,
                                          "a one-shot prune to several targets must be the last schedule step",
                                          hint="continue from a single target with a milestones or iterative schedule"))
            targets = seg.targets if seg.kind != "oneshot" else (min(seg.targets),)
            for t in targets:
                if t <= prev:
                    key = (seg.span, t, prev)
                    if key not in seen:
                        seen.add(key)
                        out.append(Diagnostic(C.NOT_INCREASING, seg.spans.get("targets", seg.span),
                                              f"sparsity {t:g} does not exceed the previous {prev:g}",
                                              hint="milestones must strictly increase along the schedule"))
                prev = max(prev, t)
            if seg.kind == "oneshot" and len(set(seg.targets)) != len(seg.targets):
                out.append(Diagnostic(C.NOT_INCREASING, seg.span, "the same target is listed twice"))
    return out
