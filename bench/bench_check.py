"""Whole-process timing of `resp-dsl check recipes/paper_table1.prune` (median of N runs).

    python -m bench.bench_check [--runs 15] [--recipe recipes/paper_table1.prune] [--json FILE]

Prints the median, min and max wall time of the full command (interpreter start,
imports, parse, imports of stdlib fragments, IR, checks), and of bare `python -c pass`
on the same machine for reference: the difference is what resp-dsl itself costs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import subprocess
import sys
import time
from pathlib import Path

from bench.figures import Figure, add_json_argument, write_figures

ROOT = Path(__file__).resolve().parents[1]


# Users' Pythons cache bytecode; a sandbox with PYTHONDONTWRITEBYTECODE=1 would time
# recompiling every module on every run instead. Cache it in a private directory.
ENV = dict(os.environ, PYTHONPYCACHEPREFIX=os.path.join(tempfile.gettempdir(), "resp-dsl-bench-pyc"))
ENV.pop("PYTHONDONTWRITEBYTECODE", None)


CPU: dict[str, list[float]] = {}


def time_cmd(cmd: list[str], runs: int) -> list[float]:
    """Wall times of ``runs`` runs; the children's CPU times (user+sys) go to CPU[cmd]."""
    out = []
    cpu = CPU.setdefault(" ".join(cmd), [])
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=ENV)
        out.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--recipe", default="recipes/paper_table1.prune")
    add_json_argument(ap)
    args = ap.parse_args()
    cmd = [sys.executable, "-m", "resp_dsl", "check", "-q", args.recipe]
    time_cmd(cmd, 1)  # warm the bytecode cache
    check = time_cmd(cmd, args.runs)
    bare = time_cmd([sys.executable, "-c", "pass"], args.runs)
    med, base = statistics.median(check), statistics.median(bare)
    print(f"resp-dsl check {args.recipe}: median {med * 1000:.0f} ms "
          f"(min {min(check) * 1000:.0f}, max {max(check) * 1000:.0f}, n={args.runs})")
    print(f"python -c pass:                     median {base * 1000:.0f} ms")
    print(f"resp-dsl's own cost:                {max(0.0, med - base) * 1000:.0f} ms")
    cpu_check = statistics.median(CPU[" ".join(cmd)][-args.runs:])
    cpu_bare = statistics.median(CPU[f"{sys.executable} -c pass"])
    print(f"CPU time (user+sys), median:        check {cpu_check * 1000:.0f} ms, bare python {cpu_bare * 1000:.0f} ms")
    write_figures(args.json, [
        Figure(f"check {Path(args.recipe).name}, median wall (n={args.runs})", round(med * 1000), "ms"),
        Figure("python -c pass, median wall", round(base * 1000), "ms"),
        Figure("resp-dsl's own cost (check - bare python)", round(max(0.0, med - base) * 1000), "ms"),
        Figure("check CPU time (user+sys), median", round(cpu_check * 1000), "ms"),
    ])
    try:
        print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (timings scale with it)")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
