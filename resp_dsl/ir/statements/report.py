"""`report table|plot|heatmap|compare ...`: a report over the results of all arms (top level only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resp_dsl import codes as C
from resp_dsl import vocab as V
from resp_dsl.diagnostics import Span
from resp_dsl.ir import models as M
from resp_dsl.ir.values import show
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    if scope.kind != "root":
        b.sink.add(C.MISPLACED_STATEMENT, cmd.span, "`report` is allowed only at the top level")
        return
    kind = a.head(V.REPORT_KINDS, "report kind",
                  "`report` needs a kind: " + ", ".join(V.REPORT_KINDS))
    if kind is None:
        return
    dims = ("arm", "sparsity", "task", "split", "method") + tuple(b.loop_vars()) + ((M.SEED,) if b.has_repeat else ())
    fields: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    if kind == "compare":
        compare_arms(b, cmd, a, fields, spans)
    else:
        metric_v = a.take()
        if metric_v is not None:
            fields["metric"] = b.word(metric_v, ("accuracy",), "metric")
        for key in ("rows", "cols"):
            v = a.opt(key)
            if v is not None:
                fields[key] = b.word(v, dims, "report dimension")
        v = a.opt("metric")
        if v is not None:
            fields["metric"] = b.word(v, ("accuracy",), "metric")
        cl = a.clause("vs")
        if cl is not None:
            fields["x"] = b.word(cl.values[0], dims, "report dimension")
    name_v = a.opt("name")
    cl = a.clause("by")
    if cl is not None:
        fields["by"] = b.word(cl.values[0], dims, "report dimension")
    over = a.clause("over") if kind in ("table", "plot") else None
    if over is not None:
        fields["over"] = over_dimension(b, over.values[0], fields)
        spans["over"] = over.values[0].span
    if kind == "compare":
        a.finish(("name",), ("vs", "at", "by"))
    else:
        a.finish(("rows", "cols", "name", "metric"), ("by", "vs") + (("over",) if kind in ("table", "plot") else ()))
    if kind is None or any(v is None for k, v in fields.items() if k != "at"):
        return
    name = b.text(name_v, "report name") if name_v else f"{kind}{sum(r.kind == kind for r in b.reports) + 1}"
    b.reports.append(M.ReportSpec(kind=kind, name=name or kind, span=cmd.span, spans=spans, **fields))


def compare_arms(b: Builder, cmd, a: Args, fields: dict[str, Any], spans: dict[str, Span]) -> None:
    """`compare A vs B [at S]`: two arm names (or quoted labels); checks/reports.py judges them."""
    first, vs, at = a.take(), a.clause("vs"), a.clause("at")
    if first is None or vs is None:
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`report compare` needs two arms: compare A vs B",
                   hint="e.g. report compare resp vs gisp at 0.3")
        fields["a"] = None
        return
    for key, v in (("a", first), ("b", vs.values[0])):
        fields[key] = b.text(v, "arm") if isinstance(v, (A.Name, A.String)) else None
        spans[key] = v.span
        if fields[key] is None and not isinstance(v, (A.Name, A.String)):
            b.sink.add(C.WRONG_TYPE, v.span, f"`report compare` takes arm names, got {show(v)}")
    if fields["a"] is not None and fields["a"] == fields["b"]:
        b.sink.add(C.INCOMPATIBLE_OPTIONS, vs.values[0].span, f'"{fields["a"]}" is compared with itself',
                   hint="compare two different arms: report compare A vs B")
        fields["a"] = None
    if at is not None:
        pts = b.sparsities(at.values[0], "comparison point")
        spans["at"] = at.values[0].span
        if pts is not None and len(pts) != 1:
            b.sink.add(C.WRONG_TYPE, at.values[0].span, "`compare ... at` takes one sparsity",
                       hint="write one `report compare` per sparsity, or leave `at` out to compare at all")
            fields["a"] = None
        elif pts:
            fields["at"] = round(pts[0], 10)


def over_dimension(b: Builder, v: A.Value, fields: dict[str, Any]) -> str | None:
    """`over seed`: the only dimension a report averages over; it must exist and not also lay out the table."""
    if isinstance(v, A.Name) and v.value == M.SEED and not b.has_repeat:
        b.sink.add(C.MISSING_SEEDS, v.span, "`over seed`: no arm is repeated over calibration seeds",
                   hint="add `repeat seeds [0, 1, 2]` above the arms to average over")
        return None
    dim = b.word(v, (M.SEED,), "dimension to average over")
    for key in ("rows", "cols", "by", "x"):
        if dim is not None and fields.get(key) == dim:
            b.sink.add(C.INCOMPATIBLE_OPTIONS, v.span, f"`{key}` lays out {dim} and `over` averages over it",
                       hint=f"drop `over {dim}` to show each seed, or lay out another dimension")
            return None
    return dim
