"""regenerate: at a milestone, the current (pruned) model re-samples a fraction ρ of the traces."""

from __future__ import annotations

from pathlib import Path

from resp_dsl.ops.base import Cost, Op, Params, PlanState, generation_memory
from resp_dsl.ops.calibrate import PROMPT_ALLOWANCE
from resp_dsl.sparsity import regeneration_seed


class RegenerateParams(Params):
    rho: float
    seed: int  # the calibration seed; the milestone's own sampling seed is derived from it
    milestone: float  # the sparsity of the model that regenerates


class Regenerate(Op):
    name = "regenerate"
    version = 2
    params = RegenerateParams
    inputs = ("model", "calibration")
    doc = "re-sample a fraction rho of the traces with the current model"
    seeded = True

    def cost(self, node, state: PlanState) -> Cost:
        p, c = node.params, Cost()
        parent = node.inputs["calibration"]
        n, tokens = state.samples(parent), state.tokens(parent, 2048)
        state.calibration[node.id] = (n, tokens)
        redo = int(round(p["rho"] * n))
        c.tokens_generated = redo * (tokens - PROMPT_ALLOWANCE)
        c.note = f"re-sample {redo} of {n} traces at {p['milestone']:g}, seed {regeneration_seed(p['seed'], p['milestone'])}"
        if state.config:
            c.memory_bytes = generation_memory(state.config, tokens)
        return c

    def shard_kind(self, params: dict) -> str | None:
        return "generation" if float(params.get("rho") or 0) > 0 else None

    def run(self, ctx, node, inputs, out: Path) -> dict:
        """Re-sample a fraction rho of the calibration traces with the current (pruned) model.

        The milestone samples with its own seed, ``regeneration_seed(calibration seed, milestone)``,
        which also picks the traces to replace; both are recorded with every fresh trace.
        """
        from resp_dsl.runtime.context import (
            OpError,
            generate,
            read_traces,
            records_from_generations,
            sampling_in_force,
            trace_stats,
            write_traces,
        )
        from resp_dsl.sparsity import regenerated_indices

        p = node.params
        rho = float(p["rho"])
        seed = regeneration_seed(p["seed"], p["milestone"])
        old = read_traces(inputs["calibration"].file("traces.jsonl"))
        chosen = regenerated_indices(len(old), rho, seed)
        records = [dict(r) for r in old]
        if chosen:
            model_art = inputs["model"]
            model, tok = ctx.model(model_art)
            prompts = [old[i]["prompt"] for i in chosen]
            if any(not pr for pr in prompts):
                raise OpError("only self-generated or task calibration can be regenerated (generic text has no prompt)")
            calib = dict(old[chosen[0]].get("settings") or {})
            gen_params = {**calib, **sampling_in_force(calib, model),
                          **{k: v for k, v in p.items() if k in ("batch_size", "backend")}}
            gens = generate(ctx, model, tok, prompts, gen_params, out, f"regenerate ρ={rho}", seed, model_art)
            settings = {**{k: gen_params[k] for k in ("temperature", "top_p", "top_k", "max_tokens")},
                        "seed": seed, "calibration_seed": p["seed"], "milestone": p["milestone"]}
            fresh = records_from_generations(gens, tok, "self_generated", settings, model_art.key)
            for i, rec in zip(chosen, fresh):
                records[i] = {**rec, "index": i, "regenerated": True}
        write_traces(out / "traces.jsonl", records)
        return {**trace_stats(records), "regenerated": len(chosen), "sampling_seed": seed}


OP = Regenerate()
