"""IR -> Graph: each arm lowers to its own chain of nodes; passes then share prefixes.

A milestone schedule lowers to score -> prune@m1 -> (regenerate) -> score -> prune@m2 ...;
an iterative schedule to one prune node per evaluation point (steps split in
proportion); a one-shot schedule to one score node and a prune node per target.
"""

from __future__ import annotations

from pathlib import Path

from resp_dsl import zoo
from resp_dsl.compile.ops import OPS, validate_params
from resp_dsl.graph import Graph, Node
from resp_dsl.ir.models import ArmIR, RecipeIR, TaskSpec


def _fmt(x: float) -> str:
    return f"{x:g}"


class _ArmLowering:
    def __init__(self, recipe: RecipeIR, arm: ArmIR, graph: Graph):
        self.recipe, self.arm, self.g = recipe, arm, graph
        self.prefix = arm.label

    def node(self, nid: str, op: str, params: dict, inputs: dict, span, files=()) -> str:
        full = f"{self.prefix}/{nid}"
        self.g.add(Node(full, op, OPS[op].version, validate_params(op, params), inputs, span,
                        (self.arm.label,), tuple(files)))
        return full

    def local(self, path: str) -> str:
        p = Path(path).expanduser()
        if not p.is_absolute() and not self.recipe.file.startswith("<"):
            cand = Path(self.recipe.file).parent / p
            if cand.exists() or not p.exists():
                p = cand
        return str(p)

    def task_files(self, task: TaskSpec, split: str) -> list[str]:
        if task.source == "local" and task.path:
            return [self.local(task.path)]
        if zoo.is_bundled_task(task.name):
            return [str(zoo.task_data_path(task.name, split))]
        return []

    def lower(self) -> None:
        arm = self.arm
        m = arm.model
        files = []
        if m.kind == "local":
            files = [self.local(m.source)]
        elif m.kind == "zoo":
            files = [str(zoo.path(m.source[4:], must_exist=False))] if m.source[4:] in zoo.MODELS else []
        model = self.node("load_model", "load_model", {"model": m.source if m.kind != "local" else self.local(m.source),
                                                       "dtype": m.dtype, "device": m.device, "backend": m.backend,
                                                       "revision": m.revision}, {}, m.span, files)
        at: dict[float, str] = {0.0: model}
        cal = None
        c = arm.calibration
        if c is not None and arm.score is not None and arm.score.method != "magnitude":
            cfiles = []
            if c.text_file:
                cfiles = [self.local(c.text_file)]
            elif c.dataset.endswith((".jsonl", ".json", ".txt")):
                cfiles = [self.local(c.dataset)]
            elif zoo.is_bundled_task(c.dataset):
                cfiles = [str(zoo.task_data_path(c.dataset, c.split))]
            cal = self.node(f"calibrate/{c.source}", "calibrate", {
                "source": c.source, "dataset": c.dataset, "split": c.split, "n": c.n, "seed": c.seed,
                "max_tokens": c.max_tokens, "temperature": c.temperature, "top_p": c.top_p,
                "text_file": c.text_file}, {"model": model}, c.span, cfiles)
        points = sorted({p for e in arm.evals for p in e.points} | {p for e in arm.exports for p in e.points})
        cur, cur_s = model, 0.0
        score = arm.score
        for seg in arm.schedule if score is not None else ():
            sp = score.model_dump(mode="json", exclude={"span"})
            sp["structures"] = list(sp["structures"])
            prot = {"first_fraction": arm.protect.first_fraction, "last": arm.protect.last,
                    "blocks": list(arm.protect.blocks)}

            def scored(model_id: str, calib: str | None, tag: str) -> str:
                inputs = {"model": model_id}
                if calib is not None:
                    inputs["calibration"] = calib
                return self.node(f"score@{tag}", "score", sp, inputs, seg.span)

            def pruned(model_id, scores_id, calib, target, steps) -> str:
                inputs = {"model": model_id, "scores": scores_id}
                if calib is not None:
                    inputs["calibration"] = calib
                return self.node(f"prune@{_fmt(target)}", "prune", {
                    "target": target, "basis": arm.basis, "protect": prot, "steps": steps,
                    "score": sp if steps > 1 else None, "mode": seg.mode}, inputs, seg.span)

            if seg.kind == "milestones":
                for t in seg.targets:
                    if cur_s > 0 and seg.rho > 0 and cal is not None:
                        cal = self.node(f"regenerate@{_fmt(cur_s)}", "regenerate",
                                        {"rho": seg.rho, "seed": c.seed if c else 0},
                                        {"model": cur, "calibration": cal}, seg.span)
                    s = scored(cur, cal, _fmt(cur_s))
                    cur, cur_s = pruned(cur, s, cal, t, 1), t
                    at[t] = cur
            elif seg.kind == "iterative":
                target = seg.targets[0]
                total = seg.steps if seg.steps is not None else max(1, round((target - cur_s) / seg.every))
                stops = [p for p in points if cur_s < p < target] + [target]
                span0, done = target - cur_s, 0
                for i, stop in enumerate(stops):
                    k = total - done if i == len(stops) - 1 else max(1, round(total * (stop - cur_s) / span0))
                    k = max(1, k)
                    done += k
                    s = scored(cur, cal, _fmt(cur_s))
                    cur, cur_s = pruned(cur, s, cal, stop, k), stop
                    at[stop] = cur
            else:  # oneshot: one score, one branch per target
                s = scored(cur, cal, _fmt(cur_s))
                for t in seg.targets:
                    at[t] = pruned(cur, s, cal, t, 1)
        for ev in arm.evals:
            t = ev.task
            for p in ev.points:
                if p not in at:
                    continue  # reported by the eval-points check
                self.node(f"eval/{t.name}@{_fmt(p)}", "eval", {
                    "task": t.name, "task_file": self.local(t.path) if t.path else None, "answer": t.answer,
                    "split": t.split, "shots": t.shots, "max_new_tokens": t.max_new_tokens,
                    "temperature": t.temperature, "top_p": t.top_p, "seed": t.seed, "limit": t.limit,
                    "chat": t.chat, "enable_thinking": t.enable_thinking, "harness": t.harness,
                    "extractor": t.extractor},
                    {"model": at[p]}, ev.span,
                    self.task_files(t, t.split))
        for ex in arm.exports:
            for p in ex.points:
                if p in at:
                    self.node(f"export/{ex.format}@{_fmt(p)}", "export",
                              {"format": ex.format, "path": ex.path.replace("{sparsity}", _fmt(p))},
                              {"model": at[p]}, ex.span)


def lower(recipe: RecipeIR) -> Graph:
    """The graph of a checked recipe (arms with errors must not reach here)."""
    g = Graph()
    for arm in recipe.arms:
        if arm.model is not None:
            _ArmLowering(recipe, arm, g).lower()
    for rep in recipe.reports:
        inputs = {n.id: n.id for n in g.nodes.values() if n.op == "eval"}
        params = rep.model_dump(mode="json", exclude={"span"})
        g.add(Node(f"report/{rep.name}", "report", OPS["report"].version, validate_params("report", params),
                   inputs, rep.span, tuple(a.label for a in recipe.arms)))
    from resp_dsl.compile.passes import PASSES

    for p in PASSES:
        g = p(g)
    return g
