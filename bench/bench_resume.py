"""Resume after a kill: nothing a killed run finished is computed again.

    python -m bench.bench_resume [--kill-after 6] [--n 4] [--steps 4] [--limit 8] [--json FILE]

Runs `recipes/quickstart.prune` (small --set values and --limit) three times with `--plain`, each
as its own process:
  cold     into a fresh cache, to the end (the reference wall time)
  killed   into a second fresh cache, SIGKILLed as soon as its log shows K nodes "done"
  resumed  the same command again on the killed run's cache, to the end
and parses the log lines "[i/N] done|cached|recomputed NODE". Reported: nodes finished before the
kill, nodes the resumed run computed (target: total - finished, and none of the finished ones),
and the resumed run's wall time against the cold run's.

A node that commits to the store in the instant between its last log line and the kill shows up
as cached on resume without having been counted as finished: the figure then says so (it is not a
redone node). What it does not exercise: partial progress inside the node that was killed (a
generation's per-batch checkpoint), SIGTERM/Ctrl-C (tests/runtime covers those), Ray workers.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.figures import Figure, add_json_argument, write_figures

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^\[(\d+)/(\d+)\] (done|cached|recomputed|failed|skipped) (\S+)")


@dataclass
class RunLog:
    """What one run's plain log says: the total, and the nodes by final status, in log order."""

    total: int = 0
    nodes: dict[str, list[str]] = field(default_factory=dict)

    def add(self, line: str) -> str | None:
        m = LINE.match(line.strip())
        if not m:
            return None
        self.total = int(m.group(2))
        self.nodes.setdefault(m.group(3), []).append(m.group(4))
        return m.group(3)

    def of(self, status: str) -> list[str]:
        return self.nodes.get(status, [])


def parse_log(text: str) -> RunLog:
    log = RunLog()
    for line in text.splitlines():
        log.add(line)
    return log


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1",
                COLUMNS="400", TERM="dumb")


def command(cache: Path, out: Path, a) -> list[str]:
    return [sys.executable, "-m", "resp_dsl", "run", str(ROOT / "recipes" / "quickstart.prune"),
            "--set", f"n={a.n}", "--set", f"steps={a.steps}", "--limit", str(a.limit),
            "--cache", str(cache), "--out", str(out), "--plain", "--threads", "1"]


def run_to_end(cmd: list[str], cwd: Path) -> tuple[float, RunLog]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd[2:5])} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return seconds, parse_log(p.stdout)


def run_and_kill(cmd: list[str], cwd: Path, kill_after: int) -> RunLog:
    """Run ``cmd`` and SIGKILL it once ``kill_after`` nodes are done; the log includes lines already in the pipe."""
    log = RunLog()
    p = subprocess.Popen(cmd, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    killed = False
    try:
        for line in p.stdout:
            if log.add(line) == "done" and len(log.of("done")) >= kill_after and not killed:
                p.send_signal(signal.SIGKILL)
                killed = True
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
    if not killed:
        sys.exit(f"the run ended ({p.returncode}) before {kill_after} nodes were done: lower --kill-after")
    return log


def measure(a) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as d:
        d = Path(d)
        cold_s, cold = run_to_end(command(d / "cold-cache", d / "cold-out", a), d)
        total = cold.total
        if len(cold.of("done")) != total:
            sys.exit(f"the cold run was expected to compute all {total} nodes, its log says {cold.nodes}")
        if not 0 < a.kill_after < total:
            sys.exit(f"--kill-after must lie in 1..{total - 1} (the recipe has {total} nodes)")
        cmd = command(d / "cache", d / "out", a)
        killed = run_and_kill(cmd, d, a.kill_after)
        resumed_s, resumed = run_to_end(cmd, d)
    finished = set(killed.of("done"))
    computed = resumed.of("done") + resumed.of("recomputed")
    redone = sorted(finished & set(computed))
    unlogged = sorted(set(resumed.of("cached")) - finished)  # committed in the instant before the kill
    expected = total - len(finished) - len(unlogged)
    print(f"quickstart n={a.n} steps={a.steps} --limit {a.limit}: {total} nodes")
    print(f"cold run: {cold_s:.1f} s; killed after {len(finished)} nodes done; resumed run computed "
          f"{len(computed)} (expected {expected}), redid {len(redone)} {redone or ''}, in {resumed_s:.1f} s")
    if unlogged:
        print(f"finished in the store without a log line before the kill: {unlogged}")
    return [
        Figure(f"quickstart nodes (n={a.n}, steps={a.steps}, --limit {a.limit})", total, "nodes"),
        Figure("finished before SIGKILL (log)", len(finished), "nodes"),
        Figure("computed by the resumed run", len(computed), "nodes", target=f"= {total} - {len(finished)}"
               + (f" - {len(unlogged)} unlogged" if unlogged else ""), met=len(computed) == expected),
        Figure("finished nodes computed again", len(redone), "nodes", target="0", met=not redone),
        Figure("resumed run wall time", round(resumed_s, 1), "s"),
        Figure("cold run wall time", round(cold_s, 1), "s"),
        Figure("resumed / cold wall time", round(resumed_s / cold_s, 2), "x", target="< 1", met=resumed_s < cold_s),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kill-after", type=int, default=6, metavar="K", help="SIGKILL once K nodes are done")
    ap.add_argument("--n", type=int, default=4, help="calibration samples (recipe param n)")
    ap.add_argument("--steps", type=int, default=4, help="pruning steps (recipe param steps)")
    ap.add_argument("--limit", type=int, default=8, help="run --limit: problems per evaluation")
    add_json_argument(ap)
    a = ap.parse_args()
    if min(a.n, a.steps, a.limit) < 1:
        ap.error("--n, --steps and --limit must be >= 1")
    write_figures(a.json, measure(a))


if __name__ == "__main__":
    main()
