"""The ops: one module per op, one line per op in this table.

Each module (``resp_dsl/ops/<op>.py``) holds its op's params schema, version, input roles,
description, `plan` cost, `run`, and whether a cached result's effects are in place
(``resp_dsl.ops.base.Op``). The compiler, `plan`, the interpreter and the CLI read this
table and nothing else. Adding an op is one module plus one line here. No torch at import.
"""

from __future__ import annotations

from resp_dsl.ops import (
    calibrate,
    eval,
    export,
    load_model,
    prune,
    regenerate,
    report,
    score,
)
from resp_dsl.ops.base import Cost, Op, Params, PlanState

OPS: dict[str, Op] = {m.OP.name: m.OP for m in (load_model, calibrate, regenerate, score, prune, eval, export, report)}


def validate_params(op: str, params: dict) -> dict:
    """Params through the op's schema; returns the canonical dict (raises on a lowering bug)."""
    return OPS[op].validate(params)


__all__ = ["OPS", "Cost", "Op", "Params", "PlanState", "validate_params"]
