"""Reading and parsing recipe files into an AST, with every failure as a Diagnostic.

The Lark LALR parser is built once per process (``parser()``, cached). Nothing
here raises on bad input: ``parse_text`` returns ``(File | None, [Diagnostic])``.
Syntax errors are recovered line by line so that one run reports all of them.
"""

from __future__ import annotations

from resp_dsl import codes as C

import functools
import os
import stat
from importlib import resources
from pathlib import Path

import re

from lark import Lark, Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.exceptions import LarkError, VisitError
from lark.indenter import Indenter

from resp_dsl.diagnostics import Diagnostic, Span
from resp_dsl.syntax import ast as A
from resp_dsl.syntax.to_ast import MAX_MAGNITUDE, BadNumber, ToAst

MAX_BYTES = 1 << 20  # a recipe is a page of text; 1 MiB is far beyond any real one
MAX_BRACKET_DEPTH = 32
MAX_BLOCK_DEPTH = 16
MAX_SYNTAX_ERRORS = 20

# Human names for terminals in "expected ..." messages.
_TOKEN_NAMES = {
    "_NL": "end of line", "_INDENT": "an indented block", "_DEDENT": "end of block",
    "$END": "end of file", "NAME": "a name", "NUMBER": "a number", "PERCENT": "a percentage",
    "STRING": "a string", "LSQB": '"["', "RSQB": '"]"', "COMMA": '","', "COLON": '":"',
    "EQUAL": '"="', "SEMICOLON": '";"', "__ANON_0": '".."', "CLAUSE": "a clause keyword",
    "BLOCK_WORD": '"blocks"', "IMPORT_PATH": "an import path",
}


class _IndentError(LarkError):
    def __init__(self, token: Token, message: str, code: str = C.BAD_INDENT):
        super().__init__(message)
        self.token = token
        self.code = code


class RecipeIndenter(Indenter):
    """Python-style blocks; brackets suspend indentation; depth is bounded."""

    NL_type = "_NL"
    OPEN_PAREN_types = ["LSQB"]
    CLOSE_PAREN_types = ["RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 4

    def handle_NL(self, token):
        if self.paren_level > 0:
            return
        yield token
        indent_str = token.rsplit("\n", 1)[1]
        indent = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
        if indent > self.indent_level[-1]:
            if len(self.indent_level) > MAX_BLOCK_DEPTH:
                raise _IndentError(token, f"blocks nest deeper than {MAX_BLOCK_DEPTH} levels", C.TOO_DEEPLY_NESTED)
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, indent_str, token)
        else:
            while indent < self.indent_level[-1]:
                self.indent_level.pop()
                yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
            if indent != self.indent_level[-1]:
                raise _IndentError(token, f"unindent to column {indent + 1} matches no enclosing block")

    def _process(self, stream):
        # Lark's version asserts on an unbalanced "]"; the parser reports that better.
        token = None
        for token in stream:
            if token.type == self.NL_type:
                yield from self.handle_NL(token)
            else:
                yield token
            if token.type in self.OPEN_PAREN_types:
                self.paren_level += 1
            elif token.type in self.CLOSE_PAREN_types and self.paren_level > 0:
                self.paren_level -= 1
        while len(self.indent_level) > 1:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, "", token) if token else Token(self.DEDENT_type, "")


def grammar_text() -> str:
    """The grammar shipped inside the package (canonical copy)."""
    return resources.files("resp_dsl.syntax").joinpath("prune.lark").read_text(encoding="utf-8")


_PARSER_OPTIONS = dict(parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)
TABLE_MODULE = Path(__file__).with_name("_table.py")


def grammar_sha256() -> str:
    import hashlib

    import lark

    return hashlib.sha256((lark.__version__ + "\n" + grammar_text()).encode()).hexdigest()


def build_parser() -> Lark:
    """Build the parser from the grammar (about half a second: LALR tables + lexers)."""
    return Lark(grammar_text(), postlex=RecipeIndenter(), **_PARSER_OPTIONS)


