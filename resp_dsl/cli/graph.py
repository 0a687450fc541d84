"""`resp-dsl graph FILE --format dot|mermaid|json`: export the execution graph."""

from __future__ import annotations

import json
import sys

from resp_dsl.cli.check import compile_one
from resp_dsl.ops import OPS


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE", help="recipe file (.prune)")
    parser.add_argument("--format", choices=("dot", "mermaid", "json"), default="dot",
                        help="graphviz dot, mermaid, or JSON with every node's key (default: dot)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="override a recipe `param` (repeatable)")
    parser.add_argument("--model-config", metavar="FILE", help="config.json to use for model-aware checks")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")


def _label(node) -> str:
    p = node.params
    detail = {"prune": lambda: f"{p['target']:g}", "calibrate": lambda: f"{p['source']} {p['dataset']} n={p['n']}",
              "score": lambda: p["method"] + (f" {p['loss']}" if p.get("loss") else ""),
              "regenerate": lambda: f"ρ={p['rho']:g}", "eval": lambda: p["task"],
              "export": lambda: p["format"], "load_model": lambda: p["model"], "report": lambda: p["kind"]}
    return f"{node.op} {detail.get(node.op, lambda: '')()}".strip()


def to_dot(graph) -> str:
    lines = ["digraph recipe {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    for n in graph.topological_order():
        lines.append(f"  {json.dumps(n.id)} [label={json.dumps(_label(n) + chr(10) + graph.key(n.id)[:12])}];")
    for n in graph.topological_order():
        for role, parent in n.inputs.items():
            lines.append(f"  {json.dumps(parent)} -> {json.dumps(n.id)}" +
                         (f" [label={json.dumps(role)}];" if not OPS[n.op].aggregates else ";"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(graph) -> str:
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.topological_order())}
    lines = ["flowchart LR"]
    for n in graph.topological_order():
        text = (_label(n) + " " + graph.key(n.id)[:8]).replace('"', "'")
        lines.append(f'  {ids[n.id]}["{text}"]')
    for n in graph.topological_order():
        for role, parent in n.inputs.items():
            lines.append(f"  {ids[parent]} -->|{role}| {ids[n.id]}" if not OPS[n.op].aggregates else f"  {ids[parent]} --> {ids[n.id]}")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    args.files = [args.file]
    result, code = compile_one(args, "text")
    if result is None:
        return code
    g = result.graph
    text = {"dot": to_dot, "mermaid": to_mermaid,
            "json": lambda g: json.dumps(g.to_dict(), indent=2, ensure_ascii=False) + "\n"}[args.format](g)
    if args.output:
        from resp_dsl.cli.fmt import write_atomic

        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
