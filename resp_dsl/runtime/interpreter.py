"""The interpreter behind `resp-dsl run`: walk the graph, reuse what the store holds, run the rest.

For each node in dependency order: compute its content key; if the store holds
a sound entry, reuse it; otherwise run the op into a temporary directory that
the store renames into place. A corrupt entry is reported and recomputed,
never used. Long ops checkpoint into the store's partial dir, so a killed run
resumes where it stopped and ends with the same artifacts as an uninterrupted
one (sampling is seeded per prompt).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resp_dsl.runtime.ops import OPS, Artifact, OpError, RunContext


SUMMARY = "summary.json"  # every entry's short result (accuracy, achieved sparsity, ...)


class NodeFailed(RuntimeError):
    def __init__(self, node, key: str, message: str, hint: str | None, partial: Path | None):
        super().__init__(message)
        self.node, self.key, self.hint, self.partial = node, key, hint, partial


@dataclass
class NodeOutcome:
    id: str
    op: str
    key: str
    status: str  # cached | done | recomputed | failed | skipped
    seconds: float = 0.0
    summary: dict = field(default_factory=dict)
    error: str | None = None
    hint: str | None = None


def _nodes_in_order(graph) -> list[Any]:
    order = graph.topological_order()
    return [graph.nodes[n] if isinstance(n, str) else n for n in order]


def run_graph(graph, *, store, out_dir: Path, reporter=None, overwrite_exports: bool = False,
              targets: set[str] | None = None, keep_going: bool = False, compute: set[str] | None = None,
              batch_size: int | str | None = None) -> list[NodeOutcome]:
    """Execute `graph`; returns one outcome per node. Raises NodeFailed with the failing node.

    A failing report never stops the run (the other reports and the exports are still
    written); with `keep_going` no failing op does: every node that does not depend on a
    failed one still runs, the failed ones have status "failed" (with `error`, `hint`) and
    their descendants "skipped". A caller tells a partial run by those statuses.

    `targets`: run only these nodes (with `--until`, a node and its ancestors); `compute`:
    the nodes that may be computed, the others must be in the store (`--only`)."""
    reporter = reporter or _PlainReporter()
    nodes = [n for n in _nodes_in_order(graph) if targets is None or n.id in targets]
    keys = {n.id: graph.key(n.id) for n in nodes}
    ctx = RunContext(store=store, out_dir=Path(out_dir), progress=reporter.progress, log=reporter.log,
                     overwrite_exports=overwrite_exports, batch_size=batch_size)
    outcomes: dict[str, NodeOutcome] = {}
    artifacts: dict[str, Artifact] = {}
    preflight(nodes)
    reporter.start([(n.id, n.op, keys[n.id]) for n in nodes])
    for node in nodes:
        key = keys[node.id]
        status = "done"
        blocked = [p for p in node.inputs.values() if outcomes[p].status in ("failed", "skipped")]
        if blocked:
            outcomes[node.id] = NodeOutcome(node.id, node.op, key, "skipped", error=f"needs {blocked[0]}, which failed")
            reporter.node(node.id, "skipped", outcomes[node.id])
            continue
        if store.has(key):
            try:
                entry = store.open(key, verify=True)
                summary = _read_summary(Path(entry.path))
                if _outputs_present(ctx, node, Path(entry.path), summary):
                    artifacts[node.id] = Artifact(key, node.op, Path(entry.path), dict(entry.meta))
                    outcomes[node.id] = NodeOutcome(node.id, node.op, key, "cached", summary=summary)
                    reporter.node(node.id, "cached", outcomes[node.id])
                    ctx.summaries[node.id] = summary
                    continue
            except Exception as exc:  # CorruptEntryError and anything unreadable: recompute
                reporter.log(f"warning: the cached entry of {node.id} ({key[:12]}) is corrupt "
                             f"and is recomputed: {exc}")
                store.rm(key)
                status = "recomputed"
        if compute is not None and node.id not in compute:
            raise NodeFailed(node, key, "is not in the store, and --only runs just the nodes it names",
                             f"run with --until {node.id} first (or --until the node you named)", None)
        if node.op not in OPS:
            raise NodeFailed(node, key, f"op {node.op!r} has no implementation in this runtime", None, None)
        inputs = {role: artifacts[pid] for role, pid in node.inputs.items()}
        reporter.node(node.id, "running", None)
        ctx.partial = store.partial_dir(key)
        t0 = time.perf_counter()
        try:
            # The entry holds only what its key determines: no node id, arm or label of this recipe.
            with store.write(key, {"op": node.op, "params": node.params}) as tmp:
                summary = OPS[node.op](ctx, node, inputs, Path(tmp)) or {}
                (Path(tmp) / SUMMARY).write_text(json.dumps(summary, sort_keys=True), encoding="utf-8")
            seconds = time.perf_counter() - t0
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # name the node and where its partial results are
            failed = NodeFailed(node, key, str(exc), exc.hint, ctx.partial) if isinstance(exc, OpError) else \
                NodeFailed(node, key, f"{type(exc).__name__}: {exc}", None, ctx.partial)
            if not (keep_going or node.op == "report"):
                raise failed from exc
            outcomes[node.id] = NodeOutcome(node.id, node.op, key, "failed", error=str(failed), hint=failed.hint)
            reporter.node(node.id, "failed", outcomes[node.id])
            continue
        entry = store.open(key, verify=False)
        artifacts[node.id] = Artifact(key, node.op, Path(entry.path), dict(entry.meta))
        outcomes[node.id] = NodeOutcome(node.id, node.op, key, status, seconds, summary)
        ctx.summaries[node.id] = summary
        reporter.node(node.id, status, outcomes[node.id])
    return [outcomes[n.id] for n in nodes]


def preflight(nodes) -> None:
    """Failures that must stop a run before any work: a missing optional backend."""
    for node in nodes:
        if node.op == "load_model" and node.params.get("backend") == "vllm":
            from resp_dsl.generation.vllm import BackendUnavailable, require_vllm

            try:
                require_vllm()
            except BackendUnavailable as exc:
                raise NodeFailed(node, "", str(exc), "install the extra, or write `backend hf` in the recipe",
                                 None) from None


def write_heatmaps(outcomes, store, out_dir: Path) -> list[Path]:
    """A kept-structures heatmap per pruned model, into <out>/heatmaps/."""
    from resp_dsl.runtime.report import _slug, heatmap

    written = []
    for o in outcomes:
        if o.op != "prune":
            continue
        sel_path = store.entry_dir(o.key) / "selection.json"
        if not sel_path.is_file():
            continue
        target = out_dir / "heatmaps" / f"{_slug(o.id)}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        sel = json.loads(sel_path.read_text(encoding="utf-8"))
        written.append(heatmap(sel, target, f"{o.id}: {100 * sel['achieved']:.1f}% pruned"))
    return written


def _outputs_present(ctx: RunContext, node, entry_path: Path, summary: dict) -> bool:
    """Side effects outside the store: a report is re-published into this run's --out; an export
    whose directory is gone (or was written for another entry) is written again."""
    if node.op == "report":
        from resp_dsl.runtime.report import publish

        publish(entry_path, summary, ctx.out_dir)
    elif node.op == "export":
        from resp_dsl.runtime.ops import export_target

        target = export_target(ctx, node.params)
        if not (target / "resp_dsl.json").is_file():
            return False
    return True


def _read_summary(path: Path) -> dict:
    f = path / SUMMARY
    return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else {}


class _PlainReporter:
    def start(self, nodes):
        pass

    def node(self, node_id, status, outcome):
        if status != "running":
            extra = f" ({outcome.seconds:.1f}s)" if outcome and outcome.seconds else ""
            print(f"{status:>10}  {node_id}{extra}")

    def progress(self, label, done, total):
        pass

    def log(self, message):
        print(message)
