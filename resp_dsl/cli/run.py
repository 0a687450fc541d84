"""`resp-dsl run FILE`: execute a recipe, reusing every node the checkpoint store already holds.

A second run of a finished recipe runs nothing; editing one arm re-runs only the
nodes whose keys change; a run killed at any moment resumes where it stopped.
Exit codes: 0 ok, 1 recipe errors, 2 usage errors, 3 run failure, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from resp_dsl.cli.check import add_common, batch_size_arg, compile_one


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE", help="recipe file (.prune)")
    add_common(parser)
    parser.add_argument("--cache", metavar="DIR", help="checkpoint store (default: $RESP_DSL_CACHE or ~/.cache/resp-dsl)")
    parser.add_argument("--out", metavar="DIR",
                        help="reports, exports, run.json (recipe, --set values, versions, machine) and per-problem "
                             "eval samples (default: runs/<recipe name>, or runs/<recipe name>-<name=value,...> "
                             "with --set); a folder holding another configuration's results is refused")
    parser.add_argument("--overwrite-out", action="store_true",
                        help="write into an --out folder that holds the results of another configuration")
    parser.add_argument("--overwrite-exports", action="store_true", help="replace earlier exports in --out")
    parser.add_argument("--threads", type=int, metavar="N", help="torch CPU threads, at least 1 (default: torch's choice)")
    parser.add_argument("--plain", action="store_true", help="plain log lines instead of the live view")
    parser.add_argument("--limit", type=_positive, metavar="N",
                        help="smoke test: at most N problems per evaluation and N calibration samples "
                             "(other keys than the full run, and its own default --out)")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="use S as every sampling seed of the recipe (calibration, regeneration, evaluation)")
    parser.add_argument("--batch-size", type=batch_size_arg, metavar="N|auto",
                        help="prompts per generation/evaluation batch (default 64); auto starts at 256 on CUDA "
                             "and halves on out-of-memory (sampling is seeded per problem, not per batch)")
    sel = parser.add_mutually_exclusive_group()
    sel.add_argument("--until", metavar="NODE",
                     help="run NODE (an id from `plan`, or a glob such as '*/prune@0.3') and what it needs, nothing else")
    sel.add_argument("--only", metavar="NODE",
                     help="run just NODE (id or glob); what it needs must already be in the store")
    dist = parser.add_argument_group("distributed (docs/distributed.md)")
    dist.add_argument("--executor", choices=EXECUTORS, default=EXECUTORS[0],
                      help="local: one node at a time in this process (default); ray: every ready node at once on "
                           "a Ray cluster (needs the extra: pip install 'resp-dsl[ray]')")
    dist.add_argument("--address", metavar="ADDR",
                      help="the Ray cluster: auto, host:port or ray://host:port (default: a Ray started on this machine)")
    dist.add_argument("--shards", type=_shards, default=1, metavar="N|auto",
                      help="with --executor ray: run each generation node (calibrate, regenerate, eval) over N shards "
                           "of its prompts and each Taylor score over N shards of its calibration batches (default 1; "
                           "auto: as many as the cluster runs at once)")
    dist.add_argument("--gpus-per-eval", type=_non_negative, metavar="G",
                      help="with --executor ray: GPUs each eval task asks for (default: 1 if the model is on CUDA, else 0)")
    parser.add_argument("--keep-going", action="store_true",
                        help="after a node fails, still run every node that does not depend on it "
                             "(exit code 3 if any failed; a failing report never stops the others)")


EXECUTORS = ("local", "ray")


def _non_negative(text: str) -> float:
    import argparse

    try:
        g = float(text)
    except ValueError:
        g = -1.0
    if not g >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return g


def _shards(text: str) -> int | str:
    return text if text == "auto" else _positive(text)


def _positive(text: str) -> int:
    import argparse

    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return n


class RichReporter:
    """Live view: a line per finished node, a bar per long op, a summary table at the end."""

    SYMBOL = {"cached": "[green]cached[/]", "done": "[bold green]done[/]", "recomputed": "[yellow]recomputed[/]",
              "running": "[cyan]running[/]", "failed": "[bold red]failed[/]", "skipped": "[yellow]skipped[/]"}

    def __init__(self, console, plain: bool = False):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = console
        self.plain = plain
        self.progress_view = Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                                      console=console, transient=True, disable=plain)
        self.bars: dict[str, tuple[int, float]] = {}
        self.total = 0
        self.finished = 0

    def __enter__(self):
        self.progress_view.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress_view.__exit__(*exc)

    def start(self, nodes):
        self.total = len(nodes)
        self.counts = {"done": 0, "cached": 0, "recomputed": 0}
        self.running: dict[str, str | None] = {}  # nodes running now -> their worker, in start order (several with --executor ray)
        self.graph_bar = self.progress_view.add_task(self._graph_line(), total=self.total, rate="")

    def _graph_line(self) -> str:
        c = getattr(self, "counts", {})
        running = [f"{n} on {w.split(' ')[0]}" if w else n for n, w in (getattr(self, "running", None) or {}).items()]
        pending = self.total - sum(c.values()) - len(running)
        run = f" · running {', '.join(running[:3])}{f' +{len(running) - 3}' if len(running) > 3 else ''}" if running else ""
        return (f"graph: {c.get('done', 0) + c.get('recomputed', 0)} done · {c.get('cached', 0)} cached"
                f"{run} · {max(0, pending)} pending")

    def where(self, node_id, worker):
        """A Ray worker started a task of ``node_id``: the live view names it beside the node."""
        from rich.markup import escape

        if node_id in self.running:
            self.running[node_id] = worker
            self.progress_view.update(self.graph_bar, description=escape(self._graph_line()))
            self.console.print(f"[dim]           {escape(node_id)} runs on {escape(worker)}[/]")

    def node(self, node_id, status, outcome):
        from rich.markup import escape

        if status == "running":
            self.running[node_id] = None
            self.progress_view.update(self.graph_bar, description=escape(self._graph_line()))
            self.console.print(f"[dim][{self.finished + 1}/{self.total}][/] {self.SYMBOL['running']} {escape(node_id)}")
            return
        self.finished += 1
        self.running.pop(node_id, None)
        self.counts[status] = self.counts.get(status, 0) + 1
        self.progress_view.update(self.graph_bar, completed=self.finished, description=escape(self._graph_line()))
        for label, (task_id, _) in list(self.bars.items()):
            self.progress_view.remove_task(task_id)
            del self.bars[label]
        extra = f" in {outcome.seconds:.1f}s" if outcome.seconds else ""
        info = outcome.error if outcome.error else _summary_text(outcome.summary)
        self.console.print(f"[dim][{self.finished}/{self.total}][/] {self.SYMBOL.get(status, status)} "
                           f"{escape(node_id)}{extra} {escape(info)}")

    def progress(self, label, done, total):
        now = time.perf_counter()
        if label not in self.bars:
            self.bars[label] = (self.progress_view.add_task(label, total=total, rate=""), now)
        task_id, t0 = self.bars[label]
        rate = f"{done / (now - t0):.1f}/s" if done and now > t0 else ""
        self.progress_view.update(task_id, completed=done, total=total, rate=rate)

    def log(self, message):
        from rich.markup import escape

        self.console.print(f"[yellow]{escape(message)}[/]")


def _summary_text(summary: dict) -> str:
    bits = []
    if "accuracy" in summary:
        bits.append(f"accuracy {100 * summary['accuracy']:.1f}% ({summary.get('correct')}/{summary.get('n')})")
    if "achieved" in summary:
        bits.append(f"sparsity {100 * summary['achieved']:.2f}%")
    if "samples" in summary:
        bits.append(f"{summary['samples']} samples")
    if "regenerated" in summary:
        bits.append(f"{summary['regenerated']} regenerated")
    if "path" in summary:
        bits.append(f"-> {summary['path']}")
    if "files" in summary:
        bits.append(", ".join(Path(f).name for f in summary["files"]))
    return "  ".join(bits)


def _span_location(node) -> str:
    span = node.span
    if span is None:
        return "<recipe>"
    return f"{span.file}:{span.line}:{span.col}"


def run(args) -> int:
    result, code = compile_one(args, args.format)
    if result is None:
        return code
    for d in result.diagnostics:  # warnings
        from resp_dsl.diagnostics import render

        print(render(d, result.sources), file=sys.stderr)

    from rich.console import Console

    console = Console(stderr=False, highlight=False)
    import importlib.util

    if importlib.util.find_spec("torch") is None:  # imported only when a node must be computed
        print("resp-dsl: error: `run` needs the torch extra: pip install 'resp-dsl[torch]'", file=sys.stderr)
        return 2
    if args.threads is not None and args.threads < 1:
        print(f"resp-dsl: error: --threads must be at least 1, got {args.threads}", file=sys.stderr)
        return 2
    from resp_dsl.runtime.interpreter import NodeFailed, run_graph
    from resp_dsl.runtime.ray_executor import RayUnavailable, require_ray  # imports neither Ray nor torch
    from resp_dsl.runtime.store import LockedError, Store, default_cache_dir, usable_root

    if args.executor != "ray" and (args.address or args.shards != 1 or args.gpus_per_eval is not None):
        print("resp-dsl: error: --address, --shards and --gpus-per-eval need --executor ray", file=sys.stderr)
        return 2
    if args.executor == "ray":
        try:
            require_ray()
        except RayUnavailable as exc:
            print(f"resp-dsl: error: {exc}", file=sys.stderr)
            print(f"  hint: {exc.hint}", file=sys.stderr)
            return 2

    cache = Path(args.cache).expanduser() if args.cache else default_cache_dir()
    problem = usable_root(cache)
    if problem:
        print(f"resp-dsl: error: --cache {cache}: {problem}", file=sys.stderr)
        return 2
    store = Store(cache)
    from resp_dsl.cli.check import parse_overrides
    from resp_dsl.runtime.provenance import OutDirTaken, claim_out_dir, configuration, default_out_dir

    name = result.ir.name if result.ir is not None else Path(args.file).stem
    overrides = parse_overrides(args.overrides) or {}
    options = {"limit": args.limit, "seed": args.seed}
    out_dir = Path(args.out).expanduser() if args.out else default_out_dir(name, overrides, options)
    problem = usable_root(out_dir)
    if problem:
        print(f"resp-dsl: error: --out {out_dir}: {problem}", file=sys.stderr)
        return 2
    config = configuration(args.file, overrides, options)
    try:
        if not args.overwrite_out:
            claim_out_dir(out_dir, config)
    except OutDirTaken as exc:
        print(f"resp-dsl: error: {exc}", file=sys.stderr)
        print("  hint: pass --out DIR to keep both, or --overwrite-out to write into it anyway", file=sys.stderr)
        return 2
    from resp_dsl.compile.run_options import SelectionError, ancestors, apply_run_options, match

    targets = compute = None
    try:
        graph = apply_run_options(result.graph, limit=args.limit, seed=args.seed)
        if args.until or args.only:
            picked = match(graph, args.until or args.only)
            targets = ancestors(graph, picked)
            compute = set(picked) if args.only else None
    except SelectionError as exc:
        print(f"resp-dsl: error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return 2
    started = time.time()
    console.print(f"[bold]{name}[/]: {len(targets) if targets else len(graph.nodes)} nodes, store {cache}, outputs {out_dir}")
    t0 = time.perf_counter()
    reporter = RichReporter(console, plain=args.plain or not console.is_terminal)
    try:
        with reporter, _sigterm_as_interrupt():
            common = {"store": store, "out_dir": out_dir, "reporter": reporter, "keep_going": args.keep_going,
                      "overwrite_exports": args.overwrite_exports, "targets": targets, "compute": compute,
                      "batch_size": args.batch_size, "recipe": str(Path(args.file).resolve()), "threads": args.threads}
            if args.executor == "ray":
                from resp_dsl.runtime.ray_executor import run_graph_ray

                outcomes = run_graph_ray(graph, **common, address=args.address, shards=args.shards,
                                         gpus_per_eval=args.gpus_per_eval)
            else:
                outcomes = run_graph(graph, **common)
    except RayUnavailable as exc:
        console.print(f"[bold red]error[/]: {exc}")
        if exc.hint:
            console.print(f"  hint: {exc.hint}")
        return 2
    except NodeFailed as exc:
        from rich.markup import escape

        if _STOPPED:  # the interrupt surfaced as a failure inside a library
            console.print("[yellow]interrupted[/]: finished nodes are stored, partial work is kept; "
                          "run the same command again to resume")
            return 130
        node = exc.node
        console.print(f"[bold red]error[/]: node {escape(node.id)} ({node.op}) failed: {escape(str(exc))}")
        console.print(f"  defined at {_span_location(node)}")
        if exc.hint:
            console.print(f"  hint: {exc.hint}")
        if exc.partial is not None and exc.partial.exists() and any(exc.partial.iterdir()):
            console.print(f"  partial results kept in {exc.partial}; the next run resumes from them")
        return 3
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished nodes are stored, partial work is kept; "
                      "run the same command again to resume")
        return 130
    except LockedError as exc:
        console.print(f"[bold red]error[/]: {exc}")
        return 3
    except OSError as exc:  # the store or --out became unwritable (full disk, read-only mount)
        console.print(f"[bold red]error[/]: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        console.print("  finished nodes are stored; free space or fix permissions, then run the same command again")
        return 3
    from resp_dsl.runtime.interpreter import write_heatmaps
    from resp_dsl.runtime.provenance import write_run_record

    try:
        maps = write_heatmaps(outcomes, store, out_dir)
    except OSError as exc:
        console.print(f"[yellow]warning[/]: heatmaps not written: {exc.strerror or exc}")
        maps = []
    write_run_record(out_dir, config=config, sources=result.sources, params=dict(result.ir.params),
                     outcomes=outcomes, store=store, started=started, seconds=time.time() - started,
                     resolved=result.ir.canonical())
    _print_summary(console, outcomes, out_dir, time.perf_counter() - t0, plain=reporter.plain)
    if maps:
        console.print(f"kept-structure heatmaps: {maps[0].parent}/ ({len(maps)} files)")
    return _print_failures(console, graph, outcomes)


def _print_failures(console, graph, outcomes) -> int:
    """Each failed node with where it is defined; 3 if any failed, else 0."""
    from rich.markup import escape

    failed = [o for o in outcomes if o.status == "failed"]
    skipped = sum(o.status == "skipped" for o in outcomes)
    for o in failed:
        console.print(f"[bold red]error[/]: node {escape(o.id)} ({o.op}) failed: {escape(o.error or '')}")
        console.print(f"  defined at {_span_location(graph.nodes[o.id])}")
        if o.hint:
            console.print(f"  hint: {escape(o.hint)}")
    if failed:
        console.print(f"{len(failed)} node(s) failed, {skipped} skipped because they depend on one; "
                      "everything else is stored and written")
    return 3 if failed else 0


_STOPPED: list[int] = []  # signals received during the run (a library may wrap the KeyboardInterrupt)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a scheduler, `kill`) stops the run like Ctrl-C: finished nodes and partial work kept.

    Both signals are also remembered, so an interrupt that a library turned into another
    error (transformers' lazy imports do) still ends as "interrupted", exit 130.
    """
    def handler(signum, frame):
        _STOPPED.append(signum)
        raise KeyboardInterrupt

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _print_summary(console, outcomes, out_dir: Path, seconds: float, *, plain: bool = False) -> None:
    """One line per node: a table that wraps (never truncates) node ids, or plain lines with `--plain`."""
    from rich.markup import escape
    from rich.table import Table

    if plain:
        console.print("run summary")
        for o in outcomes:
            t = f"{o.seconds:.1f}s" if o.seconds else "-"
            console.print(escape(f"{o.status:>10}  {o.id}  {o.op}  {t}  {_summary_text(o.summary)}".rstrip()))
    else:
        table = Table(title="run summary", show_lines=False)
        table.add_column("node", overflow="fold", no_wrap=False, min_width=12)
        for col in ("op", "status", "time"):
            table.add_column(col, no_wrap=True)
        table.add_column("result", overflow="fold")
        for o in outcomes:
            table.add_row(escape(o.id), o.op, o.status, f"{o.seconds:.1f}s" if o.seconds else "",
                          escape(_summary_text(o.summary)))
        console.print(table)
    counts = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    console.print(f"{len(outcomes)} nodes: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                  + f" in {seconds:.1f}s")
    for md in sorted(out_dir.glob("*.md")) if out_dir.is_dir() else []:
        console.print(f"\n[bold]{md}[/]")
        console.print(md.read_text(encoding="utf-8"), markup=False)
    if os.environ.get("RESP_DSL_DEBUG"):
        console.print({o.id: o.key for o in outcomes})
