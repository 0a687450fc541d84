"""Copy what a recipe run published into docs/results/<name>/: its reports (tables, comparisons,
plots, heatmaps) and its run.json. Per-problem samples and exports stay in the run's --out folder.

    python docs/results/collect.py runs/table1 table1 [--run-record OTHER_OUT/run.json]

`--run-record` ships another invocation's run.json (e.g. the one that computed the nodes, when the
reports were re-published by a later, fully cached run). Then `python docs/results/render.py`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEEP = (".md", ".csv", ".json", ".png")


REPO = HERE.parent.parent


def portable(record: dict) -> dict:
    """A run record whose recipe path is relative to the repository (recipes/ links to resp_dsl/recipes/)."""
    out = dict(record)
    conf = dict(out.get("configuration") or {})
    recipe = conf.get("recipe")
    if recipe:
        p = Path(recipe)
        for root, shown in ((REPO / "resp_dsl" / "recipes", Path("recipes")), (REPO, Path("."))):
            try:
                conf["recipe"] = str(shown / p.resolve().relative_to(root.resolve()))
                break
            except ValueError:
                continue
        else:  # outside this checkout (another machine's path): keep the part from recipes/ on
            parts = p.parts
            if "recipes" in parts:
                conf["recipe"] = str(Path(*parts[parts.index("recipes"):]))
    out["configuration"] = conf
    return out


def collect(out_dir: Path, name: str, run_record: Path | None = None) -> list[Path]:
    if not (out_dir / "run.json").is_file():
        raise SystemExit(f"error: {out_dir} holds no run.json: not a finished run's --out folder")
    dest = HERE / name
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for f in sorted(out_dir.iterdir()):
        if f.is_file() and f.suffix in KEEP:
            src = run_record if (f.name == "run.json" and run_record) else f
            data = json.loads(src.read_text(encoding="utf-8")) if src.suffix == ".json" else None  # verify first
            tmp = dest / (f.name + ".tmp")
            if f.name == "run.json":  # the recipe's path as the repository names it, not this machine's
                tmp.write_text(json.dumps(portable(data), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                               encoding="utf-8")
            else:
                shutil.copyfile(src, tmp)
            tmp.replace(dest / f.name)
            copied.append(dest / f.name)
    return copied


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("name")
    ap.add_argument("--run-record", type=Path)
    args = ap.parse_args(argv)
    for f in collect(args.out_dir, args.name, args.run_record):
        print(f.relative_to(HERE.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
