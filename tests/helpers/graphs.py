"""Hand-built graphs for testing the interpreter alone: real ``Graph``/``Node`` objects whose
params go through the op schemas (``resp_dsl.ops``), exactly as the compiler's would."""

from __future__ import annotations

from pathlib import Path

from resp_dsl.ops import OPS, validate_params
from resp_dsl.graph import Graph, Node

SAMPLING = {"temperature": 0.6, "top_p": 0.95, "top_k": 0}
PROTECT = {"first_fraction": 0.0, "last": True, "blocks": []}
TAYLOR = {"method": "taylor", "loss": "decode_only", "variant": "elementwise", "structures": ["heads", "channels"],
          "normalize": "type"}


def node(nid: str, op: str, params: dict, inputs: dict | None = None, arms: tuple = ()) -> Node:
    return Node(nid, op, OPS[op].version, validate_params(op, params), dict(inputs or {}), None, arms)


def graph_of(nodes: list[Node]) -> Graph:
    g = Graph()
    for n in nodes:
        g.add(n)
    return g


def load(model_dir: Path, nid: str = "model", arms: tuple = ()) -> Node:
    return node(nid, "load_model", {"model": str(model_dir), "dtype": "fp32", "device": "cpu", "backend": "hf"},
                arms=arms)


def eval_params(**over) -> dict:
    return {"task": "tiny_gsm", "answer": "number", "split": "test", "shots": 0, "limit": 4, "max_new_tokens": 12,
            **SAMPLING, "seed": 0, "chat": True, "enable_thinking": True, **over}


def prune_params(start: float, target: float, steps: int = 1, **over) -> dict:
    return {"start": start, "target": target, "basis": "params", "protect": PROTECT, "steps": steps,
            "score": TAYLOR if steps > 1 else None, "mode": "physical", **over}


def small_graph(model_dir: Path, *, rho: float = 1.0) -> Graph:
    gen = {"max_tokens": 12, **SAMPLING, "seed": 0}
    arm = ("resp",)
    nodes = [
        load(model_dir, arms=arm),
        node("calib", "calibrate", {"source": "self_generated", "dataset": "tiny_gsm", "split": "train", "n": 4, **gen},
             {"model": "model"}, arm),
        node("score1", "score", TAYLOR, {"model": "model", "calibration": "calib"}, arm),
        node("prune1", "prune", prune_params(0.0, 0.1), {"model": "model", "scores": "score1"}, arm),
    ]
    nodes += [
        node("regen1", "regenerate", {"rho": rho, "seed": 0, "milestone": 0.1},
             {"model": "prune1", "calibration": "calib"}, arm),
        node("score2", "score", TAYLOR, {"model": "prune1", "calibration": "regen1"}, arm),
        node("prune2", "prune", prune_params(0.1, 0.2), {"model": "prune1", "scores": "score2"}, arm),
        node("eval0", "eval", eval_params(), {"model": "model"}, arm),
        node("eval2", "eval", eval_params(), {"model": "prune2"}, arm),
        node("table", "report", {"kind": "table", "name": "table", "rows": "arm", "cols": "sparsity", "by": "task",
                                 "metric": "accuracy", "x": "sparsity"}, {"dense": "eval0", "p2": "eval2"}),
    ]
    return graph_of(nodes)


class Quiet:
    """A reporter that records node events and log lines instead of printing."""

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


Recorder = Quiet  # the name the integrity tests use


# A recipe with a test-split evaluation and one `on calibration`, each seed its own draw
# (tests/compile/test_eval_on_calibration.py, tests/runtime/test_report_split.py).
ON_CALIBRATION = """\
model "zoo:tiny-reasoner" dtype fp32 device cpu
repeat seeds [0, 1]
calibrate self_generated from tiny_gsm n=4 max_tokens=32 split=validation
score taylor decode_only
eval tiny_gsm at final limit=10
eval tiny_gsm on calibration at final shots=0
prune to 0.2
"""


def compile_ok(src: str):
    """`compile_text` of a recipe that must have no errors (the failure lists them)."""
    from resp_dsl.compile.pipeline import compile_text

    res = compile_text(src, name="r.prune")
    assert res.ok, [f"{d.span.line}: {d.message} [{d.code}]" for d in res.diagnostics]
    return res
