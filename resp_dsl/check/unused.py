"""Definitions that nothing reads: parameters, tasks and loop variables (warnings)."""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic

_CODES = {"param": C.UNUSED_PARAM, "task": C.UNUSED_TASK, "variable": C.UNUSED_VARIABLE}
_WHAT = {"param": "parameter", "task": "task", "variable": "loop variable"}


def check(recipe, ctx) -> list[Diagnostic]:
    out = []
    if not recipe.arms and not recipe.reports:  # a fragment: it defines things for others
        return out
    main = recipe.file
    for d in recipe.definitions:
        # Fragments define things for others to use: only the recipe's own are flagged.
        if not d.used and d.span.file == main:
            out.append(Diagnostic(_CODES[d.kind], d.span, f'{_WHAT[d.kind]} "{d.name}" is never used'))
    return out
