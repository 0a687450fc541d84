"""`resp-dsl ls`: stdlib fragments, shipped recipes, tasks, score methods, graph ops and models,
each with a one-line description. No torch."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("what", nargs="?", choices=("all",) + SECTIONS, default="all",
                        help="what to list (default: all of " + ", ".join(SECTIONS) + ")")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


SECTIONS = ("stdlib", "recipes", "tasks", "methods", "ops", "models")



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
    """The shipped recipes: package data (the checkout's top-level recipes/ is a link to it)."""
    from importlib import resources

    path = Path(str(resources.files("resp_dsl").joinpath("recipes")))
    return path if path.is_dir() else None


def listing() -> dict:
    from resp_dsl.registry import registry
    from resp_dsl.syntax.imports import stdlib_dir

    out = {"stdlib": [{"name": f"stdlib/{p.stem}", "doc": _doc(p)} for p in sorted(stdlib_dir().glob("*.prune"))]}
    rd = recipes_dir()
    out["recipes"] = [{"name": str(p.relative_to(rd.parent)), "doc": _doc(p)}
                      for p in sorted(rd.glob("*.prune"))] if rd else []
    out["tasks"] = _tasks()
    from resp_dsl.scorers import SCORERS

    out["methods"] = [{"name": s.name, "doc": s.summary + (f" [variants: {', '.join(s.variants)}; the first is the default]"
                                                       if s.variants else "")} for s in SCORERS.values()]
    from resp_dsl.ops import OPS

    out["ops"] = [{"name": o.name, "doc": f"v{o.version}: {o.doc}"} for o in OPS.values()]
    out["models"] = [{"name": k, "type": v["model_type"], "layers": v["num_hidden_layers"],
                      "doc": f"{v['model_type']}, {v['num_hidden_layers']} blocks, " +
                             ("bundled: weights in the package, runs on a CPU" if k.startswith("zoo:")
                              else "offline config (weights from the hub)")} for k, v in registry().items()]
    return out


def _tasks() -> list[dict]:
    """Built-in tasks with their docstring's first line and the settings stdlib/tasks gives them."""
    from resp_dsl.cli.eval import task_settings
    from resp_dsl.tasks import TASKS

    out = []
    for name, cls in TASKS.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0].replace("``", "`") if cls.__doc__ else ""
        s = task_settings(name)
        temperature = "the model's" if s["temperature"] is None else f"{s['temperature']:g}"
        out.append({"name": name, "doc": f"{doc} [stdlib/tasks: shots={s['shots']} max_new_tokens={s['max_new_tokens']} "
                                         f"T={temperature}]"})
    out.append({"name": "jsonl:PATH", "doc": "your own JSONL file in GSM8K's schema (question, answer `... #### N`)"})
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
            print(f"  {i['name']:<{width}}  {i['doc']}")
    return 0
