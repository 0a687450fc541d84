"""The op vocabulary: one table, name -> (version, params schema). No torch here.

Bump an op's ``version`` when its implementation changes what it produces: the
version enters every node key, so old cache entries are then simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoadModelParams(Params):
    model: str
    dtype: Literal["bf16", "fp16", "fp32", "auto"]
    device: str
    backend: Literal["hf", "vllm"]
    revision: str | None = None


class CalibrateParams(Params):
    source: Literal["generic", "task", "self_generated"]
    dataset: str
    split: str
    n: int
    seed: int
    max_tokens: int
    temperature: float
    top_p: float
    text_file: str | None = None
    task_file: str | None = None  # a local task file (hashed into the key); None: the built-in task


class RegenerateParams(Params):
    rho: float
    seed: int


class ScoreParams(Params):
    method: Literal["taylor", "wanda", "magnitude"]
    loss: Literal["decode_only", "full"] | None
    variant: Literal["elementwise", "vectorized"] | None
    structures: list[Literal["heads", "kv_groups", "channels"]]
    normalize: Literal["type", "block", "none"]


class ProtectParams(Params):
    first_fraction: float
    last: bool
    blocks: list[int]


class PruneParams(Params):
    target: float
    basis: Literal["params", "structures"]
    protect: ProtectParams
    steps: int
    score: ScoreParams | None  # re-scoring inside the node when steps > 1
    mode: Literal["physical", "masked"]


class EvalParams(Params):
    task: str
    task_file: str | None = None
    answer: Literal["number", "choice"]
    split: str
    shots: int
    max_new_tokens: int
    temperature: float
    top_p: float
    seed: int
    limit: int | None
    chat: bool
    enable_thinking: bool
    harness: Literal["direct", "lm_eval"] = "direct"
    extractor: str | None = None


class ExportParams(Params):
    format: Literal["per_layer", "uniform", "masked"]
    path: str


class ReportParams(Params):
    kind: Literal["table", "plot", "heatmap"]
    name: str
    rows: str
    cols: str
    by: str | None
    metric: str
    x: str


@dataclass(frozen=True)
class OpDef:
    name: str
    version: int
    params: type[Params]
    inputs: tuple[str, ...]  # roles; report takes any names
    doc: str


OPS: dict[str, OpDef] = {op.name: op for op in (
    OpDef("load_model", 1, LoadModelParams, (), "load a hub id, local directory or zoo model"),
    OpDef("calibrate", 1, CalibrateParams, ("model",), "build the calibration set (generic text, gold answers, or self-generated traces)"),
    OpDef("regenerate", 1, RegenerateParams, ("model", "calibration"), "re-sample a fraction rho of the traces with the current model"),
    OpDef("score", 1, ScoreParams, ("model", "calibration"), "importance of heads / KV groups / MLP channels"),
    OpDef("prune", 1, PruneParams, ("model", "scores", "calibration"), "remove the least important structures down to a target"),
    OpDef("eval", 1, EvalParams, ("model",), "accuracy on a task (lm-eval)"),
    OpDef("export", 1, ExportParams, ("model",), "write a loadable pruned model"),
    OpDef("report", 1, ReportParams, (), "tables and plots across arms and sparsities"),
)}


def validate_params(op: str, params: dict) -> dict:
    """Params through the op's schema; returns the canonical dict (raises on a lowering bug)."""
    return OPS[op].params(**params).model_dump(mode="json")
