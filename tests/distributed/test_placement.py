"""What a Ray task asks for comes from the op's own declarations and `plan`'s cost (no Ray needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from resp_dsl.compile import compile_file
from resp_dsl.ops import OPS
from resp_dsl.runtime.interpreter import NodeFailed
from resp_dsl.runtime.ray_executor import check_fits, memory_estimates, placement

ROOT = Path(__file__).resolve().parents[2]


def _graph():
    res = compile_file(ROOT / "recipes" / "quickstart.prune")
    assert res.ok
    return res.graph


def test_memory_requests_are_plans_estimates_for_the_nodes_that_load_a_model():
    graph = _graph()
    mem = memory_estimates(graph)
    for node in graph.nodes.values():
        if OPS[node.op].shard_kind(node.params) is not None:  # generation and scoring nodes
            assert mem.get(node.id, 0) > 0, node.id
    assert not any(OPS[graph.nodes[i].op].runs_on_driver for i in mem)


def test_a_node_that_no_worker_can_hold_is_refused_before_any_work():
    graph = _graph()
    nodes = list(graph.nodes.values())
    requests = {n.id: placement(graph, n) for n in nodes}
    big = next(n for n in nodes if OPS[n.op].shard_kind(n.params) == "generation")
    requests[big.id]["memory"] = 64e9
    cluster = [{"Alive": True, "Resources": {"CPU": 2.0, "memory": 8e9}}]
    with pytest.raises(NodeFailed, match="about 64GB per task"):
        check_fits(nodes, requests, cluster)
    requests[big.id]["memory"] = 1e6
    check_fits(nodes, requests, cluster)  # fits