@functools.cache
def parser() -> Lark:
    """The LALR parser, built once per process.

    Loads the precomputed tables in ``_table.py`` (plain Python literals, no pickle)
    when they were generated from this exact grammar and Lark version; otherwise
    builds from the grammar. Regenerate with
    ``python -c "from resp_dsl.syntax.parse import write_table; write_table()"``.
    """
    try:
        from resp_dsl.syntax import _table
    except (ImportError, SyntaxError):
        _table = None
    if _table is not None and getattr(_table, "GRAMMAR_SHA256", None) == grammar_sha256():
        try:
            return Lark._load_from_dict(_table.DATA, _table.MEMO, postlex=RecipeIndenter(),
                                        propagate_positions=True)
        except Exception:  # a stale or foreign table must never break parsing
            pass
    return build_parser()


def write_table(path: Path = TABLE_MODULE) -> Path:
    """Write the precomputed parser tables as a Python module (atomically)."""

    from lark.lexer import TerminalDef
    from lark.grammar import Rule

    # Serialised without the postlexer (an object); ``parser()`` passes it on load.
    bare = Lark(grammar_text(), **_PARSER_OPTIONS)
    data, memo = bare.memo_serialize([TerminalDef, Rule])
    body = (f"# Generated by resp_dsl.syntax.parse.write_table() from prune.lark: do not edit.\n"
            f"GRAMMAR_SHA256 = {grammar_sha256()!r}\nDATA = {data!r}\nMEMO = {memo!r}\n")
    from resp_dsl.files import write_text_atomic

    return write_text_atomic(path, body)


# ---------------------------------------------------------------- reading


def read_source(path: str | Path, display: str | None = None) -> tuple[str | None, list[Diagnostic]]:
    """Read a recipe file as text; every failure is a diagnostic, never an exception."""
    name = display or str(path)
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not hang; only regular files are read,
        # and never more than one byte past the limit (/dev/zero, a huge file).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if stat.S_ISDIR(mode):
                return None, [Diagnostic(C.UNREADABLE_FILE, Span.point(name), "this is a directory, not a recipe file")]
            if not stat.S_ISREG(mode):
                return None, [Diagnostic(C.UNREADABLE_FILE, Span.point(name),
                                         "this is not a regular file (a device, FIFO or socket)",
                                         hint="recipes are read from ordinary .prune files")]
            data = f.read(MAX_BYTES + 1)
    except IsADirectoryError:
        return None, [Diagnostic(C.UNREADABLE_FILE, Span.point(name), "this is a directory, not a recipe file")]
    except OSError as exc:
        return None, [Diagnostic(C.UNREADABLE_FILE, Span.point(name), f"cannot read the file: {exc.strerror or exc}")]
    return decode_source(data, name)


