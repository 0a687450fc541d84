"""Canonical formatting: one statement per line, 4-space blocks, single spaces,
``key=value``, ``[a, b]``, comments kept, at most one blank line in a row.

Idempotent by construction (format(format(x)) == format(x)) and checked: the result
must parse to the same AST (spans aside) or ``format_text`` refuses to return it.
"""

from __future__ import annotations

from resp_dsl import codes as C

from resp_dsl.diagnostics import Diagnostic, Span
from resp_dsl.syntax import ast as A
from resp_dsl.syntax.parse import parse_text

INDENT = "    "


def value(v) -> str:
    if isinstance(v, (A.Number, A.Percent)):
        return v.text
    if isinstance(v, A.String):
        return '"' + v.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'
    if isinstance(v, A.Name):
        return v.value
    if isinstance(v, A.Range):
        return f"{value(v.start)}..{value(v.stop)}" + (f" step {value(v.step)}" if v.step is not None else "")
    if isinstance(v, A.ListValue):
        return "[" + ", ".join(value(i) for i in v.items) + "]"
    if isinstance(v, A.KeyValue):
        return f"{v.key}={value(v.value)}"
    raise TypeError(type(v))


def arg(a) -> str:
    if isinstance(a, A.Positional):
        return value(a.value)
    if isinstance(a, A.KeyValue):
        return value(a)
    if a.keyword == "on":
        return "on " + ", ".join(value(v) for v in a.values)
    return f"{a.keyword} {value(a.values[0])}"


def simple(st) -> str:
    if isinstance(st, A.Use):
        return "use " + (value(A.String(st.path, st.span)) if st.quoted else st.path)
    if isinstance(st, A.Param):
        return f"param {st.name} = {value(st.value)}"
    if isinstance(st, A.Protect):
        parts = []
        for it in st.items:
            if it.kind == "none":
                parts.append("none")
            elif it.kind == "first":
                parts.append(f"first {value(it.value)}" + (f" {it.word}" if it.word else ""))
            elif it.kind == "last":
                parts.append("last " + (f"{value(it.value)} " if it.value is not None else "") + it.word)
            else:
                parts.append(f"{it.word} {value(it.value)}")
        return "protect " + ", ".join(parts)
    return " ".join([st.head] + [arg(a) for a in st.args])


class _Printer:
    def __init__(self, tree: A.File, source: str):
        self.lines: list[str] = []
        self.comments = sorted(tree.comments, key=lambda c: c.line)
        self.trailing = {c.line: c for c in self.comments if not c.own_line}
        self.own = [c for c in self.comments if c.own_line]
        self.blank = {i + 1 for i, l in enumerate(source.replace("\r\n", "\n").split("\n")) if not l.strip()}
        self.last_line = 0  # last source line emitted
        self.starts: dict[int, list[tuple[int, int]]] = {}  # line -> (col, end_line) of simple statements
        self._index(tree.statements)

    def _index(self, stmts) -> None:
        for st in stmts:
            if isinstance(st, (A.Arm, A.For)):
                self._index(st.body)
            else:
                self.starts.setdefault(st.span.line, []).append((st.span.col, st.span.end_line))

    def _later_on_line(self, span) -> bool:
        return any(col > span.end_col for col, _ in self.starts.get(span.end_line, []) if span.end_line == span.line) \
            or any(line == span.end_line and col > span.end_col
                   for line, items in self.starts.items() for col, _ in items if line == span.end_line)

    def flush(self, before: int, indent: str) -> None:
        while self.own and self.own[0].line < before:
            c = self.own.pop(0)
            self.gap(c.line)
            self.lines.append(indent + c.text)
            self.last_line = c.line

    def gap(self, line: int) -> None:
        if self.lines and any(b in self.blank for b in range(self.last_line + 1, line)):
            if self.lines[-1] != "":
                self.lines.append("")

    def stmts(self, stmts, indent: str) -> None:
        for st in stmts:
            self.flush(st.span.line, indent)
            self.gap(st.span.line)
            if isinstance(st, (A.Arm, A.For)):
                head = f"arm {st.name}:" if isinstance(st, A.Arm) else f"for {st.var} in {value(st.iterable)}:"
                self.emit(indent + head, st.span.line, st.span.end_line, st.span)
                self.stmts(st.body, indent + INDENT)
            else:
                self.emit(indent + simple(st), st.span.line, st.span.end_line, st.span)

    def emit(self, text: str, first: int, last: int, span=None) -> None:
        # Statements joined by ';' share a line: the trailing comment goes with the last one.
        if span is not None and self._later_on_line(span):
            last = last - 1
        comments = [self.trailing.pop(l) for l in range(first, last + 1) if l in self.trailing]
        extra = comments[:-1]
        for c in extra:  # comments inside a multi-line list: keep them, above the statement
            self.lines.append(text[: len(text) - len(text.lstrip())] + c.text)
        self.lines.append(text)
        self._pending = comments[-1] if comments else None
        self._pending_line = last
        if self._pending is not None:
            self.lines[-1] += "  " + self._pending.text
        self.last_line = max(self.last_line, last)

    def run(self, tree: A.File) -> str:
        self.stmts(tree.statements, "")
        self.flush(10**9, "")
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n" if self.lines else ""


def _strip(node):
    if isinstance(node, tuple):
        return tuple(_strip(n) for n in node)
    if isinstance(node, list):
        return [_strip(n) for n in node]
    if hasattr(node, "__dataclass_fields__"):
        return (type(node).__name__,) + tuple(
            (f, _strip(getattr(node, f))) for f in node.__dataclass_fields__
            if not f.endswith("span") and f not in ("comments", "path", "text") or (f == "path" and isinstance(node, A.Use))
            or (f == "text" and isinstance(node, (A.Number, A.Percent))))
    return node


def format_text(text: str, name: str = "<string>") -> tuple[str | None, list[Diagnostic]]:
    """The canonical form of ``text``, or None and the diagnostics if it does not parse."""
    tree, diags = parse_text(text, name)
    if tree is None:
        return None, diags
    out = _Printer(tree, text).run(tree)
    again, diags2 = parse_text(out, name)
    if again is None or _strip(again.statements) != _strip(tree.statements) or \
            [c.text for c in again.comments] != [c.text for c in tree.comments]:
        return None, [Diagnostic(C.SYNTAX_ERROR, Span.point(name),
                                 "internal error: formatting would change the recipe; file left unchanged")]
    return out, []
