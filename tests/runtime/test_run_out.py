"""What `run --out` holds, and that two configurations never share it silently (issue 12, item 9)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("torch")

from resp_dsl.cli import main  # noqa: E402

RECIPE = """\
use stdlib/tasks
param n = 2
model "{model}" dtype fp32 device cpu
protect last block
task tiny_gsm shots=0 max_new_tokens=4
score magnitude
prune to 0.1
eval tiny_gsm at [dense, 0.1] limit=n
export per_layer to "m" at 0.1
report table rows=arm cols=sparsity
"""


@pytest.fixture()
def recipe(tmp_path, tiny_model_dir):
    p = tmp_path / "small.prune"
    p.write_text(RECIPE.format(model=tiny_model_dir))
    return p


def _run(recipe, tmp_path, *extra):
    return main(["run", str(recipe), "--cache", str(tmp_path / "cache"), "--plain", "--threads", "1", *extra])


def test_out_holds_recipe_settings_versions_machine_and_samples(recipe, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(recipe, tmp_path, "--out", str(out), "--set", "n=3") == 0
    rec = json.loads((out / "run.json").read_text())
    assert rec["configuration"]["set"] == {"n": "3"} and rec["params"] == {"n": 3}
    (arm,) = rec["resolved"]["arms"]
    assert [e["task"]["limit"] for e in arm["evals"]] == [3] and arm["score"]["method"] == "magnitude"
    assert rec["versions"]["torch"] and rec["versions"]["transformers"] and rec["machine"]["cpus"]
    # peak resident memory of the run (a real process holds at least its interpreter: > 10 MiB)
    assert rec["peak_memory"]["rss_mib"] > 10
    assert {n["op"] for n in rec["nodes"]} >= {"load_model", "eval", "report"}
    assert (out / "recipe" / "small.prune").read_text() == recipe.read_text()
    assert (out / "recipe" / "stdlib" / "tasks.prune").is_file()
    samples = sorted((out / "samples").glob("*.jsonl"))
    assert len(samples) == 2
    lines = [json.loads(x) for x in samples[0].read_text().splitlines()]
    assert len(lines) == 3 and {"prompt", "output", "pred", "target", "correct"} <= set(lines[0])


def test_other_set_values_never_share_an_out_dir(recipe, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert _run(recipe, tmp_path, "--out", str(out), "--set", "n=2") == 0
    before = (out / "table1.md").read_text()
    capsys.readouterr()
    assert _run(recipe, tmp_path, "--out", str(out), "--set", "n=3") == 2
    err = capsys.readouterr().err
    assert "--set n=2" in err and "--set n=3" in err and "--out DIR" in err and "--overwrite-out" in err
    assert (out / "table1.md").read_text() == before
    # the default folders differ by the --set values
    monkeypatch.chdir(tmp_path)
    assert _run(recipe, tmp_path, "--set", "n=3") == 0
    assert _run(recipe, tmp_path) == 0
    assert (tmp_path / "runs" / "small-n=3" / "run.json").is_file() and (tmp_path / "runs" / "small" / "run.json").is_file()


def test_export_overwrite_hint_names_the_cli_flag(recipe, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "m").mkdir(parents=True)
    (out / "m" / "mine.txt").write_text("a user's file")
    assert _run(recipe, tmp_path, "--out", str(out)) == 3
    text = capsys.readouterr().out
    assert "--overwrite-exports" in text and "overwrite=True" not in text
    assert (out / "m" / "mine.txt").read_text() == "a user's file"
    assert os.listdir(out / "m") == ["mine.txt"]


BOX = {chr(c) for c in range(0x2500, 0x2580)}


def test_plain_draws_no_box_characters(recipe, tmp_path, capsys):
    assert _run(recipe, tmp_path, "--out", str(tmp_path / "out")) == 0
    text = capsys.readouterr().out
    assert "run summary" in text and "main/eval/tiny_gsm@0.1" in text
    assert not BOX & set(text)


def test_summary_table_wraps_long_node_ids_instead_of_truncating():
    import io

    from rich.console import Console

    from resp_dsl.cli.run import _print_summary
    from resp_dsl.runtime.interpreter import NodeOutcome

    ids = ["resp[rho=0.2,dataset=gsm8k]+5/regenerate@0.3", "wanda[dataset=mathqa]/eval/mathqa@0.4"]
    buf = io.StringIO()
    console = Console(file=buf, width=60, force_terminal=False, color_system=None)
    _print_summary(console, [NodeOutcome(i, "eval", "k", "done", 1.0, {"accuracy": 0.5, "n": 2, "correct": 1})
                             for i in ids], Path("/nonexistent"), 1.0)
    text = buf.getvalue()
    assert "…" not in text
    first_column = "".join(line.split("│")[1].strip() for line in text.splitlines() if line.count("│") > 2)
    for i in ids:
        assert i in first_column


def test_until_runs_a_node_and_its_inputs_only_then_only_reuses_them(recipe, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(recipe, tmp_path, "--out", str(out), "--only", "main/eval/tiny_gsm@0.1") == 3
    assert "--until" in capsys.readouterr().out
    assert _run(recipe, tmp_path, "--out", str(out), "--until", "*/prune@0.1") == 0
    rec = json.loads((out / "run.json").read_text())
    assert sorted(n["op"] for n in rec["nodes"]) == ["load_model", "prune", "score"]
    assert _run(recipe, tmp_path, "--out", str(out), "--only", "main/eval/tiny_gsm@0.1") == 0
    rec = json.loads((out / "run.json").read_text())
    assert {n["id"]: n["status"] for n in rec["nodes"]}["main/eval/tiny_gsm@0.1"] == "done"
    assert {n["status"] for n in rec["nodes"] if n["op"] != "eval"} == {"cached"}


def test_limit_is_a_smoke_run_with_its_own_keys_and_folder(recipe, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run(recipe, tmp_path, "--limit", "1") == 0
    assert _run(recipe, tmp_path) == 0
    smoke = json.loads((tmp_path / "runs" / "small-limit=1" / "run.json").read_text())
    full = json.loads((tmp_path / "runs" / "small" / "run.json").read_text())
    evals = lambda rec: {n["id"]: n for n in rec["nodes"] if n["op"] == "eval"}  # noqa: E731
    for nid, n in evals(smoke).items():
        assert n["summary"]["n"] == 1 and evals(full)[nid]["summary"]["n"] == 2
        assert n["key"] != evals(full)[nid]["key"] and evals(full)[nid]["status"] == "done"


def test_keep_going_cli_writes_what_it_can_and_exits_3(tmp_path, tiny_model_dir, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "no question or answer field"}\n')
    p = tmp_path / "two.prune"
    p.write_text(RECIPE.format(model=tiny_model_dir).replace(
        "eval tiny_gsm at [dense, 0.1] limit=n\n",
        f'task broken from "{bad}" shots=0 max_new_tokens=4\neval tiny_gsm at [dense, 0.1] limit=n\n'
        "eval broken at [0.1]\n"))
    out = tmp_path / "out"
    assert _run(p, tmp_path, "--out", str(out)) == 3  # stops at the failing node
    assert _run(p, tmp_path, "--out", str(tmp_path / "out2"), "--keep-going") == 3
    text = capsys.readouterr().out
    assert "main/eval/broken@0.1" in text and "failed" in text
    rec = json.loads((tmp_path / "out2" / "run.json").read_text())
    status = {n["id"]: n["status"] for n in rec["nodes"]}
    assert status["main/eval/broken@0.1"] == "failed"
    assert status["main/eval/tiny_gsm@0.1"] in ("done", "cached") and status["report/table1"] == "skipped"
    assert (tmp_path / "out2" / "m" / "resp_dsl.json").is_file()
