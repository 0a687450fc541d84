"""`report ... over seed` and `report compare` on hand-made rows with known values (issue 14). No model, no torch."""

from __future__ import annotations

import csv
import io
import json

import pytest

from resp_dsl.runtime.report import (ReportError, build, compare_rows, make_rows, markdown_table, over_seeds,
                                     per_problem, pivot, plot_series)
from resp_dsl.stats import bootstrap_over_seeds, mcnemar, wilson


def _vec(k: int, n: int = 100) -> dict[str, bool]:
    return {str(i): i < k for i in range(n)}


# Three seeds of RESP at 30% (57 / 8 / 78 of 100, as the bundled model gave), one dense eval that every seed
# shares, and a magnitude arm the seeds do not reach.
LABELS = {
    "dense": {"arms": ["resp[seed=0]", "resp[seed=1]", "resp[seed=2]", "mag"], "task": "t", "method": None,
              "sparsity": 0.0, "prune_node": None},
    **{f"r{s}": {"arms": [f"resp[seed={s}]"], "task": "t", "method": "taylor", "sparsity": 0.3,
                 "prune_node": f"p{s}"} for s in range(3)},
    "m": {"arms": ["mag"], "task": "t", "method": "magnitude", "sparsity": 0.3, "prune_node": "pm"},
}
CORRECT = {"dense": 90, "r0": 57, "r1": 8, "r2": 78, "m": 40}
OUTCOMES = {f"k-{role}": _vec(k) for role, k in CORRECT.items()}


def _rows():
    results = {role: {"accuracy": k / 100, "correct": k, "n": 100, "key": f"k-{role}"} for role, k in CORRECT.items()}
    return make_rows(LABELS, results)


def _cell(rows, arm, sparsity):
    return next(r for r in rows if r["arm"] == arm and r["sparsity"] == sparsity)


def test_over_seed_mean_per_seed_values_and_bootstrap_interval():
    rows = over_seeds(_rows(), OUTCOMES)
    resp = _cell(rows, "resp", 0.3)
    expected = bootstrap_over_seeds([list(_vec(k).values()) for k in (57, 8, 78)])
    assert resp["per_seed"] == [0.57, 0.08, 0.78] and resp["seeds"] == ["0", "1", "2"]
    assert resp["accuracy"] == pytest.approx(0.4767, abs=1e-4) == expected.mean
    assert (resp["lo"], resp["hi"]) == expected.interval and resp["interval"] == "bootstrap"
    assert resp["lo"] < 0.2 and resp["hi"] > 0.7  # seeds this far apart: a wide interval
    assert "seed" not in resp and resp["n"] == 100


def test_a_result_every_seed_shares_gets_its_wilson_interval():
    rows = over_seeds(_rows(), OUTCOMES)
    dense = _cell(rows, "resp", 0.0)
    assert dense["interval"] == "wilson" and (dense["lo"], dense["hi"]) == wilson(90, 100)
    assert dense["per_seed"] == [0.9, 0.9, 0.9] and dense["accuracy"] == 0.9
    mag = _cell(rows, "mag", 0.3)
    assert mag["interval"] == "wilson" and mag["seeds"] == [] and (mag["lo"], mag["hi"]) == wilson(40, 100)


def test_over_seed_table_states_the_interval_in_its_caption_and_lists_each_seed():
    md = markdown_table(pivot(over_seeds(_rows(), OUTCOMES), split_by="task"))
    lo, hi = bootstrap_over_seeds([list(_vec(k).values()) for k in (57, 8, 78)]).interval
    wl, wh = wilson(90, 100)
    assert f"| resp | 90.00 [{100 * wl:.1f}, {100 * wh:.1f}] | 47.67 [{100 * lo:.1f}, {100 * hi:.1f}] |" in md
    assert "two-level bootstrap over seeds × problems" in md and "2000 resamples" in md
    assert "Wilson" in md and "seeds 0, 1, 2" in md
    assert "| resp | 90.00 | 57.00 / 8.00 / 78.00 |" in md
    assert "n = 100 problems per cell and seed" in md


