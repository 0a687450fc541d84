"""Reading values: names resolved against loop variables and parameters (``--set`` overrides
included), numbers, words, text, booleans, lists and ranges, sparsities and evaluation points.

A reader reports what it cannot read as a spanned diagnostic and returns ``None``; the
statement then leaves its setting unset (``resp_dsl.ir.statements``).
"""

from __future__ import annotations

import dataclasses

from resp_dsl import codes as C
from resp_dsl.diagnostics import Sink, Span, suggest
from resp_dsl.syntax import ast as A

POINT_WORDS = ("dense", "final", "milestones", "all")
MAX_VALUES = 10_000


class ValueReader:
    """The values half of the ``Builder``: the diagnostics sink, the parameters and the loop
    variables in scope, and the readers that turn an AST value into a Python one."""

    def __init__(self, overrides: dict[str, str] | None = None):
        self.sink = Sink()
        self.params: dict[str, A.Value] = {}
        self.param_defs: dict[str, A.Param] = {}
        self.param_used: set[str] = set()
        self.env: list[dict[str, A.Value]] = []
        self.var_used: dict[tuple[str, Span], bool] = {}
        self.overrides = overrides or {}
        self.from_set: dict[int, tuple[str, A.Value]] = {}  # id of a resolved value -> the --set param it came from

    def resolve(self, v: A.Value) -> A.Value:
        if isinstance(v, A.Name):
            for frame in reversed(self.env):
                if v.value in frame:
                    for key in self.var_used:
                        if key[0] == v.value:
                            self.var_used[key] = True
                    return respan(frame[v.value], v.span)
            if v.value in self.params:
                self.param_used.add(v.value)
                out = respan(self.params[v.value], v.span)
                if v.value in self.overrides:
                    self.from_set[id(out)] = (v.value, out)
                return out
            return v
        if isinstance(v, A.ListValue):
            return A.ListValue(tuple(self.resolve(i) if not isinstance(i, A.Range) else
                                     A.Range(self.resolve(i.start), self.resolve(i.stop),
                                             self.resolve(i.step) if i.step else None, i.span)
                                     for i in v.items), v.span)
        return v

    def number(self, v: A.Value | None, what: str, *, integer: bool = False) -> float | int | None:
        if v is None:
            return None
        if isinstance(v, A.Number):
            if integer and not isinstance(v.value, int):
                if float(v.value).is_integer():
                    return int(v.value)
                self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be a whole number, got {v.text}")
                return None
            return v.value
        if isinstance(v, A.Percent) and not integer:
            return v.value
        if isinstance(v, A.Name) and id(v) in self.from_set:
            param = self.from_set[id(v)][0]
            default = self.param_defs[param].value
            self.sink.add(C.WRONG_TYPE, v.span, f'--set {param}={v.value}: {what} needs a number, got "{v.value}"',
                          hint=f"e.g. --set {param}={getattr(default, 'text', 1)} (the recipe's default)")
            return None
        if isinstance(v, A.Name):
            self.sink.add(C.UNKNOWN_NAME, v.span,
                          f'"{v.value}" is not a parameter or loop variable ({what} needs a number)',
                          hint=self.name_hint(v))
            return None
        self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be a {'whole ' if integer else ''}number, got {show(v)}")
        return None

    def word(self, v: A.Value | None, choices: tuple[str, ...], what: str) -> str | None:
        if v is None:
            return None
        if isinstance(v, A.Name) and v.value in choices:
            return v.value
        if isinstance(v, (A.Name, A.String)):
            self.sink.add(C.UNKNOWN_VALUE, v.span, f'unknown {what} "{v.value}"', suggest(v.value, choices))
        else:
            self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be one of {', '.join(choices)}, got {show(v)}")
        return None

    def text(self, v: A.Value | None, what: str) -> str | None:
        if v is None:
            return None
        if isinstance(v, (A.String, A.Name)):
            return v.value
        if isinstance(v, A.Number):
            return v.text
        self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be a name or a string, got {show(v)}")
        return None

    def boolean(self, v: A.Value | None, what: str) -> bool | None:
        if v is None:
            return None
        if isinstance(v, A.Name) and v.value in ("true", "yes", "on", "false", "no", "off"):
            return v.value in ("true", "yes", "on")
        if isinstance(v, A.Number) and v.value in (0, 1):
            return bool(v.value)
        self.sink.add(C.WRONG_TYPE, v.span, f"{what} must be true or false, got {show(v)}")
        return None

    def values(self, v: A.Value, what: str) -> list[A.Value]:
        """A scalar or a list (ranges expanded) as a flat list of scalar values."""
        if not isinstance(v, A.ListValue):
            return [v]
        out: list[A.Value] = []
        for item in v.items:
            if isinstance(item, A.Range):
                out.extend(self.expand_range(item, what))
            elif isinstance(item, A.ListValue):
                self.sink.add(C.WRONG_TYPE, item.span, f"{what}: lists cannot be nested here")
            else:
                out.append(item)
        if not v.items:
            self.sink.add(C.EMPTY_LIST, v.span, f"{what}: the list is empty")
        return out

    def expand_range(self, r: A.Range, what: str) -> list[A.Value]:
        start = self.number(r.start, f"{what} (range start)")
        stop = self.number(r.stop, f"{what} (range end)")
        if start is None or stop is None:
            return []
        if r.step is not None:
            step = self.number(r.step, f"{what} (range step)")
            if step is None:
                return []
        else:
            step = 1 if isinstance(start, int) and isinstance(stop, int) else start
        if step <= 0:
            self.sink.add(C.INVALID_RANGE, r.span, f"range step must be positive, got {step}",
                          hint="[a..b] steps by a; write [a..b step s] to choose the step")
            return []
        if start > stop:
            self.sink.add(C.INVALID_RANGE, r.span, f"range start {start} is greater than its end {stop}")
            return []
        count = int((stop - start) / step + 1e-9) + 1
        if count > MAX_VALUES:
            self.sink.add(C.INVALID_RANGE, r.span, f"range has {count:,} values; at most {MAX_VALUES:,}")
            return []
        is_int = all(isinstance(x, int) for x in (start, stop, step))
        out = []
        for i in range(count):
            val = start + i * step
            val = int(val) if is_int else round(val, 10)
            out.append(A.Number(val, fmt_num(val), r.span))
        return out

    def sparsities(self, v: A.Value | None, what: str) -> list[float] | None:
        if v is None:
            return None
        out = []
        for item in self.values(v, what):
            n = self.number(item, what)
            if n is not None:
                self.tiny_percent(item)
                out.append(float(n))
        return out

    def tiny_percent(self, item: A.Value) -> None:
        """`prune to 0.25%` is 0.0025: almost certainly meant as 25%."""
        if isinstance(item, A.Percent) and 0 < item.value < 0.01:
            self.sink.add(C.TINY_PERCENTAGE, item.span, f"{item.text} is a sparsity of {item.value:g}",
                          hint=f"did you mean {float(item.text[:-1]) * 100:g}% ({float(item.text[:-1]):g})?")

    def points(self, v: A.Value | None) -> list | None:
        """Evaluation/export points: sparsities and the words dense/final/milestones/all."""
        if v is None:
            return None
        out: list = []
        for item in self.values(v, "evaluation point"):
            if isinstance(item, A.Name):
                w = self.word(item, POINT_WORDS, "evaluation point")
                if w:
                    out.append((w, item.span))
            else:
                n = self.number(item, "evaluation point")
                if n is not None and not 0 <= n < 1:
                    self.sink.add(C.OUT_OF_RANGE, item.span, f"an evaluation point must be in [0, 1), got {show(item)}",
                                  hint=percent_hint(n))
                elif n is not None:
                    self.tiny_percent(item)
                    out.append((float(n), item.span))
        return out

    def name_hint(self, v) -> str | None:
        if isinstance(v, A.Name):
            names = list(self.params) + [k for f in self.env for k in f]
            return suggest(v.value, names) if names else None
        return None


def show(v) -> str:
    if isinstance(v, (A.Number, A.Percent)):
        return v.text
    if isinstance(v, A.String):
        return f'"{v.value}"'
    if isinstance(v, A.Name):
        return f'"{v.value}"'
    return "list"


def label(v) -> str:
    if isinstance(v, (A.Number, A.Percent)):
        return v.text
    if isinstance(v, (A.String, A.Name)):
        return v.value
    return "[...]"


def respan(v: A.Value, span: Span) -> A.Value:
    if isinstance(v, (A.Number, A.Percent, A.String, A.Name)):
        return dataclasses.replace(v, span=span)
    return v


def plain(v: A.Value):
    if isinstance(v, (A.Number, A.Percent)):
        return v.value
    if isinstance(v, (A.String, A.Name)):
        return v.value
    if isinstance(v, A.ListValue):
        return [plain(i) if not isinstance(i, A.Range) else f"{plain(i.start)}..{plain(i.stop)}" for i in v.items]
    return None


def fmt_num(x: float | int) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def percent_hint(n: float) -> str | None:
    """`prune to 25`: "25% or 0.25?"."""
    return f"write {n:g}% or {n / 100:g}" if 1 < n <= 100 else None
