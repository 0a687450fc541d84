"""A recipe repeated over calibration seeds runs end to end: the seed-free nodes run once, the reports
average over seeds and pair arms on the same problems (issue 14)."""

from __future__ import annotations

import csv
import json

import pytest

pytest.importorskip("torch")

from helpers.graphs import Quiet  # noqa: E402

from resp_dsl.compile.pipeline import compile_text  # noqa: E402
from resp_dsl.runtime.interpreter import run_graph  # noqa: E402
from resp_dsl.runtime.store import Store  # noqa: E402

RECIPE = """\
use stdlib/tasks
model "{model}" dtype fp32 device cpu
protect last block
task tiny_gsm shots=0 max_new_tokens=6 limit=3
calibrate self_generated from tiny_gsm n=2 max_tokens=6
repeat seeds [0, 1]
arm resp:
    score taylor decode_only on heads, channels
    schedule milestones [0.1] regen ρ=1.0
arm mag:
    score magnitude
    prune to 0.1
eval tiny_gsm at [dense, 0.1]
report table rows=arm cols=sparsity over seed name=t
report plot accuracy vs sparsity over seed name=p
report compare resp vs mag at 0.1 name=c
"""


def test_seeds_run_once_where_shared_and_reports_aggregate(tmp_path, tiny_model_dir):
    res = compile_text(RECIPE.format(model=tiny_model_dir), name="r.prune")
    assert res.ok, [d.message for d in res.diagnostics]
    store = Store(tmp_path / "cache")
    out = run_graph(res.graph, store=store, out_dir=tmp_path / "o", reporter=Quiet())
    assert all(o.status == "done" for o in out), [(o.id, o.status, o.error) for o in out if o.status != "done"]
    ran = [o.op for o in out]
    assert ran.count("load_model") == 1 and ran.count("calibrate") == 2 and ran.count("regenerate") == 0
    assert ran.count("eval") == 1 + 2 + 1  # dense (shared), resp per seed, mag once
    with open(tmp_path / "o" / "t.csv", newline="") as f:
        rows = {(r["arm"], r["sparsity"]): r for r in csv.DictReader(f)}
    resp = rows[("resp", "0.1")]
    assert resp["seeds"] == "0;1" and resp["interval"] == "bootstrap" and len(resp["per_seed"].split(";")) == 2
    mean = sum(float(x) for x in resp["per_seed"].split(";")) / 2
    assert float(resp["accuracy"]) == pytest.approx(mean) and float(resp["lo"]) <= mean <= float(resp["hi"])
    assert rows[("mag", "0.1")]["interval"] == "wilson" and rows[("resp", "0.0")]["interval"] == "wilson"
    assert "two-level bootstrap" in (tmp_path / "o" / "t.md").read_text()
    assert (tmp_path / "o" / "p_tiny_gsm.png").is_file()
    cmp = json.loads((tmp_path / "o" / "c.json").read_text())
    assert len(cmp) == 1 and [s["seed"] for s in cmp[0]["per_seed"]] == ["0", "1"] and cmp[0]["n"] == 3
    assert all(0 <= s["p_value"] <= 1 for s in cmp[0]["per_seed"])
    # warm re-run: everything cached
    again = run_graph(res.graph, store=store, out_dir=tmp_path / "o2", reporter=Quiet())
    assert {o.status for o in again} == {"cached"} and (tmp_path / "o2" / "c.md").is_file()
