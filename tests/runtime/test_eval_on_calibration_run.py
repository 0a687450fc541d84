"""`eval ... on calibration` on the bundled model: each seed's arm is evaluated on exactly the problems its
calibration drew (compared by prompt with the traces and by id with an independent seeded shuffle)."""

from __future__ import annotations

import json
import random

import pytest

pytest.importorskip("torch")

from helpers.graphs import Quiet  # noqa: E402

from resp_dsl.compile.pipeline import compile_text  # noqa: E402
from resp_dsl.runtime.interpreter import run_graph  # noqa: E402
from resp_dsl.runtime.store import Store  # noqa: E402

RECIPE = """\
model "zoo:tiny-reasoner" dtype fp32 device cpu
repeat seeds [0, 1]
calibrate self_generated from tiny_gsm n=3 max_tokens=8
score taylor decode_only
eval tiny_gsm at final limit=2 max_new_tokens=8
eval tiny_gsm on calibration at final max_new_tokens=8
prune to 0.1
report table rows=arm cols=sparsity by split
"""


def test_each_seed_is_evaluated_on_the_problems_its_calibration_drew(tmp_path):
    from resp_dsl.tasks import get_task

    res = compile_text(RECIPE, name="r.prune")
    assert res.ok, [d.message for d in res.diagnostics]
    store = Store(tmp_path / "cache")
    outcomes = run_graph(res.graph, store=store, out_dir=tmp_path / "out", reporter=Quiet(), threads=1)
    assert all(o.status == "done" for o in outcomes), [(o.id, o.status) for o in outcomes]
    rows = {n.id: n for n in res.graph.nodes.values()}
    train = get_task("tiny_gsm").rows("train")
    drawn = {}
    for seed in (0, 1):
        cal = rows[f"main[seed={seed}]/calibrate/self_generated"]
        ev = rows[f"main[seed={seed}]/eval/tiny_gsm/calibration@0.1"]
        assert ev.params["draw"] == {"split": "train", "n": 3, "seed": seed}
        traces = [json.loads(x) for x in (store.entry_dir(res.graph.key(cal.id)) / "traces.jsonl").read_text().splitlines()]
        result = json.loads((store.entry_dir(res.graph.key(ev.id)) / "result.json").read_text())
        per = result["per_example"]
        assert result["n"] == 3 and [r["prompt"] for r in per] == [t["prompt"] for t in traces]
        # the ids a seeded shuffle of the train split picks, computed here without the task's own draw
        order = list(range(len(train)))
        random.Random(seed).shuffle(order)
        expected_questions = [train[i]["question"] for i in order[:3]]
        assert [r["question"] for r in per] == expected_questions
        drawn[seed] = [r["id"] for r in per]
        assert result["settings"]["split"] == "train" and result["settings"]["draw_seed"] == seed
    assert drawn[0] != drawn[1]  # each seed its own draw
    on_test = json.loads((store.entry_dir(res.graph.key("main[seed=0]/eval/tiny_gsm@0.1")) / "result.json")
                         .read_text())
    assert on_test["n"] == 2 and on_test["settings"]["split"] == "test" and "draw_seed" not in on_test["settings"]
    table = list(json.loads((tmp_path / "out" / "table1.json").read_text()))
    assert sorted({r["split"] for r in table}) == ["calibration", "test"]
    assert {r["n"] for r in table if r["split"] == "calibration"} == {3}
    md = (tmp_path / "out" / "table1.md").read_text()
    assert "### calibration" in md and "### test" in md
