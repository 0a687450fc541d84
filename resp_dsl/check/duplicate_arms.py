"""Arm names are unique within their scope (the same loop bindings)."""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic


def check(recipe, ctx) -> list[Diagnostic]:
    out, first = [], {}
    for arm in recipe.arms:
        if arm.label in first and first[arm.label] != arm.span:
            out.append(Diagnostic(C.DUPLICATE_ARM, arm.span, f'arm "{arm.name}" is defined twice',
                                  notes=(f"first defined at {first[arm.label]}",)))
        first.setdefault(arm.label, arm.span)
    return out
