"""A finished recipe re-runs like `make` with nothing to do: whole-process time of a fully cached run.

    python -m bench.bench_cached_rerun [--runs 7] [--n 4] [--large-mib 256] [--json FILE]

1. Runs `recipes/quickstart.prune --set n=N` once into a fresh cache (the compute, not timed),
   then times `--runs` fully cached re-runs of the same command (interpreter start, compile,
   verifying every entry, verifying the export, republishing the report), and reports whether
   torch was imported (it must not be: nothing is computed). Target: median <= 2 s on 2 cores.
2. Times opening a store entry holding one large file (``--large-mib``): the first `open` hashes
   it fully; a later process's `open` only stats it (size/mtime/inode unchanged since the last
   full verification); `cache verify` always re-hashes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import Figure, add_json_argument, write_figures

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1",
           PYTHONPYCACHEPREFIX=os.path.join(tempfile.gettempdir(), "resp-dsl-bench-pyc"))
ENV.pop("PYTHONDONTWRITEBYTECODE", None)

# Runs the CLI in-process, then says whether torch was ever imported.
PROBE = ("import sys; from resp_dsl.cli import main\n"
         "try:\n    code = main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
         "print('TORCH_IMPORTED=' + str('torch' in sys.modules), file=sys.stderr); sys.exit(code)")


def run_cmd(args: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    return time.perf_counter() - t0, res


def bench_rerun(runs: int, n: int) -> list[Figure]:
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        cmd = ["run", str(ROOT / "recipes" / "quickstart.prune"), "--set", f"n={n}", "--cache", str(d / "c"),
               "--out", str(d / "o"), "--plain", "--threads", "1"]
        first, res = run_cmd(cmd, d)
        if res.returncode != 0:
            sys.exit(f"first run failed:\n{res.stdout}\n{res.stderr}")
        print(f"first run (computes everything, n={n}): {first:.1f} s")
        times, torch_seen, statuses = [], set(), set()
        for _ in range(runs):
            t, res = run_cmd(cmd, d)
            assert res.returncode == 0, res.stdout + res.stderr
            times.append(t)
            torch_seen.add("TORCH_IMPORTED=True" in res.stderr)
            summary = [line for line in res.stdout.splitlines() if " nodes: " in line]
            statuses.add(summary[-1].rsplit(" in ", 1)[0] if summary else "?")
        print(f"fully cached re-run x{runs}: median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f} s, max {max(times):.2f} s  ({'; '.join(sorted(statuses))})")
        print(f"torch imported during a cached re-run: {'yes' if True in torch_seen else 'no'}")
        t, res = run_cmd(["ls"], d)
        print(f"reference: `resp-dsl ls` (interpreter start + CLI import): {t:.2f} s")
        med = statistics.median(times)
        return [Figure(f"quickstart n={n}: first run (computes everything)", round(first, 1), "s"),
                Figure(f"fully cached re-run, median of {runs}", round(med, 2), "s", target="<= 2", met=med <= 2.0),
                Figure("torch imported during a cached re-run", "yes" if True in torch_seen else "no", "",
                       target="no", met=True not in torch_seen),
                Figure("`resp-dsl ls` (interpreter start + CLI import)", round(t, 2), "s")]


def bench_large(mib: int) -> list[Figure]:
    sys.path.insert(0, str(ROOT))
    from resp_dsl.runtime.store import Store

    with tempfile.TemporaryDirectory() as d:
        key = "b" * 64
        store = Store(d)
        with store.write(key, {"op": "bench"}) as tmp:
            with open(tmp / "big.bin", "wb") as f:
                block = os.urandom(1 << 20)
                for _ in range(mib):
                    f.write(block)
        t0 = time.perf_counter()
        Store(d).open(key)
        full = time.perf_counter() - t0
        fast = []
        for _ in range(5):
            t0 = time.perf_counter()
            Store(d).open(key)  # a new Store: nothing memoised in-process
            fast.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        problems = Store(d).verify(key)
        verify = time.perf_counter() - t0
        assert not problems
        print(f"{mib} MiB entry: first open (full sha256) {full * 1000:.0f} ms; later opens (stat only) median "
              f"{statistics.median(fast) * 1000:.1f} ms; cache verify (full sha256) {verify * 1000:.0f} ms; "
              f"ratio {full / statistics.median(fast):.0f}x")
        return [Figure(f"{mib} MiB entry: first open (full sha256)", round(full * 1000), "ms"),
                Figure(f"{mib} MiB entry: later open (stat only), median", round(statistics.median(fast) * 1000, 1), "ms")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--large-mib", type=int, default=256)
    add_json_argument(ap)
    a = ap.parse_args()
    write_figures(a.json, bench_rerun(a.runs, a.n) + bench_large(a.large_mib))


if __name__ == "__main__":
    main()
