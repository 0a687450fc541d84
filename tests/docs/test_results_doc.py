"""docs/results.md is rendered from the shipped result files (docs/results/*/): every number in it must be
the one those files hold, and each shipped table must be the one its own JSON rows give."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from resp_dsl.runtime.report import markdown_table, pivot

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "results"


def _render_module():
    spec = importlib.util.spec_from_file_location("results_render", RESULTS / "render.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_results_md_is_what_the_shipped_files_give():
    render = _render_module()
    assert (ROOT / "docs" / "results.md").read_text(encoding="utf-8") == render.render(), \
        "docs/results.md differs from its template and result files: run `python docs/results/render.py`"


def test_placeholders_pick_exactly_one_row_or_fail(tmp_path, monkeypatch):
    render = _render_module()
    monkeypatch.setattr(render, "HERE", tmp_path)
    rows = [{"arm": "resp", "sparsity": 0.3, "accuracy": 0.4567, "p_value": 0.01234},
            {"arm": "gisp", "sparsity": 0.3, "accuracy": 0.25},
            {"arm": "gisp", "sparsity": 0.30000000001, "accuracy": 0.5}]
    (tmp_path / "t.json").write_text(json.dumps(rows))
    assert render.render("RESP {{ t.json arm=resp sparsity=0.3 accuracy }}%, p={{ t.json arm=resp p_value }}") \
        == "RESP 45.7%, p=0.0123"
    with pytest.raises(render.RenderError, match="matches 2 rows"):
        render.render("{{ t.json arm=gisp sparsity=0.3 accuracy }}")
    with pytest.raises(render.RenderError, match="matches 0 rows"):
        render.render("{{ t.json arm=wanda accuracy }}")
    with pytest.raises(render.RenderError, match="no such result file"):
        render.render("{{ missing.json arm=wanda accuracy }}")


FOLDERS = sorted(p.parent.name for p in RESULTS.glob("*/run.json"))


@pytest.mark.parametrize("folder", FOLDERS or ["(none)"])
def test_each_shipped_table_is_the_one_its_rows_give(folder):
    """Re-compile the recipe that made the folder (recipes/miniature/<folder>.prune, with the run's --set values)
    and rebuild each of its tables' markdown from the shipped JSON rows."""
    if not FOLDERS:
        pytest.skip("no shipped results yet (docs/results/<recipe>/run.json)")
    from resp_dsl.compile import compile_file

    rec = json.loads((RESULTS / folder / "run.json").read_text(encoding="utf-8"))
    res = compile_file(ROOT / "recipes" / "miniature" / f"{folder}.prune", overrides=rec["configuration"].get("set"))
    assert res.ok, res.diagnostics
    tables = [n.params for n in res.graph.nodes.values() if n.op == "report" and n.params.get("kind") == "table"]
    assert tables, f"{folder}.prune has no table report"
    for params in tables:
        name = params.get("name") or "table"
        rows = json.loads((RESULTS / folder / f"{name}.json").read_text(encoding="utf-8"))
        rows_by, cols_by = params.get("rows", "arm"), params.get("cols", "sparsity")
        text = markdown_table(pivot(rows, rows_by=rows_by, cols_by=cols_by, split_by=params.get("by") or "task"), rows_by)
        assert (RESULTS / folder / f"{name}.md").read_text(encoding="utf-8") == text


def test_shipped_run_records_name_their_recipe_as_the_repository_does():
    spec = importlib.util.spec_from_file_location("results_collect", RESULTS / "collect.py")
    collect = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(collect)
    here = {"configuration": {"recipe": str(ROOT / "resp_dsl" / "recipes" / "miniature" / "table1.prune"), "set": {}}}
    assert collect.portable(here)["configuration"] == {"recipe": "recipes/miniature/table1.prune", "set": {}}
    elsewhere = {"configuration": {"recipe": "/srv/elsewhere/resp-dsl/recipes/miniature/table2.prune"}}
    assert collect.portable(elsewhere)["configuration"]["recipe"] == "recipes/miniature/table2.prune"
    for record in RESULTS.glob("*/run.json"):
        recipe = json.loads(record.read_text(encoding="utf-8"))["configuration"]["recipe"]
        assert not Path(recipe).is_absolute() and (ROOT / recipe).is_file(), record