def test_over_seed_files_and_plot_error_bars_use_the_same_numbers(tmp_path):
    params = {"kind": "table", "name": "t", "rows": "arm", "cols": "sparsity", "by": None, "over": "seed"}
    build(params, _rows(), tmp_path, {}, OUTCOMES)
    lines = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text())))
    resp = next(r for r in lines if r["arm"] == "resp" and r["sparsity"] == "0.3")
    assert resp["per_seed"] == "0.57;0.08;0.78" and resp["interval"] == "bootstrap" and resp["seeds"] == "0;1;2"
    data = json.loads((tmp_path / "t.json").read_text())
    assert {r["arm"] for r in data} == {"resp", "mag"}
    rows = over_seeds(_rows(), OUTCOMES)
    (series,) = plot_series(pivot(rows, split_by=None)).values()
    s = next(x for x in series if x["label"] == "resp")
    cell = _cell(rows, "resp", 0.3)
    assert s["y"][1] == pytest.approx(100 * cell["accuracy"])
    assert s["lo"][1] == pytest.approx(100 * (cell["accuracy"] - cell["lo"]))
    assert s["hi"][1] == pytest.approx(100 * (cell["hi"] - cell["accuracy"]))


def test_two_results_for_one_seed_cannot_be_averaged():
    rows = _rows()
    rows.append({**_cell(rows, "resp[seed=0]", 0.3), "key": "other"})
    with pytest.raises(ReportError, match="seed 0"):
        over_seeds(rows, OUTCOMES)


# ------------------------------------------------------------------------ compare

A_SOLVED = [True] * 30 + [False] * 10 + [True] * 2 + [False] * 8  # 32 / 50
B_SOLVED = [True] * 30 + [True] * 10 + [False] * 2 + [False] * 8  # 40 / 50: 10 only B, 2 only A


def _pair_rows(seeds):
    labels, results, outcomes = {}, {}, {}
    for s in seeds:
        tag = f"[seed={s}]" if s is not None else ""
        for arm, solved in (("resp", A_SOLVED), ("gisp", B_SOLVED)):
            solved = solved[s:] + solved[:s] if s else solved  # each seed: a different draw
            role = arm if s is None else f"{arm}{s}"
            labels[role] = {"arms": [arm + tag], "task": "t", "method": "taylor", "sparsity": 0.3, "prune_node": None}
            outcomes[f"k-{role}"] = {str(i): v for i, v in enumerate(solved)}
            results[role] = {"accuracy": sum(solved) / 50, "correct": sum(solved), "n": 50, "key": f"k-{role}"}
    return make_rows(labels, results), outcomes


def test_compare_one_result_each_mcnemar_and_newcombe():
    rows, outcomes = _pair_rows([None])
    (r,) = compare_rows(rows, outcomes, a="resp", b="gisp")
    p = mcnemar(A_SOLVED, B_SOLVED)
    assert (r["only_a"], r["only_b"], r["n"]) == (2, 10, 50)
    assert r["difference"] == pytest.approx(-0.16) and r["p_value"] == p.p_value == pytest.approx(0.0386, abs=1e-4)
    assert (r["lo"], r["hi"]) == p.interval and r["interval"] == "newcombe"


