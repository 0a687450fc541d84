"""Targets stay reachable once protected blocks are held out.

With L blocks of which P are protected, an overall sparsity t (of all prunable
parameters or structures, dense model as the base) asks the other blocks to give up
t * L / (L - P) of theirs: 40% with the first 10% and the last block of Qwen3-8B
protected needs 45% of the rest. That must stay below 100%. Without a config, only a
protection that covers every block is caught.
"""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic

MAX_LOCAL_SPARSITY = 0.99  # leave every unprotected block at least a sliver


def needed_fraction(target: float, num_layers: int, protected: int) -> float | None:
    free = num_layers - protected
    return None if free <= 0 else target * num_layers / free


def check(recipe, ctx) -> list[Diagnostic]:
    out, seen = [], set()
    for arm in recipe.arms:
        if not arm.schedule:
            continue
        valid = [t for s in arm.schedule for t in s.targets if 0 < t < 1]  # others: ranges check
        if not valid:
            continue
        top = max(valid)
        seg = next(s for s in arm.schedule if top in s.targets)
        cfg = ctx.usable_config(arm.model.source) if arm.model else None
        p = arm.protect
        if cfg is None:
            if p.first_fraction >= 1.0 and (seg.span, "all") not in seen:
                seen.add((seg.span, "all"))
                out.append(Diagnostic(C.UNREACHABLE_TARGET, seg.span,
                                      f"target {top:g} is unreachable: every block is protected"))
            continue
        L = cfg.num_hidden_layers
        for b in p.blocks:
            if not -L <= b < L and (p.span, b) not in seen:
                seen.add((p.span, b))
                out.append(Diagnostic(C.PROTECT_OUT_OF_RANGE, p.spans.get(str(b)) or p.span or arm.span,
                                      f"block {b} does not exist: the model has {L} blocks (0..{L - 1})"))
        prot = p.resolve(L)
        need = needed_fraction(top, L, len(prot))
        if (need is None or need > MAX_LOCAL_SPARSITY) and (seg.span, top) not in seen:
            seen.add((seg.span, top))
            where = _blocks(prot)
            msg = (f"target {top:g} is unreachable: all {L} blocks are protected" if need is None else
                   f"target {top:g} is unreachable: with blocks {where} protected the other "
                   f"{L - len(prot)} blocks would lose {need:.1%} of their prunable parameters (at most "
                   f"{MAX_LOCAL_SPARSITY:.0%})")
            out.append(Diagnostic(C.UNREACHABLE_TARGET, seg.spans.get("targets", seg.span), msg,
                                  hint="lower the target or protect fewer blocks"))
    return out


def _blocks(idx: list[int]) -> str:
    if not idx:
        return "none"
    parts, start = [], idx[0]
    prev = start
    for i in idx[1:] + [None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(parts)
