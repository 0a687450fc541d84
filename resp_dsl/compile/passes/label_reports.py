"""Give every report the labels of its inputs, taken from this graph.

A report row's arm, loop bindings, task, method and sparsity describe the recipe
being run, not the cached entry that computed the number: two recipes that differ
only in an arm's name share every eval entry. So the labels live in the report's
params (and therefore in its key), never in a parent's store entry.

    >>> # report/table1 over eval nodes e1, e2 -> params["labels"] == {"e1": {...}, "e2": {...}}
"""

from __future__ import annotations

from dataclasses import replace

from resp_dsl.compile.labels import node_labels
from resp_dsl.graph import Graph
from resp_dsl.ops import OPS


def label_reports(graph: Graph) -> Graph:
    out = Graph()
    for node in graph.topological_order():
        if OPS[node.op].aggregates:
            labels = {role: node_labels(graph, pid) for role, pid in sorted(node.inputs.items())}
            node = replace(node, params={**node.params, "labels": labels})
        out.add(node)
    return out
