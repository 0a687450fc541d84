"""The bench runner's table and JSON assembly on fake bench outputs, and the prefix-sharing counts
on a recipe small enough to count by hand. Nothing here times anything or runs a model."""

from __future__ import annotations

import json

import pytest

from bench.__main__ import BENCHES, BenchResult, collect, markdown, render_table, report, select, table_rows
from bench.bench_prefix_sharing import measure, measure_compiled
from bench.bench_resume import parse_log
from bench.figures import Figure, read_figures, write_figures
from resp_dsl.compile.pipeline import compile_text

TWO_ARMS = """use stdlib/tasks
model "zoo:tiny-reasoner" dtype fp32 device cpu

arm a:
    calibrate task from tiny_gsm n=4
    score wanda
    prune to [0.2]
    eval tiny_gsm at [0.2] limit=3

arm b:
    calibrate task from tiny_gsm n=4
    score wanda
    prune to [0.3]
    eval tiny_gsm at [0.3] limit=3
"""


def test_figures_round_trip_through_json(tmp_path):
    figs = [Figure("median", 1.5, "s", target="<= 2", met=True), Figure("reason", "generate_batch missing")]
    write_figures(tmp_path / "f.json", figs)
    assert read_figures(tmp_path / "f.json") == figs


@pytest.mark.parametrize("payload, message", [
    ({"figures": [{"value": 1}]}, "needs 'figure' and 'value'"),
    ({"figures": [{"figure": "x", "value": 1, "colour": "red"}]}, "unknown keys"),
    ([1, 2], "expected an object with a 'figures' list"),
])
def test_bad_figures_file_is_a_clear_error(tmp_path, payload, message):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=message):
        read_figures(path)


def test_collect_turns_a_crash_or_missing_file_into_a_failed_result(tmp_path):
    crashed = collect("speed", 1, "", "Traceback ...\nRuntimeError: out of memory\n", tmp_path / "none.json", 3.0)
    assert crashed.error == "exit 1: RuntimeError: out of memory" and crashed.figures == []
    silent = collect("speed", 0, "ok\n", "", tmp_path / "none.json", 3.0)
    assert silent.error is not None and silent.error.startswith("no figures")
    write_figures(tmp_path / "f.json", [Figure("tokens/s", 12.5, "tok/s")])
    good = collect("speed", 0, "", "", tmp_path / "f.json", 3.0)
    assert good.error is None and good.figures == [Figure("tokens/s", 12.5, "tok/s")]


def test_table_has_one_row_per_figure_and_one_failed_row_per_failed_bench():
    results = [
        BenchResult("check", [Figure("median wall", 205, "ms"), Figure("cached", 1.09, "s", "<= 2", True)]),
        BenchResult("resume", error="timed out after 300 s"),
        BenchResult("speed", [Figure("decode speed-up", 0.8, "x", ">= 1", False)]),
    ]
    rows = table_rows(results)
    assert rows == [
        ("check", "median wall", "205", "ms", "", ""),
        ("check", "cached", "1.09", "s", "<= 2", "yes"),
        ("resume", "FAILED", "timed out after 300 s", "", "", "no"),
        ("speed", "decode speed-up", "0.8", "x", ">= 1", "NO"),
    ]
    lines = render_table(results).splitlines()
    assert lines[0].split(" | ")[0].strip() == "bench" and len(lines) == 2 + len(rows)
    assert len({line.index("|") for line in lines if "|" in line}) == 1  # columns line up
    data = report(results, {"cpu": "test"}, quick=True)
    assert [b["bench"] for b in data["benches"]] == ["check", "resume", "speed"]
    assert data["benches"][1]["error"] == "timed out after 300 s"
    assert data["benches"][0]["figures"][1] == {"figure": "cached", "value": 1.09, "unit": "s", "target": "<= 2",
                                                "met": True}
    json.dumps(data)
    machine = {"date": "2026-11-26", "cpu": "test cpu", "cores": 2, "python": "3.11", "torch": "2.13.0",
               "transformers": "5.23.0", "loadavg_start": [0.1], "loadavg_end": [0.2]}
    md = markdown(results + [BenchResult("pipes", [Figure("a | b", 1, "x")])], machine, quick=True).splitlines()
    assert "test cpu, 2 cores" in md[0] and "--quick" in md[0]
    assert md[4] == "| check | median wall | 205 | ms |  |  |"
    assert md[-1] == "| pipes | a \\| b | 1 | x |  |  |"  # a "|" inside a cell does not split it
    assert len(md) == 4 + len(rows) + 1


def test_select_keeps_table_order_and_rejects_unknown_names():
    assert [b.name for b in select("resume,check")] == ["check", "resume"]
    assert len(select(None)) == len(BENCHES)
    with pytest.raises(ValueError, match="unknown bench nope: choose from check"):
        select("check,nope")


def test_prefix_sharing_counts_what_two_arms_share():
    # Alone, each arm runs load_model, calibrate, score, prune, eval: 2 x 5 = 10 nodes, and its
    # wanda score makes one forward pass per calibration sample: 2 x 4. Shared, the arms differ
    # only from their prune on: load_model, calibrate and score run once, 3 nodes and 4 passes saved.
    s = measure_compiled(compile_text(TWO_ARMS, "<two-arms>"), "two-arms")
    assert (s.arms, s.alone.nodes, s.shared.nodes) == (2, 10, 7)
    assert (s.alone.forward, s.shared.forward) == (8, 4)
    assert s.alone.tokens_generated == s.shared.tokens_generated > 0  # each eval runs on its own model


def test_prefix_sharing_on_table3_shares_the_path_to_30_percent():
    s = measure("recipes/paper_table3_regen_ratio.prune")
    # An arm alone: load_model, calibrate, then per milestone 0.1/0.2/0.3 score -> prune -> regenerate,
    # then score -> prune@0.4 -> eval: 14 nodes; the ρ=0 arm regenerates nothing at 0.3: 13.
    # Shared: the 10 nodes up to prune@0.3 once, then regenerate, score, prune, eval per arm (ρ=0: 3).
    assert s.arms == 6
    assert s.alone.nodes == 5 * 14 + 13
    assert s.shared.nodes == 10 + 5 * 4 + 3
    assert s.alone.forward_backward > s.shared.forward_backward > 0


def test_missing_recipe_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no recipe at"):
        measure(tmp_path / "absent.prune")


def test_resume_log_parser_reads_final_statuses_only():
    log = parse_log("quickstart: 3 nodes\n[1/3] running main/load_model\n[1/3] done main/load_model in 3.5s \n"
                    "[2/3] cached main/calibrate/self_generated 4 samples\n[3/3] recomputed main/score@0 in 1.0s\n"
                    "run summary\n      done  main/load_model  load_model  3.5s\n")
    assert log.total == 3
    assert log.nodes == {"done": ["main/load_model"], "cached": ["main/calibrate/self_generated"],
                         "recomputed": ["main/score@0"]}
