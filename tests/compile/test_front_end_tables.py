"""One statement = one module, one schedule kind = one lowering: the tables and the files agree (issue #9)."""

from __future__ import annotations

import typing
from pathlib import Path

import resp_dsl
from resp_dsl import codes as C
from resp_dsl import vocab as V
from resp_dsl.compile import compile_text
from resp_dsl.compile.lowering import SEGMENTS
from resp_dsl.ir import models as M
from resp_dsl.ir import statements
from resp_dsl.ir.statements import KEYWORDS, STATEMENTS

PKG = Path(resp_dsl.__file__).resolve().parent
RECIPE = 'model "zoo:tiny-reasoner"\nscore magnitude\nprune to 0.2\n'


def test_every_statement_module_is_registered_under_its_head():
    # protect has its own grammar rule (not HEAD arg*): the walk calls it, the table does not
    modules = {p.stem for p in (PKG / "ir" / "statements").glob("*.py") if p.stem not in ("__init__", "protect")}
    assert modules == set(STATEMENTS)
    for head, handler in STATEMENTS.items():
        assert handler is getattr(statements, head).build
    assert KEYWORDS[:len(STATEMENTS)] == tuple(STATEMENTS)


def test_adding_a_statement_is_one_table_line(monkeypatch):
    seen = []

    def build(b, cmd, a, scope, top):
        seen.append((cmd.head, b.text(a.take(), "note"), scope.kind, top))
        a.finish()

    assert any(d.code == C.UNKNOWN_STATEMENT for d in compile_text("note hello\n" + RECIPE).diagnostics)
    monkeypatch.setitem(STATEMENTS, "note", build)
    res = compile_text("note hello\n" + RECIPE)
    assert res.ok, [str(d) for d in res.diagnostics]
    assert seen == [("note", "hello", "root", True)]


def test_every_schedule_kind_has_its_lowering():
    assert set(SEGMENTS) == set(V.SCHEDULE_KINDS) == set(typing.get_args(M.Segment.model_fields["kind"].annotation))
    modules = {p.stem for p in (PKG / "compile" / "lowering").glob("*.py")} - {"__init__", "path"}
    assert modules == set(SEGMENTS)