def test_compare_over_seeds_pairs_seed_by_seed_and_bootstraps_the_mean_difference(tmp_path):
    rows, outcomes = _pair_rows([0, 1, 2])
    (r,) = compare_rows(rows, outcomes, a="resp", b="gisp", at=0.3)
    assert [s["seed"] for s in r["per_seed"]] == ["0", "1", "2"] and r["interval"] == "bootstrap"
    for s in r["per_seed"]:
        sh = int(s["seed"])
        a, b = A_SOLVED[sh:] + A_SOLVED[:sh], B_SOLVED[sh:] + B_SOLVED[:sh]
        assert s["p_value"] == mcnemar(a, b).p_value and (s["lo"], s["hi"]) == mcnemar(a, b).interval
    diffs = [[int(x) - int(y) for x, y in zip(A_SOLVED[s:] + A_SOLVED[:s], B_SOLVED[s:] + B_SOLVED[:s])]
             for s in range(3)]
    boot = bootstrap_over_seeds(diffs)
    assert r["difference"] == pytest.approx(-0.16) == boot.mean and (r["lo"], r["hi"]) == boot.interval
    assert r["lo"] < -0.16 < r["hi"] < 0
    params = {"kind": "compare", "name": "c", "rows": "arm", "cols": "sparsity", "by": None, "a": "resp", "b": "gisp"}
    build(params, rows, tmp_path, {}, outcomes)
    md = (tmp_path / "c.md").read_text()
    assert "| resp | gisp | 30% | 50 | 64.00 | 80.00 | -16.00 |" in md and "bootstrap" in md
    lines = list(csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text())))
    assert [ln["seed"] for ln in lines] == ["mean", "0", "1", "2"]


def test_compare_pairs_only_the_problems_both_arms_answered():
    rows, outcomes = _pair_rows([None])
    outcomes["k-gisp"] = {k: v for k, v in outcomes["k-gisp"].items() if int(k) < 40}
    (r,) = compare_rows(rows, outcomes, a="resp", b="gisp")
    assert r["n"] == 40 and r["only_b"] == 10 and r["only_a"] == 0
    outcomes["k-gisp"] = {"x": True}
    with pytest.raises(ReportError, match="different problems"):
        compare_rows(rows, outcomes, a="resp", b="gisp")


def test_compare_skips_the_shared_dense_model_and_fails_without_a_common_point():
    rows, outcomes = _pair_rows([None])
    with pytest.raises(ReportError, match="no results"):
        compare_rows(rows, outcomes, a="resp", b="gisp", at=0.2)
    shared = make_rows({"d": {"arms": ["resp", "gisp"], "task": "t", "method": None, "sparsity": 0.0,
                              "prune_node": None}}, {"d": {"accuracy": 0.5, "correct": 1, "n": 2, "key": "kd"}})
    with pytest.raises(ReportError, match="no results"):
        compare_rows(shared, {"kd": {"0": True, "1": False}}, a="resp", b="gisp")


def test_per_problem_reads_ids_and_falls_back_to_positions():
    res = {"per_example": [{"id": "q7", "correct": 1}, {"correct": False}]}
    assert per_problem(res) == {"q7": True, "1": False}


def test_compare_two_values_of_one_loop_named_in_the_labels():
    # Table 3's shape: one implicit arm per ρ, each over two seeds; the labels fix ρ themselves.
    labels = {f"{rho}-{s}": {"arms": [f"main[rho={rho},seed={s}]"], "task": "t", "method": "taylor",
                             "sparsity": 0.4, "prune_node": f"p{rho}{s}"} for rho in ("0", "1.0") for s in (0, 1)}
    correct = {"0-0": 40, "0-1": 50, "1.0-0": 60, "1.0-1": 62}
    results = {role: {"accuracy": k / 100, "correct": k, "n": 100, "key": f"k-{role}"} for role, k in correct.items()}
    outcomes = {f"k-{role}": _vec(k) for role, k in correct.items()}
    (r,) = compare_rows(make_rows(labels, results), outcomes, a="main[rho=1.0]", b="main[rho=0]", at=0.4)
    assert (r["a"], r["b"], r["seeds"]) == ("main[rho=1.0]", "main[rho=0]", ["0", "1"])
    assert "rho" not in r
    assert r["difference"] == pytest.approx(((60 - 40) + (62 - 50)) / 200)
    # without naming ρ, different ρ are still never paired
    with pytest.raises(ReportError):
        compare_rows(make_rows(labels, results), outcomes, a="main", b="main", at=0.4)
