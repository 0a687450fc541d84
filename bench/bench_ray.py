"""What `run --executor ray` buys on this machine: parallel arms, sharded evaluation, overhead.

    python bench/bench_ray.py [--workers 2] [--limit 24]

Starts a local Ray (`ray.init(num_cpus=WORKERS)`) in this process, then runs the CLI in-process
(one thread per task), every run into a fresh cache:

1. **Parallel arms.** A recipe with two independent heavy arms (each its own calibration,
   Taylor scores, prune and evaluation) runs with the local executor (the sum of its node
   times is what one worker needs), then on Ray. Prints wall(Ray) / sum(node times): below 1
   means the arms ran side by side (ideal on 2 workers: about 0.5 plus the shared prefix).
2. **Sharded eval.** One evaluation node (`--until` it, its model already in the store) with
   `--shards 1` and `--shards 2`. Target: >= 1.6x on 2 cores.
3. **Overhead.** The quickstart (`--limit`) local vs Ray without shards. Target: <= 10% wall time.

Figures depend on the machine's load: on a machine whose cores are busy with other work, the
tasks overlap (line 1's "nodes in flight") but cannot go faster. Run it on an idle machine and
report all three lines.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARMS = """\
use stdlib/tasks
use stdlib/resp
model "zoo:tiny-reasoner" dtype fp32 device cpu
eval tiny_gsm at [0.3] limit={limit}
arm left:
    calibrate self_generated from tiny_gsm n=16 max_tokens=96 temperature=0.6 seed=0
    schedule milestones [0.1..0.3] steps=3 regen ρ=1.0
arm right:
    calibrate self_generated from tiny_gsm n=16 max_tokens=96 temperature=0.6 seed=1
    schedule milestones [0.1..0.3] steps=3 regen ρ=1.0
report table rows=arm cols=sparsity
"""


def run(*args) -> tuple[float, str]:
    from resp_dsl.cli import main

    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = main(["run", *map(str, args), "--plain", "--threads", "1"])
    seconds = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"run {' '.join(map(str, args))} failed ({code}):\n{buf.getvalue()[-3000:]}")
    return seconds, buf.getvalue()


def node_seconds(out: str) -> float:
    """The sum of the node times in a --plain run summary."""
    total, on = 0.0, False
    for line in out.splitlines():
        if line.strip() == "run summary":
            on = True
            continue
        parts = line.split()
        if on and len(parts) >= 4 and parts[3].endswith("s") and parts[3][:-1].replace(".", "").isdigit():
            total += float(parts[3][:-1])
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=24, help="problems per evaluation")
    args = ap.parse_args()
    import ray

    os.environ["PYTHONPATH"] = str(ROOT)
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}})
    tmp = Path(tempfile.mkdtemp(prefix="resp-dsl-bench-ray-"))
    recipe = tmp / "arms.prune"
    recipe.write_text(ARMS.format(limit=args.limit))

    local_wall, out = run(recipe, "--cache", tmp / "c1", "--out", tmp / "o1")
    one_worker = node_seconds(out)
    ray_wall, out = run(recipe, "--cache", tmp / "c2", "--out", tmp / "o2", "--executor", "ray")
    in_flight = node_seconds(out)  # on Ray, a node's time runs from dispatch to commit
    print(f"1. two independent arms: local {local_wall:.1f}s wall (sum of node times {one_worker:.1f}s); "
          f"Ray on {args.workers} workers {ray_wall:.1f}s wall: ratio to the node sum {ray_wall / one_worker:.2f} "
          f"(nodes in flight on average: {in_flight / ray_wall:.2f})")

    target = "left/eval/tiny_gsm@0.3"
    for shards in (1, 2):  # the eval's ancestors first, into both caches
        run(recipe, "--cache", tmp / f"e{shards}", "--out", tmp / f"oe{shards}", "--until", "left/prune@0.3",
            "--executor", "ray")
    t1, _ = run(recipe, "--cache", tmp / "e1", "--out", tmp / "oe1", "--only", target, "--executor", "ray")
    t2, _ = run(recipe, "--cache", tmp / "e2", "--out", tmp / "oe2", "--only", target, "--executor", "ray",
                "--shards", "2")
    print(f"2. one eval node ({args.limit} problems): --shards 1 {t1:.1f}s, --shards 2 {t2:.1f}s: speed-up {t1 / t2:.2f}x")

    quick = [ROOT / "recipes" / "quickstart.prune", "--set", "n=16", "--set", "steps=4", "--limit", str(args.limit)]
    tl, _ = run(*quick, "--cache", tmp / "q1", "--out", tmp / "oq1")
    tr, _ = run(*quick, "--cache", tmp / "q2", "--out", tmp / "oq2", "--executor", "ray")
    print(f"3. quickstart (n=16, steps=4, --limit {args.limit}): local {tl:.1f}s, Ray {tr:.1f}s: "
          f"overhead {100 * (tr / tl - 1):+.0f}%")
    ray.shutdown()


if __name__ == "__main__":
    main()
