"""What a reader of a run's `--out` folder needs besides the tables: how it was made.

``<out>/run.json``   the recipe, the `--set` values, the resolved params and recipe (every arm with
                     its settings after imports, loops and `--set`), every node's key and status,
                     package versions, the machine, start time, duration and peak memory
``<out>/recipe/``    the recipe and every file it `use`s, as they were read
``<out>/samples/``   one JSONL per evaluation: prompt, output, extracted answer, gold, correct
                     (what lm-eval's `--log_samples` keeps)

A folder holds one configuration: a run with other `--set` values (or another recipe)
refuses to write into a folder that holds another's results (`OutDirTaken`).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from resp_dsl.files import write_text_atomic as write_atomic
from resp_dsl.ops import OPS

RUN_FILE = "run.json"
PACKAGES = ("resp-dsl", "torch", "transformers", "lm_eval", "datasets", "safetensors", "tokenizers", "numpy",
            "lark", "pydantic", "vllm")
SAMPLE_FIELDS = ("id", "prompt", "output", "pred", "target", "correct")


class OutDirTaken(RuntimeError):
    """The --out folder holds the results of a different configuration."""


def configuration(recipe: str | Path, overrides: dict[str, str], options: dict | None = None) -> dict:
    """What identifies a run's results: the recipe file, its `--set` values and the run options
    that change results (`--limit`, `--seed`)."""
    out = {"recipe": str(Path(recipe).resolve()), "set": dict(sorted(overrides.items()))}
    out.update({k: v for k, v in sorted((options or {}).items()) if v is not None})
    return out


def default_out_dir(name: str, overrides: dict[str, str], options: dict | None = None) -> Path:
    """`runs/<recipe>`, or `runs/<recipe>-n=8,seed=1` with `--set` values (and `--limit`/`--seed`):
    other values, other folder."""
    tags = sorted(overrides.items()) + [(k, v) for k, v in sorted((options or {}).items()) if v is not None]
    if not tags:
        return Path("runs") / name
    tag = ",".join(f"{k}={v}" for k, v in tags)
    return Path("runs") / ("".join(c if c.isalnum() or c in "-_.=," else "_" for c in f"{name}-{tag}"))


def claim_out_dir(out_dir: Path, config: dict) -> None:
    """Refuse an --out folder whose run.json records another configuration."""
    f = out_dir / RUN_FILE
    if not f.is_file():
        return
    try:
        old = json.loads(f.read_text(encoding="utf-8")).get("configuration", {})
    except (OSError, ValueError):
        return
    if old and old != config:
        def show(c: dict) -> str:
            sets = " ".join([f"--set {k}={v}" for k, v in c.get("set", {}).items()] +
                            [f"--{k} {c[k]}" for k in ("limit", "seed") if k in c]) or "no --set values"
            return f"{c.get('recipe')} with {sets}"

        raise OutDirTaken(f"{out_dir} holds the results of {show(old)}; this run is {show(config)}")


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                            "cpus": os.cpu_count()}
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] \
            if torch.cuda.is_available() else []
    return info


def peak_memory() -> dict[str, Any]:
    """Peak resident memory of this process (and of its finished children, e.g. lm-eval), in MiB; on CUDA the
    peak allocated on each device."""
    out: dict[str, Any] = {}
    try:
        import resource

        scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20  # ru_maxrss: KiB on Linux, bytes on macOS
        out["rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, 1)
        out["children_rss_mib"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale, 1)
    except (ImportError, OSError):  # no `resource` on Windows
        pass
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        out["cuda_allocated_mib"] = [round(torch.cuda.max_memory_allocated(i) / 2**20, 1)
                                     for i in range(torch.cuda.device_count())]
    return out


def _worker_peak(outcomes) -> dict[str, Any]:
    """With the Ray executor: the largest peak resident memory of the worker processes that ran nodes."""
    peaks = [o.peak_rss_mib for o in outcomes if getattr(o, "peak_rss_mib", None)]
    return {"workers_rss_mib": max(peaks)} if peaks else {}


def samples_of(result: dict) -> list[dict]:
    return [{k: rec.get(k) for k in SAMPLE_FIELDS} for rec in result.get("per_example", [])]


def write_samples(records: list[dict], path: Path) -> Path:
    return write_atomic(Path(path), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def write_run_record(out_dir: Path, *, config: dict, sources: dict[str, str], params: dict, outcomes,
                     store, started: float, seconds: float, resolved: dict | None = None) -> Path:
    """run.json, the recipe's sources and each evaluation's samples, into `out_dir`."""
    from resp_dsl.runtime.report import _slug

    for name, text in sources.items():
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:
            rel = Path(rel.name)
        write_atomic(out_dir / "recipe" / rel, text)
    for o in outcomes:
        if OPS[o.op].reported_as == "result" and o.status in ("done", "cached", "recomputed"):
            f = store.entry_dir(o.key) / "result.json"
            if f.is_file():
                write_samples(samples_of(json.loads(f.read_text(encoding="utf-8"))),
                              out_dir / "samples" / f"{_slug(o.id)}.jsonl")
    record = {"configuration": config, "params": params, "sources": list(sources), "resolved": resolved,
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)), "seconds": round(seconds, 2),
              "peak_memory": {**peak_memory(), **_worker_peak(outcomes)},
              "nodes": [{"id": o.id, "op": o.op, "key": o.key, "status": o.status, "summary": o.summary,
                         **({"peak_rss_mib": o.peak_rss_mib} if getattr(o, "peak_rss_mib", None) else {})}
                        for o in outcomes],
              "versions": versions(), "machine": machine()}
    return write_atomic(out_dir / RUN_FILE, json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")
