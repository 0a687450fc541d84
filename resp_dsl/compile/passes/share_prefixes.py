"""Merge nodes that compute the same thing: arms that share a prefix share its nodes.

Two nodes are the same when op, version, params, local files and (already merged)
inputs agree. Walking in topological order merges whole shared prefixes: Table 3's
six ρ arms keep one path to 30%, Table 1's arms one ``load_model``.

    >>> # arms a and b both: load_model -> calibrate -> score -> prune@0.1
    >>> # after the pass: one chain, node.arms == ("a", "b")
"""

from __future__ import annotations

from dataclasses import replace

from resp_dsl.files import canonical_json
from resp_dsl.graph import Graph
from resp_dsl.ops import OPS


def share_prefixes(graph: Graph) -> Graph:
    out = Graph()
    alias: dict[str, str] = {}
    by_content: dict[str, str] = {}
    for node in graph.topological_order():
        inputs = {role: alias[p] for role, p in node.inputs.items()}
        if OPS[node.op].aggregates:  # a report names its inputs by their node ids
            inputs = {alias[p]: alias[p] for p in node.inputs.values()}
        sig = canonical_json([node.op, node.version, node.params, sorted(inputs.items()), list(node.files)])
        if not OPS[node.op].aggregates and sig in by_content:
            keep = out.nodes[by_content[sig]]
            arms = keep.arms + tuple(a for a in node.arms if a not in keep.arms)
            out.nodes[keep.id] = replace(keep, arms=arms)
            alias[node.id] = keep.id
            continue
        new = replace(node, inputs=inputs)
        out.add(new)
        alias[node.id] = new.id
        by_content[sig] = new.id
    return out
