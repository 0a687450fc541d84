"""Spans and diagnostics: every problem a user sees carries a place in a file.

Rendered as text (mypy/rustc style)::

    recipes/t.prune:3:7: error: unknown score method "wanda2"  [unknown-value]
        3 | score wanda2
          |       ^~~~~~
       hint: did you mean "wanda"?

or as JSON data (``to_dict``) for editors and CI.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from resp_dsl.codes import CODES, ERROR, WARNING


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open region of one file: 1-based line/column, end exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "col": self.col,
                "end_line": self.end_line, "end_col": self.end_col}

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @staticmethod
    def point(file: str, line: int = 1, col: int = 1) -> "Span":
        return Span(file, line, col, line, col + 1)

    def cover(self, other: "Span") -> "Span":
        """The smallest span holding both (same file assumed)."""
        start = min((self.line, self.col), (other.line, other.col))
        end = max((self.end_line, self.end_col), (other.end_line, other.end_col))
        return Span(self.file, start[0], start[1], end[0], end[1])


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: a registered code, a span, a message and an optional hint."""

    code: str
    span: Span
    message: str
    hint: str | None = None
    notes: tuple[str, ...] = ()
    severity: str = ""

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code!r}")
        if not self.severity:
            object.__setattr__(self, "severity", CODES[self.code][0])

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "hint": self.hint, "notes": list(self.notes), "span": self.span.to_dict()}

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.col, self.code)


class RecipeError(Exception):
    """Raised by library entry points when a recipe has errors; carries them all."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = list(diagnostics)
        self.sources = sources or {}
        super().__init__(render_all(self.diagnostics, self.sources))


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """A `did you mean` hint for ``word`` among ``choices``, or None."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f'did you mean "{close[0]}"?'
    if 0 < len(choices) <= 8:
        return "expected one of: " + ", ".join(f'"{c}"' for c in choices)
    return None


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def _source_line(sources: dict[str, str], span: Span) -> str | None:
    text = sources.get(span.file)
    if text is None:
        return None
    lines = text.splitlines()
    if 1 <= span.line <= len(lines):
        return lines[span.line - 1]
    return None


def render(diag: Diagnostic, sources: dict[str, str] | None = None) -> str:
    """The text form: header line, the source line, a caret under the span, the hint."""
    sp = diag.span
    out = [f"{sp.file}:{sp.line}:{sp.col}: {diag.severity}: {diag.message}  [{diag.code}]"]
    line = _source_line(sources or {}, sp)
    if line is not None:
        line = line.replace("\t", " ")
        if len(line) > 200:  # long (or junk) lines: show a window around the column
            start = max(0, sp.col - 80)
            line, col = line[start:start + 160], sp.col - start
        else:
            col = sp.col
        width = max(1, (sp.end_col - sp.col) if sp.end_line == sp.line else len(line) - col + 1)
        width = min(width, max(1, len(line) - col + 1))
        gutter = " " * len(str(sp.line))
        out.append(f"   {sp.line} | {line}")
        out.append(f"   {gutter} | {' ' * (col - 1)}^{'~' * (width - 1)}")
    if diag.hint:
        out.append(f"   hint: {diag.hint}")
    for note in diag.notes:
        out.append(f"   note: {note}")
    return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    return "\n".join(render(d, sources) for d in diagnostics)


def summary(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity == ERROR for d in diagnostics)
    warnings = sum(d.severity == WARNING for d in diagnostics)
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' * (errors != 1)}")
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    return ", ".join(parts) if parts else "no problems"


@dataclass
class Sink:
    """Collects diagnostics across stages (all errors of a file, never only the first)."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, span: Span, message: str, hint: str | None = None, notes=()) -> None:
        self.items.append(Diagnostic(code, span, message, hint, tuple(notes)))

    add = error  # severity comes from the code registry

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.items.extend(diags)

    @property
    def has_errors(self) -> bool:
        return has_errors(self.items)
