"""The recipe AST: frozen dataclasses, one per grammar construct, each with its span.

The AST keeps the surface form (a number's text, ``ρ`` vs ``rho``) so that ``fmt``
can print it back; meaning is given later by resp_dsl/ir/build.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from resp_dsl.diagnostics import Span

# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Number:
    value: float | int
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Percent:
    """``10%``: ``value`` is the fraction (0.1)."""

    value: float
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class String:
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Range:
    """``[start..stop step s]``; inside a list it contributes its values."""

    start: "Value"
    stop: "Value"
    step: "Value | None"
    span: Span


@dataclass(frozen=True, slots=True)
class ListValue:
    items: tuple["Value | Range", ...]
    span: Span


Value = Union[Number, Percent, String, Name, ListValue]

# ---------------------------------------------------------------- arguments


@dataclass(frozen=True, slots=True)
class Positional:
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    key_span: Span
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class Clause:
    """A keyword clause: ``from X``, ``at X``, ``to X``, ``every X``, ``by X``, ``vs X``,
    ``on a, b`` (several values) or ``regen ρ=1.0`` (one KeyValue)."""

    keyword: str
    values: tuple[Value | KeyValue, ...]
    span: Span


Arg = Union[Positional, KeyValue, Clause]

# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Use:
    path: str
    quoted: bool
    path_span: Span
    span: Span


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    name_span: Span
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class ProtectItem:
    """``first 10% blocks`` | ``last block`` | ``last 2 blocks`` | ``blocks [0, 5..7]`` | ``none``."""

    kind: str
    value: Value | None
    word: str | None  # "block" / "blocks" as written
    span: Span


@dataclass(frozen=True, slots=True)
class Protect:
    items: tuple[ProtectItem, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Command:
    """Every other statement: ``HEAD arg*`` (model, task, calibrate, score, ...)."""

    head: str
    head_span: Span
    args: tuple[Arg, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Arm:
    name: str
    name_span: Span
    body: tuple["Stmt", ...]
    span: Span  # the header line


@dataclass(frozen=True, slots=True)
class For:
    var: str
    var_span: Span
    iterable: Value
    body: tuple["Stmt", ...]
    span: Span  # the header line


Stmt = Union[Use, Param, Protect, Command, Arm, For]


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    col: int
    text: str  # including the leading '#'
    own_line: bool


@dataclass(frozen=True, slots=True)
class File:
    path: str
    statements: tuple[Stmt, ...]
    comments: tuple[Comment, ...] = field(default=())  # for fmt; statements carry their own spans


def dump(node, indent: int = 0) -> str:
    """A stable, readable text form of an AST (golden files): spans as line:col."""
    pad = "  " * indent
    if isinstance(node, tuple):
        return "".join(dump(n, indent) for n in node)
    name = type(node).__name__
    if isinstance(node, (Number, Percent)):
        return f"{pad}{name} {node.text} @{node.span.line}:{node.span.col}\n"
    if isinstance(node, (String, Name)):
        return f"{pad}{name} {node.value!r} @{node.span.line}:{node.span.col}\n"
    out = f"{pad}{name}"
    simple = []
    nested = []
    for fname in node.__dataclass_fields__:
        if fname in ("span", "key_span", "name_span", "path_span", "var_span", "head_span"):
            continue
        val = getattr(node, fname)
        if isinstance(val, tuple) and val and not isinstance(val[0], str) or hasattr(val, "__dataclass_fields__"):
            nested.append((fname, val))
        elif val is not None and val != ():
            simple.append(f"{fname}={val!r}")
    span = getattr(node, "span", None)
    out += (" " + " ".join(simple) if simple else "") + (f" @{span.line}:{span.col}" if span else "") + "\n"
    for fname, val in nested:
        out += f"{pad}  .{fname}\n" + (dump(val, indent + 2) if isinstance(val, tuple) else dump(val, indent + 2))
    return out
