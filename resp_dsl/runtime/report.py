"""Reports: the Table-1-style table, accuracy-vs-sparsity plots, kept-structure heatmaps.

A report's rows are labelled from the graph being run: the compiler writes each
input's arms, task, method and target sparsity into the report's params
(``compile/passes/label_reports.py``), so the labels are part of the report's key
and never read from a cached parent entry. The only number taken from a parent is
the sparsity its prune actually reached (``achieved``), which its key determines.

With ``over seed`` a table or plot has one cell per arm without its seed: the mean over the
calibration seeds with a 95% interval (``stats.bootstrap_over_seeds`` over seeds x problems; a cell
with one result, such as the dense model every seed shares, gets its Wilson interval). ``compare A
vs B`` pairs the two arms on the same problems (``stats.mcnemar``), seed by seed where they have
seeds, with the bootstrap interval of the mean difference. Both read each eval's per-problem
correctness (result.json), keyed by the eval's store key.

Every graph that ``check`` accepts gives a report: a loop variable that an arm does
not bind is an empty cell. ``dry_run`` builds each report from placeholder rows,
so ``check`` and ``plan`` reject a report that could not be built before any compute.
No torch here; matplotlib only when a figure is drawn.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from resp_dsl.compile.labels import arm_name, names_arm, sweep_values, without
from resp_dsl.ir.models import SEED
from resp_dsl.runtime.store import copy_atomic
from resp_dsl.stats import bootstrap_over_seeds, format_p, mcnemar, wilson

BASE_FIELDS = ("task", "split", "arm", "method", "sparsity", "basis", "achieved", "achieved_structures", "achieved_params",
               "accuracy", "correct", "n", "key")
SEED_FIELDS = ("lo", "hi", "interval", "seeds", "per_seed")  # after "accuracy" in a table `over seed`
COMPARE_FIELDS = ("task", "split", "sparsity", "a", "b", "seed", "n", "accuracy_a", "accuracy_b", "difference", "lo", "hi",
                  "interval", "p_value", "only_a", "only_b")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
LINESTYLES = ("-", "--", "-.", ":")


class ReportError(ValueError):
    """A report that cannot be built from its rows (a user-facing message)."""


# ---------------------------------------------------------------------------------------
# rows


def _reached(got) -> dict:
    """The sparsity a prune reached, in its basis and in both units (a prune summary or a bare number)."""
    if got is None:
        return {"basis": None, "achieved": None, "achieved_structures": None, "achieved_params": None}
    if not isinstance(got, dict):
        got = {"achieved": got}
    r4 = lambda v: None if v is None else round(float(v), 4)
    return {"basis": got.get("basis"), "achieved": r4(got.get("achieved")),
            "achieved_structures": r4(got.get("achieved_structures")), "achieved_params": r4(got.get("achieved_params"))}


def make_rows(labels: dict, results: dict[str, dict], achieved: dict | None = None) -> list[dict]:
    """One row per (arm, input): `labels` role -> node labels, `results` role -> eval result (+ "key");
    `achieved`: prune node id -> its summary (target basis, achieved sparsity in both units)."""
    achieved = achieved or {}
    rows = []
    for role, lab in labels.items():
        if role not in results:
            continue
        res = results[role]
        for arm in lab.get("arms") or ["-"]:
            sp = round(float(lab.get("sparsity", 0.0)), 4)
            reached = _reached(achieved.get(lab.get("prune_node") or ""))
            rows.append({"arm": arm, "arm_name": arm_name(arm), **sweep_values(arm),
                         "task": lab.get("task") or res.get("task") or "-", "split": _split(lab, res),
                         "method": lab.get("method") or "-",
                         "sparsity": sp, **reached,
                         "accuracy": res["accuracy"], "n": res["n"], "correct": res["correct"],
                         "key": res.get("key", "")})
    rows.sort(key=lambda r: (str(r["task"]), str(r["split"]), _natural(r["arm"]), r["sparsity"]))
    return rows


def _split(lab: dict, res: dict) -> str:
    """The problems a result is on: `calibration` (an eval of a calibration draw, from its labels), else the
    eval's split as its result records it (an eval's key fixes its split; "test" for placeholder rows);
    "-" for a row that is no evaluation (a heatmap's selection)."""
    if lab.get("split"):
        return lab["split"]
    if lab.get("task") is None:
        return "-"
    return (res.get("settings") or {}).get("split") or "test"


def binding_fields(rows: list[dict]) -> list[str]:
    """Loop variables bound by any row, in first-seen order."""
    out: dict[str, None] = {}
    for r in rows:
        for k in sweep_values(r["arm"]):
            out.setdefault(k, None)
    return list(out)


def _number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _natural(label: Any) -> tuple:
    """Sort key: arm name, then bound values numerically where they are numbers (`rho=0.2` < `rho=1.0`)."""
    s = str(label)
    vals = sweep_values(s)
    return (arm_name(s), tuple((0, _number(v), "") if _number(v) is not None else (1, 0.0, v) for v in vals.values()), s)


def _value_key(v: Any) -> tuple:
    n = _number(v)
    return (0, n, "") if n is not None and not isinstance(v, bool) else (1, 0.0, str(v))


def pivot(rows: list[dict], *, rows_by: str = "arm", cols_by: str = "sparsity", split_by: str | None = "task"):
    """{group: (row labels, col labels, {(row, col): row dict})}; a dimension a row lacks is "-"."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[str(r.get(split_by, "-")) if split_by else _tasks_title(rows)].append(r)
    out = {}
    for g, rs in sorted(groups.items()):
        rlabels = sorted(dict.fromkeys(r.get(rows_by, "-") for r in rs),
                         key=_natural if rows_by == "arm" else _value_key)
        clabels = sorted(dict.fromkeys(r.get(cols_by, "-") for r in rs), key=_value_key)
        cells: dict[tuple, dict] = {}
        for r in rs:
            cell = (r.get(rows_by, "-"), r.get(cols_by, "-"))
            if cell in cells and cells[cell]["key"] != r["key"]:
                raise ReportError(f"two results fall into the cell {rows_by}={cell[0]}, {cols_by}={cell[1]}"
                                  f"{f' of {g}' if split_by else ''}; add `by` or another dimension "
                                  f"(the rows differ in {_differing(cells[cell], r)})")
            cells[cell] = r
        out[g] = (rlabels, clabels, cells)
    return out


def _differing(a: dict, b: dict) -> str:
    keys = [k for k in ("task", "split", "arm", "method", "sparsity") if a.get(k) != b.get(k)]
    return ", ".join(keys) or "their inputs"


def _tasks_title(rows: list[dict]) -> str:
    return ", ".join(sorted({str(r.get("task", "-")) for r in rows})) or "-"


def _fmt_col(v) -> str:
    return "dense" if v == 0 else (f"{100 * v:g}%" if isinstance(v, float) else str(v))


def _differs(r: dict) -> bool:
    return r.get("achieved") is not None and abs(r["achieved"] - r["sparsity"]) >= 5e-4


def markdown_table(tables, rows_by: str = "arm") -> str:
    """Accuracy in %; where a model's achieved sparsity differs from its target, it follows in brackets."""
    parts = []
    for g, (rl, cl, cells) in tables.items():
        parts.append(f"### {g}\n")
        parts += _grid(rl, cl, cells, rows_by, lambda row: f"{100 * row['accuracy']:.2f}{_interval_text(row)}"
                       + (f" ({100 * row['achieved']:.1f}% pruned)" if _differs(row) else ""))
        ns = sorted({row["n"] for row in cells.values()})
        seeded = any("per_seed" in row for row in cells.values())
        parts.append("")
        parts.append(f"{'mean ' if seeded else ''}accuracy (%), n = {', '.join(map(str, ns))} problems per cell"
                     f"{' and seed' if seeded else ''}")
        parts.append("")
        if seeded:
            parts += _seeds_caption(cells) + _per_seed_table(rl, cl, cells, rows_by)
        parts += _reached_table(rl, cl, cells, rows_by)
    return "\n".join(parts)


def _grid(rl, cl, cells, rows_by: str, text) -> list[str]:
    """A markdown grid of `cells` (row label x col label -> row dict); `text(row)` fills a cell, "" where none."""
    out = [f"| {rows_by} | " + " | ".join(_fmt_col(c) for c in cl) + " |", "|---|" + "---:|" * len(cl)]
    for r in rl:
        out.append(f"| {r} | " + " | ".join("" if (r, c) not in cells else text(cells[(r, c)]) for c in cl) + " |")
    return out


def _reached_table(rl, cl, cells, rows_by: str) -> list[str]:
    """Sparsity reached by each pruned model, as a fraction of structures and of parameters."""
    pruned = [row for row in cells.values() if row.get("achieved_params") is not None]
    if not pruned:
        return []
    bases = sorted({str(row.get("basis")) for row in pruned if row.get("basis")})
    out = ["sparsity reached: % of structures (heads + channels) / % of prunable parameters"
           + (f"; targets count {' and '.join(bases)}" if bases else ""), ""]
    out += _grid(rl, cl, cells, rows_by, lambda row: "" if row.get("achieved_params") is None else
                 f"{100 * row['achieved_structures']:.1f} / {100 * row['achieved_params']:.1f}")
    return out + [""]


def csv_table(rows: list[dict], fields: list[str] | None = None) -> str:
    """Every row; one column per loop variable (empty where an arm does not bind it); lists as `a;b;c`."""
    buf = io.StringIO()
    if fields is None:
        acc = BASE_FIELDS.index("accuracy") + 1
        seeded = SEED_FIELDS if any("per_seed" in r for r in rows) else ()
        fields = ["task", "split", "arm", *binding_fields(rows), *BASE_FIELDS[3:acc], *seeded, *BASE_FIELDS[acc:]]
    w = csv.DictWriter(buf, fieldnames=fields, restval="", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: "" if v is None else ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v
                    for k, v in r.items()})
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# seeds: `over seed` averages each arm over its calibration seeds; `compare` pairs two arms


