"""Checks on the IR: one module per check, run in the order of CHECKS.

Each check is ``check(recipe: RecipeIR, ctx: CheckContext) -> list[Diagnostic]`` and
never raises on a bad recipe. Model-aware checks read configs through ``ctx``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from resp_dsl.diagnostics import Diagnostic
from resp_dsl.ir.models import RecipeIR
from resp_dsl.registry import ConfigError, ModelConfig, resolve


@dataclass
class CheckContext:
    """What checks may consult besides the recipe: model configs, resolved once."""

    model_config: str | Path | None = None  # --model-config FILE
    _configs: dict[str, ModelConfig | ConfigError | None] = field(default_factory=dict)

    def config(self, source: str) -> ModelConfig | ConfigError | None:
        if source not in self._configs:
            try:
                self._configs[source] = resolve(source, self.model_config)
            except ConfigError as exc:
                self._configs[source] = exc
        return self._configs[source]

    def usable_config(self, source: str) -> ModelConfig | None:
        cfg = self.config(source)
        # an inconsistent or implausibly large config is reported by the model_config check;
        # costing or protecting from it would mislead (or exhaust memory)
        return cfg if isinstance(cfg, ModelConfig) and not cfg.problems() else None


from resp_dsl.check import (  # noqa: E402  (the modules need CheckContext above)
    duplicate_arms, eval_draws, eval_points, exports, local_paths, milestones, model_config, protection, ranges, reports,
    requirements, seeds, unused,
)

CHECKS = (
    requirements.check,
    ranges.check,
    milestones.check,
    eval_points.check,
    eval_draws.check,
    duplicate_arms.check,
    local_paths.check,
    model_config.check,
    protection.check,
    exports.check,
    seeds.check,
    reports.check,
    unused.check,
)


# Checks that would only echo an earlier error when the IR is partial (a statement that
# failed to build leaves its setting unset, or its names unused).
NEEDS_COMPLETE_IR = (requirements.check, unused.check)


def run_checks(recipe: RecipeIR, ctx: CheckContext | None = None, *, partial: bool = False) -> list[Diagnostic]:
    """Run CHECKS in order. ``partial``: the IR was built with errors; skip the checks
    that would then report consequences instead of causes."""
    ctx = ctx or CheckContext()
    out: list[Diagnostic] = []
    for check in CHECKS:
        if partial and check in NEEDS_COMPLETE_IR:
            continue
        out.extend(check(recipe, ctx))
    return out
