"""Scopes and arms: walking the statements into nested scopes, and each arm out of its chain of scopes.

Statements in a block apply to every arm nested in it; an arm's own statements override the
enclosing ones (innermost wins). ``eval`` and ``export`` accumulate along the way; ``schedule``
segments chain, outer before inner, so a sweep can branch from a shared path (Table 3). A block
without explicit arms that has a schedule becomes one implicit arm (named ``main``). A ``for``
loop walks its body once per value, each in its own scope bound to that value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resp_dsl import codes as C
from resp_dsl.diagnostics import Span
from resp_dsl.ir import models as M
from resp_dsl.ir import statements
from resp_dsl.ir.statements import protect
from resp_dsl.ir.values import label, show
from resp_dsl.syntax import ast as A


@dataclass
class Scope:
    kind: str  # root | for | arm
    span: Span
    name: str | None = None
    bindings: tuple[tuple[str, str], ...] = ()
    settings: dict[str, tuple[Any, Span]] = field(default_factory=dict)
    segments: list[M.Segment] = field(default_factory=list)
    evals: list[tuple[M.TaskSpec, list | None, Span, bool]] = field(default_factory=list)  # bool: on calibration
    exports: list[tuple[str, str, list | None, Span]] = field(default_factory=list)
    children: list["Scope"] = field(default_factory=list)
    parent: "Scope | None" = None


class ScopeWalker:
    """The scopes half of the ``Builder``: walks statements into scopes (``statements.command``
    gives each command its meaning) and makes the arms. Uses the ``ValueReader`` state and
    ``recipe_name``."""

    def walk(self, stmts, scope: Scope, top: bool = False) -> None:
        for st in stmts:
            if isinstance(st, A.Param):
                if not top:
                    self.sink.add(C.MISPLACED_STATEMENT, st.span, "`param` is allowed only at the top level")
            elif isinstance(st, A.Use):
                self.sink.add(C.MISPLACED_STATEMENT, st.span, "`use` is allowed only at the top level")
            elif isinstance(st, A.Protect):
                protect.build(self, st, scope, top)
            elif isinstance(st, A.Arm):
                self.arm(st, scope)
            elif isinstance(st, A.For):
                self.for_loop(st, scope)
            elif isinstance(st, A.Command):
                statements.command(self, st, scope, top)

    def set(self, scope: Scope, kind: str, value, span: Span) -> None:
        if value is None:
            return
        prev = scope.settings.get(kind)
        if prev is not None and prev[1].file == span.file:
            self.sink.add(C.DUPLICATE_SETTING, span, f"`{kind}` is already set in this block",
                          hint="put alternatives in separate `arm` blocks",
                          notes=(f"first set at {prev[1]}",))
            return
        scope.settings[kind] = (value, span)

    def arm(self, st: A.Arm, scope: Scope) -> None:
        if scope.kind == "arm" or any(s.kind == "arm" for s in _ancestors(scope)):
            self.sink.add(C.MISPLACED_STATEMENT, st.span, "an `arm` cannot be nested inside another arm")
            return
        child = Scope("arm", st.span, name=st.name, bindings=scope.bindings, parent=scope)
        scope.children.append(child)
        self.walk(st.body, child)

    def for_loop(self, st: A.For, scope: Scope) -> None:
        if scope.kind == "arm" or any(s.kind == "arm" for s in _ancestors(scope)):
            self.sink.add(C.MISPLACED_STATEMENT, st.span, "a `for` loop cannot be inside an arm",
                          hint="put the arms inside the loop instead")
            return
        iterable = self.resolve(st.iterable)
        if not isinstance(iterable, A.ListValue):
            self.sink.add(C.WRONG_TYPE, iterable.span, f"`for {st.var} in` needs a list, got {show(iterable)}")
            return
        items = self.values(iterable, f"values of {st.var}")
        key = (st.var, st.var_span)
        self.var_used.setdefault(key, False)
        for item in items:
            child = Scope("for", st.span, bindings=scope.bindings + ((st.var, label(item)),), parent=scope)
            scope.children.append(child)
            self.env.append({st.var: item})
            try:
                self.walk(st.body, child)
            finally:
                self.env.pop()

    def collect_arms(self, root: Scope) -> list[M.ArmIR]:
        arms: list[M.ArmIR] = []

        def visit(scope: Scope) -> None:
            if scope.kind == "arm":
                arms.extend(self.make_arms(scope, scope.name or "main", implicit=False))
                return
            if not scope.children:
                if any(s.segments for s in _chain(scope)):
                    arms.extend(self.make_arms(scope, "main", implicit=True))
                return
            for c in scope.children:
                visit(c)

        visit(root)
        return arms

    def make_arms(self, scope: Scope, name: str, implicit: bool) -> list[M.ArmIR]:
        """The arm of a scope; under `repeat seeds`, one per seed (`NAME[seed=S]`) with that calibration
        seed, unless the arm draws no calibration data (then the seed changes nothing: one arm)."""
        arm = self.make_arm(scope, name, implicit, scope.bindings)
        if arm.repeat is None or not arm.draws_calibration:
            return [arm]
        return [self.make_arm(scope, name, implicit, scope.bindings + ((M.SEED, str(s)),), seed=s)
                for s in arm.repeat.seeds]

    def make_arm(self, scope: Scope, name: str, implicit: bool, bindings: tuple[tuple[str, str], ...],
                 seed: int | None = None) -> M.ArmIR:
        chain = _chain(scope)
        eff: dict[str, Any] = {}
        segments: list[M.Segment] = []
        evals_raw, exports_raw = [], []
        for s in chain:
            for k, (v, _) in s.settings.items():
                eff[k] = v
            segments.extend(s.segments)
            evals_raw.extend(s.evals)
            exports_raw.extend(s.exports)
        checkpoints = [t for seg in segments for t in seg.targets]
        arm_label = name + ("[" + ",".join(f"{k}={v}" for k, v in bindings) + "]" if bindings else "")
        evals = tuple(M.EvalSpec(task=t, points=_resolve_points(p, checkpoints), span=sp, spans=_point_spans(p),
                                 on_calibration=on_cal)
                      for t, p, sp, on_cal in evals_raw)
        exports = []
        for fmt, path, p, sp, rounding in exports_raw:
            for k, v in bindings:
                path = path.replace("{" + k + "}", v)
            path = path.replace("{recipe}", self.recipe_name).replace("{arm}", arm_label.replace("/", "_"))
            exports.append(M.ExportSpec(format=fmt, path=path, points=_resolve_points(p, checkpoints), span=sp,
                                        spans=_point_spans(p), round=rounding))
        calibration = eff.get("calibration")
        if seed is not None:
            calibration = calibration.model_copy(update={"seed": seed})
        return M.ArmIR(name=name, bindings=bindings, model=eff.get("model"), calibration=calibration,
                       score=eff.get("score"), schedule=tuple(segments),
                       protect=eff.get("protect") or M.ProtectSpec(), basis=eff.get("basis", "params"),
                       evals=evals, exports=tuple(exports), implicit=implicit, repeat=eff.get("repeat"),
                       span=scope.span)


def _point_spans(points) -> dict[str, Span]:
    """Where each numeric point is written, keyed like `f"{p:g}"` (for carets on the value)."""
    return {f"{round(float(p), 10):g}": sp for p, sp in points or () if not isinstance(p, str)}


def _resolve_points(points, checkpoints: list[float]) -> tuple[float, ...]:
    if points is None:
        return tuple(sorted(set(checkpoints)))
    out: set[float] = set()
    for p, _ in points:
        if p == "dense":
            out.add(0.0)
        elif p == "final":
            if checkpoints:
                out.add(max(checkpoints))
        elif p in ("milestones", "all"):
            out.update(checkpoints)
        else:
            out.add(round(float(p), 10))
    return tuple(sorted(out))


def find_loop_vars(stmts) -> set[str]:
    out: set[str] = set()
    for st in stmts:
        if isinstance(st, A.For):
            out.add(st.var)
            out |= find_loop_vars(st.body)
        elif isinstance(st, A.Arm):
            out |= find_loop_vars(st.body)
    return out


def find_repeat(stmts) -> bool:
    for st in stmts:
        if isinstance(st, A.Command) and st.head == "repeat":
            return True
        if isinstance(st, (A.For, A.Arm)) and find_repeat(st.body):
            return True
    return False


def _chain(scope: Scope) -> list[Scope]:
    out = []
    s: Scope | None = scope
    while s is not None:
        out.append(s)
        s = s.parent
    return out[::-1]


def _ancestors(scope: Scope) -> list[Scope]:
    return _chain(scope)[:-1]
