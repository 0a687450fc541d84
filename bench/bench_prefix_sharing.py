"""Compute saved by prefix sharing: the graph `run` executes against every arm run alone.

    python -m bench.bench_prefix_sharing [RECIPE ...] [--json FILE]

Each recipe (default: the paper's Table 3 and Table 1, and recipes/miniature/table{3,1}.prune where present)
goes through the front end twice: as `plan` and `run` compile it (``lower`` with every graph
pass), and with every pass but ``share_prefixes``, where each arm keeps its own chain from
``load_model`` on, as if it ran alone. Both graphs are costed by the dry executor behind `plan`
(``runtime.dry.plan``: no torch, nothing run). Reported per recipe: compute nodes (reports
excluded), forward+backward passes and tokens to generate, shared vs the sum over arms, and the
ratio sum / shared (how many times more work the arms would cost one by one).

What it does not measure: wall time (costs are the planner's estimates), evaluation tokens count
in "tokens to generate" only as far as the ops' cost model counts them, and sharing across
separate recipes (that is the store's content-addressed cache, bench_cached_rerun).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.figures import Figure, add_json_argument, write_figures

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RECIPES = ("recipes/paper_table3_regen_ratio.prune", "recipes/miniature/table3.prune",
                   "recipes/paper_table1.prune", "recipes/miniature/table1.prune")


@dataclass(frozen=True)
class Totals:
    nodes: int
    forward_backward: int
    tokens_generated: int
    forward: int


@dataclass(frozen=True)
class Sharing:
    recipe: str
    arms: int
    shared: Totals
    alone: Totals  # the sum over arms, each with its own chain


def graph_totals(graph, lookup) -> Totals:
    """Compute nodes (reports excluded) and the dry run's summed costs of ``graph``."""
    from resp_dsl.ops import OPS
    from resp_dsl.runtime.dry import plan

    entries = [e for e in plan(graph, lookup, cache_root=None) if not OPS[e.op].aggregates]
    return Totals(len(entries), sum(e.cost.forward_backward for e in entries),
                  sum(e.cost.tokens_generated for e in entries), sum(e.cost.forward for e in entries))


def measure_compiled(result, name: str) -> Sharing:
    """Shared vs alone for a compiled recipe (a ``CompileResult`` with its graph)."""
    from resp_dsl.compile.lower import lower
    from resp_dsl.compile.passes import PASSES, share_prefixes
    from resp_dsl.ops import OPS

    if not result.ok or result.graph is None:
        errors = "; ".join(d.message for d in result.diagnostics if d.severity == "error")
        raise ValueError(f"{name} does not compile: {errors or 'no graph'}")
    unshared = lower(result.ir, passes=tuple(p for p in PASSES if p is not share_prefixes))
    unshared.imports = list(result.graph.imports)
    multi = [n.id for n in unshared.nodes.values() if not OPS[n.op].aggregates and len(n.arms) != 1]
    if multi:  # without the sharing pass every node belongs to exactly one arm
        raise AssertionError(f"{name}: nodes of several arms before sharing: {multi[:3]}")
    ctx = result.ctx
    lookup = (lambda source: ctx.usable_config(source)) if ctx else (lambda source: None)
    return Sharing(name, len(result.ir.arms), graph_totals(result.graph, lookup), graph_totals(unshared, lookup))


def measure(path: str | Path, overrides: dict[str, str] | None = None) -> Sharing:
    from resp_dsl.compile.pipeline import compile_file

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no recipe at {p}")
    name = p.name
    for base in (ROOT / "recipes", ROOT):  # recipes/ is a link: compare unresolved paths
        try:
            name = str(p.absolute().relative_to(base))
            break
        except ValueError:
            continue
    return measure_compiled(compile_file(p, overrides=overrides), name)


def ratio(alone: int, shared: int) -> float | str:
    return round(alone / shared, 2) if shared else "n/a (nothing to run)"


def figures(s: Sharing) -> list[Figure]:
    tag = f"{s.recipe} ({s.arms} arms)"
    out = []
    for what, unit in (("nodes", "nodes"), ("forward_backward", "fwd+bwd"), ("tokens_generated", "tokens")):
        shared, alone = getattr(s.shared, what), getattr(s.alone, what)
        label = {"nodes": "compute nodes", "forward_backward": "fwd+bwd passes",
                 "tokens_generated": "tokens to generate"}[what]
        out.append(Figure(f"{tag}: {label} run (shared)", shared, unit))
        out.append(Figure(f"{tag}: {label}, sum over arms alone", alone, unit))
        out.append(Figure(f"{tag}: {label} saving (alone / shared)", ratio(alone, shared), "x",
                          target=">= 1", met=alone >= shared))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipes", nargs="*", metavar="RECIPE",
                    help="recipe files (default: Tables 3 and 1, paper and miniature where present)")
    add_json_argument(ap)
    a = ap.parse_args()
    paths = a.recipes or [str(ROOT / r) for r in DEFAULT_RECIPES if (ROOT / r).is_file()]
    figs = []
    for path in paths:
        try:
            s = measure(path)
        except (FileNotFoundError, ValueError) as exc:
            sys.exit(str(exc))
        print(f"{s.recipe}: {s.arms} arms; nodes {s.shared.nodes} shared vs {s.alone.nodes} alone; "
              f"fwd+bwd {s.shared.forward_backward:,} vs {s.alone.forward_backward:,}; "
              f"tokens to generate {s.shared.tokens_generated:,} vs {s.alone.tokens_generated:,}")
        figs += figures(s)
    write_figures(a.json, figs)


if __name__ == "__main__":
    main()