def per_problem(result: dict) -> dict[str, bool]:
    """Problem id -> solved, from an eval's result.json (the example's id, else its position)."""
    return {str(r.get("id", i)): bool(r["correct"]) for i, r in enumerate(result.get("per_example") or ())}


def _seed_of(row: dict) -> str | None:
    return sweep_values(row["arm"]).get(SEED)


def _seed_sort(seed: str | None) -> tuple:
    return _value_key("-" if seed is None else seed)


def _by_seed(rows: list[dict], what: str) -> dict[tuple, dict[str | None, dict]]:
    """{(task, split, sparsity, label without its seed): {seed: row}}; a seed has one result per group."""
    groups: dict[tuple, dict[str | None, dict]] = {}
    for r in rows:
        g = groups.setdefault((str(r["task"]), str(r.get("split", "-")), r["sparsity"], without(r["arm"], SEED)), {})
        seed = _seed_of(r)
        if seed in g and g[seed]["key"] != r["key"]:
            on = r["task"] if r.get("split") in (None, "-", "test") else f"{r['task']} ({r['split']})"
            raise ReportError(f"two results of {without(r['arm'], SEED)} at {_fmt_col(r['sparsity'])} on {on} "
                              f"for seed {seed} {what}; they differ in {_differing(g[seed], r)}")
        g[seed] = r
    return groups


