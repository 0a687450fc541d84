"""`resp-dsl ls`: stdlib fragments, shipped recipes and bundled models, with their first comment line."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("what", nargs="?", choices=("all", "stdlib", "recipes", "models"), default="all")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _doc(path: Path) -> str:
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                return line.lstrip("# ").strip()
            if line.strip():
                break
    except OSError:
        pass
    return ""


def recipes_dir() -> Path | None:
    """The shipped recipes: inside the package (installed) or beside it (checkout)."""
    pkg = Path(__file__).resolve().parent.parent
    for cand in (pkg / "recipes", pkg.parent / "recipes"):
        if cand.is_dir():
            return cand
    return None


def listing() -> dict:
    from resp_dsl.registry import registry
    from resp_dsl.syntax.imports import stdlib_dir

    out = {"stdlib": [{"name": f"stdlib/{p.stem}", "doc": _doc(p)} for p in sorted(stdlib_dir().glob("*.prune"))]}
    rd = recipes_dir()
    out["recipes"] = [{"name": str(p.relative_to(rd.parent)), "doc": _doc(p)}
                      for p in sorted(rd.glob("*.prune"))] if rd else []
    out["models"] = [{"name": k, "type": v["model_type"], "layers": v["num_hidden_layers"]}
                     for k, v in registry().items()]
    return out


def run(args) -> int:
    data = listing()
    if args.what != "all":
        data = {args.what: data[args.what]}
    if args.format == "json":
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for section, items in data.items():
        print(f"{section}:")
        width = max((len(i["name"]) for i in items), default=0)
        for i in items:
            extra = i.get("doc") if "doc" in i else f"{i['type']}, {i['layers']} blocks (offline config)"
            print(f"  {i['name']:<{width}}  {extra}")
    return 0
