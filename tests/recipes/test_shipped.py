"""Shipped files: the grammar/stdlib copies agree, the parser table is current, and
every recipe and stdlib fragment passes check (and every recipe plans)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resp_dsl.compile import check_file, compile_file
from resp_dsl.diagnostics import render_all

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "resp_dsl"
RECIPES = sorted((ROOT / "recipes").rglob("*.prune"))  # recipes/miniature/ too
STDLIB = sorted((ROOT / "stdlib").glob("*.prune"))


def test_top_level_grammar_stdlib_and_recipes_are_the_package_files_not_copies():
    """One copy of each (issue 9): the layout users know at the top, the files inside the package
    (so the wheel ships them), joined by links."""
    for top, pkg in ((ROOT / "grammar" / "prune.lark", PKG / "syntax" / "prune.lark"),
                     (ROOT / "stdlib", PKG / "stdlib"), (ROOT / "recipes", PKG / "recipes")):
        assert top.is_symlink() and top.resolve() == pkg.resolve(), f"{top} must be a link to {pkg}"


def test_the_wheel_ships_grammar_stdlib_and_recipes():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["resp_dsl"]
    for pattern in ("**/*.lark", "**/*.prune"):
        assert pattern in data
    from resp_dsl.cli.ls import listing

    names = {r["name"] for r in listing()["recipes"]}
    assert "recipes/paper_table1.prune" in names and "recipes/quickstart.prune" in names


def test_parser_table_is_current():
    from resp_dsl.syntax import _table
    from resp_dsl.syntax.parse import grammar_sha256

    assert _table.GRAMMAR_SHA256 == grammar_sha256(), \
        'stale parser table: python -c "from resp_dsl.syntax.parse import write_table; write_table()"'


def test_the_required_recipes_exist():
    names = {p.name for p in RECIPES}
    assert {"quickstart.prune", "paper_table1.prune", "paper_table2_path_contrast.prune",
            "paper_table3_regen_ratio.prune", "calibration_sources.prune"} <= names


@pytest.mark.parametrize("path", RECIPES + STDLIB, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_passes_check(path):
    r = check_file(path)
    assert r.ok, render_all(r.diagnostics, r.sources)
    assert not r.diagnostics, render_all(r.diagnostics, r.sources)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipe_plans(path, run_cli):
    code, out, err = run_cli("plan", path, "--format", "json", "--cache", ROOT / ".no-such-cache")
    assert code == 0, err
    data = json.loads(out)
    assert data["nodes"] and data["totals"]["nodes"] == len(data["nodes"])
    assert "Traceback" not in err


def test_design_card_statements_parse_alone_and_joined():
    from resp_dsl.syntax.parse import parse_text

    card = ["calibrate self_generated from gsm8k n=128", "score taylor decode_only",
            "schedule milestones [0.1..0.4] regen ρ=1.0", "protect first 10% blocks, last block"]
    for line in card:
        tree, diags = parse_text(line, "card")
        assert tree is not None and not diags and len(tree.statements) == 1
    tree, diags = parse_text("; ".join(card), "card")
    assert tree is not None and len(tree.statements) == 4


def test_design_card_means_the_paper():
    r = compile_file(ROOT / "recipes" / "paper_table1.prune")
    resp = next(a for a in r.ir.arms if a.name == "resp")
    assert resp.calibration.source == "self_generated" and resp.calibration.n == 500
    assert resp.score.method == "taylor" and resp.score.loss == "decode_only"
    assert resp.schedule[0].targets == (0.1, 0.2, 0.3, 0.4) and resp.schedule[0].rho == 1.0
    assert resp.schedule[0].steps == 112 and resp.basis == "structures" and resp.score.normalize == "reference"
    assert resp.protect.resolve(36) == [0, 1, 2, 35]


def test_every_code_is_documented_and_used():
    import re

    from resp_dsl.codes import CODES

    doc = (ROOT / "docs" / "language.md").read_text()
    assert [c for c in CODES if f"`{c}`" not in doc] == []
    from resp_dsl import codes

    source = "\n".join(p.read_text() for p in (ROOT / "resp_dsl").rglob("*.py") if p.name != "codes.py")
    used = set(re.findall(r"\bC\.([A-Z0-9_]+)\b", source))
    assert [c for c in CODES if c.upper().replace("-", "_") not in used] == []  # every code is reported somewhere
    assert all(getattr(codes, name) for name in used)  # and every constant used exists
    # call sites use the constants, never the strings (a typo in a string would be a silent new code)
    assert not [c for c in CODES if f'"{c}"' in source], "write C.<NAME> (resp_dsl/codes.py), not the string"


def test_check_explain_reads_the_checks_own_docstrings(run_cli):
    from resp_dsl import check as checks
    from resp_dsl.cli.check import explain
    from resp_dsl.codes import CODES

    assert all(explain(c) for c in CODES)
    text = explain("eval-point-not-reached")
    assert text.startswith("eval-point-not-reached (error):")
    assert checks.eval_points.__doc__.strip().splitlines()[0] in text
    code, out, _ = run_cli("check", "--explain", "out-of-range")
    assert code == 0 and "check ranges" in out
    code, _, err = run_cli("check", "--explain", "out-of-rang")
    assert code == 2 and 'did you mean "out-of-range"' in err
