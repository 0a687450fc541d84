"""The report dimension `split`: the eval's split (`test`), or `calibration` for `eval ... on calibration`.

Hand-made rows (no model, no torch) and compiled recipes (check-time report building).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from resp_dsl.compile.pipeline import compile_text
from resp_dsl.runtime.report import BASE_FIELDS, build, compare_rows, make_rows, over_seeds, pivot
from helpers.graphs import ON_CALIBRATION, compile_ok


def _vec(k: int, n: int = 10, start: int = 0) -> dict[str, bool]:
    return {str(start + i): i < k for i in range(n)}


# Two arms at 30%, each evaluated on the test split (problem ids 0-9) and on its calibration draw
# (ids 100-109), two seeds each.
LABELS = {
    **{f"{arm}-test-{s}": {"arms": [f"{arm}[seed={s}]"], "task": "t", "method": "taylor", "sparsity": 0.3,
                           "prune_node": f"p-{arm}-{s}"} for arm in ("resp", "gisp") for s in (0, 1)},
    **{f"{arm}-cal-{s}": {"arms": [f"{arm}[seed={s}]"], "task": "t", "split": "calibration", "method": "taylor",
                          "sparsity": 0.3, "prune_node": f"p-{arm}-{s}"} for arm in ("resp", "gisp") for s in (0, 1)},
}
CORRECT = {"resp-test-0": 6, "resp-test-1": 4, "gisp-test-0": 3, "gisp-test-1": 2,
           "resp-cal-0": 9, "resp-cal-1": 8, "gisp-cal-0": 7, "gisp-cal-1": 5}
OUTCOMES = {f"k-{r}": _vec(k, start=100 if "-cal-" in r else 0) for r, k in CORRECT.items()}


def _rows():
    results = {r: {"accuracy": k / 10, "correct": k, "n": 10, "key": f"k-{r}",
                   "settings": {"split": "train" if "-cal-" in r else "test"}} for r, k in CORRECT.items()}
    return make_rows(LABELS, results)


def test_rows_carry_the_split_from_labels_else_from_the_result():
    rows = _rows()
    assert {(r["arm"], r["split"]) for r in rows if r["accuracy"] in (0.9, 0.6)} == \
        {("resp[seed=0]", "calibration"), ("resp[seed=0]", "test")}
    # a result whose labels say nothing: the split its eval recorded (a validation eval), "test" for placeholders
    lab = {"e": {"arms": ["a"], "task": "t", "sparsity": 0.0}}
    res = {"accuracy": 0.5, "correct": 1, "n": 2, "key": "k"}
    assert make_rows(lab, {"e": {**res, "settings": {"split": "validation"}}})[0]["split"] == "validation"
    assert make_rows(lab, {"e": res})[0]["split"] == "test"
    assert "split" in BASE_FIELDS


def test_by_split_gives_one_table_per_split_and_without_it_the_cells_collide_on_split():
    tables = pivot(_rows(), rows_by="arm", cols_by="sparsity", split_by="split")
    assert sorted(tables) == ["calibration", "test"]
    rl, cl, cells = tables["calibration"]
    assert cells[("resp[seed=0]", 0.3)]["accuracy"] == 0.9 and cells[("gisp[seed=1]", 0.3)]["accuracy"] == 0.5
    try:
        pivot(_rows(), rows_by="arm", cols_by="sparsity", split_by="task")
    except Exception as exc:
        assert "differ in split" in str(exc)
    else:
        raise AssertionError("a table mixing splits must not build")


def test_over_seed_averages_within_a_split(tmp_path):
    rows = over_seeds(_rows(), OUTCOMES, iterations=200)
    got = {(r["arm"], r["split"]): r["per_seed"] for r in rows}
    assert got == {("gisp", "calibration"): [0.7, 0.5], ("gisp", "test"): [0.3, 0.2],
                   ("resp", "calibration"): [0.9, 0.8], ("resp", "test"): [0.6, 0.4]}
    files = build({"kind": "table", "name": "t2", "rows": "arm", "cols": "sparsity", "by": "split", "over": "seed"},
                  _rows(), tmp_path, outcomes=OUTCOMES, iterations=200)
    md = (tmp_path / "t2.md").read_text()
    assert "### calibration" in md and "### test" in md and len(files) == 3
    lines = list(csv.DictReader(io.StringIO((tmp_path / "t2.csv").read_text())))
    assert sorted(r["split"] for r in lines) == ["calibration", "calibration", "test", "test"]
    assert {r["split"] for r in json.loads((tmp_path / "t2.json").read_text())} == {"calibration", "test"}


def test_compare_pairs_only_results_on_the_same_split():
    pairs = compare_rows(_rows(), OUTCOMES, a="resp", b="gisp", iterations=200)
    assert sorted((p["split"], p["seeds"]) for p in pairs) == [("calibration", ["0", "1"]), ("test", ["0", "1"])]
    for p in pairs:  # each pairs the 10 problems of its own split, never test ids with drawn ids
        assert all(s["n"] == 10 for s in p["per_seed"])
    cal = next(p for p in pairs if p["split"] == "calibration")
    assert [s["difference"] for s in cal["per_seed"]] == pytest.approx([0.2, 0.3])
    # with one split only, nothing to pair across: test results of one arm vs calibration results of another
    only = [r for r in _rows() if not (r["arm"].startswith("resp") and r["split"] == "test")
            and not (r["arm"].startswith("gisp") and r["split"] == "calibration")]
    try:
        compare_rows(only, OUTCOMES, a="resp", b="gisp")
    except Exception as exc:
        assert 'no results of "resp" and "gisp" to pair' in str(exc)
    else:
        raise AssertionError("results on different splits must not be paired")


def test_report_labels_say_calibration_only_for_draws():
    res = compile_ok(ON_CALIBRATION + "report table rows=arm cols=sparsity by split\n")
    labels = res.graph.nodes["report/table1"].params["labels"]
    splits = {nid: lab.get("split") for nid, lab in labels.items()}
    assert sorted(v for v in splits.values() if v) == ["calibration", "calibration"]
    assert all(v is None for nid, v in splits.items() if "calibration@" not in nid)


def test_a_table_mixing_splits_without_by_split_is_unbuildable():
    res = compile_text(ON_CALIBRATION + "report table rows=arm cols=sparsity\n", name="r.prune")
    assert not res.ok
    (d,) = res.diagnostics
    assert d.code == "report-unbuildable" and "differ in split" in d.message and d.span.line == 8
    for ok in ("report table rows=arm cols=split\n", "report table rows=arm cols=sparsity by split over seed\n",
               "report plot accuracy vs sparsity by split\n"):
        r = compile_text(ON_CALIBRATION + ok, name="r.prune")
        assert r.ok, (ok, [d.message for d in r.diagnostics])
