"""One op = one module: the table, the modules and the code that asks about ops agree (issue #9)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import resp_dsl
from resp_dsl.ops import OPS
from resp_dsl.ops.base import Op, Params

PKG = Path(resp_dsl.__file__).resolve().parent


def test_every_op_module_is_registered_and_every_registered_op_has_its_module():
    modules = {p.stem for p in (PKG / "ops").glob("*.py") if p.stem not in ("__init__", "base")}
    assert modules == set(OPS)
    for name, op in OPS.items():
        assert isinstance(op, Op) and op.name == name
        assert type(op).__module__ == f"resp_dsl.ops.{name}"
        assert issubclass(op.params, Params) and op.version >= 1 and op.doc
        assert op.params.model_config.get("extra") == "forbid"


def test_no_code_outside_the_op_modules_asks_which_op_a_node_is():
    """`x.op == "eval"` outside resp_dsl/ops/ is an op fact written twice: ask OPS[x.op] instead."""
    found = []
    for path in PKG.rglob("*.py"):
        if (PKG / "ops") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "op":
                names_op = any(isinstance(c, ast.Constant) and isinstance(c.value, str) for c in node.comparators)
                names_op |= any(isinstance(c, (ast.Tuple, ast.List, ast.Set)) and
                                any(isinstance(e, ast.Constant) for e in c.elts) for c in node.comparators)
                if names_op:
                    found.append(f"{path.relative_to(PKG.parent)}:{node.lineno}")
    assert not found, found


def test_op_modules_import_without_torch():
    code = ("import sys\nsys.modules['torch'] = None\nsys.modules['transformers'] = None\n"
            "import resp_dsl.ops as o\nassert len(o.OPS) >= 8\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_interpreter_parses_params_with_the_compilers_schema():
    """A node whose params do not fit its op's schema fails by name instead of running on invented defaults."""
    import pytest

    from resp_dsl.runtime.interpreter import NodeFailed, params_for_run

    node = type("N", (), {"id": "x", "op": "eval", "params": {"task": "gsm8k"}})()
    with pytest.raises(NodeFailed, match="params"):
        params_for_run(node, "k")


def test_task_facts_come_from_the_task_classes():
    from resp_dsl.ir.statements.task import BUILTIN_TASKS
    from resp_dsl.ops.eval import problems
    from resp_dsl.tasks import TASKS

    assert set(BUILTIN_TASKS) == set(TASKS)
    assert BUILTIN_TASKS["gsm8k"] == {"shots": 8, "max_new_tokens": 2048, "answer": "number"}
    assert BUILTIN_TASKS["mathqa"]["answer"] == "choice"
    assert problems({"task": "gsm8k", "split": "test", "limit": None}) == 1319
    assert problems({"task": "gsm8k", "split": "test", "limit": 50}) == 50
