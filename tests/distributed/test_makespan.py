"""`plan --workers N`: critical path and makespan from the plan's costs, without torch or Ray."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from resp_dsl.runtime.makespan import critical_path, schedule

ROOT = Path(__file__).resolve().parents[2]


def test_a_chain_gains_nothing_from_workers():
    ids = ["a", "b", "c"]
    s = schedule(ids, {"b": ["a"], "c": ["b"]}, {"a": 1, "b": 2, "c": 3}, workers=4)
    assert (s.total, s.critical_path, s.makespan, s.path) == (6, 6, 6, ("a", "b", "c"))


def test_independent_arms_run_side_by_side():
    ids = ["load", "x1", "x2", "y1", "y2", "report"]
    deps = {"x1": ["load"], "x2": ["x1"], "y1": ["load"], "y2": ["y1"], "report": ["x2", "y2"]}
    work = {"load": 0, "x1": 5, "x2": 5, "y1": 4, "y2": 4, "report": 0}
    assert schedule(ids, deps, work, workers=1).makespan == 18
    two = schedule(ids, deps, work, workers=2)
    assert two.makespan == 10 and two.critical_path == 10 and two.path == ("load", "x1", "x2", "report")
    assert two.speedup == pytest.approx(1.8)


def test_shards_split_a_node_over_workers_and_never_beat_the_bounds():
    ids = ["gen", "a", "b"]
    deps = {"a": ["gen"], "b": ["gen"]}
    work = {"gen": 8, "a": 3, "b": 5}
    s = schedule(ids, deps, work, workers=4, split={"gen": 4})
    assert s.makespan == 2 + 5 and s.critical_path == 7
    for workers in (1, 2, 3, 4, 8):
        s = schedule(ids, deps, work, workers=workers, split={"gen": 2})
        assert s.makespan >= max(s.critical_path, s.total / workers) - 1e-9


def test_critical_path_of_nothing():
    assert critical_path([], {}, {}) == (0, ())


def test_plan_workers_prints_and_exports_the_schedule_without_torch_or_ray():
    code = ("import sys, io, contextlib, json\n"
            "sys.modules['torch'] = None; sys.modules['ray'] = None  # importing either now raises\n"
            "from resp_dsl.cli import main\n"
            "buf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n"
            "    assert main(['plan', 'recipes/paper_table1.prune', '--workers', '8', '--format', 'json']) == 0\n"
            "print(buf.getvalue())\n"
            "assert main(['plan', 'recipes/quickstart.prune', '--workers', '2', '--shards', '2']) == 0\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    out = p.stdout
    data = json.loads(out[: out.index("\n}\n") + 3])
    units = data["cluster"]["units"]
    tokens = units["tokens_generated"]
    assert tokens["total"] == data["totals"]["tokens_generated"]
    assert tokens["critical_path"] <= tokens["makespan"] < tokens["total"]
    assert tokens["makespan"] >= tokens["total"] / 8
    assert "on 2 workers, --shards 2" in out and "tokens to generate: makespan" in out and "critical path" in out
