"""score: the importance of every head / KV group / MLP channel, by a registered scorer (`resp_dsl.scorers`)."""

from __future__ import annotations

from pathlib import Path

from resp_dsl.ir.models import Loss, ScoreMethod, Variant
from resp_dsl.ops.base import Cost, Op, Params, PlanState, write_json
from resp_dsl.scorers import SCORERS
from resp_dsl.vocab import ALLOCATIONS, Allocate, Normalize, Structure

TOKEN_SCOPE_WORDS = {"decode_only": "decode tokens", "full": "all tokens"}

# Above this size the element-wise Taylor score accumulates its gradient a quarter of the
# blocks at a time (4 passes over the calibration set): peak memory stays near a plain
# forward/backward instead of weights + a full fp32 gradient. Smaller models take one pass.
ONE_PASS_MAX_PARAMS = 1_000_000_000


class ScoreParams(Params):
    method: ScoreMethod
    loss: Loss | None  # token scope of a calibrated scorer (taylor, wanda, ...); None for magnitude
    variant: Variant | None
    structures: list[Structure]
    normalize: Normalize
    allocate: Allocate = ALLOCATIONS[0]  # where the prune node that reads these scores puts its cuts


class Score(Op):
    name = "score"
    version = 2
    params = ScoreParams
    omit_when_default = ("allocate",)  # added after keys were published
    inputs = ("model", "calibration")
    doc = "importance of heads / KV groups / MLP channels"

    def cost(self, node, state: PlanState) -> Cost:
        p, c = node.params, Cost()
        calibration = node.inputs.get("calibration")
        scorer = SCORERS[p["method"]]
        for unit, passes in scorer.cost(state.samples(calibration)).items():
            setattr(c, unit, passes)
        if p.get("allocate") == "sequential":
            state.sequential[node.id] = p["method"]
        scope = TOKEN_SCOPE_WORDS.get(p["loss"])
        variant = p["variant"] if p["variant"] and p["variant"] != scorer.variants[0] else None  # a non-default one
        c.note = (f"{p['method']}" + (f" ({scope})" if scope else "") + (f" {variant}" if variant else "")
                  + f" on {', '.join(p['structures'])}, normalize={p['normalize']}"
                  + (f", allocate={p['allocate']}" if p.get("allocate", ALLOCATIONS[0]) != ALLOCATIONS[0] else ""))
        if state.config:
            cfg = state.config
            tokens = state.tokens(calibration)
            act = (tokens * cfg.hidden_size * cfg.num_hidden_layers * 2 * 16 if scorer.backward
                   else tokens * cfg.hidden_size * 2 * 4)
            grads = cfg.total_params() * 4 if scorer.backward else 0
            c.memory_bytes = cfg.total_params() * 2 + grads + act
        return c

    def shard_kind(self, params: dict) -> str | None:
        scorer = SCORERS.get(params.get("method"))
        return "score" if scorer is not None and scorer.shardable and scorer.calibrated else None

    def run(self, ctx, node, inputs, out: Path) -> dict:
        from safetensors.torch import save_file

        from resp_dsl.pruning.scoring import score_structures
        from resp_dsl.runtime.context import calib_samples

        p = node.params
        model, _ = ctx.model(inputs["model"])
        samples = calib_samples(inputs["calibration"].file("traces.jsonl")) if "calibration" in inputs else []
        kwargs = score_kwargs(p)
        kwargs["layers_per_pass"] = layers_per_pass(model, kwargs)
        scores = score_structures(model, samples, **kwargs,
                                  progress=lambda d, t: ctx.progress("score: calibration batches", d, t))
        save_file({k: v.contiguous() for k, v in scores.to_tensors().items()}, str(out / "scores.safetensors"))
        write_json(out / "scores.json", {"meta": getattr(scores, "meta", {}), "params": score_kwargs(p),
                                         "normalize": p["normalize"], "unit": unit_of(p),
                                         "allocate": p.get("allocate", ALLOCATIONS[0])})
        return {"samples": len(samples)}


def score_kwargs(p: dict) -> dict:
    """The scoring library's arguments from a score node's params (the compiler filled every field)."""
    kwargs = {"method": p["method"], "batch_size": p.get("batch_size") or 8}
    if p["loss"] is not None:
        kwargs["loss"] = p["loss"]  # token scope: Taylor's loss, Wanda-sp's activation norms
    if p["variant"] is not None:
        kwargs["variant"] = p["variant"]
    return kwargs


def layers_per_pass(model, kwargs: dict) -> int | None:
    if kwargs.get("method") != "taylor" or kwargs.get("variant") != "elementwise":
        return None
    if sum(t.numel() for t in model.parameters()) <= ONE_PASS_MAX_PARAMS:
        return None
    return max(1, model.config.num_hidden_layers // 4)


def unit_of(score_params: dict) -> str:
    """Query heads one by one, or whole KV groups, as the recipe's `score ... on` says."""
    return "kv_groups" if "kv_groups" in (score_params.get("structures") or []) else "heads"


OP = Score()
