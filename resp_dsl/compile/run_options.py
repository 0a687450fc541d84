"""Command-line options that change what a run computes, applied to the graph so keys follow.

``--limit N`` (a smoke test): every evaluation reads at most N problems and every calibration
set holds at most N samples (an evaluation `on calibration` reads the capped draw). ``--seed S``: every sampling seed (calibration, regeneration,
evaluation) is S; a recipe that repeats arms over seeds (`repeat seeds`) refuses it, since its
seeds would all become S. Both change the nodes' params, hence their keys: a smoke run never
shares an entry with the full run it stands in for.

``select`` picks what ``--until NODE`` / ``--only NODE`` run. No torch.
"""

from __future__ import annotations

import fnmatch
from dataclasses import replace

from resp_dsl.compile.labels import sweep_values
from resp_dsl.diagnostics import suggest
from resp_dsl.graph import Graph
from resp_dsl.ir.models import SEED
from resp_dsl.ops import OPS


def apply_run_options(graph: Graph, *, limit: int | None = None, seed: int | None = None) -> Graph:
    if limit is None and seed is None:
        return graph
    if seed is not None:
        repeated = sorted({a for n in graph.nodes.values() if OPS[n.op].seeded for a in n.arms
                           if SEED in sweep_values(a)})
        if repeated:  # every calibration seed would become `seed`: the repeats would be one draw under many labels
            raise SelectionError(f"--seed {seed}: the recipe repeats arms over calibration seeds ({repeated[0]}, ...); "
                                 f"--seed would give them all seed {seed}",
                                 "drop --seed, or choose the seeds in the recipe's `repeat seeds [...]`")
    out = Graph()
    for node in graph.topological_order():
        p = dict(node.params)
        op = OPS[node.op]
        if limit is not None and op.limit_param:
            p[op.limit_param] = min(limit, p[op.limit_param]) if p.get(op.limit_param) else limit
        if seed is not None and op.seeded:
            p["seed"] = seed
        if p.get("draw"):  # `eval ... on calibration` follows its calibration's n and seed
            d = dict(p["draw"])
            if limit is not None:
                d["n"] = min(limit, d["n"])
            if seed is not None:
                d["seed"] = seed
            p["draw"] = d
        out.add(replace(node, params=p) if p != node.params else node)
    return out


class SelectionError(ValueError):
    """An option (--until, --only, --seed) that cannot apply to this recipe: a usage error (exit 2)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def match(graph: Graph, pattern: str) -> list[str]:
    """Node ids equal to `pattern`, or matching it as a glob (`*/eval/*@0.3`)."""
    if pattern in graph.nodes:
        return [pattern]
    found = [nid for nid in graph.nodes if fnmatch.fnmatchcase(nid, pattern)]
    if not found:
        raise SelectionError(f'no node "{pattern}" in this recipe',
                             suggest(pattern, list(graph.nodes)) or "`resp-dsl plan FILE` lists the nodes")
    return found


def ancestors(graph: Graph, ids: list[str]) -> set[str]:
    """`ids` and everything they depend on."""
    out: set[str] = set()
    stack = list(ids)
    while stack:
        nid = stack.pop()
        if nid not in out:
            out.add(nid)
            stack.extend(graph.nodes[nid].inputs.values())
    return out
