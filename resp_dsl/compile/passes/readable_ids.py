"""Rename nodes for people: a node shared by every arm drops the arm prefix
(``load_model``), one shared by several arms is named after the first plus a count
(``resp[rho=0]+5/prune@0.3``). Ids stay unique; keys do not depend on ids."""

from __future__ import annotations

from dataclasses import replace

from resp_dsl.graph import Graph
from resp_dsl.ops import OPS


def readable_ids(graph: Graph) -> Graph:
    all_arms = set()
    for n in graph.nodes.values():
        if not OPS[n.op].aggregates:
            all_arms.update(n.arms)
    rename: dict[str, str] = {}
    taken: set[str] = set()
    for n in graph.nodes.values():
        if OPS[n.op].aggregates or "/" not in n.id:
            new = n.id
        else:
            local = n.id.split("/", 1)[1] if n.id.startswith(n.arms[0] + "/") else n.id
            if len(all_arms) > 1 and set(n.arms) == all_arms:
                new = local
            elif len(n.arms) > 1:
                new = f"{n.arms[0]}+{len(n.arms) - 1}/{local}"
            else:
                new = n.id
        base, i = new, 2
        while new in taken:
            new, i = f"{base}#{i}", i + 1
        taken.add(new)
        rename[n.id] = new
    out = Graph()
    for n in graph.nodes.values():
        inputs = {role: rename[p] for role, p in n.inputs.items()}
        if OPS[n.op].aggregates:  # its inputs are named by their node ids
            inputs = {rename[k]: rename[v] for k, v in n.inputs.items()}
        out.add(replace(n, id=rename[n.id], inputs=inputs))
    return out
