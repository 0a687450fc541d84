"""`use` imports: splice the top-level statements of a fragment where it is used.

``use stdlib/resp``, ``use resp`` and ``use "stdlib/resp.prune"`` name the shipped
fragment resp_dsl/stdlib/resp.prune; any other path is relative to the using file.
Each file is read once; a cycle is an error that names the whole chain.
"""

from __future__ import annotations

from resp_dsl import codes as C

import hashlib

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from resp_dsl.diagnostics import Diagnostic
from resp_dsl.syntax import ast as A
from resp_dsl.syntax.parse import parse_file, parse_text


def stdlib_dir() -> Path:
    """The stdlib fragments shipped inside the package."""
    return Path(str(resources.files("resp_dsl").joinpath("stdlib")))


def stdlib_names() -> list[str]:
    return sorted(p.stem for p in stdlib_dir().glob("*.prune"))


def resolve_import(target: str, from_file: str | Path | None) -> Path | None:
    """The file a `use` target names, or None when there is none.

    ``stdlib/NAME`` is always the shipped fragment; a bare ``NAME`` is a file beside the
    using one if there is such a file, else the shipped fragment; other paths are
    relative to the using file.
    """
    name = target if target.endswith(".prune") else target + ".prune"
    candidates = []
    if name.startswith("stdlib/"):
        candidates.append(stdlib_dir() / name[len("stdlib/"):])
    else:
        if from_file is not None and not str(from_file).startswith("<"):
            candidates.append(Path(from_file).parent / name)
        if "/" not in name:
            candidates.append(stdlib_dir() / name)
    for c in candidates:
        if c.is_file():
            return c
    return None


@dataclass
class Loaded:
    """A recipe with its imports spliced in: statements, every file's text, diagnostics."""

    file: str
    statements: list[A.Stmt] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ok: bool = True
    # every `use`d file: what was written, where it resolved, a sha256 of its text, shipped or local
    imports: list[dict] = field(default_factory=list)


def _display(path: Path) -> str:
    """How diagnostics name a used file: ``stdlib/x.prune`` for shipped fragments."""
    try:
        return "stdlib/" + str(path.resolve().relative_to(stdlib_dir().resolve()))
    except ValueError:
        pass
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load(path: str | Path | None = None, *, text: str | None = None, name: str | None = None) -> Loaded:
    """Parse a recipe (from ``path`` or ``text``) and splice in everything it uses."""
    display = name or (str(path) if path is not None else "<string>")
    out = Loaded(display)
    if text is None:
        tree, src, diags = parse_file(path, display)
    else:
        src = text
        tree, diags = parse_text(text, display)
    out.diagnostics.extend(diags)
    if src is not None:
        out.sources[display] = src
    if tree is None:
        out.ok = False
        return out
    seen: dict[str, str] = {}  # resolved path -> display name
    root_key = str(Path(path).resolve()) if path is not None else display
    seen[root_key] = display
    real = Path(path) if path is not None else None
    out.statements = _splice(tree, real, [root_key], seen, out)
    return out


def _splice(tree: A.File, real: Path | None, stack: list[str], seen: dict[str, str], out: Loaded) -> list[A.Stmt]:
    stmts: list[A.Stmt] = []
    for stmt in tree.statements:
        if not isinstance(stmt, A.Use):
            stmts.append(stmt)
            continue
        target = resolve_import(stmt.path, real)
        if target is None:
            from resp_dsl.diagnostics import suggest

            out.diagnostics.append(Diagnostic(
                C.UNKNOWN_IMPORT, stmt.path_span, f'cannot find "{stmt.path}" to use',
                hint=suggest(stmt.path.removeprefix("stdlib/").removesuffix(".prune"), stdlib_names())
                or "stdlib fragments: " + ", ".join(stdlib_names())))
            continue
        key = str(target.resolve())
        if key in stack:
            chain = [seen.get(k, k) for k in stack[stack.index(key):]] + [seen.get(key, _display(target))]
            out.diagnostics.append(Diagnostic(
                C.IMPORT_CYCLE, stmt.span, f'"{stmt.path}" is already being imported',
                notes=("import chain: " + " -> ".join(chain),)))
            continue
        if key in seen and key != stack[0]:
            out.diagnostics.append(Diagnostic(C.DUPLICATE_IMPORT, stmt.span,
                                              f'"{stmt.path}" is already used; the second `use` has no effect'))
            continue
        child_display = _display(target)
        seen[key] = child_display
        sub, src, diags = parse_file(target, child_display)
        out.diagnostics.extend(diags)
        if src is not None:
            out.sources[child_display] = src
            out.imports.append({"use": stmt.path, "path": key, "display": child_display,
                                "sha256": hashlib.sha256(src.encode("utf-8")).hexdigest(),
                                "stdlib": child_display.startswith("stdlib/")})
        if sub is None:
            out.ok = False
            continue
        stmts.extend(_splice(sub, target, stack + [key], seen, out))
    return stmts
