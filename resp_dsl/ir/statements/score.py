"""`score METHOD [token scope] [variant] [on STRUCTURES] [normalize=N] [allocate=A]`: how
structures are ranked and where the cuts go (the scorers' own table, ``resp_dsl.scorers``, says
which options apply; ``vocab.ALLOCATIONS`` the allocations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl import codes as C
from resp_dsl import vocab as V
from resp_dsl.ir import models as M
from resp_dsl.scorers import SCORERS, TOKEN_SCOPES
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    method = a.head(tuple(SCORERS), "score method",
                    f"`score` needs a method: {', '.join(SCORERS)}")
    if method is None:
        return
    loss = variant = None
    all_variants = tuple(dict.fromkeys(w for s in SCORERS.values() for w in s.variants))
    while a.pos:
        v = a.take()
        if isinstance(v, A.Name) and v.value in TOKEN_SCOPES:
            if loss is not None:
                b.sink.add(C.DUPLICATE_OPTION, v.span, "the loss is given twice")
            loss = (v.value, v.span)
        elif isinstance(v, A.Name) and v.value in all_variants:
            variant = (v.value, v.span)
        else:
            b.word(v, TOKEN_SCOPES + all_variants, "score option")
    structures = ("heads", "channels")
    on = a.clause("on")
    if on is not None:
        got = []
        for v in on.values:
            for item in b.values(v, "structures"):
                w = b.word(item, V.STRUCTURES, "structure")
                if w and w not in got:
                    got.append(w)
        if "heads" in got and "kv_groups" in got:
            b.sink.add(C.INCOMPATIBLE_OPTIONS, on.span, "score either heads or kv_groups, not both",
                       hint="a KV group already contains its query heads")
        structures = tuple(got) if got else structures
    defaults = M.ScoreSpec.model_fields
    norm_v = a.opt("normalize")
    normalize = b.word(norm_v, V.NORMALIZATIONS, "normalisation") if norm_v else defaults["normalize"].default
    alloc_v = a.opt("allocate")
    allocate = b.word(alloc_v, V.ALLOCATIONS, "allocation") if alloc_v else defaults["allocate"].default
    a.finish(("normalize", "allocate"), ("on",))
    if method is None or normalize is None or allocate is None:
        return
    # The token scope (loss) matters to every calibrated scorer: Taylor's loss, Wanda-sp's
    # activation norms. Default: every token of each calibration sample (Wanda/FLAP, GISP).
    scorer = SCORERS[method]
    bad = [opt for opt, ok in ((loss, scorer.token_scope), (variant, variant and variant[0] in scorer.variants))
           if opt is not None and not ok]
    for opt in bad:
        b.sink.add(C.INCOMPATIBLE_OPTIONS, opt[1], f'"{opt[0]}" does not apply to {method} scores',
                   hint=_score_options_hint())
    if norm_v is not None and allocate != "global":
        b.sink.add(C.NO_EFFECT, norm_v.span, f"`normalize` has no effect with allocate={allocate}",
                   hint="a uniform cut ranks structures only within one block and one type; drop normalize=")
    if allocate == "sequential" and not scorer.calibrated:
        b.sink.add(C.INCOMPATIBLE_OPTIONS, alloc_v.span,
                   f"allocate=sequential re-scores each block on the pruned model's activations; "
                   f"{method} scores read no activations",
                   hint="use allocate=uniform (the same cuts, without the re-scoring)")
    loss_v = (loss[0] if loss else "full") if scorer.token_scope else None
    variant_v = (variant[0] if variant and variant[0] in scorer.variants else scorer.variants[0]) \
        if scorer.variants else None
    b.set(scope, "score", M.ScoreSpec(method=method, loss=loss_v, variant=variant_v, structures=structures,
                                      normalize=normalize, allocate=allocate, span=cmd.span), cmd.span)


def _score_options_hint() -> str:
    scoped = [s.name for s in SCORERS.values() if s.token_scope]
    out = f"decode_only/full choose the calibration tokens of {', '.join(scoped)}"
    for s in SCORERS.values():
        if s.variants:
            out += f"; {'/'.join(s.variants)} are {s.name} variants"
    return out
