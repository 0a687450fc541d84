"""The dry executor behind ``plan``: walks the graph like the interpreter, runs nothing.

For each node it reports whether the cache holds it and its op's own estimate of its cost
(``Op.cost`` in ``resp_dsl/ops/``): parameters kept after pruning, tokens to generate,
forward and backward passes, approximate memory. Pure Python; never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from resp_dsl.graph import Graph
from resp_dsl.ops import OPS
from resp_dsl.ops.base import Cost, PlanState
from resp_dsl.registry import ModelConfig


@dataclass
class NodePlan:
    id: str
    op: str
    key: str
    cached: bool
    cost: Cost
    arms: list[str] = field(default_factory=list)


def _cached_fn(cache_root):
    try:
        from resp_dsl.runtime.store import Store
    except Exception:  # the store is optional for plan: treat everything as not cached
        return lambda key: False
    try:
        store = Store(cache_root) if cache_root is not None else Store()
    except Exception:
        return lambda key: False

    def has(key: str) -> bool:
        try:
            return bool(store.has(key))
        except Exception:
            return False

    return has


def plan(graph: Graph, config, *, cache_root=None) -> list[NodePlan]:
    """Cost and cache state per node, in topological order.

    ``config`` is a ModelConfig for every node, or a callable ``source -> ModelConfig | None``
    so that a recipe sweeping over models costs each branch with its own model (a node without
    a model input of its own takes the config of its parents).
    """
    has = _cached_fn(cache_root)
    lookup = config if callable(config) else (lambda source: config)
    state = PlanState()
    cfg_of: dict[str, ModelConfig | None] = {}
    out: list[NodePlan] = []
    for node in graph.topological_order():
        op = OPS[node.op]
        if not op.inputs and "model" in node.params:  # a node that names its model: load_model
            cfg_of[node.id] = lookup(node.params["model"])
        else:
            cfg_of[node.id] = next((cfg_of[i] for i in node.inputs.values() if cfg_of.get(i) is not None), None)
        state.config = cfg_of[node.id]
        key = graph.key(node.id)
        out.append(NodePlan(node.id, node.op, key, has(key), op.cost(node, state), list(node.arms)))
    return out
