"""Render docs/results.md from its template and the shipped result files, so that every number in it is
read from a file a recipe run wrote (never typed by hand).

    python docs/results/render.py            # write docs/results.md
    python docs/results/render.py --check    # exit 1 if docs/results.md is not what the files give

Template syntax (docs/results/results.md.in), one placeholder per figure:

    {{ include table1/table1.md }}                      a shipped file, verbatim
    {{ table1/table1.json arm=resp sparsity=0.3 accuracy }}   a field of the one row matching every key=value
    {{ table1/run.json seconds }}                       a field of a JSON object (nested: a/b/0/c; a number
                                                        indexes a list, and keys may hold dots: targets/0.2)

Fractions (accuracy, lo, hi, difference, ...) print as percentages with one decimal, p-values with
three significant digits, seconds as minutes, everything else as written. A placeholder that matches
no row, or several, is an error: the page cannot silently show a number from the wrong cell.
No torch, no resp_dsl import: tests/docs/test_results_doc.py runs it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "results.md.in"
TARGET = HERE.parent / "results.md"
PLACEHOLDER = re.compile(r"\{\{\s*(.+?)\s*\}\}")
PERCENT = {"accuracy", "lo", "hi", "difference", "accuracy_a", "accuracy_b", "achieved", "achieved_structures",
           "achieved_params"}


class RenderError(ValueError):
    pass


def _load(rel: str) -> object:
    path = HERE / rel
    if not path.is_file():
        raise RenderError(f"{rel}: no such result file under {HERE}")
    return json.loads(path.read_text(encoding="utf-8"))


def _fmt(field: str, value: object) -> str:
    leaf = field.rsplit("/", 1)[-1]
    if value is None:
        return "–"
    if leaf in PERCENT and isinstance(value, (int, float)):
        return f"{100 * value:.1f}"
    if leaf == "p_value" and isinstance(value, (int, float)):
        return f"{value:.3g}" if value >= 1e-4 else "<1e-4"
    if leaf == "seconds" and isinstance(value, (int, float)):
        return f"{value / 60:.0f} min"
    if leaf == "per_seed" and isinstance(value, list):
        return " / ".join(f"{100 * v:.1f}" for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _get(obj: object, path: str) -> object:
    for part in path.split("/"):
        if isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            raise RenderError(f"no field {path!r}")
    return obj


def _matches(row: dict, key: str, want: str) -> bool:
    got = row.get(key)
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        try:
            return abs(float(got) - float(want)) < 1e-9
        except ValueError:
            return False
    return str(got) == want


def expand(spec: str) -> str:
    words = spec.split()
    if words[0] == "include":
        path = HERE / words[1]
        if len(words) != 2 or not path.is_file():
            raise RenderError(f"include needs one shipped file: {spec!r}")
        return path.read_text(encoding="utf-8").rstrip("\n")
    rel, *filters, field = words
    data = _load(rel)
    if isinstance(data, dict) and not filters:
        return _fmt(field, _get(data, field))
    rows = data if isinstance(data, list) else [data]
    conds = [f.split("=", 1) for f in filters]
    if any(len(c) != 2 for c in conds):
        raise RenderError(f"filters are key=value: {spec!r}")
    hits = [r for r in rows if all(_matches(r, k, v) for k, v in conds)]
    if len(hits) != 1:
        raise RenderError(f"{spec!r} matches {len(hits)} rows of {rel} (needs exactly one)")
    return _fmt(field, _get(hits[0], field))


def render(template: str | None = None) -> str:
    text = TEMPLATE.read_text(encoding="utf-8") if template is None else template
    out, errors = [], []
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        def sub(m: re.Match) -> str:
            try:
                return expand(m.group(1))
            except RenderError as exc:
                errors.append(f"{TEMPLATE.name}:{lineno}: error: {exc}")
                return m.group(0)
        out.append(PLACEHOLDER.sub(sub, line))
    if errors:
        raise RenderError("\n".join(errors))
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with docs/results.md instead of writing it")
    args = ap.parse_args(argv)
    try:
        text = render()
    except RenderError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.check:
        same = TARGET.is_file() and TARGET.read_text(encoding="utf-8") == text
        print(f"{TARGET.name}: {'up to date' if same else 'differs from the result files: run docs/results/render.py'}")
        return 0 if same else 1
    tmp = TARGET.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(TARGET)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
