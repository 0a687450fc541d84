"""Lark parse tree -> AST: one transformer method per grammar rule."""

from __future__ import annotations

from lark import Token, Transformer, v_args

from resp_dsl.syntax import ast as A
from resp_dsl.diagnostics import Span


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], "\\" + body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class ToAst(Transformer):
    """Builds AST nodes; ``file`` names the source for every span."""

    def __init__(self, file: str):
        super().__init__(visit_tokens=False)
        self.file = file

    # -- spans
    def tok_span(self, tok: Token) -> Span:
        return Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    def meta_span(self, meta) -> Span:
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    # -- values
    @v_args(inline=True)
    def number(self, tok):
        text = str(tok)
        try:
            value = int(text)
        except ValueError:
            value = float(text)
        return A.Number(_finite(value, text, self.tok_span(tok)), text, self.tok_span(tok))

    @v_args(inline=True)
    def percent(self, tok):
        text = str(tok)
        return A.Percent(_finite(float(text[:-1]) / 100.0, text, self.tok_span(tok)), text, self.tok_span(tok))

    @v_args(inline=True)
    def string(self, tok):
        return A.String(_unescape(str(tok)), self.tok_span(tok))

    @v_args(inline=True)
    def name(self, tok):
        return A.Name(str(tok), self.tok_span(tok))

    @v_args(meta=True)
    def list(self, meta, items):
        return A.ListValue(tuple(i for i in items if i is not None), self.meta_span(meta))

    @v_args(meta=True)
    def range(self, meta, children):
        start, stop = children[0], children[1]
        step = children[2] if len(children) > 2 else None
        return A.Range(start, stop, step, self.meta_span(meta))

    # -- arguments
    @v_args(meta=True)
    def positional(self, meta, children):
        return A.Positional(children[0], self.meta_span(meta))

    @v_args(meta=True)
    def kv(self, meta, children):
        key, value = children
        return A.KeyValue(str(key), self.tok_span(key), value, self.meta_span(meta))

    @v_args(meta=True)
    def clause(self, meta, children):
        kw, value = children
        return A.Clause(str(kw), (value,), self.meta_span(meta))

    @v_args(meta=True)
    def on_clause(self, meta, children):
        return A.Clause("on", tuple(children), self.meta_span(meta))

    @v_args(meta=True)
    def regen_clause(self, meta, children):
        return A.Clause("regen", tuple(children), self.meta_span(meta))

    # -- statements
    @v_args(meta=True)
    def command(self, meta, children):
        head, *args = children
        return A.Command(str(head), self.tok_span(head), tuple(args), self.meta_span(meta))

    @v_args(meta=True)
    def use(self, meta, children):
        path, quoted, pspan = children[0]
        return A.Use(path, quoted, pspan, self.meta_span(meta))

    @v_args(meta=True)
    def import_string(self, meta, children):
        return (_unescape(str(children[0])), True, self.meta_span(meta))

    @v_args(meta=True)
    def import_path(self, meta, children):
        return (str(children[0]), False, self.meta_span(meta))

    @v_args(meta=True)
    def param(self, meta, children):
        name, value = children
        return A.Param(str(name), self.tok_span(name), value, self.meta_span(meta))

    @v_args(meta=True)
    def protect(self, meta, children):
        return A.Protect(tuple(children), self.meta_span(meta))

    @v_args(meta=True)
    def protect_first(self, meta, children):
        word = str(children[1]) if len(children) > 1 else None
        return A.ProtectItem("first", children[0], word, self.meta_span(meta))

    @v_args(meta=True)
    def protect_last(self, meta, children):
        value = children[0] if len(children) > 1 else None
        return A.ProtectItem("last", value, str(children[-1]), self.meta_span(meta))

    @v_args(meta=True)
    def protect_blocks(self, meta, children):
        return A.ProtectItem("blocks", children[1], str(children[0]), self.meta_span(meta))

    @v_args(meta=True)
    def protect_none(self, meta, children):
        return A.ProtectItem("none", None, None, self.meta_span(meta))

    def simple_stmts(self, children):
        return list(children)

    def suite(self, children):
        return _flatten(children)

    @v_args(meta=True)
    def arm(self, meta, children):
        name, body = children
        header = Span(self.file, meta.line, meta.column, name.end_line, name.end_column + 1)
        return A.Arm(str(name), self.tok_span(name), tuple(body), header)

    @v_args(meta=True)
    def for_loop(self, meta, children):
        var, iterable, body = children
        header = Span(self.file, meta.line, meta.column, iterable.span.end_line, iterable.span.end_col + 1)
        return A.For(str(var), self.tok_span(var), iterable, tuple(body), header)

    def start(self, children):
        return _flatten(children)


def _flatten(children) -> list:
    out = []
    for c in children:
        if isinstance(c, list):
            out.extend(c)
        elif c is not None and not isinstance(c, Token):
            out.append(c)
    return out


# Larger numbers than any setting can mean; beyond it a float overflows to inf (1e400) or an
# int stops converting to float, which would crash plan and run instead of failing check.
MAX_MAGNITUDE = 1e15


class BadNumber(ValueError):
    """A number literal that is infinite, NaN or too large; reported as a diagnostic."""

    def __init__(self, text: str, span):
        super().__init__(text)
        self.text, self.span = text, span


def _finite(value, text: str, span):
    import math

    try:
        ok = math.isfinite(float(value)) and abs(value) <= MAX_MAGNITUDE
    except OverflowError:
        ok = False
    if not ok:
        raise BadNumber(text, span)
    return value
