"""Report layout without a model: intervals, legend order, achieved sparsity, titles (issue 12, item 15)."""

from __future__ import annotations

import pytest

from resp_dsl.runtime.report import build, markdown_table, make_rows, pivot, plot_series, wilson


def _rows():
    labels = {f"e{i}": {"arms": [arm], "task": "tiny_gsm", "method": "taylor", "sparsity": sp,
                        "prune_node": f"p{i}" if sp else None}
              for i, (arm, sp) in enumerate([("r[rho=1.0]", 0.3), ("r[rho=0.2]", 0.3), ("r[rho=10]", 0.3),
                                             ("r[rho=0.2]", 0.0)])}
    results = {f"e{i}": {"accuracy": c / 8, "correct": c, "n": 8, "key": f"k{i}"} for i, c in enumerate([0, 4, 8, 6])}
    return make_rows(labels, results, {"p0": 0.3, "p1": 0.2814, "p2": 0.3})


def test_wilson_interval_matches_the_formula():
    lo, hi = wilson(0, 8)
    assert lo == 0.0 and hi == pytest.approx(0.3244, abs=1e-4)  # not clipped to a zero-width bar
    lo, hi = wilson(45, 50)
    assert (lo, hi) == (pytest.approx(0.7864, abs=1e-4), pytest.approx(0.9565, abs=1e-4))


def test_plot_series_numeric_legend_order_task_title_and_error_bars():
    tables = pivot(_rows(), rows_by="arm", cols_by="sparsity", split_by=None)
    (title, series), = plot_series(tables).items()
    assert title == "tiny_gsm"  # the task, not "all"
    assert [s["label"] for s in series] == ["r[rho=0.2]", "r[rho=1.0]", "r[rho=10]"]
    zero = series[1]
    assert zero["y"] == [0.0] and zero["lo"] == [0.0] and zero["hi"][0] > 30 and zero["n"] == [8]


def test_table_shows_achieved_sparsity_where_it_differs():
    md = markdown_table(pivot(_rows(), split_by="task"))
    line = [ln for ln in md.splitlines() if ln.startswith("| r[rho=0.2]")][0]
    assert "50.00 (28.1% pruned)" in line and "75.00 |" in line
    assert "| r[rho=1.0] |  | 0.00 |" in md  # equal to the target: no bracket
    assert "n = 8" in md


def test_build_without_out_writes_nothing_but_checks_cells():
    rows = _rows()
    assert build({"kind": "table", "name": "t", "rows": "arm", "cols": "sparsity"}, rows, None) == []
    from resp_dsl.runtime.report import ReportError

    with pytest.raises(ReportError, match="two results fall into the cell"):
        build({"kind": "table", "name": "t", "rows": "task", "cols": "sparsity"}, rows, None)


def test_plot_vs_a_loop_variable_draws_one_curve_per_arm_and_sparsity(tmp_path):
    pytest.importorskip("matplotlib")
    rows = [r for r in _rows() if r["sparsity"] == 0.3]
    params = {"kind": "plot", "name": "p", "x": "rho", "by": None}
    files = build(params, rows, tmp_path)
    assert [f.name for f in files] == ["p_tiny_gsm.png", "p.json"]
    tables = pivot([{**r, "series": "r @ 30%"} for r in rows], rows_by="series", cols_by="rho", split_by="task")
    (series,) = plot_series(tables, 1.0)["tiny_gsm"]
    assert series["label"] == "r @ 30%" and series["x"] == [0.2, 1.0, 10.0]


def test_table_states_the_sparsity_reached_in_both_units():
    """Issue 10: the basis and the achieved fraction of structures and of parameters, next to the accuracy."""
    labels = {"e": {"arms": ["resp"], "task": "tiny_gsm", "method": "taylor", "sparsity": 0.4, "prune_node": "p"}}
    results = {"e": {"accuracy": 0.815, "correct": 163, "n": 200, "key": "k"}}
    summary = {"target": 0.4, "basis": "structures", "achieved": 0.3998, "achieved_structures": 0.3998,
               "achieved_params": 0.2796}
    rows = make_rows(labels, results, {"p": summary})
    assert (rows[0]["basis"], rows[0]["achieved_structures"], rows[0]["achieved_params"]) == ("structures", 0.3998,
                                                                                              0.2796)
    md = markdown_table(pivot(rows, split_by="task"))
    assert "targets count structures" in md and "| resp | 40.0 / 28.0 |" in md
