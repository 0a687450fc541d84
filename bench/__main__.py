"""Run every bench, each in a clean subprocess (OMP_NUM_THREADS=1), and print one table of figures.

    python -m bench [--quick] [--only NAME[,NAME]] [--json FILE] [--markdown FILE] [--timeout S]

A bench that fails or times out shows as one failed row; the others still run. ``--json`` writes
every figure and the machine (CPU, cores, versions, load average at start and end, date).
Exit code 0 when every bench ran (whether or not its targets were met), 1 when one failed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.figures import Figure, read_figures

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bench:
    name: str
    module: str  # bench.<module>, run with `python -m`
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()


BENCHES = (
    Bench("check", "bench_check", (), ("--runs", "5")),
    Bench("scoring_memory", "bench_scoring_memory", (), ("--modes", "fwd+bwd", "vectorized")),
    Bench("pruned_speed", "bench_pruned_speed", ("--model", "random-150m"),
          ("--model", "random-150m", "--sparsities", "0.2", "0.4", "--batches", "1", "4", "--repeats", "3",
           "--prompt", "64", "--decode", "8")),
    Bench("generation", "bench_generation", ("--model", "random-150m"),
          ("--model", "random-150m", "--prompts", "8", "--max-new-tokens", "32", "--batch-size", "8",
           "--repeats", "1")),
    Bench("cached_rerun", "bench_cached_rerun", (), ("--runs", "3", "--large-mib", "64")),
    Bench("resume", "bench_resume", (), ()),
    Bench("prefix_sharing", "bench_prefix_sharing", (), ()),
    Bench("continuous_batching", "bench_continuous_batching", (), ("--quick",)),
    Bench("train_step", "bench_train_step", (), ("--steps", "3")),
)
BY_NAME = {b.name: b for b in BENCHES}


@dataclass
class BenchResult:
    name: str
    figures: list[Figure] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # why the bench produced no figures

    def to_dict(self) -> dict:
        return {"bench": self.name, "seconds": round(self.seconds, 1), "error": self.error,
                "figures": [f.to_dict() for f in self.figures]}


def select(only: str | None) -> list[Bench]:
    """The benches named in ``only`` ("a,b"), in table order; all when None."""
    if not only:
        return list(BENCHES)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown or not names:
        raise ValueError(f"unknown bench {', '.join(unknown) or repr(only)}: choose from {', '.join(BY_NAME)}")
    return [b for b in BENCHES if b.name in names]


def bench_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", HF_HUB_OFFLINE="1",
                TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(ROOT) + (os.pathsep + path if path else ""))


def run_bench(bench: Bench, *, quick: bool, timeout: float) -> BenchResult:
    """Run one bench in its own process; any failure becomes ``error``, never an exception."""
    args = bench.quick if quick else bench.full
    with tempfile.TemporaryDirectory(prefix=f"bench-{bench.name}-") as d:
        out = Path(d) / "figures.json"
        cmd = [sys.executable, "-m", f"bench.{bench.module}", *args, "--json", str(out)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return BenchResult(bench.name, seconds=time.perf_counter() - t0, error=f"timed out after {timeout:.0f} s")
        seconds = time.perf_counter() - t0
        return collect(bench.name, proc.returncode, proc.stdout, proc.stderr, out, seconds)


def collect(name: str, returncode: int, stdout: str, stderr: str, json_path: Path, seconds: float) -> BenchResult:
    """A bench's result from its exit code, output and figures file."""
    if returncode != 0:
        tail = [line for line in (stderr or stdout).strip().splitlines() if line.strip()]
        return BenchResult(name, seconds=seconds, error=f"exit {returncode}: {tail[-1] if tail else 'no output'}")
    try:
        figures = read_figures(json_path)
    except (OSError, ValueError) as exc:
        return BenchResult(name, seconds=seconds, error=f"no figures: {exc}")
    if not figures:
        return BenchResult(name, seconds=seconds, error="no figures: the bench reported none")
    return BenchResult(name, figures, seconds)


def fmt_value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table_rows(results: list[BenchResult]) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for r in results:
        if r.error is not None:
            rows.append((r.name, "FAILED", r.error, "", "", "no"))
            continue
        for f in r.figures:
            met = "" if f.met is None else ("yes" if f.met else "NO")
            rows.append((r.name, f.figure, fmt_value(f.value), f.unit, f.target or "", met))
    return rows


def render_table(results: list[BenchResult]) -> str:
    header = ("bench", "figure", "value", "unit", "target", "met?")
    rows = table_rows(results)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(cells) -> str:
        return " | ".join(str(c).rjust(w) if i == 2 else str(c).ljust(w)
                          for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def markdown(results: list[BenchResult], machine: dict, quick: bool) -> str:
    """The same table as markdown, under a line naming the machine (what docs/results.md includes)."""
    cell = lambda x: str(x).replace("|", "\\|")
    lines = [f"Measured {machine['date']} on {machine['cpu']}, {machine['cores']} cores, python {machine['python']}, "
             f"torch {machine['torch']}, transformers {machine['transformers']}; load average "
             f"{machine['loadavg_start']} -> {machine.get('loadavg_end')}; {'quick' if quick else 'full'} mode "
             f"(`python -m bench{' --quick' if quick else ''}`).", "",
             "| bench | figure | value | unit | target | met? |", "|---|---|--:|---|---|---|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table_rows(results)]
    return "\n".join(lines) + "\n"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("torch", "transformers"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def report(results: list[BenchResult], machine: dict, quick: bool) -> dict:
    return {"quick": quick, "machine": machine, "benches": [r.to_dict() for r in results]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs: the whole set in about 10 minutes on 2 cores")
    ap.add_argument("--only", metavar="NAME[,NAME]", help=f"run just these: {', '.join(BY_NAME)}")
    ap.add_argument("--json", metavar="FILE", help="write every figure and the machine to FILE")
    ap.add_argument("--markdown", metavar="FILE", help="write the table, with the machine, as markdown to FILE")
    ap.add_argument("--timeout", type=float, metavar="S", help="seconds per bench (default 300 quick, 3600 full)")
    args = ap.parse_args(argv)
    try:
        benches = select(args.only)
    except ValueError as exc:
        ap.error(str(exc))
    timeout = args.timeout or (300.0 if args.quick else 3600.0)
    machine = {"cpu": cpu_model(), "cores": os.cpu_count(), **versions(), "loadavg_start": loadavg(),
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    results = []
    for b in benches:
        print(f"running {b.name} ...", file=sys.stderr, flush=True)
        r = run_bench(b, quick=args.quick, timeout=timeout)
        print(f"  {b.name}: {'failed: ' + r.error if r.error else 'ok'} ({r.seconds:.0f} s)", file=sys.stderr, flush=True)
        results.append(r)
    machine["loadavg_end"] = loadavg()
    print(f"{machine['cpu']}, {machine['cores']} cores, torch {machine['torch']}, transformers "
          f"{machine['transformers']}; load average {machine['loadavg_start']} -> {machine['loadavg_end']}"
          f"{'; quick mode' if args.quick else ''}")
    print(render_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(report(results, machine, args.quick), indent=1) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(markdown(results, machine, args.quick), encoding="utf-8")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
