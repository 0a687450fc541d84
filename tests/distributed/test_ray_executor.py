"""`run --executor ray` on a local Ray cluster started by the test: results equal the local executor's.

Ray's GPU count is only a resource label, so `ray.init(num_cpus=2, num_gpus=2)` lets these
tests schedule eval tasks that ask for a GPU on a machine without one. Select them with
`-m ray`; without Ray installed they are skipped (the missing-extra error is tested anyway).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.ray

# calibration_sources.prune in small: three calibration sources, decode-only Taylor, one prune,
# on the bundled model (the shipped recipe needs Qwen3-8B, GSM8K and C4 from the hub).
SOURCES = """\
use stdlib/tasks
use stdlib/resp
model "zoo:tiny-reasoner" dtype fp32 device cpu
eval tiny_gsm at [0.2] limit=6
arm generic:
    calibrate generic from stdlib_docs n=10 max_tokens=48 seed=0
arm task:
    calibrate task from tiny_gsm n=10 max_tokens=48 seed=0
arm self_generated:
    calibrate self_generated from tiny_gsm n=10 max_tokens=48 temperature=0.6 seed=0
prune to [0.2]
report table rows=arm cols=sparsity
"""

QUICK = ["--set", "n=10", "--set", "steps=2", "--limit", "6"]


def _entries(cache: Path) -> dict[str, bytes]:
    """Every stored file (entry key/relative path) -> its bytes, manifests excluded (they hold timestamps)."""
    return {str(f.relative_to(cache)): f.read_bytes() for f in sorted((cache / "v1").glob("??/*/**/*"))
            if f.is_file() and f.name != "manifest.json"}


def _assert_same_results(local: Path, other: Path) -> None:
    """Same keys; every file byte-identical except scores, which agree to 1e-6 relative."""
    a, b = _entries(local), _entries(other)
    assert a.keys() == b.keys()
    for name, data in a.items():
        if name.endswith("scores.safetensors") and data != b[name]:
            import torch
            from safetensors.torch import load

            x, y = load(data), load(b[name])
            for k in x:
                assert torch.allclose(y[k].double(), x[k].double(), rtol=1e-6, atol=0), (name, k)
        else:
            assert data == b[name], name


def _run(*args) -> tuple[int, str]:
    import contextlib
    import io

    from resp_dsl.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = main(["run", *map(str, args), "--plain", "--threads", "1"])
    return code, buf.getvalue()


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'resp-dsl[ray]')")
    pytest.importorskip("torch")
    os.environ.setdefault("PYTHONPATH", str(ROOT))  # workers import this checkout
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}})
    yield ray
    ray.shutdown()


@pytest.mark.parametrize("name", ["quickstart", "sources"])
def test_ray_with_shards_equals_local(ray_cluster, tmp_path, name):
    if name == "quickstart":
        recipe, extra = ROOT / "recipes" / "quickstart.prune", QUICK
    else:
        recipe, extra = tmp_path / "sources.prune", []
        recipe.write_text(SOURCES)
    code, out = _run(recipe, *extra, "--cache", tmp_path / "local", "--out", tmp_path / "out-local")
    assert code == 0, out
    code, out = _run(recipe, *extra, "--cache", tmp_path / "ray", "--out", tmp_path / "out-ray",
                     "--executor", "ray", "--shards", "2", "--gpus-per-eval", "1")
    assert code == 0, out
    assert "shard 2/2 done" in out  # generation nodes did run in shards
    _assert_same_results(tmp_path / "local", tmp_path / "ray")
    for f in ("table1.json", "table1.md"):
        assert (tmp_path / "out-local" / f).read_bytes() == (tmp_path / "out-ray" / f).read_bytes()
    code, out = _run(recipe, *extra, "--cache", tmp_path / "ray", "--out", tmp_path / "out-ray",
                     "--executor", "ray")
    assert code == 0 and " done " not in out  # a re-run on Ray reuses the store


def test_score_shards_commit_partials_and_reduce(ray_cluster, tmp_path):
    """A Taylor node over 3 shards of its calibration batches (n=20: 3 batches of 8)."""
    recipe = tmp_path / "score.prune"
    recipe.write_text(SOURCES.replace("n=10", "n=20"))
    args = ["--until", "task/score@0", "--cache"]
    code, out = _run(recipe, *args, tmp_path / "local", "--out", tmp_path / "o1")
    assert code == 0, out
    code, out = _run(recipe, *args, tmp_path / "ray", "--out", tmp_path / "o2", "--executor", "ray", "--shards", "3")
    assert code == 0, out
    assert "task/score@0: shard 3/3 done" in out
    _assert_same_results(tmp_path / "local", tmp_path / "ray")


def test_a_node_asking_for_more_gpus_than_any_worker_stops_before_work(ray_cluster, tmp_path):
    recipe = tmp_path / "sources.prune"
    recipe.write_text(SOURCES)
    code, out = _run(recipe, "--cache", tmp_path / "c", "--out", tmp_path / "o", "--executor", "ray",
                     "--gpus-per-eval", "3")
    assert code == 3
    flat = " ".join(out.split())  # the console wraps long lines
    assert re.search(r"node \S+/eval/tiny_gsm@0\.2 \(eval\) failed: asks for 3 GPU\(s\) per task, but the largest "
                     r"node of the Ray cluster has 2", flat), flat
    assert not _entries(tmp_path / "c") if (tmp_path / "c" / "v1").exists() else True


def test_a_worker_killed_mid_shard_is_retried(ray_cluster, tmp_path):
    """SIGKILL the process running a shard task: Ray runs it again, the results do not change."""
    import psutil

    recipe = tmp_path / "kill.prune"
    recipe.write_text(SOURCES.replace("limit=6", "limit=24"))
    args = ["--until", "self_generated/eval/tiny_gsm@0.2"]
    code, out = _run(recipe, *args, "--cache", tmp_path / "local", "--out", tmp_path / "o1")
    assert code == 0, out
    killed: list[int] = []

    def pruned() -> bool:  # the eval shards start once the prune node is committed
        return any('"op": "prune"' in m.read_text() for m in (tmp_path / "ray" / "v1").glob("??/*/manifest.json"))

    def killer():
        deadline = time.time() + 300
        while not killed and time.time() < deadline:
            if pruned():
                for p in psutil.process_iter(["pid", "cmdline"]):
                    if " ".join(p.info["cmdline"] or ()).startswith("ray::execute"):
                        time.sleep(0.3)  # in the middle of an eval shard
                        os.kill(p.pid, signal.SIGKILL)
                        killed.append(p.pid)
                        return
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    code, out = _run(recipe, *args, "--cache", tmp_path / "ray", "--out", tmp_path / "o2", "--executor", "ray",
                     "--shards", "2")
    t.join(timeout=5)
    assert code == 0, out
    assert killed, "no Ray task process was seen"
    _assert_same_results(tmp_path / "local", tmp_path / "ray")


def test_unreachable_address_is_a_clear_error_within_seconds(tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'resp-dsl[ray]')")
    recipe = tmp_path / "sources.prune"
    recipe.write_text(SOURCES)
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "resp_dsl", "run", str(recipe), "--cache", str(tmp_path / "c"),
                          "--out", str(tmp_path / "o"), "--executor", "ray", "--address", "127.0.0.1:9"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 2, res.stdout + res.stderr
    assert "cannot reach a Ray cluster at 127.0.0.1:9" in res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert time.perf_counter() - t0 < 60


def test_the_flag_without_ray_names_the_extra(tmp_path, monkeypatch):
    """No Ray installed (simulated): exit 2, the install command, no traceback, nothing run."""
    pytest.importorskip("torch")
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    recipe = tmp_path / "sources.prune"
    recipe.write_text(SOURCES)
    code, out = _run(recipe, "--cache", tmp_path / "c", "--out", tmp_path / "o", "--executor", "ray")
    assert code == 2
    assert "pip install 'resp-dsl[ray]'" in out and "Traceback" not in out
    assert not (tmp_path / "c" / "v1").exists() or not _entries(tmp_path / "c")


def test_ray_options_need_the_ray_executor(tmp_path):
    pytest.importorskip("torch")
    recipe = tmp_path / "sources.prune"
    recipe.write_text(SOURCES)
    code, out = _run(recipe, "--cache", tmp_path / "c", "--out", tmp_path / "o", "--shards", "2")
    assert code == 2 and "need --executor ray" in out