def over_seeds(rows: list[dict], outcomes: dict[str, dict[str, bool]], **opts) -> list[dict]:
    """One row per arm (its label without the seed), task and sparsity: the mean accuracy over seeds, the
    per-seed accuracies and a 95% interval. A cell with several results gets the two-level bootstrap over
    seeds x problems (`stats.bootstrap_over_seeds`); a single result (the dense model that every seed
    shares, an arm the seeds do not reach) gets its Wilson interval. `opts`: bootstrap options (iterations)."""
    out = []
    for (task, _split, sp, label), by_seed in _by_seed(rows, "to average").items():
        seeds = sorted(by_seed, key=_seed_sort)
        first = by_seed[seeds[0]]
        keys = list(dict.fromkeys(by_seed[s]["key"] for s in seeds))
        per_seed = [by_seed[s]["accuracy"] for s in seeds]
        if len(keys) == 1:
            (lo, hi), mean, how, iterations = wilson(first["correct"], first["n"]), first["accuracy"], "wilson", None
        else:
            runs = [list(outcomes[by_seed[s]["key"]].values()) for s in seeds]
            boot = bootstrap_over_seeds(runs, **opts)
            (lo, hi), mean, how, iterations = boot.interval, boot.mean, "bootstrap", boot.iterations
        reached = {}
        for k in ("achieved", "achieved_structures", "achieved_params"):
            got = [by_seed[s][k] for s in seeds if by_seed[s].get(k) is not None]
            reached[k] = round(sum(got) / len(got), 4) if got else None
        row = {k: v for k, v in first.items() if k != SEED}
        row.update(arm=label, **reached, accuracy=mean, lo=lo, hi=hi, interval=how, iterations=iterations,
                   seeds=[s for s in seeds if s is not None], per_seed=per_seed,
                   correct=first["correct"] if len(keys) == 1 else None,
                   n=min(by_seed[s]["n"] for s in seeds), key="+".join(keys))
        out.append(row)
    out.sort(key=lambda r: (str(r["task"]), str(r["split"]), _natural(r["arm"]), r["sparsity"]))
    return out


def interval(row: dict) -> tuple[float, float]:
    """A row's 95% interval: the one it carries (`over seed`), else the Wilson interval of its accuracy."""
    if row.get("lo") is not None:
        return row["lo"], row["hi"]
    return wilson(row["correct"], row["n"])


