"""Reports label rows from the graph being run, handle every graph `check` accepts, and never
block the other outputs (issue 12, items 1, 2 and 4)."""

from __future__ import annotations

import csv
import json

import pytest

pytest.importorskip("torch")

from helpers.graphs import Quiet  # noqa: E402

from resp_dsl.compile.pipeline import compile_text  # noqa: E402
from resp_dsl.runtime.interpreter import NodeFailed, run_graph  # noqa: E402
from resp_dsl.runtime.store import Store  # noqa: E402

HEAD = """\
use stdlib/tasks
model "{model}" dtype fp32 device cpu
protect last block
task tiny_gsm shots=0 max_new_tokens=6 limit=2
score taylor decode_only on heads, channels
calibrate self_generated from tiny_gsm n=2 max_tokens=6
"""


def _graph(model, body: str):
    res = compile_text(HEAD.format(model=model) + body, name="r.prune")
    assert res.ok, [d.message for d in res.diagnostics]
    return res.graph


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


LOOPED = """\
for rho in [1.0]:
    arm alpha:
        schedule milestones [0.1] regen ρ=rho
eval tiny_gsm at [dense, 0.1]
report table rows=arm cols=sparsity name=t
"""
PLAIN = """\
arm beta:
    schedule milestones [0.1] regen ρ=1.0
eval tiny_gsm at [dense, 0.1]
report table rows=arm cols=sparsity name=t
"""


def test_labels_come_from_the_current_graph_not_the_cache(tmp_path, tiny_model_dir):
    store = Store(tmp_path / "cache")
    g1, g2 = _graph(tiny_model_dir, LOOPED), _graph(tiny_model_dir, PLAIN)
    run_graph(g1, store=store, out_dir=tmp_path / "o1", reporter=Quiet())
    quiet = Quiet()
    out = run_graph(g2, store=store, out_dir=tmp_path / "o2", reporter=quiet)
    # every node but the report is shared through the cache; the loop-free recipe does not crash on `rho`
    assert {o.op: o.status for o in out if o.op != "report"} == {op: "cached" for op in
                                                                   ("load_model", "calibrate", "score", "prune", "eval")}
    rows = _csv(tmp_path / "o2" / "t.csv")
    assert {r["arm"] for r in rows} == {"beta"} and "rho" not in rows[0]
    assert "beta" in (tmp_path / "o2" / "t.md").read_text() and "alpha" not in (tmp_path / "o2" / "t.md").read_text()
    first = _csv(tmp_path / "o1" / "t.csv")
    assert {r["arm"] for r in first} == {"alpha[rho=1.0]"} and {r["rho"] for r in first} == {"1.0"}
    # no entry but the reports' (whose keys hold their labels) mentions an arm
    for o in out:
        if o.op != "report":
            manifest = (store.entry_dir(o.key) / "manifest.json").read_text()
            assert "beta" not in manifest and "alpha" not in manifest, o.id


def test_arms_binding_different_loop_variables_report_with_empty_cells(tmp_path, tiny_model_dir):
    body = """\
arm plain:
    score magnitude
    prune to 0.1
for rho in [0, 1.0]:
    arm resp:
        schedule milestones [0.1] regen ρ=rho
eval tiny_gsm at [0.1]
report table rows=arm cols=sparsity name=by_arm
report table rows=rho cols=sparsity name=by_rho
report plot accuracy vs sparsity name=curve
"""
    out = run_graph(_graph(tiny_model_dir, body), store=Store(tmp_path / "c"), out_dir=tmp_path / "o", reporter=Quiet())
    assert all(o.status == "done" for o in out)
    rows = _csv(tmp_path / "o" / "by_arm.csv")
    assert {r["arm"]: r["rho"] for r in rows} == {"plain": "", "resp[rho=0]": "0", "resp[rho=1.0]": "1.0"}
    assert {r["method"] for r in rows} == {"magnitude", "taylor"}
    md = (tmp_path / "o" / "by_rho.md").read_text()
    assert "| - |" in md and "| 0 |" in md and "| 1.0 |" in md
    assert (tmp_path / "o" / "curve_tiny_gsm.png").is_file()


def test_check_rejects_a_report_that_cannot_be_built(tiny_model_dir):
    body = """\
arm a:
    score magnitude
    prune to 0.1
eval tiny_gsm at [0.1]
eval tiny_gsm temperature=0 at [0.1]
report table rows=arm cols=sparsity
"""
    res = compile_text(HEAD.format(model=tiny_model_dir) + body, name="r.prune", graph=False)
    diags = [d for d in res.diagnostics if d.code == "report-unbuildable"]
    assert len(diags) == 1 and diags[0].span.line == 12
    assert "two results fall into the cell arm=a, sparsity=0.1" in diags[0].message


