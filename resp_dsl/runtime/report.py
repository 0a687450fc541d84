"""Reports: the Table-1-style table, accuracy-vs-sparsity plots, kept-structure heatmaps.

The interpreter labels every evaluation it feeds a report with its arm(s), the
sparsity of the model it evaluated and the task (``artifact.meta["labels"]``).
Outputs go into the store entry and are copied to the run's ``--out`` folder.
"""

from __future__ import annotations

import csv
import re
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from resp_dsl.runtime.store import copy_atomic


def collect_rows(inputs: dict[str, Any]) -> list[dict]:
    """One row per (arm, task, sparsity) evaluation."""
    rows = []
    for art in inputs.values():
        if art.op != "eval":
            continue
        labels = art.meta.get("labels", {})
        result = art.json("result.json")
        for arm in labels.get("arms") or ["-"]:
            rows.append({"arm": arm, **sweep_values(arm), "task": labels.get("task", result.get("task")),
                         "sparsity": round(float(labels.get("sparsity", 0.0)), 4),
                         "achieved": labels.get("achieved"), "accuracy": result["accuracy"],
                         "n": result["n"], "correct": result["correct"], "key": art.key})
    rows.sort(key=lambda r: (r["task"], r["arm"], r["sparsity"]))
    return rows


def sweep_values(arm: str) -> dict:
    """The loop variables in an arm label: ``main[rho=0.2,dataset=gsm8k]`` -> {"rho": "0.2", "dataset": "gsm8k"}."""
    m = re.search(r"\[(.*)\]$", arm)
    if not m:
        return {}
    out = {}
    for part in m.group(1).split(","):
        k, sep, v = part.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def pivot(rows: list[dict], *, rows_by: str = "arm", cols_by: str = "sparsity", split_by: str | None = "task"):
    """{group: (row labels, col labels, {(row, col): accuracy})}."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[str(r.get(split_by, "-")) if split_by else "all"].append(r)
    out = {}
    for g, rs in sorted(groups.items()):
        rlabels = list(dict.fromkeys(r.get(rows_by, "-") for r in rs))
        clabels = sorted(dict.fromkeys(r.get(cols_by, "-") for r in rs), key=lambda v: (isinstance(v, str), v))
        cells = {(r.get(rows_by, "-"), r.get(cols_by, "-")): r["accuracy"] for r in rs}
        out[g] = (rlabels, clabels, cells)
    return out


def _fmt_col(v) -> str:
    return "dense" if v == 0 else (f"{100 * v:g}%" if isinstance(v, float) else str(v))


def markdown_table(tables, rows_by: str = "arm") -> str:
    parts = []
    for g, (rl, cl, cells) in tables.items():
        parts.append(f"### {g}\n")
        parts.append(f"| {rows_by} | " + " | ".join(_fmt_col(c) for c in cl) + " |")
        parts.append("|---|" + "---:|" * len(cl))
        for r in rl:
            vals = [f"{100 * cells[(r, c)]:.2f}" if (r, c) in cells else "" for c in cl]
            parts.append(f"| {r} | " + " | ".join(vals) + " |")
        parts.append("")
    return "\n".join(parts)


def csv_table(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["task", "arm", "sparsity", "achieved", "accuracy", "correct", "n", "key"])
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def plot_accuracy(tables, path: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for g, (rl, cl, cells) in tables.items():
        fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=120)
        for r in rl:
            xs = [c for c in cl if (r, c) in cells and not isinstance(c, str)]
            ax.plot([100 * x for x in xs], [100 * cells[(r, x)] for x in xs], marker="o", label=str(r))
        ax.set_xlabel("sparsity (%)")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(str(g))
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        target = path.with_name(f"{path.stem}_{_slug(g)}.png")
        fig.savefig(target)
        plt.close(fig)
        written.append(target)
    return written


def heatmap(selection: dict, path: Path, title: str) -> Path:
    """Fraction of query heads and MLP channels kept per block."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dense = selection["dense"]
    layers = selection["layers"]
    heads = [len(layer.get("q_heads", [])) / dense["num_heads"] for layer in layers]
    chans = [len(layer.get("channels", [])) / dense["intermediate_size"] for layer in layers]
    fig, ax = plt.subplots(figsize=(max(4, 0.35 * len(layers) + 2), 2.2), dpi=120)
    im = ax.imshow([heads, chans], aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_yticks([0, 1], ["heads", "channels"])
    ax.set_xlabel("block")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _slug(s: Any) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(s))


def write_report(params: dict, inputs: dict[str, Any], out: Path, out_dir: Path) -> dict:
    kind = params.get("kind", "table")
    name = _slug(params.get("name") or kind)
    files: list[Path] = []
    rows = collect_rows(inputs)
    if kind == "table":
        tables = pivot(rows, rows_by=params.get("rows", "arm"), cols_by=params.get("cols", "sparsity"),
                       split_by=params.get("by", "task"))
        (out / f"{name}.md").write_text(markdown_table(tables, params.get("rows", "arm")), encoding="utf-8")
        (out / f"{name}.csv").write_text(csv_table(rows), encoding="utf-8")
        (out / f"{name}.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        files += [out / f"{name}.md", out / f"{name}.csv", out / f"{name}.json"]
    elif kind == "plot":
        tables = pivot(rows, rows_by="arm", cols_by="sparsity", split_by=params.get("by", "task"))
        files += plot_accuracy(tables, out / f"{name}.png")
        (out / f"{name}.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        files.append(out / f"{name}.json")
    elif kind == "heatmap":
        for art in inputs.values():
            if art.op == "prune":
                sel = art.json("selection.json")
                labels = art.meta.get("labels", {})
                title = f"{','.join(labels.get('arms') or [])} @ {100 * sel['achieved']:.1f}%"
                files.append(heatmap(sel, out / f"{name}_{art.key[:10]}.png", title))
    else:
        raise ValueError(f"unknown report kind {kind!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for f in files:
        copied.append(str(copy_atomic(f, out_dir / f.name)))
    # Names only: the entry must not depend on where this run's outputs go.
    return {"files": [Path(c).name for c in copied], "rows": len(rows)}


def publish(entry_path: Path, summary: dict, out_dir: Path) -> list[Path]:
    """Copy a stored report's files into `out_dir` (a cached report still lands in a new --out)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in summary.get("files", []):
        src = entry_path / Path(name).name  # a bare name: nothing recorded can point outside --out
        if src.is_file() and not src.is_symlink():
            written.append(copy_atomic(src, out_dir / Path(name).name))
    return written
