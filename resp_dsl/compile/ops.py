"""The op vocabulary: one table, name -> (version, params schema). No torch here.

Bump an op's ``version`` when its implementation changes what it produces: the
version enters every node key, so old cache entries are then simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from resp_dsl.ir.models import Loss, ScoreMethod, Variant
from resp_dsl.vocab import (
    AnswerKind, Backend, Basis, CalibrationSource, Dtype, ExportFormat, ExportRound, Harness, Mode, Normalize, ReportKind,
    Structure,
)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoadModelParams(Params):
    model: str
    dtype: Dtype
    device: str
    backend: Backend
    revision: str | None = None


class CalibrateParams(Params):
    source: CalibrationSource
    dataset: str
    split: str
    shots: int = 0  # worked examples in each calibration prompt
    n: int
    seed: int
    max_tokens: int
    # Sampling in force: the recipe's values, else the model's generation_config (None: read at run time).
    temperature: float | None
    top_p: float | None
    top_k: int | None
    text_file: str | None = None
    task_file: str | None = None  # a local task file (hashed into the key); None: the built-in task


class RegenerateParams(Params):
    rho: float
    seed: int  # the calibration seed; the milestone's own sampling seed is derived from it
    milestone: float  # the sparsity of the model that regenerates


class ScoreParams(Params):
    method: ScoreMethod
    loss: Loss | None  # token scope of a calibrated scorer (taylor, wanda, ...); None for magnitude
    variant: Variant | None
    structures: list[Structure]
    normalize: Normalize


class ProtectParams(Params):
    first_fraction: float
    last: bool
    blocks: list[int]


class PruneParams(Params):
    start: float  # the sparsity of the parent checkpoint (the schedule's, not the achieved)
    target: float
    basis: Basis
    protect: ProtectParams
    steps: int  # linear steps from start to target; the first uses the score node, each later one re-scores
    score: ScoreParams | None  # re-scoring inside the node when steps > 1
    mode: Mode


class EvalParams(Params):
    task: str
    task_file: str | None = None
    answer: AnswerKind
    split: str
    shots: int
    max_new_tokens: int
    temperature: float | None
    top_p: float | None
    top_k: int | None
    seed: int
    limit: int | None
    chat: bool
    enable_thinking: bool
    harness: Harness = "direct"
    extractor: str | None = None


class ExportParams(Params):
    format: ExportFormat
    path: str
    round: ExportRound = "none"  # uniform: pad to the widest block, or round counts (needs the scores input)


class ReportParams(Params):
    kind: ReportKind
    name: str
    rows: str
    cols: str
    by: str | None
    metric: str
    x: str
    over: str | None = None  # "seed": mean over calibration seeds with a 95% interval
    a: str | None = None  # compare: the difference is a - b, paired on the same problems
    b: str | None = None
    at: float | None = None
    # input node id -> its arms, task, method, sparsity in this graph (compile/passes/label_reports.py)
    labels: dict[str, dict] = {}


@dataclass(frozen=True)
class OpDef:
    name: str
    version: int
    params: type[Params]
    inputs: tuple[str, ...]  # roles; report takes any names
    doc: str


OPS: dict[str, OpDef] = {op.name: op for op in (
    OpDef("load_model", 1, LoadModelParams, (), "load a hub id, local directory or zoo model"),
    OpDef("calibrate", 2, CalibrateParams, ("model",), "build the calibration set (generic text, gold answers, or self-generated traces)"),
    OpDef("regenerate", 2, RegenerateParams, ("model", "calibration"), "re-sample a fraction rho of the traces with the current model"),
    OpDef("score", 2, ScoreParams, ("model", "calibration"), "importance of heads / KV groups / MLP channels"),
    OpDef("prune", 2, PruneParams, ("model", "scores", "calibration"), "remove the least important structures down to a target"),
    OpDef("eval", 2, EvalParams, ("model",), "accuracy on a task (lm-eval)"),
    OpDef("export", 1, ExportParams, ("model",), "write a loadable pruned model"),
    OpDef("report", 2, ReportParams, (), "tables, plots, heatmaps and paired comparisons across arms, sparsities and seeds"),
)}


def validate_params(op: str, params: dict) -> dict:
    """Params through the op's schema; returns the canonical dict (raises on a lowering bug)."""
    return OPS[op].params(**params).model_dump(mode="json")