def decode_source(data: bytes, name: str) -> tuple[str | None, list[Diagnostic]]:
    if len(data) > MAX_BYTES:
        return None, [Diagnostic(C.FILE_TOO_LARGE, Span.point(name),
                                 f"the file has more than {MAX_BYTES:,} bytes; recipes are limited to that",
                                 hint="is this really a recipe? recipes are short text files")]
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, [Diagnostic(C.BINARY_FILE, Span.point(name, line), "the file contains NUL bytes; it looks binary")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        return None, [Diagnostic(C.INVALID_UTF8, Span.point(name, line, col),
                                 f"byte 0x{data[exc.start]:02x} is not valid UTF-8",
                                 hint="save the recipe as UTF-8")]
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, []


# ---------------------------------------------------------------- comments


def scan_comments(text: str) -> list[A.Comment]:
    """Every `#` comment outside strings, with whether it sits alone on its line."""
    out = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if "#" not in line:
            continue
        in_str = False
        i = 0
        while i < len(line):
            c = line[i]
            if in_str:
                if c == "\\":
                    i += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "#":
                own = not line[:i].strip()
                out.append(A.Comment(lineno, i + 1, line[i:].rstrip(), own))
                break
            i += 1
    return out


def _bracket_depth_error(text: str, name: str) -> Diagnostic | None:
    depth = 0
    line, col = 1, 0
    in_str = in_comment = False
    for ch in text:
        col += 1
        if ch == "\n":
            line, col, in_str, in_comment = line + 1, 0, False, False
            continue
        if in_comment:
            continue
        if in_str:
            if ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "#":
            in_comment = True
        elif ch == "[":
            depth += 1
            if depth > MAX_BRACKET_DEPTH:
                return Diagnostic(C.TOO_DEEPLY_NESTED, Span.point(name, line, col),
                                  f"lists nest deeper than {MAX_BRACKET_DEPTH} levels")
        elif ch == "]":
            depth = max(0, depth - 1)
    return None


# ---------------------------------------------------------------- parsing


def _expected(exc: UnexpectedInput) -> str:
    names = sorted({_TOKEN_NAMES.get(t, f'"{t.lower()}"' if t.isupper() and not t.startswith("_") else t)
                    for t in (getattr(exc, "expected", None) or set())
                    if not t.startswith("__ANON") or t == "__ANON_0"})
    if not names:
        return ""
    if len(names) > 6:
        return "expected " + ", ".join(names[:6]) + ", ..."
    return "expected " + ", ".join(names)


def _previous_code_line(text: str, line: int, col: int) -> tuple[int, int] | None:
    """(line, column after the last code character) before ``line:col``, comments ignored."""
    lines = text.split("\n")
    if 1 <= line <= len(lines) and lines[line - 1][: col - 1].strip():
        return line, col
    for ln in range(min(line - 1, len(lines)), 0, -1):
        body = lines[ln - 1]
        comments = scan_comments(body)
        if comments:
            body = body[: comments[0].col - 1]
        if body.strip():
            return ln, len(body.rstrip()) + 1
    return None


def _syntax_diagnostic(exc: Exception, text: str, name: str) -> tuple[Diagnostic, int]:
    """The diagnostic for one parse failure and the (1-based) line to blank for recovery."""
    if isinstance(exc, _IndentError):
        tok = exc.token
        line = tok.end_line if tok.end_line else 1
        col = (tok.end_column or 1)
        return Diagnostic(exc.code, Span.point(name, line, col), str(exc),
                          hint="indent every statement of a block by the same amount (4 spaces)"), line
    if isinstance(exc, UnexpectedCharacters):
        line, col = exc.line, exc.column
        ch = text.split("\n")[line - 1][col - 1:col] if line >= 1 else ""
        if ch == '"':
            return Diagnostic(C.UNTERMINATED_STRING, Span.point(name, line, col),
                              "string literal is not closed on this line", hint='add the closing `"`'), line
        shown = repr(ch)[1:-1] if ch else "?"
        hint = _expected(exc) or None
        before = text.split("\n")[line - 1][:col - 1] if line >= 1 else ""
        num = re.search(r"(\d+(?:\.\d*)?)\s+$", before)
        if ch == "%" and num:  # `25 %`
            hint = f"write {num.group(1)}% without a space (or {float(num.group(1)) / 100:g} as a fraction)"
        return Diagnostic(C.UNEXPECTED_CHARACTER, Span.point(name, line, col),
                          f'unexpected character "{shown}"', hint=hint), line
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = set(exc.expected or ())
        if tok.type == "$END":
            lines = text.rstrip("\n").split("\n")
            line = max(1, len(lines))
            return Diagnostic(C.UNEXPECTED_END, Span.point(name, line, len(lines[-1]) + 1 if lines else 1),
                              "the file ends in the middle of a statement", hint=_expected(exc) or None), line
        line, col = tok.line or 1, tok.column or 1
        width = max(1, (tok.end_column or col + 1) - col) if tok.end_line == tok.line else 1
        span = Span(name, line, col, line, col + width)
        if tok.type == "_INDENT":
            return Diagnostic(C.BAD_INDENT, Span.point(name, tok.end_line or line, tok.end_column or 1),
                              "unexpected indentation",
                              hint="only the body of `arm` and `for` is indented"), (tok.end_line or line)
        if tok.type == "_DEDENT":
            return Diagnostic(C.BAD_INDENT, span, "unexpected end of block", hint=_expected(exc) or None), line
        if tok.type == "_NL":
            what = "end of line"
            if "RSQB" in expected:
                return Diagnostic(C.SYNTAX_ERROR, span, 'missing "]" before the end of the line',
                                  hint="lists can span lines only if every line stays inside the brackets"), line
            if "COLON" in expected:
                return Diagnostic(C.SYNTAX_ERROR, span, 'missing ":" at the end of the block header'), line
            if "EQUAL" in expected:
                return Diagnostic(C.SYNTAX_ERROR, span, 'missing "=" and a value'), line
            return Diagnostic(C.SYNTAX_ERROR, span, f"unexpected {what}", hint=_expected(exc) or None), line
        shown = str(tok.value)
        prev = _previous_code_line(text, line, col)
        if "RSQB" in expected and "COMMA" in expected and prev is not None and prev[0] < line:
            return Diagnostic(C.SYNTAX_ERROR, Span(name, prev[0], prev[1], prev[0], prev[1] + 1),
                              'missing "]" at the end of the list', hint="close the list before the end of the line"), prev[0]
        if "RSQB" in expected and "COMMA" in expected:
            return Diagnostic(C.SYNTAX_ERROR, span, f'unexpected "{shown}" in a list',
                              hint='separate items with "," and close the list with "]"'), line
        return Diagnostic(C.SYNTAX_ERROR, span, f'unexpected "{shown}"', hint=_expected(exc) or None), line
    return Diagnostic(C.SYNTAX_ERROR, Span.point(name), f"cannot parse the file: {exc}"), 1


def parse_text(text: str, name: str = "<string>") -> tuple[A.File | None, list[Diagnostic]]:
    """Parse recipe text. Returns the AST (None when there were syntax errors) and diagnostics."""
    deep = _bracket_depth_error(text, name)
    if deep is not None:
        return None, [deep]
    source = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = source.split("\n")
    diags: list[Diagnostic] = []
    blanked: set[int] = set()
    for _ in range(MAX_SYNTAX_ERRORS + 1):
        work = "\n".join(" " * len(l) if i + 1 in blanked else l for i, l in enumerate(lines)) + "\n"
        try:
            tree = parser().parse(work)
        except (UnexpectedInput, _IndentError) as exc:
            diag, line = _syntax_diagnostic(exc, source, name)
            # A blanked line can shift the block structure: its follow-on errors are noise.
            if not (diag.code == C.BAD_INDENT and blanked and any(b < line for b in blanked)):
                diags.append(diag)
            if line in blanked or line < 1 or line > len(lines) or len(diags) >= MAX_SYNTAX_ERRORS:
                break
            blanked.add(line)
            continue
        except LarkError as exc:  # anything else lark may raise: still a diagnostic
            diags.append(Diagnostic(C.SYNTAX_ERROR, Span.point(name), f"cannot parse the file: {exc}"))
            break
        if diags:
            return None, diags
        try:
            stmts = ToAst(name).transform(tree)
        except VisitError as exc:  # a bug in the transformer: report, never crash the user
            if isinstance(exc.orig_exc, BadNumber):
                bad = exc.orig_exc
                return None, [Diagnostic(C.NON_FINITE_NUMBER, bad.span,
                                         f"the number {bad.text[:40]} is infinite or too large "
                                         f"(at most {MAX_MAGNITUDE:g} in magnitude)",
                                         hint="write a finite value in the range the setting allows")]
            return None, [Diagnostic(C.SYNTAX_ERROR, Span.point(name), f"internal error while reading the file: {exc.orig_exc}")]
        return A.File(name, tuple(stmts), tuple(scan_comments(source))), []
    return None, diags


def parse_file(path: str | Path, display: str | None = None) -> tuple[A.File | None, str | None, list[Diagnostic]]:
    """Read and parse one file: ``(ast, text, diagnostics)``."""
    text, diags = read_source(path, display)
    if text is None:
        return None, None, diags
    tree, more = parse_text(text, display or str(path))
    return tree, text, diags + more

