"""The checkpoint store: atomic writes, checksums, corrupt entries, resumable partial dirs."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resp_dsl.runtime.store import (
    CorruptEntryError,
    JsonlCheckpoint,
    LockedError,
    MissingEntryError,
    Store,
    StoreError,
    default_cache_dir,
)

KEY = "ab12cd34ef56"
KEY2 = "ab99000000ff"


def _write(store: Store, key: str = KEY, payload: bytes = b"hello", **meta) -> None:
    with store.write(key, {"op": "generate", "params": {"n": 3}, **meta}) as tmp:
        (tmp / "traces.jsonl").write_bytes(payload)
        (tmp / "sub").mkdir()
        (tmp / "sub" / "scores.bin").write_bytes(b"\x00" * 1000)


def test_default_cache_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("RESP_DSL_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("RESP_DSL_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "resp-dsl"


def test_write_then_open_round_trips_with_manifest(tmp_path):
    store = Store(tmp_path)
    assert not store.has(KEY)
    _write(store, note="x")
    assert store.has(KEY)
    entry = store.open(KEY)
    assert entry.path == tmp_path / "v1" / "ab" / KEY
    assert entry.op == "generate" and entry.params == {"n": 3} and entry.meta == {"note": "x"}
    assert entry.file("traces.jsonl").read_bytes() == b"hello"
    assert entry.files["sub/scores.bin"]["size"] == 1000
    manifest = json.loads((entry.path / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["key"] == KEY
    assert len(manifest["files"]["traces.jsonl"]["sha256"]) == 64
    with pytest.raises(StoreError, match="no file 'nope'"):
        entry.file("nope")
    # nothing is left in tmp
    assert list((tmp_path / "v1" / "tmp").iterdir()) == []


def test_exception_inside_write_leaves_nothing(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError, match="boom"):
        with store.write(KEY, {"op": "x"}) as tmp:
            (tmp / "half.bin").write_bytes(b"partial")
            raise RuntimeError("boom")
    assert not store.has(KEY)
    assert not store.entry_dir(KEY).exists()
    assert list((tmp_path / "v1" / "tmp").iterdir()) == []
    with pytest.raises(MissingEntryError, match="no cache entry"):
        store.open(KEY)


def test_exception_keeps_a_previous_good_entry(tmp_path):
    store = Store(tmp_path)
    _write(store, payload=b"v1")
    with pytest.raises(RuntimeError):
        with store.write(KEY) as tmp:
            (tmp / "traces.jsonl").write_bytes(b"v2")
            raise RuntimeError
    assert store.open(KEY).file("traces.jsonl").read_bytes() == b"v1"


def test_corrupt_entry_is_detected_and_recomputable(tmp_path):
    store = Store(tmp_path)
    _write(store)
    f = store.entry_dir(KEY) / "traces.jsonl"
    f.write_bytes(b"jello")  # same size: has() (stat only) cannot see it, verify() can
    assert store.has(KEY)
    assert store.verify(KEY) == ["traces.jsonl: sha256 mismatch"]
    fresh = Store(tmp_path)
    with pytest.raises(CorruptEntryError, match="traces.jsonl: sha256 mismatch"):
        fresh.open(KEY)
    # recompute: a new write replaces the corrupt entry
    _write(fresh, payload=b"hello")
    assert fresh.open(KEY).file("traces.jsonl").read_bytes() == b"hello"


def test_truncated_missing_and_extra_files_are_reported(tmp_path):
    store = Store(tmp_path)
    _write(store)
    d = store.entry_dir(KEY)
    (d / "traces.jsonl").write_bytes(b"he")
    assert not store.has(KEY)
    (d / "sub" / "scores.bin").unlink()
    (d / "stray.txt").write_text("?")
    problems = store.verify(KEY)
    assert "traces.jsonl: size 2 != 5" in problems
    assert "sub/scores.bin: missing" in problems
    assert "stray.txt: not in manifest" in problems


def test_missing_or_incomplete_manifest_is_not_an_entry(tmp_path):
    store = Store(tmp_path)
    _write(store)
    m = store.entry_dir(KEY) / "manifest.json"
    data = json.loads(m.read_text())
    data["status"] = "writing"
    m.write_text(json.dumps(data))
    assert not store.has(KEY)
    m.write_text("{not json")
    assert not store.has(KEY)
    with pytest.raises(CorruptEntryError, match="manifest.json missing or unreadable"):
        Store(tmp_path).open(KEY)


def test_partial_dir_survives_failure_and_is_removed_on_commit(tmp_path):
    store = Store(tmp_path)
    ckpt = JsonlCheckpoint(store.partial_dir(KEY) / "gen.jsonl")
    with pytest.raises(RuntimeError):
        with store.write(KEY):
            ckpt.append([{"index": 0, "text": "a"}, {"index": 1, "text": "b"}])
            raise RuntimeError("crash after batch 1")
    # a resumed op sees its first batch
    resumed = JsonlCheckpoint(store.partial_dir(KEY) / "gen.jsonl")
    assert sorted(resumed.load()) == [0, 1]
    with store.write(KEY) as tmp:
        resumed.append([{"index": 2, "text": "c"}])
        assert sorted(resumed.load()) == [0, 1, 2]
        (tmp / "out.txt").write_text("abc")
    assert not store.partial_dir(KEY, create=False).exists()


def test_jsonl_checkpoint_ignores_and_cuts_a_torn_last_line(tmp_path):
    path = tmp_path / "c.jsonl"
    ckpt = JsonlCheckpoint(path)
    ckpt.append([{"index": 0, "v": 1}])
    with open(path, "a") as f:
        f.write('{"index": 1, "v"')  # killed mid-write
    again = JsonlCheckpoint(path)
    assert again.load() == {0: {"index": 0, "v": 1}}
    again.append([{"index": 1, "v": 2}])
    assert JsonlCheckpoint(path).load() == {0: {"index": 0, "v": 1}, 1: {"index": 1, "v": 2}}
    assert path.read_text().count("\n") == 2
    with pytest.raises(ValueError, match="int 'index'"):
        again.append([{"v": 3}])


def _hold_lock(root: str, key: str, ready, release) -> None:
    store = Store(root)
    with store.lock(key):
        ready.set()
        release.wait(10)


def test_lock_excludes_a_second_writer_and_is_reentrant(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(str(tmp_path), KEY, ready, release))
    p.start()
    try:
        assert ready.wait(10)
        store = Store(tmp_path)
        assert store.is_locked(KEY)
        with pytest.raises(LockedError, match="being written by another run"):
            with store.write(KEY):
                pass
        assert store.rm(KEY[:4]) == []  # locked keys are skipped
    finally:
        release.set()
        p.join(10)
    store = Store(tmp_path)
    assert not store.is_locked(KEY)
    with store.lock(KEY):
        _write(store)  # write re-enters the lock held by this Store
    assert store.has(KEY)


def test_lock_is_released_when_the_writer_is_killed(tmp_path):
    code = (
        "import sys, time; from resp_dsl.runtime.store import Store\n"
        f"s = Store({str(tmp_path)!r})\n"
        f"with s.write({KEY!r}) as t:\n"
        "    (t / 'f').write_text('x'); print('in', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "in"
        store = Store(tmp_path)
        assert store.is_locked(KEY)
        proc.kill()  # kill -9 in the middle of a write
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    store = Store(tmp_path)
    assert not store.is_locked(KEY) and not store.has(KEY)
    assert len(list((tmp_path / "v1" / "tmp").iterdir())) == 1  # the dead writer's temp dir
    removed = store.gc()
    assert len(removed) == 1 and removed[0].startswith(f"tmp/{KEY}.")
    assert list((tmp_path / "v1" / "tmp").iterdir()) == []
    _write(store)
    assert store.has(KEY)


def test_ls_du_rm_gc(tmp_path):
    store = Store(tmp_path)
    assert store.ls() == [] and store.du().total == 0
    _write(store, KEY)
    time.sleep(0.01)
    _write(store, KEY2, payload=b"0123456789")
    store.partial_dir("cc00000000aa").joinpath("x.jsonl").write_text("{}\n")
    rows = store.ls()
    assert [(r.key, r.status) for r in rows] == [("cc00000000aa", "partial"), (KEY2, "complete"), (KEY, "complete")]
    assert rows[1].size == 1010 and rows[1].op == "generate"
    u = store.du()
    assert u.n_entries == 2 and u.n_partial == 1 and u.entries > 2015 and u.partial == 3
    with pytest.raises(StoreError, match="at least 2"):
        store.rm("a")
    assert store.rm("ab", dry_run=True) == [KEY, KEY2]
    assert store.rm(KEY2) == [KEY2]
    assert not store.has(KEY2) and store.has(KEY)
    assert store.gc(keep_keys=[KEY]) == ["cc00000000aa"]
    assert store.keys() == [KEY]
    # incomplete entries are collected even without keep_keys
    (store.entry_dir(KEY) / "manifest.json").unlink()
    assert store.gc() == [KEY]
    assert store.keys() == []


def test_invalid_keys_are_refused(tmp_path):
    store = Store(tmp_path)
    for bad in ("../etc", "ab", "a/b/c/d", ""):
        with pytest.raises(StoreError, match="invalid cache key"):
            store.has(bad)


def test_op_cannot_write_its_own_manifest(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(StoreError, match="reserved"):
        with store.write(KEY) as tmp:
            (tmp / "manifest.json").write_text("{}")
    assert not store.has(KEY)


def test_store_does_not_import_torch():
    code = "import sys, resp_dsl.runtime.store, resp_dsl.cli.cache; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cache_cli(tmp_path, capsys):
    from resp_dsl.cli import main

    store = Store(tmp_path)
    _write(store, KEY)
    assert main(["cache", "--cache", str(tmp_path), "ls"]) == 0
    out = capsys.readouterr().out
    assert KEY in out and "generate" in out and "complete" in out
    assert main(["cache", "--cache", str(tmp_path), "--format", "json", "du"]) == 0
    assert json.loads(capsys.readouterr().out)["n_entries"] == 1
    assert main(["cache", "--cache", str(tmp_path), "verify"]) == 0
    (store.entry_dir(KEY) / "traces.jsonl").write_bytes(b"HELLO")
    assert main(["cache", "--cache", str(tmp_path), "verify"]) == 3
    assert "sha256 mismatch" in capsys.readouterr().out
    assert main(["cache", "--cache", str(tmp_path), "rm", "a"]) == 2
    assert "at least 2" in capsys.readouterr().err
    assert main(["cache", "--cache", str(tmp_path), "rm", KEY[:6]]) == 0
    assert "removed 1 entry" in capsys.readouterr().out
    keep = tmp_path / "keep.txt"
    keep.write_text(KEY + "\n")
    # the kept key is gone: a keep list that matches nothing stops gc (issue 12: it would remove everything)
    assert main(["cache", "--cache", str(tmp_path), "gc", "--keep-file", str(keep), "--dry-run"]) == 2
    assert "matches no key" in capsys.readouterr().err
    env = dict(os.environ, RESP_DSL_CACHE=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "resp_dsl", "cache", "ls"], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and "is empty" in out.stdout
