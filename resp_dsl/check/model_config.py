"""The model's config, when reachable offline, describes a supported, consistent architecture."""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic
from resp_dsl.registry import SUPPORTED_TYPES, ConfigError


def check(recipe, ctx) -> list[Diagnostic]:
    out, seen = [], set()
    for arm in recipe.arms:
        m = arm.model
        if m is None or (m.source, m.span) in seen:
            continue
        seen.add((m.source, m.span))
        cfg = ctx.config(m.source)
        if isinstance(cfg, ConfigError):
            out.append(Diagnostic(C.MODEL_CONFIG_UNREADABLE, m.span, f'the config of "{m.source}" is unusable: {cfg}'))
            continue
        if cfg is None:
            if m.kind != "local":
                out.append(Diagnostic(C.MODEL_CONFIG_UNKNOWN, m.span,
                                      f'no offline config for "{m.source}": model-aware checks and costs skipped',
                                      hint="pass --model-config path/to/config.json"))
            continue
        if cfg.model_type not in SUPPORTED_TYPES:
            out.append(Diagnostic(C.UNSUPPORTED_ARCHITECTURE, m.span,
                                  f'model type "{cfg.model_type}" has no adapter',
                                  hint="supported: " + ", ".join(SUPPORTED_TYPES)))
        for problem in cfg.problems():
            out.append(Diagnostic(C.INCONSISTENT_CONFIG, m.span, f'config of "{m.source}": {problem}'))
    return out
