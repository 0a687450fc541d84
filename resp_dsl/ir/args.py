"""The arguments of one command (``HEAD arg* key=value* clause*``), consumed by name by the
statement that gives them meaning; whatever it leaves is diagnosed by ``finish``."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from resp_dsl import codes as C
from resp_dsl.diagnostics import suggest
from resp_dsl.ir.values import show
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.build import Builder


class Args:
    """The arguments of one command, consumed by name; leftovers are diagnosed."""

    def __init__(self, b: Builder, cmd: A.Command):
        self.b, self.cmd = b, cmd
        self.pos: list[A.Value] = []
        self.kv: dict[str, A.KeyValue] = {}
        self.clauses: dict[str, A.Clause] = {}
        for arg in cmd.args:
            if isinstance(arg, A.Positional):
                self.pos.append(b.resolve(arg.value))
            elif isinstance(arg, A.KeyValue):
                key = "rho" if arg.key == "ρ" else arg.key
                if key in self.kv:
                    b.sink.add(C.DUPLICATE_OPTION, arg.span, f'option "{arg.key}" is given twice')
                self.kv[key] = dataclasses.replace(arg, value=b.resolve(arg.value))
            else:
                if arg.keyword in self.clauses:
                    b.sink.add(C.DUPLICATE_OPTION, arg.span, f'"{arg.keyword}" is given twice')
                vals = tuple(b.resolve(v) if not isinstance(v, A.KeyValue) else
                             dataclasses.replace(v, value=b.resolve(v.value)) for v in arg.values)
                self.clauses[arg.keyword] = dataclasses.replace(arg, values=vals)

    def take(self) -> A.Value | None:
        return self.pos.pop(0) if self.pos else None

    def opt(self, key: str) -> A.Value | None:
        kv = self.kv.pop(key, None)
        return kv.value if kv else None

    def clause(self, kw: str) -> A.Clause | None:
        return self.clauses.pop(kw, None)

    def finish(self, options: tuple[str, ...] = (), clauses: tuple[str, ...] = ()) -> None:
        head = self.cmd.head
        for key, kv in self.kv.items():
            hint = (suggest(key, options) or "valid options: " + ", ".join(f'"{o}"' for o in sorted(options))) \
                if options else f"`{head}` takes no options"
            self.b.sink.add(C.UNKNOWN_OPTION, kv.key_span, f'`{head}` has no option "{kv.key}"', hint)
        for kw, cl in self.clauses.items():
            self.b.sink.add(C.UNKNOWN_OPTION, cl.span, f'`{head}` does not take "{kw} ..."',
                            ("it takes: " + ", ".join(f'"{c}"' for c in clauses)) if clauses else None)
        for v in self.pos:
            self.b.sink.add(C.UNKNOWN_OPTION, v.span, f"unexpected argument {show(v)} to `{head}`")

    def head(self, choices: tuple[str, ...], what: str, missing: str) -> str | None:
        """The statement's first word (its kind). When it is wrong the rest is not judged."""
        v = self.take()
        if v is None:
            self.b.sink.add(C.MISSING_ARGUMENT, self.cmd.head_span, missing)
            return None
        return self.b.word(v, choices, what)
