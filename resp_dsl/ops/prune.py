"""prune: remove the least important structures from the parent checkpoint down to a target, in linear steps."""

from __future__ import annotations

import copy
from pathlib import Path

from resp_dsl.ops.base import Cost, Op, Params, PlanState, write_json
from resp_dsl.ops.score import ScoreParams, layers_per_pass, score_kwargs, unit_of
from resp_dsl.scorers import SCORERS
from resp_dsl.vocab import ALLOCATIONS, Basis, Mode


class ProtectParams(Params):
    first_fraction: float
    last: bool
    blocks: list[int]


class PruneParams(Params):
    start: float  # the sparsity of the parent checkpoint (the schedule's, not the achieved)
    target: float
    basis: Basis
    protect: ProtectParams
    steps: int  # linear steps from start to target; the first uses the score node, each later one re-scores
    score: ScoreParams | None  # re-scoring inside the node when steps > 1
    mode: Mode


def kept_params(cfg, target: float) -> int:
    """Parameters left after pruning to ``target`` of the prunable ones (dense base).

    Protection changes where parameters go, not how many (the target is overall). With
    ``basis structures`` the count depends on the heads/channels mix the scores pick, so
    the params-basis figure is the estimate.
    """
    prunable = cfg.num_hidden_layers * cfg.prunable_block_params()
    return int(cfg.total_params() - target * prunable)


class Prune(Op):
    name = "prune"
    version = 2
    params = PruneParams
    inputs = ("model", "scores", "calibration")
    doc = "remove the least important structures down to a target"
    reported_as = "selection"

    def validate(self, params: dict) -> dict:
        out = super().validate(params)
        if out.get("score"):  # re-scoring needs the scorer's settings; where the cuts go is the score node's
            out["score"].pop("allocate", None)
        return out

    def model_labels(self, node, graph) -> dict:
        scores = node.inputs.get("scores")
        return {"sparsity": float(node.params["target"]), "prune_node": node.id,
                "method": graph.nodes[scores].params.get("method") if scores is not None else None}

    def cost(self, node, state: PlanState) -> Cost:
        p, c = node.params, Cost()
        n = state.samples(node.inputs.get("calibration"))
        method = p["score"]["method"] if p["score"] else None
        rescored = p["steps"] - 1 if method else 0  # every step after the first re-scores
        sequential = state.sequential.get(node.inputs.get("scores") or "")  # its scorer, for allocate=sequential
        if sequential is not None:  # every step scores once per cut block (the first block's are the score node's)
            method = sequential
            rescored = p["steps"] * len(cut_blocks(state.config.num_hidden_layers, p["protect"])) - 1 \
                if state.config else p["steps"] - 1
        if method and rescored > 0:
            for unit, passes in SCORERS[method].cost(rescored * n).items():
                setattr(c, unit, passes)
        state.prunes[node.id] = p
        if state.config:
            c.params_kept = kept_params(state.config, p["target"])
        c.note = (f"{p['start']:g} -> {p['target']:g} of {p['basis']}"
                  + (f" in {p['steps']} steps" if p["steps"] > 1 else ""))
        return c

    def run(self, ctx, node, inputs, out: Path) -> dict:
        """Prune from the parent checkpoint (at sparsity ``start``) to ``target`` in ``steps`` linear steps.

        The first step selects with the parent score node's scores; every later step re-scores the
        current model on the same calibration traces. Only the final selection is stored.
        """
        from safetensors.torch import load_file

        from resp_dsl.pruning.schedule import prune_iterative
        from resp_dsl.pruning.scoring import StructureScores
        from resp_dsl.pruning.select import select_structures
        from resp_dsl.runtime.context import OpError, calib_samples

        p = node.params
        model_art = inputs["model"]
        model, _ = ctx.model(model_art)
        mode, steps = p["mode"], int(p["steps"])
        if "scores" not in inputs:
            raise OpError("pruning needs a score node")
        scores = StructureScores.from_tensors(load_file(str(inputs["scores"].file("scores.safetensors"))))
        score_p = inputs["scores"].json("scores.json")
        samples = []
        sel_kw = select_kwargs(p, score_p)
        sequential = sel_kw["allocate"] == "sequential"
        if steps > 1 or sequential:
            if "calibration" not in inputs and SCORERS[(p["score"] or score_p["params"])["method"]].calibrated:
                raise OpError("iterative pruning re-scores at every step and needs calibration data" if steps > 1
                              else "allocate=sequential re-scores block by block and needs calibration data")
            samples = calib_samples(inputs["calibration"].file("traces.jsonl")) if "calibration" in inputs else []
        if steps == 1 and not sequential:  # selection only: the parent model is not touched, so not copied
            selection = select_structures(model, scores, target=float(p["target"]), **sel_kw)
        else:  # re-scoring (per step, or per block) mutates: the cached parent must stay intact
            work = copy.deepcopy(model)
            kwargs = score_kwargs(p["score"]) if p["score"] else dict(score_p["params"])
            kwargs["layers_per_pass"] = layers_per_pass(work, kwargs)
            history = prune_iterative(work, samples, target=float(p["target"]), steps=steps, start=float(p["start"]),
                                      first_scores=scores, score_kwargs=kwargs,
                                      select_kwargs=sel_kw, mode=mode,
                                      on_step=lambda i, sel, m: ctx.progress("prune: steps", i + 1, steps))
            selection = history[-1]
        info = model_art.json("model.json")
        write_json(out / "selection.json", selection.to_dict())
        write_json(out / "model.json", {"base": info["base"], "selection": "selection.json", "mode": mode,
                                        "parent": model_art.key, "achieved": selection.achieved,
                                        "model_type": info.get("model_type")})
        return {"target": float(p["target"]), "basis": p["basis"], "steps": steps, "achieved": selection.achieved,
                "achieved_params": selection.achieved_params, "achieved_structures": selection.achieved_structures}


def cut_blocks(n_layers: int, protect: dict) -> list[int]:
    """The blocks a prune node may cut: all but the protected ones."""
    from resp_dsl.sparsity import protected_blocks

    kept = protected_blocks(n_layers, first_fraction=float(protect["first_fraction"]), last=bool(protect["last"]),
                            blocks=tuple(int(b) for b in protect["blocks"]))
    return [i for i in range(n_layers) if i not in kept]


def select_kwargs(p: dict, score_params: dict) -> dict:
    from resp_dsl.pruning.select import ProtectSpec

    prot = p["protect"]
    protect = ProtectSpec(first_fraction=float(prot["first_fraction"]), last=bool(prot["last"]),
                          blocks=tuple(int(b) for b in prot["blocks"]))
    return {"basis": p["basis"], "protect": protect, "normalize": score_params["normalize"],
            "unit": score_params.get("unit") or unit_of(score_params),
            "allocate": score_params.get("allocate") or ALLOCATIONS[0]}


OP = Prune()
