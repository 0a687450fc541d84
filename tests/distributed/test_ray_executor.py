"""`run --executor ray` on a local Ray cluster started by the test: results equal the local executor's.

Ray's GPU count is only a resource label, so `ray.init(num_cpus=2, num_gpus=2)` lets these
tests schedule eval tasks that ask for a GPU on a machine without one. Select them with
`-m ray`; without Ray installed they are skipped (the missing-extra error is tested anyway).
"""

from __future__ import annotations

import contextlib
import json
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
# on the bundled model (the shipped recipe needs Qwen3-8B, GSM8K and C4 from the hub). n=17 makes
# three calibration batches of 8, 8 and 1, so a Taylor node splits over 3 shards.
SOURCES = """\
use stdlib/tasks
use stdlib/resp
model "zoo:tiny-reasoner" dtype fp32 device cpu
eval tiny_gsm at [0.2] limit=4
arm generic:
    calibrate generic from stdlib_docs n=17 max_tokens=32 seed=0
arm task:
    calibrate task from tiny_gsm n=17 max_tokens=32 seed=0
arm self_generated:
    calibrate self_generated from tiny_gsm n=17 max_tokens=32 temperature=0.6 seed=0
prune to [0.2]
report table rows=arm cols=sparsity
"""

QUICK = ["--set", "n=8", "--set", "steps=2", "--limit", "4"]


def _entries(cache: Path) -> dict[str, bytes]:
    """Every stored file (entry key/relative path) -> its bytes, manifests excluded (they hold timestamps)."""
    return {str(f.relative_to(cache)): f.read_bytes() for f in sorted((cache / "v1").glob("??/*/**/*"))
            if f.is_file() and f.name != "manifest.json"}


def _assert_same_results(local: Path, other: Path) -> None:
    _assert_same_results_of(_entries(local), _entries(other))


