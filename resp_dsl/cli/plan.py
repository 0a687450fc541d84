"""`resp-dsl plan FILE`: the execution graph as a tree, each node with its key,
whether the cache holds it, and its estimated cost. Runs nothing; never imports torch."""

from __future__ import annotations

import json
import sys

from resp_dsl.cli.check import add_common, compile_one


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE", help="recipe file (.prune)")
    add_common(parser)
    parser.add_argument("--cache", metavar="DIR", help="checkpoint store (default: $RESP_DSL_CACHE or ~/.cache/resp-dsl)")
    parser.add_argument("--full-keys", action="store_true", help="print whole keys, not 12-character prefixes")
    parser.add_argument("--workers", type=_positive, metavar="N",
                        help="also print the critical path and the makespan on N parallel workers (`run --executor ray`), "
                             "in each cost unit, next to the one-worker total")
    parser.add_argument("--shards", type=_positive, default=1, metavar="S",
                        help="with --workers: split generation and Taylor score nodes into S shards, as `run --shards S`")


def _positive(text: str) -> int:
    from resp_dsl.cli.run import _positive as positive

    return positive(text)


MAX_TREE_DEPTH = 40


def build_plan(result, cache_root=None) -> dict:
    from resp_dsl.check.protection import _blocks
    from resp_dsl.ops.base import human
    from resp_dsl.runtime.dry import plan

    ir, graph = result.ir, result.graph
    sources = sorted({a.model.source for a in ir.arms if a.model})
    config = result.ctx.usable_config(sources[0]) if sources and result.ctx else None
    lookup = (lambda source: result.ctx.usable_config(source)) if result.ctx else (lambda source: None)
    entries = plan(graph, lookup, cache_root=cache_root)
    header = {"recipe": ir.name, "file": result.file, "models": sources, "arms": [a.label for a in ir.arms],
              "imports": [{"use": i["use"], "sha256": i["sha256"], "stdlib": i["stdlib"],
                           # the package's own fragments by name: the same plan on every machine
                           "path": i["display"] if i["stdlib"] else i["path"]} for i in graph.imports]}
    if config:
        prunable = config.num_hidden_layers * config.prunable_block_params()
        header.update(params=config.total_params(), prunable=prunable, config_origin=config.origin)
        if ir.arms:
            prot = ir.arms[0].protect.resolve(config.num_hidden_layers)
            header["protected_blocks"] = prot
            header["summary"] = (f"{human(config.total_params())} params, prunable {human(prunable)} "
                                 f"(protected: blocks {_blocks(prot)})")
    totals = {"nodes": len(entries), "cached": sum(e.cached for e in entries),
              "tokens_generated": sum(e.cost.tokens_generated for e in entries),
              "forward_backward": sum(e.cost.forward_backward for e in entries),
              "forward": sum(e.cost.forward for e in entries)}
    nodes = []
    for e in entries:
        node = graph.nodes[e.id]
        nodes.append({"id": e.id, "op": e.op, "key": e.key, "cached": e.cached, "arms": e.arms,
                      "inputs": node.inputs, "params": node.params, "cost": e.cost.to_dict()})
    return {"header": header, "nodes": nodes, "totals": totals}


