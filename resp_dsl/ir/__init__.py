"""The validated recipe as data: pydantic models (frozen, extra="forbid") built from the AST."""

from resp_dsl.ir.models import (  # noqa: F401
    ArmIR, CalibrationSpec, EvalSpec, ExportSpec, ModelSpec, ProtectSpec, RecipeIR, ReportSpec,
    ScoreSpec, Segment, TaskSpec,
)
