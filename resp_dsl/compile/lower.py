"""IR -> Graph: each arm lowers to its own chain of nodes; passes then share prefixes.

An arm is ``load_model`` -> ``calibrate`` -> its schedule's segments -> ``eval`` / ``export``
at the points reached. Each segment lowers by its kind (``compile/lowering/<kind>.py``, the
``SEGMENTS`` table): a milestone or iterative schedule is a path cut into checkpointed intervals
at its milestones and at the evaluation/export points inside it (``sparsity.path_intervals``):
each interval is score -> prune (k linear steps, re-scoring at each), and before pruning
past a milestone a ``regenerate`` node refreshes a fraction ρ of the traces. A one-shot
schedule lowers to one score node and a prune node per target. A step's checkpoint is
its selection, never a copy of the model. Node ids and params are made here
(``ArmLowering.scored`` / ``pruned`` / ``regenerated``), whatever the kind.

Sampling settings the recipe leaves open (temperature, top_p, top_k) are resolved here
from the model's generation_config (offline: its directory or the registry), so keys and
``plan`` show the values in force.
"""

from __future__ import annotations

from pathlib import Path

from resp_dsl import zoo
from resp_dsl.compile.labels import names_arm
from resp_dsl.compile.lowering import SEGMENTS
from resp_dsl.graph import Graph, Node
from resp_dsl.ir.models import ArmIR, RecipeIR, Segment, TaskSpec
from resp_dsl.ops import OPS, validate_params
from resp_dsl.registry import SAMPLING_KEYS, ConfigError, generation_defaults


def _fmt(x: float) -> str:
    return f"{x:g}"