def _assert_same_results_of(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    """Same keys; every file byte-identical except scores, which agree to 1e-6 relative."""
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


@pytest.fixture(scope="module")
def sources(tmp_path_factory, ray_cluster):
    """The small calibration_sources recipe, run once with the local executor (the reference)."""
    d = tmp_path_factory.mktemp("sources")
    recipe = d / "sources.prune"
    recipe.write_text(SOURCES)
    code, out = _run(recipe, "--cache", d / "local", "--out", d / "out-local")
    assert code == 0, out
    return recipe, d


def test_quickstart_on_ray_with_shards_equals_local(ray_cluster, tmp_path):
    recipe = ROOT / "recipes" / "quickstart.prune"
    code, out = _run(recipe, *QUICK, "--cache", tmp_path / "local", "--out", tmp_path / "out-local")
    assert code == 0, out
    code, out = _run(recipe, *QUICK, "--cache", tmp_path / "ray", "--out", tmp_path / "out-ray",
                     "--executor", "ray", "--shards", "2")
    assert code == 0, out
    assert "calibrate/self_generated: shard 2/2 done" in out and "eval/tiny_gsm@0.4: shard 2/2 done" in out
    flat = " ".join(out.split())  # the live view names the worker of every running node
    assert re.search(r"calibrate/self_generated runs on \S+:\d+ \(node [0-9a-f]+\)", flat), flat
    _assert_same_results(tmp_path / "local", tmp_path / "ray")
    for f in ("table1.json", "table1.md", "table1.csv"):
        assert (tmp_path / "out-local" / f).read_bytes() == (tmp_path / "out-ray" / f).read_bytes()


def test_calibration_sources_on_ray_with_3_shards_equals_local(sources):
    """Generation over 3 shards of prompts, Taylor scores over 3 shards of batches; then a re-run reuses all."""
    recipe, d = sources
    code, out = _run(recipe, "--cache", d / "ray", "--out", d / "out-ray", "--executor", "ray", "--shards", "3")
    assert code == 0, out
    for node in ("self_generated/calibrate/self_generated", "task/score@0", "generic/score@0",
                 "self_generated/eval/tiny_gsm@0.2"):
        assert f"{node}: shard 3/3 done" in out, node
    _assert_same_results(d / "local", d / "ray")
    for f in ("table1.json", "table1.md", "table1.csv"):
        assert (d / "out-local" / f).read_bytes() == (d / "out-ray" / f).read_bytes()
    # run.json: each node a worker ran carries that worker's peak memory; the run, the largest of them
    rec = json.loads((d / "out-ray" / "run.json").read_text())
    worked = [n for n in rec["nodes"] if n["status"] == "done" and n["op"] in ("calibrate", "score", "eval")]
    peaks = [n["peak_rss_mib"] for n in worked]  # nodes run on the driver (load_model, report) have none
    assert peaks and all(p > 50 for p in peaks)  # a worker holds torch and a model: well over 50 MiB
    assert rec["peak_memory"]["workers_rss_mib"] == max(peaks)
    code, out = _run(recipe, "--cache", d / "ray", "--out", d / "out-ray", "--executor", "ray")
    assert code == 0 and " done " not in out  # a re-run on Ray reuses the store


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


def test_a_worker_killed_mid_task_is_retried(sources, tmp_path):
    """SIGKILL a worker process while it runs a task (a shard, with --shards auto = 2): Ray runs the task
    again on another worker, the run finishes, and its results equal the local run's. The eval
    tasks ask for a GPU (a label here): they are scheduled on the cluster's 2."""
    import psutil

    recipe, d = sources
    cache = tmp_path / "ray"
    killed: list[str] = []

    def started() -> bool:  # once the model is committed, every task left is a shard or a shard's finish
        return any((cache / "v1").glob("??/*/manifest.json"))

    def killer():
        deadline = time.time() + 300
        while not killed and time.time() < deadline:
            if started():
                for p in psutil.process_iter(["pid", "cmdline"]):
                    if " ".join(p.info["cmdline"] or ()).startswith("ray::execute"):
                        with contextlib.suppress(psutil.Error):
                            if p.cmdline()[0].startswith("ray::execute"):  # still running its task
                                os.kill(p.pid, signal.SIGKILL)
                                killed.append(f"{p.pid}")
                                return
            time.sleep(0.02)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    code, out = _run(recipe, "--until", "self_generated/eval/tiny_gsm@0.2", "--cache", cache, "--out",
                     tmp_path / "o", "--executor", "ray", "--shards", "auto", "--gpus-per-eval", "1")
    t.join(timeout=5)
    assert code == 0, out
    assert "self_generated/eval/tiny_gsm@0.2: shard 2/2 done" in out  # auto: the cluster's 2 GPUs
    assert killed, "no running Ray task was seen"
    ours = _entries(cache)
    reference = {k: v for k, v in _entries(d / "local").items() if k in ours}
    assert len(reference) == len(ours) > 10
    _assert_same_results_of(reference, ours)


def test_a_driver_killed_mid_run_resumes_locally(sources, tmp_path):
    """SIGKILL the driver of a Ray run (connected to the test's cluster) once some nodes and shards
    are committed; the next run, with the local executor, reuses them and ends with the same store."""
    recipe, d = sources
    cache = tmp_path / "c"
    cmd = [sys.executable, "-m", "resp_dsl", "run", str(recipe), "--cache", str(cache), "--out", str(tmp_path / "o"),
           "--plain", "--threads", "1", "--executor", "ray", "--address", "auto", "--shards", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    seen, lines = 0, []
    for line in proc.stdout:
        lines.append(line)
        seen += " done " in line or "shard" in line
        if seen >= 6:
            break
    proc.kill()
    proc.wait()
    assert seen >= 6, "".join(lines)
    code, out = _run(recipe, "--cache", cache, "--out", tmp_path / "o")
    assert code == 0, out
    assert "cached" in out
    _assert_same_results(d / "local", cache)


@pytest.mark.parametrize(("address", "expect", "limit_s"), [
    ("127.0.0.1:9", "cannot reach a Ray cluster at 127.0.0.1:9", 60),
    # refused by the port probe, or (where a proxy accepts every connection) by Ray Client's shortened retries
    ("ray://10.255.255.1:10001", "Ray cluster at ray://10.255.255.1:10001|cannot connect to Ray at ray://10.255.255.1",
     30),
])
def test_an_unreachable_address_is_a_clear_error_within_seconds(tmp_path, address, expect, limit_s):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'resp-dsl[ray]')")
    recipe = tmp_path / "sources.prune"
    recipe.write_text(SOURCES)
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "resp_dsl", "run", str(recipe), "--cache", str(tmp_path / "c"),
                          "--out", str(tmp_path / "o"), "--executor", "ray", "--address", address],
                         capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - t0
    out = " ".join((res.stdout + res.stderr).split())  # the console wraps long lines
    assert res.returncode == 2, out
    assert re.search(expect, out), out
    assert "Traceback" not in out
    assert seconds < limit_s


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

