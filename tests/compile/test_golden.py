"""Golden files per stage: for tests/compile/golden/<name>.prune, the expected AST dump,
IR (JSON) and plan (JSON) sit beside it. ``pytest --update-golden`` (or
RESP_DSL_UPDATE_GOLDEN=1 pytest) rewrites them; review the diff before committing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resp_dsl.compile import compile_file
from resp_dsl.syntax import ast as A
from resp_dsl.syntax.parse import parse_file

GOLDEN = Path(__file__).resolve().parent / "golden"
SOURCES = sorted(GOLDEN.glob("*.prune"))


def _stage_ast(path: Path) -> str:
    tree, _, diags = parse_file(path, path.name)
    assert tree is not None, diags
    return A.dump(tree.statements)


def _stage_ir(path: Path) -> str:
    r = compile_file(path, display=path.name)
    assert r.ok, r.diagnostics
    data = r.ir.model_dump(mode="json", exclude={"sources"})
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _stage_plan(path: Path) -> str:
    from resp_dsl.cli.plan import build_plan

    r = compile_file(path, display=path.name)
    assert r.ok, r.diagnostics
    data = build_plan(r, cache_root=GOLDEN / "no-such-cache")
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


STAGES = {"ast.txt": _stage_ast, "ir.json": _stage_ir, "plan.json": _stage_plan}


@pytest.mark.parametrize("stage", sorted(STAGES))
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_golden(path: Path, stage: str, golden):
    golden(path.with_suffix("." + stage), STAGES[stage](path))