def _interval_text(row: dict) -> str:
    if row.get("lo") is None:
        return ""
    return f" [{100 * row['lo']:.1f}, {100 * row['hi']:.1f}]"


def _seeds_caption(cells) -> list[str]:
    rows = list(cells.values())
    seeds = sorted({s for r in rows for s in r.get("seeds", ())}, key=_value_key)
    iterations = sorted({r["iterations"] for r in rows if r.get("iterations")})
    out = []
    if iterations:
        out.append(f"Each cell: the mean over calibration seeds {', '.join(seeds)} and [its 95% interval] from a "
                   f"two-level bootstrap over seeds × problems (resample the seeds, then the problems within each "
                   f"drawn seed; {', '.join(map(str, iterations))} resamples).")
    if any(r.get("interval") == "wilson" for r in rows):
        out.append("A cell with a single result (the dense model, which every seed shares, or an arm the seeds "
                   "do not reach): its accuracy and [95% Wilson interval].")
    return out + [""]


def _per_seed_table(rl, cl, cells, rows_by: str) -> list[str]:
    seeds = sorted({s for r in cells.values() for s in r.get("seeds", ())}, key=_value_key)
    out = [f"accuracy (%) per calibration seed ({' / '.join(seeds)}); one value: a result every seed shares", ""]
    out += _grid(rl, cl, cells, rows_by, lambda row: f"{100 * row['accuracy']:.2f}" if row.get("interval") == "wilson"
                 else " / ".join(f"{100 * v:.2f}" for v in row["per_seed"]))
    return out + [""]


def _compatible(a: str, b: str, named: set[str]) -> bool:
    """Two arm labels are compared when the loop variables they both bind agree, the seed and the variables
    that the compared names fix themselves aside (`"main[rho=1.0]" vs "main[rho=0]"` pairs across `rho`)."""
    va, vb = sweep_values(a), sweep_values(b)
    return all(va[k] == vb[k] for k in va.keys() & vb.keys() if k != SEED and k not in named)


def _pair_seeds(sa: dict, sb: dict) -> list[tuple[str | None, dict, dict]]:
    """Seed by seed where both sides have seeds; a side with one result is paired with every seed of the other."""
    if None in sa and len(sa) == 1:
        return [(s, sa[None], rb) for s, rb in sorted(sb.items(), key=lambda kv: _seed_sort(kv[0]))]
    if None in sb and len(sb) == 1:
        return [(s, ra, sb[None]) for s, ra in sorted(sa.items(), key=lambda kv: _seed_sort(kv[0]))]
    return [(s, sa[s], sb[s]) for s in sorted(sa.keys() & sb.keys(), key=_seed_sort)]


def _paired(seed, ra: dict, rb: dict, outcomes: dict[str, dict[str, bool]]) -> tuple[dict, list[int]]:
    oa, ob = outcomes[ra["key"]], outcomes[rb["key"]]
    ids = [i for i in oa if i in ob]
    if not ids:
        raise ReportError(f"{ra['arm']} and {rb['arm']} were evaluated on different problems: nothing to pair")
    xa, xb = [oa[i] for i in ids], [ob[i] for i in ids]
    p = mcnemar(xa, xb)
    rec = {"seed": seed, "n": p.n, "accuracy_a": p.accuracy_a, "accuracy_b": p.accuracy_b, "difference": p.difference,
           "lo": p.interval[0], "hi": p.interval[1], "interval": "newcombe", "p_value": p.p_value,
           "only_a": p.only_a, "only_b": p.only_b}
    return rec, [int(x) - int(y) for x, y in zip(xa, xb)]