def render_tree(data: dict, full_keys: bool = False):
    from rich.tree import Tree

    from resp_dsl.ops.base import human

    h = data["header"]
    from rich.markup import escape

    title = f"[bold]{escape(h['recipe'])}[/]  {escape(', '.join(h['models']))}"
    if "summary" in h:
        title += f"  {h['summary']}"
    for imp in h.get("imports", []):  # where every `use` came from; a local fragment's text is in the keys
        where = imp["use"] if imp["stdlib"] else f"{imp['path']}  sha256:{imp['sha256'][:12]} (in the keys)"
        title += f"\n  uses {escape(where)}"
    root = Tree(title)
    kids: dict[str | None, list] = {}
    for n in data["nodes"]:
        parent = n["inputs"].get("model") if n["op"] != "report" else None
        kids.setdefault(parent, []).append(n)

    def label(n) -> str:
        key = n["key"] if full_keys else n["key"][:12]
        c = n["cost"]
        bits = []
        if c["note"]:
            bits.append(escape(c["note"]))
        if c["params_kept"] is not None and n["op"] in ("prune", "load_model"):
            bits.append(f"{human(c['params_kept'])} params")
        if c["tokens_generated"] and n["op"] != "eval":
            bits.append(f"{human(c['tokens_generated'])} tok gen")
        if c["forward_backward"]:
            bits.append(f"{c['forward_backward']:,} fwd+bwd")
        if c["forward"]:
            bits.append(f"{c['forward']:,} fwd")
        if c["memory_bytes"]:
            bits.append(f"≈{human(c['memory_bytes'], 'B')}")
        state = "[green]cached[/]" if n["cached"] else "[dim]—[/]"
        name = escape(n["id"])
        return f"[cyan]{n['op']}[/] {name}  [dim]{key}[/]  {state}  " + "  ".join(bits)

    # Each node hangs under the model it reads, so every checkpoint lists what is done with it.
    # Past MAX_TREE_DEPTH levels the chain continues flat (rich renders trees recursively).
    stack = [(root, n, 1) for n in reversed(kids.get(None, []))]
    while stack:
        parent, n, depth = stack.pop()
        sub = parent.add(label(n))
        holder = sub if depth < MAX_TREE_DEPTH else parent
        for child in reversed(kids.get(n["id"], [])):
            stack.append((holder, child, depth + 1 if holder is sub else depth))
    t = data["totals"]
    footer = (f"{t['nodes']} nodes, {t['cached']} cached; ≈{human(t['tokens_generated'])} tokens to generate, "
              f"{t['forward_backward']:,} fwd+bwd passes, {t['forward']:,} forward passes")
    return root, footer


def run(args) -> int:
    result, code = compile_one(args, args.format)
    if result is None:
        return code
    data = build_plan(result, cache_root=args.cache)
    if args.workers:
        data["cluster"] = cluster_plan(data, args.workers, args.shards)
    if args.format == "json":
        data["diagnostics"] = [d.to_dict() for d in result.diagnostics]
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console

    for d in result.diagnostics:
        from resp_dsl.diagnostics import render

        print(render(d, result.sources))
    tree, footer = render_tree(data, args.full_keys)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 240)
    console.print(tree)
    console.print(footer)
    if args.workers:
        for line in render_cluster(data["cluster"]):
            console.print(line, markup=False)
    return 0


def cluster_plan(data: dict, workers: int, shards: int) -> dict:
    """Per cost unit: one-worker total, critical path (and its nodes), makespan on ``workers``."""
    from resp_dsl.runtime.makespan import plan_schedules

    out = {"workers": workers, "shards": shards, "units": {}}
    for unit, s in plan_schedules(data["nodes"], workers=workers, shards=shards).items():
        out["units"][unit] = {"total": s.total, "critical_path": s.critical_path, "makespan": s.makespan,
                              "speedup": round(s.speedup, 3), "path": list(s.path)}
    return out


def render_cluster(cluster: dict) -> list[str]:
    from resp_dsl.ops.base import human
    from resp_dsl.runtime.makespan import UNITS

    shards = f", --shards {cluster['shards']}" if cluster["shards"] > 1 else ""
    lines = [f"on {cluster['workers']} workers{shards} (each unit scheduled on its own; docs/distributed.md):"]
    for unit, u in cluster["units"].items():
        if not u["total"]:
            continue
        lines.append(f"  {UNITS[unit]}: makespan ≈{human(u['makespan'])} (×{u['speedup']:.2f}), "
                     f"one worker {human(u['total'])}, critical path {human(u['critical_path'])} "
                     f"({len(u['path'])} nodes, ending at {u['path'][-1]})")
    return lines
