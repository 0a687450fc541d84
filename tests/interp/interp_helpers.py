"""Hand-built graphs (no compiler) for testing the interpreter alone."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

@dataclass(frozen=True)
class FakeNode:
    id: str
    op: str
    params: dict
    inputs: dict = field(default_factory=dict)
    arms: tuple = ()
    version: int = 1
    span: object = None


class FakeGraph:
    def __init__(self, nodes: list[FakeNode]):
        self.nodes = {n.id: n for n in nodes}
        self._order = [n.id for n in nodes]

    def topological_order(self):
        return list(self._order)

    def key(self, node_id: str) -> str:
        n = self.nodes[node_id]
        parents = [self.key(p) for _, p in sorted(n.inputs.items())]
        blob = json.dumps([n.op, n.version, n.params, parents], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def small_graph(model_dir: Path, *, rho: float = 1.0) -> FakeGraph:
    gen = {"max_tokens": 12, "temperature": 0.6, "top_p": 0.95, "seed": 0, "batch_size": 4}
    ev = {"task": "tiny_gsm", "split": "test", "limit": 4, "max_new_tokens": 12, "temperature": 0.6,
          "top_p": 0.95, "seed": 0, "batch_size": 4}
    protect = {"first_fraction": 0.0, "last": True, "blocks": []}
    return FakeGraph([
        FakeNode("model", "load_model", {"model": str(model_dir), "dtype": "fp32", "device": "cpu"}, arms=("resp",)),
        FakeNode("calib", "calibrate", {"source": "self_generated", "dataset": "tiny_gsm", "split": "train",
                                        "n": 4, **gen}, {"model": "model"}, arms=("resp",)),
        FakeNode("score1", "score", {"method": "taylor", "loss": "decode_only", "variant": "elementwise"},
                 {"model": "model", "calibration": "calib"}, arms=("resp",)),
        FakeNode("prune1", "prune", {"target": 0.1, "basis": "params", "protect": protect},
                 {"model": "model", "scores": "score1"}, arms=("resp",)),
        FakeNode("regen1", "regenerate", {"rho": rho, "seed": 0}, {"model": "prune1", "calibration": "calib"},
                 arms=("resp",)),
        FakeNode("score2", "score", {"method": "taylor", "loss": "decode_only", "variant": "elementwise"},
                 {"model": "prune1", "calibration": "regen1"}, arms=("resp",)),
        FakeNode("prune2", "prune", {"target": 0.2, "basis": "params", "protect": protect},
                 {"model": "prune1", "scores": "score2"}, arms=("resp",)),
        FakeNode("eval0", "eval", ev, {"model": "model"}, arms=("resp",)),
        FakeNode("eval2", "eval", ev, {"model": "prune2"}, arms=("resp",)),
        FakeNode("table", "report", {"kind": "table", "rows": "arm", "cols": "sparsity", "by": "task"},
                 {"dense": "eval0", "p2": "eval2"}),
    ])


class Recorder:
    """A reporter for run_graph that records node statuses and log lines."""

    def __init__(self):
        self.events = []

    def start(self, nodes):
        pass

    def node(self, node_id, status, outcome):
        self.events.append((node_id, status))

    def progress(self, label, done, total):
        pass

    def log(self, message):
        self.events.append(("log", message))

    def logs(self) -> str:
        return "\n".join(m for k, m in self.events if k == "log")

    def status(self, node_id) -> str:
        return [s for k, s in self.events if k == node_id and s != "running"][-1]
