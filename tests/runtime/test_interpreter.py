"""The interpreter on a hand-built graph: artifacts, reuse, corrupt entries, and exact resume."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from helpers.graphs import Quiet, small_graph  # noqa: E402

from resp_dsl.runtime.interpreter import NodeFailed, run_graph  # noqa: E402
from resp_dsl.runtime.store import Store  # noqa: E402


def test_runs_every_op_then_reuses_everything(tmp_path, tiny_model_dir):
    store = Store(tmp_path / "cache")
    graph = small_graph(tiny_model_dir)
    first = run_graph(graph, store=store, out_dir=tmp_path / "out", reporter=Quiet())
    assert [o.status for o in first] == ["done"] * len(first)
    by_id = {o.id: o for o in first}
    # exact sparsity bookkeeping: achieved never exceeds the target by more than one structure
    assert 0.05 < by_id["prune1"].summary["achieved"] <= 0.1 + 0.05
    assert 0.15 < by_id["prune2"].summary["achieved"] <= 0.2 + 0.05
    # regeneration with rho=1 re-sampled every trace with the pruned model
    assert by_id["regen1"].summary["regenerated"] == 4
    traces = [json.loads(x) for x in (store.entry_dir(graph.key("regen1")) / "traces.jsonl").read_text().splitlines()]
    assert all(t["model"] == graph.key("prune1") for t in traces)
    assert (tmp_path / "out" / "table.md").is_file()
    second = run_graph(graph, store=store, out_dir=tmp_path / "out", reporter=Quiet())
    assert [o.status for o in second] == ["cached"] * len(second)
    assert [o.summary for o in second] == [o.summary for o in first]


def test_rho_zero_keeps_the_old_traces(tmp_path, tiny_model_dir):
    store = Store(tmp_path / "cache")
    graph = small_graph(tiny_model_dir, rho=0.0)
    run_graph(graph, store=store, out_dir=tmp_path / "out", reporter=Quiet())
    old = (store.entry_dir(graph.key("calib")) / "traces.jsonl").read_text()
    new = (store.entry_dir(graph.key("regen1")) / "traces.jsonl").read_text()
    assert old == new


def test_corrupt_entry_is_recomputed_not_used(tmp_path, tiny_model_dir):
    store = Store(tmp_path / "cache")
    graph = small_graph(tiny_model_dir)
    run_graph(graph, store=store, out_dir=tmp_path / "out", reporter=Quiet())
    sel = store.entry_dir(graph.key("prune1")) / "selection.json"
    original = sel.read_text()
    sel.write_text(original.replace("0", "1", 3))
    quiet = Quiet()
    again = {o.id: o for o in run_graph(graph, store=store, out_dir=tmp_path / "out", reporter=quiet)}
    assert again["prune1"].status == "recomputed"
    assert any(e[0] == "log" and "corrupt" in e[1] for e in quiet.events)
    assert sel.read_text() == original


def test_a_failing_node_is_named(tmp_path, tiny_model_dir):
    from helpers.graphs import eval_params, graph_of, load, node

    graph = graph_of([load(tiny_model_dir), node("ev", "eval", eval_params(task="no_such_task", limit=1),
                                                 {"model": "model"})])
    with pytest.raises(NodeFailed) as info:
        run_graph(graph, store=Store(tmp_path / "c"), out_dir=tmp_path / "o", reporter=Quiet())
    assert info.value.node.id == "ev" and "unknown task" in str(info.value)


def test_heatmap_reads_the_selection_layout(tmp_path, tiny_model_dir):
    import numpy as np
    from PIL import Image

    from resp_dsl.runtime.interpreter import write_heatmaps

    store = Store(tmp_path / "cache")
    graph = small_graph(tiny_model_dir)
    outcomes = run_graph(graph, store=store, out_dir=tmp_path / "out", reporter=Quiet())
    maps = write_heatmaps(outcomes, store, tmp_path / "out")
    assert len(maps) == 2
    sel = json.loads((store.entry_dir(graph.key("prune2")) / "selection.json").read_text())
    kept_heads = [len(layer["q_heads"]) for layer in sel["layers"]]
    assert kept_heads[-1] == sel["dense"]["num_heads"]  # the protected last block keeps every head
    img = np.asarray(Image.open(maps[1]).convert("L"))
    assert img.std() > 10  # not a blank image


def test_regeneration_samples_fresh_traces_with_a_seed_of_its_own(tmp_path, tiny_model_dir):
    """A milestone re-samples with regeneration_seed(seed, milestone), not the calibration seed: on a
    stochastic model the refreshed traces differ from the calibration traces, and two runs agree."""
    from resp_dsl.sparsity import regeneration_seed

    graph = small_graph(tiny_model_dir)
    texts = []
    for run in ("a", "b"):
        store = Store(tmp_path / run)
        run_graph(graph, store=store, out_dir=tmp_path / f"out-{run}", reporter=Quiet())
        calib = [json.loads(x) for x in (store.entry_dir(graph.key("calib")) / "traces.jsonl").read_text().splitlines()]
        regen = [json.loads(x) for x in (store.entry_dir(graph.key("regen1")) / "traces.jsonl").read_text().splitlines()]
        assert [r["prompt"] for r in regen] == [c["prompt"] for c in calib]  # the prompt set stays fixed
        assert sum(r["text"] != c["text"] for r, c in zip(regen, calib)) >= 3
        assert all(r["settings"]["seed"] == regeneration_seed(0, 0.1) != 0 for r in regen)
        assert all(r["settings"]["milestone"] == 0.1 and r["settings"]["calibration_seed"] == 0 for r in regen)
        texts.append([r["text"] for r in regen])
    assert texts[0] == texts[1]