def compare_rows(rows: list[dict], outcomes: dict[str, dict[str, bool]], *, a: str, b: str,
                 at: float | None = None, **opts) -> list[dict]:
    """`compare A vs B`: for each task, split and sparsity both reach (and loop values they share), the paired
    difference A - B on the same problems: exact McNemar p-value and Newcombe interval; over seeds, per seed
    and the mean difference with the two-level bootstrap interval over seeds x problems."""
    pick = [r for r in rows if at is None or abs(r["sparsity"] - at) < 1e-9]
    ga = _by_seed([r for r in pick if names_arm(r["arm"], a)], "to compare")
    gb = _by_seed([r for r in pick if names_arm(r["arm"], b)], "to compare")
    named = set(sweep_values(a)) | set(sweep_values(b))
    out = []
    for (task, split, sp, la), sa in ga.items():
        for (task_b, split_b, sp_b, lb), sb in gb.items():
            # the same problems only: a test result is never paired with a calibration draw's
            if (task, split, sp) != (task_b, split_b, sp_b) or la == lb or not _compatible(la, lb, named):
                continue
            pairs = _pair_seeds(sa, sb)
            if not pairs or all(ra["key"] == rb["key"] for _, ra, rb in pairs):
                continue  # no common seed, or the same evaluations (the dense model both arms share)
            recs, diffs = zip(*(_paired(s, ra, rb, outcomes) for s, ra, rb in pairs))
            shared = {k: v for k, v in sweep_values(la).items() | sweep_values(lb).items() if k != SEED and k not in named}
            row = {**shared,
                   "task": task, "split": split, "sparsity": sp, "a": la, "b": lb, "seeds": [r["seed"] for r in recs if r["seed"] is not None],
                   "per_seed": list(recs)}
            if len(recs) == 1:
                row.update({k: v for k, v in recs[0].items() if k != "seed"})
            else:
                boot = bootstrap_over_seeds(diffs, **opts)
                mean = lambda k: sum(r[k] for r in recs) / len(recs)
                row.update(n=min(r["n"] for r in recs), accuracy_a=mean("accuracy_a"), accuracy_b=mean("accuracy_b"),
                           difference=boot.mean, lo=boot.interval[0], hi=boot.interval[1], interval="bootstrap",
                           iterations=boot.iterations, p_value=None, only_a=None, only_b=None)
            out.append(row)
    if not out:
        where = f" at {_fmt_col(at)}" if at is not None else ""
        raise ReportError(f'no results of "{a}" and "{b}" to pair{where}: they share no task and sparsity '
                          f"at which they were evaluated as different models")
    out.sort(key=lambda r: (r["task"], r["split"], _natural(r["a"]), _natural(r["b"]), r["sparsity"]))
    return out


def _pp(x: float) -> str:
    return f"{100 * x:+.2f}"


