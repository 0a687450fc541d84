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
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resp_dsl.ops import OPS
from resp_dsl.runtime.context import Artifact, OpError, RunContext
from resp_dsl.runtime.store import LockedError, copy_atomic

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
    peak_rss_mib: float | None = None  # on a Ray worker: that worker process's peak resident memory after the node


def _nodes_in_order(graph) -> list[Any]:
    order = graph.topological_order()
    return [graph.nodes[n] if isinstance(n, str) else n for n in order]


def run_graph(graph, *, store, out_dir: Path, reporter=None, overwrite_exports: bool = False,
              targets: set[str] | None = None, keep_going: bool = False, compute: set[str] | None = None,
              batch_size: int | str | None = None, recipe: str = "", threads: int | None = None) -> list[NodeOutcome]:
    """Execute `graph`; returns one outcome per node. Raises NodeFailed with the failing node.

    A node that another live run is writing is waited for (with a message every few
    seconds) and then reused, so two runs on one store both finish.

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
                     overwrite_exports=overwrite_exports, batch_size=batch_size, threads=threads)
    outcomes: dict[str, NodeOutcome] = {}
    artifacts: dict[str, Artifact] = {}
    announced: set[str] = set()  # keys whose corrupt entries were announced (and are recomputed)
    preflight(nodes)
    reporter.start([(n.id, n.op, keys[n.id]) for n in nodes])
    for node in nodes:
        key = keys[node.id]
        blocked = [p for p in node.inputs.values() if outcomes[p].status in ("failed", "skipped")]
        if blocked:
            outcomes[node.id] = NodeOutcome(node.id, node.op, key, "skipped", error=f"needs {blocked[0]}, which failed")
            reporter.node(node.id, "skipped", outcomes[node.id])
            continue
        ctx.key = key
        if recipe:
            store.note_use(key, node=node.id, recipe=recipe)  # an index beside the entries, never inside one
        try:
            found = _reuse(ctx, node, key, artifacts, reporter, announced)
            if found is None:
                if compute is not None and node.id not in compute:
                    raise NodeFailed(node, key, "is not in the store, and --only runs just the nodes it names",
                                     f"run with --until {node.id} first (or --until the node you named)", None)

                def waiting(seconds, node_id=node.id):
                    reporter.log(f"waiting for another run to finish {node_id}"
                                 + (f" ({seconds:.0f}s so far)" if seconds >= 1 else ""))

                with store.lock(key, timeout=math.inf, on_wait=waiting):
                    found = _reuse(ctx, node, key, artifacts, reporter, announced)  # finished by the run we waited for?
                    if found is None:
                        found = _compute(ctx, node, key, artifacts, reporter, announced)
        except NodeFailed as failed:
            if not (keep_going or not OPS[node.op].failure_stops_run) or not failed.key:
                raise
            outcomes[node.id] = NodeOutcome(node.id, node.op, key, "failed", error=str(failed), hint=failed.hint)
            reporter.node(node.id, "failed", outcomes[node.id])
            continue
        status, summary, seconds = found if isinstance(found, tuple) else ("cached", found, 0.0)
        outcomes[node.id] = NodeOutcome(node.id, node.op, key, status, seconds, summary)
        ctx.summaries[node.id] = summary
        reporter.node(node.id, status, outcomes[node.id])
    return [outcomes[n.id] for n in nodes]


def _reuse(ctx: RunContext, node, key: str, artifacts: dict, reporter, announced: set[str]) -> dict | None:
    """The summary of a sound stored entry of ``node`` (its artifact recorded), or None.

    An entry that exists but is not sound (a file missing, truncated or edited, the manifest
    deleted, broken or not "complete") is announced, removed and left to be recomputed.
    """
    store = ctx.store
    if store.has(key):
        try:
            entry = store.open(key, verify=True)
            summary = _read_summary(Path(entry.path))
            art = Artifact(key, node.op, Path(entry.path), dict(entry.meta))
            if OPS[node.op].present(ctx, node, art, summary, artifacts):
                artifacts[node.id] = art
                return summary
            return None
        except (NodeFailed, LockedError):
            raise
        except OpError as exc:  # its effects outside the store cannot be put back (e.g. an export path refused)
            raise NodeFailed(node, key, str(exc), exc.hint, None) from None
        except Exception as exc:  # CorruptEntryError and anything unreadable: recompute
            reason = str(exc)
    elif store.entry_dir(key).exists():
        reason = "; ".join(store.verify(key)[:3]) or "incomplete"
    else:
        return None
    reporter.log(f"warning: the cached entry of {node.id} ({key[:12]}) is corrupt and is recomputed: {reason}")
    announced.add(key)
    store.rm(key)
    return None


def _compute(ctx: RunContext, node, key: str, artifacts: dict, reporter, announced: set[str]):
    store = ctx.store
    if node.op not in OPS:
        raise NodeFailed(node, key, f"op {node.op!r} has no implementation in this runtime", None, None)
    params_for_run(node, key)
    inputs = {role: artifacts[pid] for role, pid in node.inputs.items()}
    reporter.node(node.id, "running", None)
    ctx.partial = store.partial_dir(key)
    t0 = time.perf_counter()
    try:
        # The entry holds only what its key determines: no node id, arm or label of this recipe.
        with store.write(key, {"op": node.op, "params": node.params}) as tmp:
            summary = OPS[node.op].run(ctx, node, inputs, Path(tmp)) or {}
            (Path(tmp) / SUMMARY).write_text(json.dumps(summary, sort_keys=True), encoding="utf-8")
        seconds = time.perf_counter() - t0
    except OpError as exc:
        raise NodeFailed(node, key, str(exc), exc.hint, ctx.partial) from exc
    except (KeyboardInterrupt, LockedError):
        raise
    except Exception as exc:  # an unexpected failure: name the node and where its partial results are
        raise NodeFailed(node, key, f"{type(exc).__name__}: {exc}", None, ctx.partial) from exc
    finally:
        ctx.partial = None
    entry = store.open(key, verify=False)
    artifacts[node.id] = Artifact(key, node.op, Path(entry.path), dict(entry.meta))
    return ("recomputed" if key in announced else "done"), summary, seconds


def params_for_run(node, key: str) -> dict:
    """The node's params parsed with its op's schema, exactly as the compiler validated them: the
    runtime never fills in a default of its own. A mismatch (a graph built by hand, an old entry)
    fails by name."""
    from pydantic import ValidationError

    try:
        params = OPS[node.op].validate(node.params)
    except ValidationError as exc:
        raise NodeFailed(node, key, f"params of {node.id} do not fit the {node.op} schema: "
                                    f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}", None, None) from None
    if params != node.params:
        raise NodeFailed(node, key, f"params of {node.id} are not in the canonical form the compiler writes", None, None)
    return params


def preflight(nodes) -> None:
    """Failures that must stop a run before any work (a missing optional backend): each op's own check."""
    for node in nodes:
        why = OPS[node.op].preflight(node)
        if why:
            raise NodeFailed(node, "", why, "install the extra, or write `backend hf` in the recipe", None)


def write_heatmaps(outcomes, store, out_dir: Path) -> list[Path]:
    """A kept-structures heatmap per pruned model, into <out>/heatmaps/."""
    from resp_dsl.runtime.report import _slug, heatmap

    written = []
    for o in outcomes:  # the nodes whose entries hold a selection: the pruned models
        sel_path = store.entry_dir(o.key) / "selection.json"
        if not sel_path.is_file():
            continue
        target = out_dir / "heatmaps" / f"{_slug(o.id)}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        sel = json.loads(sel_path.read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as tmp:  # rendered privately, published without following links
            drawn = heatmap(sel, Path(tmp) / target.name, f"{o.id}: {100 * sel['achieved']:.1f}% pruned")
            written.append(copy_atomic(drawn, target))
    return written


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
