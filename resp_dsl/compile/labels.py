"""What a node means in the recipe being run: its arms, task, method and sparsity.

Used for the labels of report rows (``passes/label_reports.py``) and by the
interpreter; works on any graph with ``nodes`` whose nodes have ``op``, ``params``,
``inputs`` and ``arms``. No torch.
"""

from __future__ import annotations

from typing import Any


def node_labels(graph, node_id: str) -> dict[str, Any]:
    """{"arms": [...], "task": str|None, "method": str|None, "sparsity": float, "prune_node": id|None}.

    The sparsity is the target of the nearest prune along the model inputs (0.0: dense);
    the method is the score method that prune used.
    """
    node = graph.nodes[node_id]
    labels: dict[str, Any] = {"arms": sorted(node.arms or ()), "task": None, "method": None,
                              "sparsity": 0.0, "prune_node": None}
    from resp_dsl.ops import OPS

    labels.update(OPS[node.op].labels(node, graph))
    cur = node
    while cur is not None:
        made = OPS[cur.op].model_labels(cur, graph)
        if made is not None:
            labels.update(made)
            break
        parent = cur.inputs.get("model")
        cur = graph.nodes[parent] if parent else None
    return labels


def sweep_values(arm: str) -> dict[str, str]:
    """The loop variables in an arm label: ``main[rho=0.2,dataset=gsm8k]`` -> {"rho": "0.2", "dataset": "gsm8k"}."""
    if not arm.endswith("]") or "[" not in arm:
        return {}
    out = {}
    for part in arm[arm.index("[") + 1:-1].split(","):
        k, sep, v = part.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def arm_name(arm: str) -> str:
    """``resp[rho=0.2]`` -> ``resp``."""
    return arm.split("[", 1)[0]


def without(arm: str, var: str) -> str:
    """The label with one loop binding dropped: ``without("resp[rho=0.2,seed=1]", "seed")`` -> ``resp[rho=0.2]``."""
    rest = [f"{k}={v}" for k, v in sweep_values(arm).items() if k != var]
    return arm_name(arm) + (f"[{','.join(rest)}]" if rest else "")


def names_arm(arm: str, name: str) -> bool:
    """Whether `name` (as written in `report compare`) designates the arm labelled `arm`: its name,
    or its label with or without the seed (``resp``, ``resp[rho=0.2]``, ``resp[rho=0.2,seed=1]``)."""
    from resp_dsl.ir.models import SEED

    return name in (arm_name(arm), arm, without(arm, SEED))
