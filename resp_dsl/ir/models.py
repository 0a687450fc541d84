"""IR models: what a recipe means, with every default filled in and every name resolved.

Spans ride along (``span``) so that checks can point at the statement a value came from;
they are excluded from ``canonical()`` which feeds the graph's content keys.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from resp_dsl.diagnostics import Span
from resp_dsl.scorers import SCORERS, TOKEN_SCOPES

Dtype = Literal["bf16", "fp16", "fp32", "auto"]
Backend = Literal["hf", "vllm"]
CalibrationSource = Literal["generic", "task", "self_generated"]
# Score methods, their token scopes and variants: the scorers' own table (resp_dsl/scorers).
ScoreMethod = Literal[tuple(SCORERS)]  # type: ignore[valid-type]
Loss = Literal[TOKEN_SCOPES]  # type: ignore[valid-type]
Variant = Literal[tuple(dict.fromkeys(v for s in SCORERS.values() for v in s.variants))]  # type: ignore[valid-type]
Structure = Literal["heads", "kv_groups", "channels"]
# type: per parameter; reference: the RESP authors' constants (head / (4·head_dim·hidden),
# channel / (3·intermediate)); block: relative to the block's mean (GISP); none: raw.
Normalize = Literal["type", "reference", "block", "none"]
Basis = Literal["params", "structures"]
Mode = Literal["physical", "masked"]
ExportFormat = Literal["per_layer", "uniform", "masked"]
ExportRound = Literal["none", "heads", "channels", "both"]
EXPORT_ROUNDING = ("none", "heads", "channels", "both")
ReportKind = Literal["table", "plot", "heatmap", "compare"]
REPORT_KINDS: tuple[str, ...] = get_args(ReportKind)
# The dimension that `repeat seeds` adds to arm labels (`resp[seed=1]`) and `over seed` averages over.
SEED = "seed"


class IRModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True)

    def canonical(self) -> dict[str, Any]:
        """The JSON-able content without spans (stable across formatting changes)."""
        return _strip_spans(self.model_dump(mode="python"))


def _strip_spans(value):
    if isinstance(value, dict):
        return {k: _strip_spans(v) for k, v in value.items() if k != "span" and not isinstance(v, Span)}
    if isinstance(value, (list, tuple)):
        return [_strip_spans(v) for v in value]
    return value


class ModelSpec(IRModel):
    source: str  # hub id, local directory, or "zoo:<name>"
    kind: Literal["hub", "local", "zoo"]
    dtype: Dtype = "bf16"
    device: str = "auto"
    backend: Backend = "hf"
    revision: str | None = None
    span: Span


class TaskSpec(IRModel):
    """An evaluation/calibration task: built in (gsm8k, mathqa, tiny_gsm) or a local jsonl."""

    name: str
    source: Literal["builtin", "local"] = "builtin"
    path: str | None = None
    shots: int = 0
    split: str = "test"
    max_new_tokens: int = 2048
    answer: Literal["number", "choice"] = "number"
    # Sampling: None = what the model's generation_config puts in force (resolved when lowering).
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int = 0
    limit: int | None = None
    chat: bool = True
    enable_thinking: bool = True
    # direct: the project's batched generation + extraction (resumable per batch, seeded per
    # problem); lm_eval: the same model wrapped in lm-eval's HFLM with the shipped task configs.
    harness: Literal["direct", "lm_eval"] = "direct"
    # An instruct model (hub id or local dir) that reads final answers; None = regex extraction.
    extractor: str | None = None
    span: Span


class CalibrationSpec(IRModel):
    source: CalibrationSource
    dataset: str  # task name, a generic corpus name (c4), or a local file
    text_file: str | None = None
    task_file: str | None = None  # a local task's jsonl (a bare name always means the built-in task)
    split: str = "train"
    # Calibration prompts: the task's prompt with this many worked examples (0: the bare question
    # in the chat template, thinking on; the paper does not say, see docs/fidelity.md).
    shots: int = 0
    n: int = 128
    seed: int = 0
    max_tokens: int = 2048
    # Sampling: None = what the model's generation_config puts in force (resolved when lowering).
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    span: Span
    spans: dict[str, Span] = Field(default_factory=dict)  # option -> where its value was written


class ScoreSpec(IRModel):
    method: ScoreMethod
    loss: Loss | None = None  # taylor only
    variant: Variant | None = None  # taylor only
    structures: tuple[Structure, ...] = ("heads", "channels")
    normalize: Normalize = "type"
    span: Span


class Segment(IRModel):
    """One part of a schedule. Segments chain: each starts where the previous ended.

    - oneshot: prune from the start point straight to each target (targets branch).
    - iterative: re-score ``steps`` times (or every ``every``) on the way to the target.
    - milestones: prune to each milestone in turn; before pruning past a milestone, a
      fraction ``rho`` of the calibration traces is regenerated by the current model.
      With ``steps`` the path to the last milestone is ``steps`` linear iterations, each
      re-scored on the current traces (the authors' schedule); without it, one step per
      milestone.
    """

    kind: Literal["oneshot", "iterative", "milestones"]
    targets: tuple[float, ...]
    rho: float = 0.0
    steps: int | None = None
    every: float | None = None
    mode: Mode = "physical"
    span: Span
    spans: dict[str, Span] = Field(default_factory=dict)  # "targets", "rho", "steps", "every"


class ProtectSpec(IRModel):
    """Blocks held out of pruning. ``blocks`` may be negative (-1 is the last block)."""

    first_fraction: float = 0.0
    last: bool = False
    blocks: tuple[int, ...] = ()
    span: Span | None = None
    spans: dict[str, Span] = Field(default_factory=dict)  # str(block) -> where that index is written

    def resolve(self, num_layers: int) -> list[int]:
        from resp_dsl.sparsity import protected_blocks

        return protected_blocks(num_layers, first_fraction=self.first_fraction, last=self.last, blocks=self.blocks)


class EvalSpec(IRModel):
    task: TaskSpec
    points: tuple[float, ...]  # sparsities (0.0 = the dense model)
    span: Span
    spans: dict[str, Span] = Field(default_factory=dict)  # f"{point:g}" -> where it is written


class ExportSpec(IRModel):
    format: ExportFormat
    path: str  # may hold {recipe} {arm} {sparsity} and loop variables
    points: tuple[float, ...]
    # uniform only: pad every block to the widest one (none), or round the pruned blocks' counts of
    # KV groups/heads, channels or both to their mean, keeping the best-scored structures in each block
    round: ExportRound = "none"
    span: Span
    spans: dict[str, Span] = Field(default_factory=dict)  # f"{point:g}" -> where it is written


class ReportSpec(IRModel):
    kind: ReportKind
    name: str
    rows: str = "arm"
    cols: str = "sparsity"
    by: str | None = None
    metric: str = "accuracy"
    x: str = "sparsity"
    over: str | None = None  # `over seed`: one cell per arm, the mean over its calibration seeds
    a: str | None = None  # `compare A vs B`: arm names (or labels), the difference is A - B
    b: str | None = None
    at: float | None = None  # `compare ... at S`: only that sparsity
    span: Span
    spans: dict[str, Span] = Field(default_factory=dict)  # "a", "b", "at", "over" -> where written


class RepeatSpec(IRModel):
    """`repeat seeds [0, 1, 2]`: the arms in its scope are run once per calibration seed."""

    seeds: tuple[int, ...]
    span: Span


class ArmIR(IRModel):
    name: str
    bindings: tuple[tuple[str, str], ...] = ()
    model: ModelSpec | None
    calibration: CalibrationSpec | None = None
    score: ScoreSpec | None = None
    schedule: tuple[Segment, ...] = ()
    protect: ProtectSpec
    basis: Basis = "params"
    evals: tuple[EvalSpec, ...] = ()
    exports: tuple[ExportSpec, ...] = ()
    implicit: bool = False
    repeat: RepeatSpec | None = None  # the `repeat seeds` in force (this arm's seed is in `bindings`)
    span: Span

    @property
    def draws_calibration(self) -> bool:
        """Whether the arm's pruning reads calibration data (so its calibration seed matters)."""
        return (self.calibration is not None and self.score is not None and SCORERS[self.score.method].calibrated
                and bool(self.schedule))

    @property
    def label(self) -> str:
        if not self.bindings:
            return self.name
        return self.name + "[" + ",".join(f"{k}={v}" for k, v in self.bindings) + "]"

    def checkpoints(self) -> list[float]:
        """Every sparsity the schedule materialises a model at, in order."""
        out: list[float] = []
        for seg in self.schedule:
            out.extend(seg.targets)
        return out


class Definition(IRModel):
    """A named definition, for unused-definition warnings."""

    kind: Literal["param", "task", "variable"]
    name: str
    used: bool
    span: Span


class RecipeIR(IRModel):
    file: str
    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    tasks: dict[str, TaskSpec] = Field(default_factory=dict)
    arms: tuple[ArmIR, ...] = ()
    reports: tuple[ReportSpec, ...] = ()
    definitions: tuple[Definition, ...] = ()
    sources: tuple[str, ...] = ()  # every file read (the recipe and its imports)
