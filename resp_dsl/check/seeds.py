"""`repeat seeds` must change something: some arm in its scope draws calibration data, whose seed
it sets, and nothing else in the recipe sets that seed too.

    repeat seeds [0, 1, 2]
    arm mag:
        score magnitude          # needs no calibration: seed-without-effect on the repeat
        prune to 0.3

Arms in the scope that draw no calibration (a magnitude baseline next to RESP arms) are simply
not repeated; only a `repeat` that reaches no arm at all is an error.
"""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic
from resp_dsl.ir.models import SEED


def check(recipe, ctx) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    reached: dict = {}  # repeat span -> (RepeatSpec, any arm it reaches)
    for arm in recipe.arms:
        if arm.repeat is None:
            continue
        spec, any_reached = reached.get(arm.repeat.span, (arm.repeat, False))
        reached[arm.repeat.span] = (spec, any_reached or arm.draws_calibration)
        if not arm.draws_calibration:
            continue
        given = arm.calibration.spans.get("seed")
        if given is not None:
            out.append(Diagnostic(C.INCOMPATIBLE_OPTIONS, given,
                                  f'`calibrate ... seed=` and `repeat seeds` both set the calibration seed of arm "{arm.name}"',
                                  hint="remove seed=... from `calibrate`: `repeat seeds` sets it",
                                  notes=(f"`repeat seeds` at {arm.repeat.span}",)))
        if sum(k == SEED for k, _ in arm.bindings) > 1:
            out.append(Diagnostic(C.INCOMPATIBLE_OPTIONS, arm.repeat.span,
                                  f'a loop variable named "{SEED}" and `repeat seeds` would both label arm "{arm.name}"',
                                  hint='rename the loop variable, or drop the loop and keep `repeat seeds`'))
    for spec, any_reached in reached.values():
        if not any_reached:
            out.append(Diagnostic(C.SEED_WITHOUT_EFFECT, spec.span,
                                  "`repeat seeds`: no arm in its scope draws calibration data, so every seed gives the same result",
                                  hint="the calibration seed matters to taylor and wanda scores with a `calibrate` statement; "
                                       "magnitude scores read no data"))
    return list(dict.fromkeys(out))