class ArmLowering:
    def __init__(self, recipe: RecipeIR, arm: ArmIR, graph: Graph):
        self.recipe, self.arm, self.g = recipe, arm, graph
        self.prefix = arm.label

    def node(self, nid: str, op: str, params: dict, inputs: dict, span, files=()) -> str:
        full, base, i = f"{self.prefix}/{nid}", f"{self.prefix}/{nid}", 2
        while full in self.g.nodes:  # e.g. two evals of one task at one point, with other settings
            full, i = f"{base}#{i}", i + 1
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

    def sampling(self, spec) -> dict:
        """temperature / top_p / top_k in force: the recipe's, else the model's generation_config."""
        if not hasattr(self, "_gen"):
            m = self.arm.model
            try:
                self._gen = generation_defaults(self.local(m.source) if m.kind == "local" else m.source)
            except ConfigError:
                self._gen = None  # an unreadable generation_config: the runtime reads what the model has
        return {k: getattr(spec, k) if getattr(spec, k) is not None else (self._gen or {}).get(k)
                for k in SAMPLING_KEYS}

    def scored(self, seg: Segment, model_id: str, calib: str | None, at: float) -> str:
        """A score node on ``model_id`` (at sparsity ``at``), reading the traces ``calib``."""
        inputs = {"model": model_id}
        if calib is not None:
            inputs["calibration"] = calib
        return self.node(f"score@{_fmt(at)}", "score", self.score_params(), inputs, seg.span)

    def pruned(self, seg: Segment, model_id: str, scores_id: str, calib: str | None, start: float, target: float,
               steps: int) -> str:
        """A prune node from ``start`` to ``target`` in ``steps`` steps (re-scoring between them)."""
        arm = self.arm
        prot = {"first_fraction": arm.protect.first_fraction, "last": arm.protect.last,
                "blocks": list(arm.protect.blocks)}
        inputs = {"model": model_id, "scores": scores_id}
        if calib is not None:
            inputs["calibration"] = calib
        prune_id = self.node(f"prune@{_fmt(target)}", "prune", {
            "start": start, "target": target, "basis": arm.basis, "protect": prot, "steps": steps,
            "score": self.score_params() if steps > 1 else None, "mode": seg.mode}, inputs, seg.span)
        self.scored_by[prune_id] = scores_id
        return prune_id

    def regenerated(self, seg: Segment, milestone: float) -> str:
        """A regenerate node: the current model refreshes a fraction ρ of the traces at ``milestone``."""
        c = self.arm.calibration
        return self.node(f"regenerate@{_fmt(milestone)}", "regenerate",
                         {"rho": seg.rho, "seed": c.seed if c else 0, "milestone": milestone},
                         {"model": self.cur, "calibration": self.cal}, seg.span)

    def score_params(self) -> dict:
        sp = self.arm.score.model_dump(mode="json", exclude={"span"})
        sp["structures"] = list(sp["structures"])
        return sp

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
                                                       "revision": m.revision, "devices": m.devices}, {}, m.span,
                          files)
        at: dict[float, str] = {0.0: model}
        cal = None
        c = arm.calibration
        if arm.draws_calibration:
            cfiles = []
            text_file = self.local(c.text_file) if c.text_file else None
            task_file = self.local(c.task_file) if c.task_file else None
            if text_file or task_file:
                cfiles = [text_file or task_file]
            elif zoo.is_bundled_task(c.dataset):
                cfiles = [str(zoo.task_data_path(c.dataset, c.split))]
            cal = self.node(f"calibrate/{c.source}", "calibrate", {
                "source": c.source, "dataset": c.dataset, "split": c.split, "shots": c.shots, "n": c.n, "seed": c.seed,
                "max_tokens": c.max_tokens, **self.sampling(c), "text_file": text_file, "task_file": task_file},
                {"model": model}, c.span, cfiles)
        self.points = sorted({p for e in arm.evals for p in e.points} | {p for e in arm.exports for p in e.points})
        self.scored_by: dict[str, str] = {}  # prune node -> the score node it selected with
        # the path so far: its last model node, that node's sparsity, the calibration traces in force,
        # and the model node at each sparsity reached (what evals and exports read)
        self.cur, self.cur_s, self.cal, self.at = model, 0.0, cal, at
        for seg in arm.schedule if arm.score is not None else ():
            SEGMENTS[seg.kind](self, seg)
        at, scored_by = self.at, self.scored_by
        for ev in arm.evals:
            t = ev.task
            # `on calibration`: the problems of the calibration's draw (its split, n and seed); absent
            # otherwise, so that every other eval keeps its key
            draw = {"split": c.split, "n": c.n, "seed": c.seed} if ev.on_calibration and c is not None else None
            split = draw["split"] if draw else t.split
            for p in ev.points:
                if p not in at:
                    continue  # reported by the eval-points check
                self.node(f"eval/{t.name}{'/calibration' if draw else ''}@{_fmt(p)}", "eval", {
                    "task": t.name, "task_file": self.local(t.path) if t.path else None, "answer": t.answer,
                    "split": split, "shots": t.shots, "max_new_tokens": t.max_new_tokens,
                    **self.sampling(t), "seed": t.seed, "limit": None if draw else t.limit,
                    "chat": t.chat, "enable_thinking": t.enable_thinking, "harness": t.harness,
                    "extractor": t.extractor, "draw": draw},
                    {"model": at[p]}, ev.span,
                    self.task_files(t, split))
        for ex in arm.exports:
            for p in ex.points:
                if p in at:
                    inputs = {"model": at[p]}
                    if ex.round != "none" and at[p] in scored_by:  # rounding ranks within blocks by these
                        inputs["scores"] = scored_by[at[p]]
                    self.node(f"export/{ex.format}@{_fmt(p)}", "export",
                              {"format": ex.format, "path": ex.path.replace("{sparsity}", _fmt(p)),
                               "round": ex.round}, inputs, ex.span)


def lower(recipe: RecipeIR, *, passes=None) -> Graph:
    """The graph of a checked recipe (arms with errors must not reach here).

    ``passes`` replaces ``compile.passes.PASSES``: without ``share_prefixes`` every arm keeps its
    own chain, as if it ran alone (what bench/bench_prefix_sharing.py compares against).
    """
    g = Graph()
    for arm in recipe.arms:
        if arm.model is not None:
            ArmLowering(recipe, arm, g).lower()
    for rep in recipe.reports:
        over = "selection" if rep.kind == "heatmap" else "result"  # a heatmap maps the pruned models
        inputs = {n.id: n.id for n in g.nodes.values() if OPS[n.op].reported_as == over
                  and (rep.kind != "compare" or any(names_arm(a, rep.a) or names_arm(a, rep.b) for a in n.arms))}
        params = rep.model_dump(mode="json", exclude={"span", "spans"})
        g.add(Node(f"report/{rep.name}", "report", OPS["report"].version, validate_params("report", params),
                   inputs, rep.span, tuple(a.label for a in recipe.arms)))
    from resp_dsl.compile.passes import PASSES

    for p in PASSES if passes is None else passes:
        g = p(g)
    return g