def compare_markdown(groups: dict[str, list[dict]]) -> str:
    parts = []
    for g, rows in groups.items():
        parts += [f"### {g}\n", "| A | B | sparsity | n | A (%) | B (%) | A − B (pp) | 95% interval (pp) | McNemar p |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            p = format_p(r["p_value"]) if r["p_value"] is not None else " / ".join(format_p(s["p_value"]) for s in r["per_seed"])
            parts.append(f"| {r['a']} | {r['b']} | {_fmt_col(r['sparsity'])} | {r['n']} | {100 * r['accuracy_a']:.2f} "
                         f"| {100 * r['accuracy_b']:.2f} | {_pp(r['difference'])} | [{_pp(r['lo'])}, {_pp(r['hi'])}] "
                         f"| {p} |")
        parts.append("")
        parts.append("A − B: the paired difference on the same problems, in percentage points. One result per arm: "
                     "95% Newcombe interval (method 10) and exact two-sided McNemar p-value (discordant problems only).")
        seeded = [r for r in rows if r["interval"] == "bootstrap"]
        if seeded:
            its = sorted({r["iterations"] for r in seeded})
            parts.append(f"Over calibration seeds, paired seed by seed: the mean difference with its 95% interval from a "
                         f"two-level bootstrap over seeds × problems ({', '.join(map(str, its))} resamples); the "
                         f"McNemar p-values are per seed, listed in seed order, and each seed's comparison follows.")
            parts += ["", "| A | B | sparsity | seed | n | A (%) | B (%) | A − B (pp) | Newcombe 95% (pp) | McNemar p "
                          "| only A / only B |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for r in seeded:
                for s in r["per_seed"]:
                    parts.append(f"| {r['a']} | {r['b']} | {_fmt_col(r['sparsity'])} | {s['seed']} | {s['n']} "
                                 f"| {100 * s['accuracy_a']:.2f} | {100 * s['accuracy_b']:.2f} | {_pp(s['difference'])} "
                                 f"| [{_pp(s['lo'])}, {_pp(s['hi'])}] | {format_p(s['p_value'])} | {s['only_a']} / {s['only_b']} |")
        parts.append("")
    return "\n".join(parts)


def compare_csv(rows: list[dict]) -> str:
    """One line per comparison and seed; over seeds also a line `seed=mean` with the bootstrap interval."""
    lines = []
    for r in rows:
        base = {"task": r["task"], "split": r["split"], "sparsity": r["sparsity"], "a": r["a"], "b": r["b"]}
        if r["interval"] == "bootstrap":
            lines.append({**base, **{k: r.get(k) for k in COMPARE_FIELDS[6:]}, "seed": "mean"})
        lines += [{**base, **s} for s in r["per_seed"]]
    return csv_table(lines, list(COMPARE_FIELDS))


# ---------------------------------------------------------------------------------------
# figures: a pure layout, then drawing


def plot_series(tables, x_scale: float = 100.0) -> dict[str, list[dict]]:
    """{group: [{label, x, y (%), lo, hi (% error bar lengths), n}, ...]} in legend order; x times `x_scale`."""
    out = {}
    for g, (rl, cl, cells) in tables.items():
        series = []
        for r in rl:
            xs = [c for c in cl if (r, c) in cells and _number(c) is not None]
            if not xs:
                continue
            ys, lo, hi, ns = [], [], [], []
            for x in xs:
                row = cells[(r, x)]
                a, b = interval(row)
                ys.append(100 * row["accuracy"])
                # a percentile bootstrap interval need not contain the mean; a bar cannot be negative
                lo.append(max(0.0, 100 * (row["accuracy"] - a)))
                hi.append(max(0.0, 100 * (b - row["accuracy"])))
                ns.append(row["n"])
            series.append({"label": str(r), "x": [x_scale * float(x) for x in xs], "y": ys, "lo": lo, "hi": hi,
                           "n": ns})
        out[g] = series
    return out


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_accuracy(tables, path: Path, x: str = "sparsity") -> list[Path]:
    plt = _plt()
    written = []
    seeded = any("per_seed" in row for _, _, cells in tables.values() for row in cells.values())
    for g, series in plot_series(tables, 100.0 if x == "sparsity" else 1.0).items():
        fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=120)
        for i, s in enumerate(series):
            ax.errorbar(s["x"], s["y"], yerr=[s["lo"], s["hi"]], marker=MARKERS[i % len(MARKERS)],
                        linestyle=LINESTYLES[(i // len(MARKERS) + i) % len(LINESTYLES)], capsize=3,
                        markersize=5, alpha=0.9, label=s["label"])
        ns = sorted({n for s in series for n in s["n"]})
        ax.set_xlabel("sparsity (%)" if x == "sparsity" else x)
        ax.set_ylabel("mean accuracy over seeds (%), 95% interval" if seeded else "accuracy (%), 95% Wilson interval")
        ax.set_title(f"{g} (n = {', '.join(map(str, ns))}{' per seed' if seeded else ''})")
        ax.set_ylim(-3, 103)  # points at 0% and 100% stay whole
        ax.grid(alpha=0.3)
        if series:
            ax.legend(fontsize=8)
        fig.tight_layout()
        target = path.with_name(f"{path.stem}_{_slug(g)}.png")
        fig.savefig(target)
        plt.close(fig)
        written.append(target)
    return written


def kept_fractions(selection: dict) -> tuple[list[float], list[float], list[int]]:
    """(query heads kept per block, MLP channels kept per block, protected blocks)."""
    dense = selection["dense"]
    layers = selection["layers"]
    heads = [len(layer.get("q_heads", [])) / dense["num_heads"] for layer in layers]
    chans = [len(layer.get("channels", [])) / dense["intermediate_size"] for layer in layers]
    return heads, chans, list(selection.get("protected") or [])


def _draw_kept(ax, selection: dict, title: str, fontsize: int = 9):
    from matplotlib.patches import Rectangle

    heads, chans, protected = kept_fractions(selection)
    im = ax.imshow([heads, chans], aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_yticks([0, 1], ["heads", "channels"])
    ax.set_title(title, fontsize=fontsize)
    for b in protected:
        ax.add_patch(Rectangle((b - 0.5, -0.5), 1, 2, fill=False, edgecolor="red", linewidth=1.5, hatch="//"))
    return im


def heatmap(selection: dict, path: Path, title: str) -> Path:
    """Fraction of query heads and MLP channels kept per block; protected blocks outlined in red."""
    plt = _plt()
    n = len(selection["layers"])
    fig, ax = plt.subplots(figsize=(max(4, 0.35 * n + 2), 2.4), dpi=120)
    im = _draw_kept(ax, selection, title)
    ax.set_xlabel("block (red hatched: protected)")
    fig.colorbar(im, ax=ax, fraction=0.03, label="fraction kept")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def heatmap_grid(rows: list[dict], *, rows_by: str, cols_by: str) -> tuple[list, list, dict]:
    """(row labels, col labels, {(row, col): row dict}) for a heatmap report; cells must be unique."""
    tables = pivot(rows, rows_by=rows_by, cols_by=cols_by, split_by=None)
    (rl, cl, cells), = tables.values() if tables else (([], [], {}),)
    return rl, cl, cells


def heatmap_figure(grid, selections: dict[str, dict], path: Path, *, rows_by: str, cols_by: str) -> Path:
    """One figure: a kept-structure map per (row, col) cell, e.g. arms × sparsities. The row value
    labels each row on the left, the column value heads each column, and each panel says how much
    it pruned; the layout is constrained, so labels never overlap and no band is left empty."""
    plt = _plt()
    rl, cl, cells = grid
    n_layers = max((len(s["layers"]) for s in selections.values()), default=1)
    label_width = 0.09 * max((len(str(r)) for r in rl), default=4) + 0.8  # the row labels, in inches
    fig, axes = plt.subplots(len(rl), len(cl), squeeze=False, dpi=120, layout="constrained",
                             figsize=(label_width + (0.25 * n_layers + 0.9) * len(cl) + 1.0, 0.95 * len(rl) + 1.0))
    # a row may lack its first columns (an arm not evaluated at 10%), a column its first rows: each
    # is labelled on its first panel that exists, its x axis on its last
    first_in_row = {r: min(j for j, c in enumerate(cl) if (r, c) in cells) for r in rl}
    first_in_col = {c: min(i for i, r in enumerate(rl) if (r, c) in cells) for c in cl}
    last_in_col = {c: max(i for i, r in enumerate(rl) if (r, c) in cells) for c in cl}
    im = None
    for i, r in enumerate(rl):
        for j, c in enumerate(cl):
            ax = axes[i][j]
            row = cells.get((r, c))
            if row is None:
                ax.axis("off")
                continue
            sel = selections[row["key"]]
            pruned = f"{100 * sel['achieved']:.1f}% pruned"
            im = _draw_kept(ax, sel, f"{cols_by}={_fmt_col(c)}\n{pruned}" if i == first_in_col[c] else pruned,
                            fontsize=7)
            ax.tick_params(labelsize=7)
            if j == first_in_row[r]:
                ax.set_ylabel(str(r), rotation=0, ha="right", va="center", fontsize=8)
            else:
                ax.set_yticks([])
            if i == last_in_col[c]:
                ax.set_xlabel("block", fontsize=8)
            else:
                ax.tick_params(labelbottom=False)
    if im is not None:
        fig.colorbar(im, ax=axes, fraction=0.02, aspect=40, label="fraction kept")
    fig.suptitle(f"kept structures per block: {rows_by} (rows) × {cols_by} (columns); red hatched: protected",
                 fontsize=9)
    fig.savefig(path)
    plt.close(fig)
    return path


def _slug(s: Any) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(s))


# ---------------------------------------------------------------------------------------
# the report op


def build(params: dict, rows: list[dict], out: Path | None, selections: dict[str, dict] | None = None,
          outcomes: dict[str, dict[str, bool]] | None = None, **opts) -> list[Path]:
    """Write a report's files into `out` (None: build everything but write and draw nothing).
    `outcomes`: eval key -> problem id -> solved (for `over seed` and `compare`); `opts`: bootstrap options."""
    kind = params.get("kind", "table")
    name = _slug(params.get("name") or kind)
    rows_by, cols_by = params.get("rows", "arm"), params.get("cols", "sparsity")
    files: list[Path] = []
    if params.get("over") == SEED:
        rows = over_seeds(rows, outcomes or {}, **opts)
    if kind == "compare":
        pairs = compare_rows(rows, outcomes or {}, a=params["a"], b=params["b"], at=params.get("at"), **opts)
        by = params.get("by") or "task"
        mixed = by != "split" and len({r["split"] for r in pairs}) > 1  # name the problems in each group's title
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in pairs:
            groups[str(r.get(by, "-")) + (f" ({r['split']})" if mixed else "")].append(r)
        texts = {f"{name}.md": compare_markdown(dict(sorted(groups.items()))), f"{name}.csv": compare_csv(pairs),
                 f"{name}.json": json.dumps(pairs, indent=1) + "\n"}
    elif kind == "table":
        tables = pivot(rows, rows_by=rows_by, cols_by=cols_by, split_by=params.get("by") or "task")
        texts = {f"{name}.md": markdown_table(tables, rows_by), f"{name}.csv": csv_table(rows),
                 f"{name}.json": json.dumps(rows, indent=1) + "\n"}
    elif kind == "plot":
        x = params.get("x") or "sparsity"
        if x != "sparsity":  # e.g. `vs rho`: one curve per arm and sparsity
            rows = [{**r, "series": f"{r['arm_name']} @ {_fmt_col(r['sparsity'])}"} for r in rows]
        tables = pivot(rows, rows_by="arm" if x == "sparsity" else "series", cols_by=x,
                       split_by=params.get("by") or "task")
        plot_series(tables)
        texts = {f"{name}.json": json.dumps(rows, indent=1) + "\n"}
        if out is not None:
            files += plot_accuracy(tables, out / f"{name}.png", x)
    elif kind == "heatmap":
        grid = heatmap_grid(rows, rows_by=rows_by, cols_by=cols_by)
        texts = {f"{name}.json": json.dumps(rows, indent=1) + "\n"}
        if out is not None and grid[2]:
            files.append(heatmap_figure(grid, selections or {}, out / f"{name}.png", rows_by=rows_by, cols_by=cols_by))
    else:
        raise ReportError(f"unknown report kind {kind!r}")
    if out is None:
        return []
    for fname, text in texts.items():
        (out / fname).write_text(text, encoding="utf-8")
        files.append(out / fname)
    return files


def write_report(params: dict, inputs: dict[str, Any], out: Path, out_dir: Path,
                 achieved: dict | None = None) -> dict:
    """The report op: rows from the eval (or, for heatmaps, prune) inputs, files into the entry and --out."""
    labels = params.get("labels") or {}
    results, selections, outcomes = {}, {}, {}
    from resp_dsl.ops import OPS

    for role, art in inputs.items():
        if OPS[art.op].reported_as == "result":
            results[role] = {**art.json("result.json"), "key": art.key}
            outcomes[art.key] = per_problem(results[role])
        elif OPS[art.op].reported_as == "selection":
            sel = art.json("selection.json")
            selections[art.key] = sel
            results[role] = {"accuracy": None, "n": None, "correct": None, "key": art.key, "task": "-"}
            achieved = {**(achieved or {}), labels.get(role, {}).get("prune_node") or "": sel}
    rows = make_rows(labels, results, achieved)
    files = build(params, rows, out, selections, outcomes)
    copied = publish(out, {"files": [f.name for f in files]}, out_dir)
    # Names only: the entry must not depend on where this run's outputs go.
    return {"files": [c.name for c in copied], "rows": len(rows)}


def describe(params: dict) -> str:
    """One line for `plan`: what the report shows and which interval it states."""
    kind = params.get("kind", "table")
    by = f" by {params['by']}" if params.get("by") else ""
    if kind == "compare":
        at = f" at {params['at']:g}" if params.get("at") is not None else ""
        return (f"compare {params['a']} vs {params['b']}{at}{by}: paired on the same problems, McNemar p and "
                f"Newcombe interval; over seeds, per seed and a bootstrap interval of the mean difference")
    layout = (f"rows={params.get('rows')} cols={params.get('cols')}" if kind in ("table", "heatmap")
              else f"accuracy vs {params.get('x')}")
    over = (": mean over seeds, 95% bootstrap over seeds × problems (Wilson for a single result)"
            if params.get("over") == SEED else "")
    return f"{kind} {layout}{by}{over}"


def placeholder_rows(params: dict) -> tuple[list[dict], dict[str, dict], dict[str, dict[str, bool]]]:
    """Rows, selections and per-problem outcomes shaped like the real ones, from the labels alone: for `dry_run`."""
    labels = params.get("labels") or {}
    results, selections, outcomes = {}, {}, {}
    for i, role in enumerate(labels):
        key = f"placeholder-{i}"
        results[role] = {"accuracy": 0.5, "n": 2, "correct": 1, "key": key}
        selections[key] = {"achieved": 0.0, "layers": [], "dense": {"num_heads": 1, "intermediate_size": 1},
                           "protected": []}
        outcomes[key] = {"0": True, "1": False}
    return make_rows(labels, results), selections, outcomes


def dry_run(params: dict) -> str | None:
    """Build a report from placeholder rows; the error message if it cannot be built, else None."""
    rows, selections, outcomes = placeholder_rows(params)
    try:
        build(params, rows, None, selections, outcomes, iterations=1)  # shapes only: one resample is enough
    except ReportError as exc:
        return str(exc)
    except Exception as exc:  # a report that fails on placeholder rows fails on real ones too
        return f"the report cannot be built: {type(exc).__name__}: {exc}"
    return None


def publish(entry_path: Path, summary: dict, out_dir: Path) -> list[Path]:
    """Copy a stored report's files into `out_dir` (a cached report still lands in a new --out)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in summary.get("files", []):
        src = entry_path / Path(name).name  # a bare name: nothing recorded can point outside --out
        if src.is_file() and not src.is_symlink():
            written.append(copy_atomic(src, out_dir / Path(name).name))
    return written
