"""The words of the language, defined once: every choice a recipe can write, as a tuple (for
the parser's word lists and did-you-mean) and a ``Literal`` type (for the IR and the op schemas).
The engine imports the same tuples. Pure data, no torch. Score methods, their token scopes and
variants are the scorers' own table (``resp_dsl.scorers``); model families are ``families``.
"""

from __future__ import annotations

from typing import Literal

DTYPES = ("bf16", "fp16", "fp32", "auto")
BACKENDS = ("hf", "vllm")
DEVICES = ("auto", "cpu", "cuda", "mps")  # and cuda:N
CALIBRATION_SOURCES = ("generic", "task", "self_generated")
SPLITS = ("train", "validation", "test")
ANSWER_KINDS = ("number", "choice")
HARNESSES = ("direct", "lm_eval")
STRUCTURES = ("heads", "kv_groups", "channels")
# type: per parameter; reference: the RESP authors' constants (head / (4·head_dim·hidden),
# channel / (3·intermediate), which are also GISP's "block-wise" normalisation: one constant per
# attention / MLP block type); block: relative to the transformer block's own mean for the type
# (a resp-dsl option, not GISP's); none: raw.
NORMALIZATIONS = ("type", "reference", "block", "none")
# Where the cuts go. global: every unprotected block's heads and channels ranked together (RESP,
# GISP); uniform: each unprotected block loses the same fraction of its heads and of its channels,
# its own lowest-scored ones; sequential: uniform, and each block is scored on the activations of
# the model whose earlier blocks are already pruned (FLAP's structured Wanda as GISP's code runs
# it, `act_type: sparse`). The first is the default.
ALLOCATIONS = ("global", "uniform", "sequential")
BASES = ("params", "structures")
SCHEDULE_KINDS = ("milestones", "iterative", "oneshot")
MODES = ("physical", "masked")
EXPORT_FORMATS = ("per_layer", "uniform", "masked")
EXPORT_ROUNDING = ("none", "heads", "channels", "both")
REPORT_KINDS = ("table", "plot", "heatmap", "compare")

Dtype = Literal[DTYPES]  # type: ignore[valid-type]
Backend = Literal[BACKENDS]  # type: ignore[valid-type]
CalibrationSource = Literal[CALIBRATION_SOURCES]  # type: ignore[valid-type]
AnswerKind = Literal[ANSWER_KINDS]  # type: ignore[valid-type]
Harness = Literal[HARNESSES]  # type: ignore[valid-type]
Structure = Literal[STRUCTURES]  # type: ignore[valid-type]
Normalize = Literal[NORMALIZATIONS]  # type: ignore[valid-type]
Allocate = Literal[ALLOCATIONS]  # type: ignore[valid-type]
Basis = Literal[BASES]  # type: ignore[valid-type]
Mode = Literal[MODES]  # type: ignore[valid-type]
ScheduleKind = Literal[SCHEDULE_KINDS]  # type: ignore[valid-type]
ExportFormat = Literal[EXPORT_FORMATS]  # type: ignore[valid-type]
ExportRound = Literal[EXPORT_ROUNDING]  # type: ignore[valid-type]
ReportKind = Literal[REPORT_KINDS]  # type: ignore[valid-type]
