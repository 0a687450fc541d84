"""What an op is: one object per op, defined in its own module of ``resp_dsl.ops``.

An op declares everything the rest of the system needs to know about it: its name, its
version (which enters every node key: bump it when what the op computes changes), its
params schema (the compiler validates with it, the runtime parses with it: neither invents
a default), the roles of its inputs, a one-line description, how `plan` costs a node, how
the interpreter runs it, and whether a cached result's side effects are still in place.

Module level stays torch-free: `check` and `plan` import every op module. An op's ``run``
imports the library it needs (torch, transformers) when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from resp_dsl.registry import ModelConfig

DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4, "auto": 2}


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sampling(Params):
    """The sampling settings of a generating op: the recipe's values, else the model's
    generation_config (None: read from the loaded model at run time)."""

    temperature: float | None
    top_p: float | None
    top_k: int | None


@dataclass
class Cost:
    """What `plan` estimates for one node, in the plan's units."""

    params_kept: int | None = None
    tokens_generated: int = 0
    forward_backward: int = 0
    forward: int = 0
    memory_bytes: int | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class PlanState:
    """What the dry executor has learnt walking the graph so far, for the ops' cost estimates.

    ``config`` is the model config of the node being costed (None: unknown offline);
    ``calibration`` maps a calibration node to (samples, tokens per sample); ``prunes`` maps a
    prune node to its params (what an export of it keeps).
    """

    config: ModelConfig | None = None
    calibration: dict[str, tuple[int, int]] = field(default_factory=dict)
    prunes: dict[str, dict] = field(default_factory=dict)
    sequential: dict[str, str] = field(default_factory=dict)  # score node -> its scorer, for allocate=sequential

    def samples(self, node_id: str | None) -> int:
        return self.calibration.get(node_id or "", (0, 0))[0]

    def tokens(self, node_id: str | None, default: int = 0) -> int:
        return self.calibration.get(node_id or "", (0, default))[1]


class Op:
    """The base of every op: defaults for the optional parts of the declaration."""

    name: ClassVar[str]
    version: ClassVar[int]
    params: ClassVar[type[Params]]
    inputs: ClassVar[tuple[str, ...]]  # the roles of its inputs (an aggregating op takes any node ids)
    doc: ClassVar[str]
    seeded: ClassVar[bool] = False  # has a sampling `seed` that `run --seed S` replaces
    limit_param: ClassVar[str | None] = None  # the size that `run --limit N` caps (problems, samples)
    aggregates: ClassVar[bool] = False  # inputs are named by node id, labelled, never merged by prefix sharing
    failure_stops_run: ClassVar[bool] = True  # False: a failing node is reported and the run goes on
    reported_as: ClassVar[str | None] = None  # what reports read from its entry: "result" or "selection"
    runs_on_driver: ClassVar[bool] = False  # writes into the run's --out: never shipped to a cluster worker
    resource_group: ClassVar[str] = "default"  # `run --gpus-per-GROUP` overrides the GPUs its tasks ask for

    # Fields added to a schema after keys were published: they enter the key only when set away
    # from their default, so that every existing node keeps its key.
    omit_when_default: ClassVar[tuple[str, ...]] = ()

    def validate(self, params: dict) -> dict:
        """Params through the schema; the canonical dict that enters the key."""
        parsed = self.params(**params)
        out = parsed.model_dump(mode="json")
        for name in self.omit_when_default:
            if out.get(name) == self.params.model_fields[name].default:
                del out[name]
        return out

    def cost(self, node, state: PlanState) -> Cost:
        return Cost()

    def run(self, ctx, node, inputs: dict[str, Any], out: Path) -> dict:
        """Compute the node from its input artifacts into the directory `out`; return its summary."""
        raise NotImplementedError(f"op {self.name!r} has no implementation")

    def preflight(self, node) -> str | None:
        """Why the run cannot start at all (a missing optional backend), or None."""
        return None

    def present(self, ctx, node, art, summary: dict, artifacts: dict) -> bool:
        """Whether a cached entry's effects outside the store are in place (restoring them if it can)."""
        return True

    def shard_kind(self, params: dict) -> str | None:
        """How a node of this op splits across workers (`run --shards`): "generation" (by prompt,
        seeded per prompt, merged byte-identically), "score" (by calibration batch, partial sums
        reduced exactly), or None (it runs whole)."""
        return None

    def labels(self, node, graph) -> dict[str, Any]:
        """What this node says about the result it leads to (report row labels), e.g. the task of an eval."""
        return {}

    def model_labels(self, node, graph) -> dict[str, Any] | None:
        """What this node made of the model it outputs (its sparsity, method), or None when it outputs
        no model of its own; the labels of a node come from the nearest such node up its model inputs."""
        return None

    def static_problem(self, node) -> tuple[str, str, str] | None:
        """(diagnostic code, message, hint) when a node of this op cannot work whatever the run: found at `check` time."""
        return None


def generation_memory(config: ModelConfig, tokens: int, batch: int = 8) -> int:
    """Weights in bf16 plus the KV cache of a generation batch (what a sampling node needs)."""
    kv = 2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * 2
    return config.total_params() * 2 + kv * (tokens + 1000) * batch


def sampling_note(p: dict) -> str:
    """The sampling settings in force on a node, as `plan` shows them ('?' = read from the model at run time)."""
    show = {k: ("?" if p.get(k) is None else f"{p[k]:g}") for k in ("temperature", "top_p", "top_k")}
    return f"T={show['temperature']} top_p={show['top_p']} top_k={show['top_k']}"


def human(n: float | int | None, unit: str = "") -> str:
    if n is None:
        return "?"
    for div, suffix in ((1e12, "T"), (1e9, "B" if unit == "" else "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}{unit}"
    return f"{n:g}{unit}"


def write_json(path: Path, data: Any) -> None:
    """An artifact file inside the store's temporary entry directory (the store publishes it atomically)."""
    import json

    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
