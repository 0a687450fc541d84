"""Integrity of a run (issue 15): corrupt entries announced, checksummed partials, verified and
confined exports, runs that wait for each other."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")

from helpers.graphs import SAMPLING, Recorder, eval_params, graph_of, load, node, prune_params  # noqa: E402

from resp_dsl.runtime.interpreter import NodeFailed, run_graph  # noqa: E402
from resp_dsl.runtime.store import MANIFEST, JsonlCheckpoint, Store  # noqa: E402


Log = Recorder


GEN = {"max_tokens": 10, **SAMPLING, "seed": 0}
EV = eval_params(max_new_tokens=10)
MAGNITUDE = {"method": "magnitude", "loss": None, "variant": None, "structures": ["heads", "channels"],
             "normalize": "type"}


def graph(model_dir: Path, export_path: str = "exports/m"):
    return graph_of([
        load(model_dir),
        node("calib", "calibrate", {"source": "self_generated", "dataset": "tiny_gsm", "split": "train", "n": 3, **GEN},
             {"model": "model"}),
        node("score", "score", MAGNITUDE, {"model": "model"}),
        node("prune", "prune", prune_params(0.0, 0.2), {"model": "model", "scores": "score"}),
        node("eval", "eval", EV, {"model": "prune"}),
        node("export", "export", {"format": "per_layer", "path": export_path}, {"model": "prune"}),
    ])


def _tree(d: Path) -> dict[str, str]:
    return {f.relative_to(d).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(d.rglob("*")) if f.is_file()}


@pytest.fixture()
def done(tmp_path, tiny_model_dir):
    g = graph(tiny_model_dir)
    store = Store(tmp_path / "cache")
    run_graph(g, store=store, out_dir=tmp_path / "out", reporter=Log())
    return g, store, tmp_path


@pytest.mark.parametrize("damage", ["truncate", "delete_manifest", "break_manifest", "edit_status", "extra_file"])
def test_every_corrupt_entry_is_announced(done, damage):
    g, store, tmp = done
    key = g.key("calib")
    entry = store.entry_dir(key)
    traces = (entry / "traces.jsonl").read_text()
    manifest = entry / MANIFEST
    if damage == "truncate":
        (entry / "traces.jsonl").write_text(traces[: len(traces) // 2])
    elif damage == "delete_manifest":
        manifest.unlink()
    elif damage == "break_manifest":
        manifest.write_text("{broken")
    elif damage == "edit_status":
        m = json.loads(manifest.read_text())
        m["status"] = "writing"
        manifest.write_text(json.dumps(m))
    else:
        (entry / "notes.txt").write_text("planted")
    log = Log()
    run_graph(g, store=store, out_dir=tmp / "out", reporter=log)
    assert log.status("calib") == "recomputed"
    assert "calib" in log.logs() and "corrupt" in log.logs()
    assert (entry / "traces.jsonl").read_text() == traces


def test_edited_or_foreign_partial_records_are_rejected(done, monkeypatch):
    g, store, tmp = done
    key = g.key("eval")
    clean = (store.entry_dir(key) / "result.json").read_text()
    store.rm(key)

    calls = []
    original = JsonlCheckpoint.append

    def crash_after_first_batch(self, records):
        original(self, records)
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(JsonlCheckpoint, "append", crash_after_first_batch)
    with pytest.raises(KeyboardInterrupt):
        run_graph(g, store=store, out_dir=tmp / "out", reporter=Log())
    monkeypatch.setattr(JsonlCheckpoint, "append", original)
    partial = store.partial_dir(key, create=False) / "eval.jsonl"
    lines = partial.read_text().splitlines()
    assert len(lines) == 4
    rec = json.loads(lines[0])
    rec["text"] = "#### 12345"  # an edited output that would change the accuracy
    lines[0] = json.dumps(rec, sort_keys=True)
    partial.write_text("\n".join(lines) + "\n")
    log = Log()
    run_graph(g, store=store, out_dir=tmp / "out", reporter=log)
    assert "1 checkpoint record(s)" in log.logs() and "do not verify" in log.logs()
    assert (store.entry_dir(key) / "result.json").read_text() == clean

    # a record that verifies for one node does not verify for another
    other = JsonlCheckpoint(tmp / "x.jsonl", key="a" * 64)
    other.append([{"index": 0, "text": "t"}])
    warned = []
    assert JsonlCheckpoint(tmp / "x.jsonl", key="b" * 64, warn=warned.append).load() == {}
    assert warned and JsonlCheckpoint(tmp / "x.jsonl", key="b" * 64).load() == {}  # rejected once, then gone


def test_exports_are_verified_and_rewritten_identically(done):
    g, store, tmp = done
    target = tmp / "out" / "exports" / "m"
    first = _tree(target)
    assert "model.safetensors" in first and "tokenizer.json" in first
    record = json.loads((store.entry_dir(g.key("export")) / "export.json").read_text())
    assert record["files"]["model.safetensors"]["sha256"] == first["model.safetensors"]
    manifest = (store.entry_dir(g.key("export")) / MANIFEST).stat().st_mtime_ns

    f = target / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[len(data) // 2: len(data) // 2 + 16] = bytes(16)
    f.write_bytes(bytes(data))
    log = Log()
    run_graph(g, store=store, out_dir=tmp / "out", reporter=log)
    assert "does not match what was exported" in log.logs()
    assert _tree(target) == first

    # a damaged or deleted marker: the directory holds only recorded export files, so it is repaired
    for damage in ("flip", "delete"):
        marker = target / "resp_dsl.json"
        if damage == "flip":
            marker.write_bytes(b"{" + marker.read_bytes()[1:-5])
        else:
            marker.unlink()
        log = Log()
        run_graph(g, store=store, out_dir=tmp / "out", reporter=log)
        assert "does not match what was exported" in log.logs()
        assert _tree(target) == first

    # another --out gets its own byte-identical copy; the entry is never rewritten
    run_graph(g, store=store, out_dir=tmp / "out2", reporter=Log())
    assert _tree(tmp / "out2" / "exports" / "m") == first
    assert (store.entry_dir(g.key("export")) / MANIFEST).stat().st_mtime_ns == manifest
    assert {str(p) for p in store.export_locations(g.key("export"))} == {
        str(target.resolve()), str((tmp / "out2" / "exports" / "m").resolve())}


def test_exports_get_the_users_umask(done):
    _, _, tmp = done
    target = tmp / "out" / "exports" / "m"
    import os

    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~mask
    assert (target / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("path", ["../outside", "/srv/elsewhere", "~", "", "."])
def test_an_export_never_leaves_out(tmp_path, tiny_model_dir, path):
    g = graph(tiny_model_dir, export_path=path)
    with pytest.raises(NodeFailed, match="export path"):
        run_graph(g, store=Store(tmp_path / "c"), out_dir=tmp_path / "o" / "deep", reporter=Log())
    assert not (tmp_path / "outside").exists()


def test_overwrite_never_replaces_a_foreign_directory(tmp_path, tiny_model_dir):
    g = graph(tiny_model_dir, export_path="mine")
    (tmp_path / "o" / "mine").mkdir(parents=True)
    (tmp_path / "o" / "mine" / "thesis.tex").write_text("years of work")
    with pytest.raises(NodeFailed, match="not an export made by resp-dsl"):
        run_graph(g, store=Store(tmp_path / "c"), out_dir=tmp_path / "o", reporter=Log(), overwrite_exports=True)
    assert (tmp_path / "o" / "mine" / "thesis.tex").read_text() == "years of work"
    link = tmp_path / "o" / "viaLink"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    g2 = graph(tiny_model_dir, export_path="viaLink/m")
    with pytest.raises(NodeFailed, match="outside --out"):
        run_graph(g2, store=Store(tmp_path / "c"), out_dir=tmp_path / "o", reporter=Log())


def test_a_run_waits_for_a_node_another_run_is_writing(done):
    g, store, tmp = done
    key = g.key("prune")
    store.rm(key)
    other = Store(store.root)  # another run: its own lock file descriptor
    held, release = threading.Event(), threading.Event()

    def writer():
        with other.lock(key):
            held.set()
            release.wait(10)

    t = threading.Thread(target=writer)
    t.start()
    held.wait(5)
    log = Log()
    threading.Timer(1.0, release.set).start()
    t0 = time.monotonic()
    run_graph(g, store=store, out_dir=tmp / "out", reporter=log)
    t.join()
    assert time.monotonic() - t0 >= 0.9
    assert "waiting for another run to finish prune" in log.logs()
    assert log.status("prune") == "done" and log.status("eval") == "cached"


def test_a_bare_task_name_is_never_a_local_file(tmp_path, monkeypatch):
    from resp_dsl.compile import compile_text
    from resp_dsl.runtime.context import task_of as _task

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny_gsm").write_text('{"question": "poison", "answer": "#### 1"}\n')
    data = tmp_path / "mine.jsonl"
    data.write_text('{"question": "q", "answer": "#### 1"}\n')
    text = ('use stdlib/tasks\nmodel "zoo:tiny-reasoner" dtype fp32 device cpu\n'
            'calibrate self_generated from {src} n=2\nscore taylor decode_only\nprune to 0.2\n'
            'eval tiny_gsm at [0.2]\n')
    res = compile_text(text.format(src="tiny_gsm"), name=str(tmp_path / "r.prune"))
    assert res.ok, res.diagnostics
    nodes = {n.op: n for n in res.graph.nodes.values()}
    for op in ("calibrate", "eval"):
        task = _task(nodes[op].params)
        assert type(task).__name__ != "JsonlTask", op
    local = compile_text(text.format(src='"mine.jsonl"'), name=str(tmp_path / "r.prune"))
    cal = next(n for n in local.graph.nodes.values() if n.op == "calibrate")
    assert cal.params["task_file"] and type(_task(cal.params)).__name__ == "JsonlTask"
    before = local.graph.key(cal.id)
    data.write_text('{"question": "other", "answer": "#### 2"}\n')
    again = compile_text(text.format(src='"mine.jsonl"'), name=str(tmp_path / "r.prune"))
    assert again.graph.key(cal.id) != before
