"""Numbers within their ranges: sparsities in (0,1), ρ in [0,1], n > 0, temperatures >= 0, ..."""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic
from resp_dsl.ir.values import percent_hint


def _bad(span, what, value, rule, out, hint=None):
    out.append(Diagnostic(C.OUT_OF_RANGE, span, f"{what} must be {rule}, got {value:g}" if isinstance(value, float)
                          else f"{what} must be {rule}, got {value}", hint=hint))


def _task(task, span, out, seen):
    key = (task.name, span)
    if key in seen:
        return
    seen.add(key)
    if task.shots < 0:
        _bad(span, "shots", task.shots, ">= 0", out)
    if task.max_new_tokens <= 0:
        _bad(span, "max_new_tokens", task.max_new_tokens, "> 0", out)
    _sampling(task, lambda key: span, out)
    if task.limit is not None and task.limit <= 0:
        _bad(span, "limit", task.limit, "> 0", out)
    if task.seed < 0:
        _bad(span, "seed", task.seed, ">= 0", out)


def _sampling(spec, at, out) -> None:
    """temperature / top_p / top_k where the recipe sets them (None: the model's generation_config)."""
    if spec.temperature is not None and spec.temperature < 0:
        _bad(at("temperature"), "temperature", spec.temperature, ">= 0", out)
    if spec.top_p is not None and not 0 < spec.top_p <= 1:
        _bad(at("top_p"), "top_p", spec.top_p, "in (0, 1]", out)
    if spec.top_k is not None and spec.top_k < 0:
        _bad(at("top_k"), "top_k", spec.top_k, ">= 0 (0: no top-k filter)", out)


def check(recipe, ctx) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set = set()
    for task in recipe.tasks.values():
        _task(task, task.span, out, seen)
    done: set = set()
    for arm in recipe.arms:
        c = arm.calibration
        if c is not None and ("cal", c.span, c.n, c.max_tokens, c.temperature, c.top_p, c.top_k) not in done:
            done.add(("cal", c.span, c.n, c.max_tokens, c.temperature, c.top_p, c.top_k))
            at = lambda key: c.spans.get(key, c.span)  # noqa: E731  (the value's own span)
            if c.n <= 0:
                _bad(at("n"), "n", c.n, "> 0", out)
            if c.max_tokens <= 0:
                _bad(at("max_tokens"), "max_tokens", c.max_tokens, "> 0", out)
            _sampling(c, at, out)
            if c.shots < 0:
                _bad(at("shots"), "shots", c.shots, ">= 0", out)
            if c.seed < 0:
                _bad(at("seed"), "seed", c.seed, ">= 0", out)
        for seg in arm.schedule:
            if ("seg", seg.span, seg.targets, seg.rho, seg.steps, seg.every) in done:
                continue
            done.add(("seg", seg.span, seg.targets, seg.rho, seg.steps, seg.every))
            at = lambda key: seg.spans.get(key, seg.span)  # noqa: E731
            for t in seg.targets:
                if not 0 < t < 1:
                    _bad(at("targets"), "a sparsity", t, "strictly between 0 and 1", out, percent_hint(t))
            if not 0 <= seg.rho <= 1:
                _bad(at("rho"), "ρ", seg.rho, "in [0, 1]", out)
            if seg.steps is not None and seg.steps < 1:
                _bad(at("steps"), "steps", seg.steps, ">= 1", out)
            if seg.every is not None and not 0 < seg.every < 1:
                _bad(at("every"), "every", seg.every, "strictly between 0 and 1", out)
        for ev in arm.evals:  # evaluation points: checked where they are built, with their own spans
            _task(ev.task, ev.span, out, seen)
    return out