def test_a_failing_report_does_not_block_the_others(tmp_path, tiny_model_dir, monkeypatch):
    from resp_dsl.runtime import report

    body = """\
arm a:
    score magnitude
    prune to 0.1
eval tiny_gsm at [dense, 0.1]
export per_layer to "m" at 0.1
report table rows=arm cols=sparsity name=first
report table rows=arm cols=sparsity name=second
"""
    real = report.build

    def build(params, rows, out, *rest, **kw):
        if params["name"] == "first":
            raise RuntimeError("boom")
        return real(params, rows, out, *rest, **kw)

    graph = _graph(tiny_model_dir, body)
    monkeypatch.setattr(report, "build", build)
    out = {o.id: o for o in run_graph(graph, store=Store(tmp_path / "c"),
                                      out_dir=tmp_path / "o", reporter=Quiet())}
    assert out["report/first"].status == "failed" and "boom" in out["report/first"].error
    assert out["report/second"].status == "done" and (tmp_path / "o" / "second.md").is_file()
    assert (tmp_path / "o" / "m" / "resp_dsl.json").is_file()


def test_keep_going_runs_independent_nodes_after_a_failure(tmp_path, tiny_model_dir):
    from helpers.graphs import eval_params, graph_of, load, node

    ev = eval_params(limit=1, max_new_tokens=4)
    graph = graph_of([
        load(tiny_model_dir),
        node("bad", "eval", {**ev, "task": "no_such_task"}, {"model": "model"}),
        node("good", "eval", ev, {"model": "model"}),
        node("table", "report", {"kind": "table", "name": "t", "rows": "arm", "cols": "sparsity", "by": None,
                                 "metric": "accuracy", "x": "sparsity"}, {"bad": "bad", "good": "good"}),
    ])
    with pytest.raises(NodeFailed):
        run_graph(graph, store=Store(tmp_path / "c1"), out_dir=tmp_path / "o1", reporter=Quiet())
    out = {o.id: o.status for o in run_graph(graph, store=Store(tmp_path / "c2"), out_dir=tmp_path / "o2",
                                             reporter=Quiet(), keep_going=True)}
    assert out == {"model": "done", "bad": "failed", "good": "done", "table": "skipped"}


def test_heatmap_report_draws_arms_by_sparsities(tmp_path, tiny_model_dir):
    import numpy as np
    from PIL import Image

    body = """\
arm wanda:
    score wanda
    calibrate task from tiny_gsm n=2
    prune to [0.1, 0.2]
arm mag:
    score magnitude
    prune to [0.1, 0.2]
report heatmap rows=arm cols=sparsity name=kept
"""
    graph = _graph(tiny_model_dir, body)
    out = run_graph(graph, store=Store(tmp_path / "c"), out_dir=tmp_path / "o", reporter=Quiet())
    rep = [o for o in out if o.op == "report"][0]
    assert rep.summary["rows"] == 4 and "kept.png" in rep.summary["files"]
    rows = json.loads((tmp_path / "o" / "kept.json").read_text())
    assert sorted((r["arm"], r["sparsity"]) for r in rows) == [("mag", 0.1), ("mag", 0.2), ("wanda", 0.1),
                                                                ("wanda", 0.2)]
    img = np.asarray(Image.open(tmp_path / "o" / "kept.png").convert("RGB")).astype(int)
    assert img.std() > 10
    red = (img[..., 0] > 200) & (img[..., 1] < 80) & (img[..., 2] < 80)
    assert red.sum() > 50  # the protected last block is outlined in every panel


def test_heatmap_figure_labels_rows_and_columns_that_lack_their_first_cells(tmp_path, monkeypatch):
    """An arm not evaluated at the first sparsity, a sparsity only one arm reached: every row still
    gets its label and every column its head, each on the first panel that exists."""
    pytest.importorskip("matplotlib")
    from resp_dsl.runtime import report as R

    sel = {"dense": {"num_heads": 4, "intermediate_size": 8}, "protected": [0], "achieved": 0.2,
           "layers": [{"q_heads": [0, 1], "channels": list(range(6))} for _ in range(3)]}
    rows = [{"arm": "resp", "sparsity": 0.1, "key": "a"}, {"arm": "resp", "sparsity": 0.2, "key": "b"},
            {"arm": "gisp", "sparsity": 0.2, "key": "c"}]
    texts = []
    real_savefig = R._plt().Figure.savefig

    def spy(fig, *a, **kw):
        texts.extend(t.get_text() for ax in fig.axes for t in (ax.title, ax.yaxis.label))
        return real_savefig(fig, *a, **kw)

    monkeypatch.setattr(R._plt().Figure, "savefig", spy)
    grid = R.heatmap_grid(rows, rows_by="arm", cols_by="sparsity")
    R.heatmap_figure(grid, {"a": sel, "b": sel, "c": sel}, tmp_path / "h.png", rows_by="arm", cols_by="sparsity")
    assert (tmp_path / "h.png").stat().st_size > 0
    assert {"resp", "gisp"} <= set(texts)  # gisp has no 10% panel: labelled on its 20% one
    assert sum(t.startswith("sparsity=10%") for t in texts) == 1 and sum(t.startswith("sparsity=20%") for t in texts) == 1
