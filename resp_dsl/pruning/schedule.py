"""Pruning schedules: GISP's linear iterative schedule and RESP's milestones with regeneration.

Each step re-scores the current (already pruned) model and prunes it further, to a target that
is always measured against the dense model, so steps compose exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.calib import CalibSample
from resp_dsl.pruning.scoring import StopForward, score_structures
from resp_dsl.pruning.select import Selection, select_structures, select_uniform, uniform_plan
from resp_dsl.sparsity import linear_targets, regenerated_indices, regeneration_seed

__all__ = ["linear_targets", "mix_calibration", "prune_iterative", "prune_step", "prune_with_milestones",
           "select_sequential"]

SampleSource = Sequence[CalibSample] | Callable[[int, object], Sequence[CalibSample]]


def _samples(source: SampleSource, step: int, model) -> Sequence[CalibSample]:
    return source(step, model) if callable(source) else source


def select_sequential(model, samples: Sequence[CalibSample], *, target: float, first_scores=None,
                      score_kwargs: dict | None = None, select_kwargs: dict | None = None,
                      mode: str = "physical") -> Selection:
    """``allocate="sequential"``: FLAP's structured pruning order, as GISP's code runs its Wanda-sp.

    The uniform plan of `target` (``select.uniform_plan``: the same fraction of every unprotected
    block's heads and channels) is cut one block at a time, first to last; each block is cut by its
    own scores measured on the model whose earlier blocks are already cut, so its activations are
    those the pruned model will feed it (FLAP's ``act_type: sparse``). `first_scores`, when given,
    are the scores of `model` as passed (the first block's); every later block costs one scoring
    pass over `samples`, which for a forward-only scorer stops after that block. Prunes `model` in
    place; returns the final selection.
    """
    kw = dict(select_kwargs or {})
    kw.pop("allocate", None)
    normalize = kw.pop("normalize", "type")
    plan = uniform_plan(model, target=target, **kw)
    blocks = sorted(plan.counts)
    scores = first_scores
    selection = None
    for n, i in enumerate(blocks):
        if scores is None or n > 0:
            scores = _scores_through(model, samples, i, score_kwargs or {})
        selection = select_uniform(model, scores, plan, normalize=normalize, blocks=[i])
        apply_selection(model, selection, mode=mode)
    if selection is None:  # nothing to cut: every block protected (or a zero target)
        selection = select_uniform(model, scores if scores is not None else
                                   score_structures(model, samples, **(score_kwargs or {})), plan,
                                   normalize=normalize, blocks=[])
    selection.allocate = "sequential"
    return selection


def _scores_through(model, samples, block: int, score_kwargs: dict):
    """Scores of `model` of which only block `block`'s are used: a forward-only scorer's passes end
    after that block (the later blocks' scores are then those of no counted token)."""
    from resp_dsl.models.adapters import get_adapter
    from resp_dsl.scorers import SCORERS

    layers = get_adapter(model).layers(model)
    if SCORERS[score_kwargs.get("method", "taylor")].backward or block + 1 >= len(layers):
        return score_structures(model, samples, **score_kwargs)

    def stop(module, args, kwargs=None):
        raise StopForward

    handle = layers[block + 1].register_forward_pre_hook(stop)
    try:
        return score_structures(model, samples, **score_kwargs)
    finally:
        handle.remove()


def prune_step(model, scores, samples: Sequence[CalibSample], *, target: float, score_kwargs: dict | None = None,
               select_kwargs: dict | None = None, mode: str = "physical") -> Selection:
    """Prune `model` in place to `target` from `scores` (its scores as it is): one step of a schedule.
    ``allocate="sequential"`` re-scores block by block on `samples` (``select_sequential``)."""
    if (select_kwargs or {}).get("allocate") == "sequential":
        return select_sequential(model, samples, target=target, first_scores=scores, score_kwargs=score_kwargs,
                                 select_kwargs=select_kwargs, mode=mode)
    selection = select_structures(model, scores, target=target, **(select_kwargs or {}))
    apply_selection(model, selection, mode=mode)
    return selection


def prune_iterative(model, sample_source: SampleSource, *, target: float, steps: int,
                    score_kwargs: dict | None = None, select_kwargs: dict | None = None,
                    mode: str = "physical", start: float = 0.0, first_scores=None,
                    on_step: Callable[[int, Selection, object], None] | None = None) -> list[Selection]:
    """Re-score and prune `model` in place over a linear schedule to `target`; returns every step's Selection.

    `sample_source` is a fixed list of samples or a callable (step, model) -> samples.
    `first_scores`, when given, are the scores of `model` as passed in (computed elsewhere on the
    same samples): the first step uses them instead of scoring again.
    """
    history = []
    for step, t in enumerate(linear_targets(target, steps, start)):
        samples = _samples(sample_source, step, model)
        if step == 0 and first_scores is not None:
            scores = first_scores
        else:
            scores = score_structures(model, samples, **(score_kwargs or {}))
        selection = prune_step(model, scores, samples, target=t, score_kwargs=score_kwargs,
                               select_kwargs=select_kwargs, mode=mode)
        history.append(selection)
        if on_step:
            on_step(step, selection, model)
    return history


def mix_calibration(old: Sequence[CalibSample], new: Sequence[CalibSample], rho: float, seed: int) -> list[CalibSample]:
    """Replace a fraction `rho` of the old samples (chosen with `seed`) by fresh ones.

    With equal lengths, sample i of `new` replaces sample i of `old` (the same prompt, regenerated);
    otherwise fresh samples are taken in order. rho=0 keeps `old`, rho=1 gives `new`.
    """
    chosen = regenerated_indices(len(old), rho, seed)
    if len(chosen) > len(new):
        raise ValueError(f"rho={rho} needs {len(chosen)} fresh samples, got {len(new)}")
    out = list(old)
    for n, j in enumerate(chosen):
        out[j] = new[j] if len(new) == len(old) else new[n]
    return out


def prune_with_milestones(model, samples: Sequence[CalibSample], *, milestones: Sequence[float], steps: int,
                          regenerate: Callable[[object, float], Sequence[CalibSample]], rho: float = 1.0,
                          seed: int = 0, score_kwargs: dict | None = None, select_kwargs: dict | None = None,
                          mode: str = "physical",
                          on_step: Callable[[int, Selection, object], None] | None = None,
                          on_milestone: Callable[[float, object, list[CalibSample]], None] | None = None,
                          ) -> list[Selection]:
    """RESP: a linear schedule of `steps` to the last milestone; at each milestone but the last,
    `regenerate(model, milestone)` supplies fresh samples from the pruned model and a fraction `rho`
    of the calibration set, chosen with ``regeneration_seed(seed, milestone)``, is replaced by them."""
    marks = sorted(round(float(m), 12) for m in milestones)
    if not marks:
        raise ValueError("at least one milestone is needed")
    targets = sorted(set(linear_targets(marks[-1], steps)) | set(marks))
    current = list(samples)
    history = []
    for step, t in enumerate(targets):
        scores = score_structures(model, current, **(score_kwargs or {}))
        selection = prune_step(model, scores, current, target=t, score_kwargs=score_kwargs,
                               select_kwargs=select_kwargs, mode=mode)
        history.append(selection)
        if on_step:
            on_step(step, selection, model)
        if t in marks and t != marks[-1]:
            fresh = list(regenerate(model, t))
            current = mix_calibration(current, fresh, rho, regeneration_seed(seed, t))
            if on_milestone:
                on_milestone(t, model, current)
    return history
