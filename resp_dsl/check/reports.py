"""`report compare A vs B [at S]` names two arms of the recipe that are evaluated where it compares them.

    arm resp: ...
    arm gisp: ...
    report compare resp vs gsip      # unknown-arm, did you mean "gisp"?
    report compare resp vs gisp at 0.5   # eval-point-not-reached unless both are evaluated at 50%
"""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic, suggest


def evaluated_at(arms, point: float) -> bool:
    return any(abs(p - point) < 1e-9 for arm in arms for e in arm.evals for p in e.points)


def check(recipe, ctx) -> list[Diagnostic]:
    from resp_dsl.compile.labels import arm_name, names_arm  # here: resp_dsl.compile imports the checks

    out: list[Diagnostic] = []
    labels = [a.label for a in recipe.arms]
    for rep in recipe.reports:
        if rep.kind != "compare":
            continue
        sides = {}
        for key in ("a", "b"):
            name = getattr(rep, key)
            sides[key] = [a for a in recipe.arms if names_arm(a.label, name)]
            if not sides[key]:
                out.append(Diagnostic(C.UNKNOWN_ARM, rep.spans.get(key, rep.span), f'no arm "{name}" to compare',
                                      hint=suggest(name, {arm_name(x) for x in labels} | set(labels))))
        if rep.at is None or not all(sides.values()):
            continue
        missing = [getattr(rep, key) for key in ("a", "b") if not evaluated_at(sides[key], rep.at)]
        if missing:
            who = " and ".join(f'"{m}"' for m in missing)
            out.append(Diagnostic(C.EVAL_POINT_NOT_REACHED, rep.spans.get("at", rep.span),
                                  f"compare at {rep.at:g}: arm{'s' if len(missing) > 1 else ''} {who} "
                                  f"{'are' if len(missing) > 1 else 'is'} not evaluated at that sparsity",
                                  hint=f"add {rep.at:g} to the `eval ... at` points of {who}"))
    return out
