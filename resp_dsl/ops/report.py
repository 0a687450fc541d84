"""report: tables, plots, heatmaps and paired comparisons across arms, sparsities and seeds."""

from __future__ import annotations

from pathlib import Path

from resp_dsl import codes as C
from resp_dsl.ops.base import Cost, Op, Params, PlanState
from resp_dsl.vocab import ReportKind


class ReportParams(Params):
    kind: ReportKind
    name: str
    rows: str
    cols: str
    by: str | None
    metric: str
    x: str
    over: str | None = None  # "seed": mean over calibration seeds with a 95% interval
    a: str | None = None  # compare: the difference is a - b, paired on the same problems
    b: str | None = None
    at: float | None = None
    # input node id -> its arms, task, method, sparsity in this graph (compile/passes/label_reports.py)
    labels: dict[str, dict] = {}


class Report(Op):
    name = "report"
    # 3: JSON rows carry `split` (test / calibration draw); a version-2 entry lacks the field
    # 4: the multi-panel heatmap is laid out anew (row labels, column heads; no overlapping titles)
    version = 4
    params = ReportParams
    inputs = ()  # any eval or prune nodes, named by their ids
    doc = "tables, plots, heatmaps and paired comparisons across arms, sparsities and seeds"
    aggregates = True
    runs_on_driver = True
    failure_stops_run = False  # the other reports and the exports are still written

    def cost(self, node, state: PlanState) -> Cost:
        from resp_dsl.runtime.report import describe

        return Cost(note=describe(node.params))

    def static_problem(self, node) -> tuple[str, str, str] | None:
        """Build the report from placeholder rows now, so one that cannot be built fails before any compute."""
        from resp_dsl.runtime.report import dry_run

        msg = dry_run(node.params)
        if not msg:
            return None
        hint = ("compare arms evaluated as different models at a sparsity both reach (`eval ... at`)"
                if node.params.get("kind") == "compare" else
                "choose `rows`/`cols`/`by` so that each cell holds one result")
        return C.REPORT_UNBUILDABLE, msg, hint

    def run(self, ctx, node, inputs, out: Path) -> dict:
        from resp_dsl.runtime.report import write_report

        achieved = {nid: s for nid, s in ctx.summaries.items() if "achieved" in s}  # prune summaries
        return write_report(node.params, inputs, out, ctx.out_dir, achieved)

    def present(self, ctx, node, art, summary: dict, artifacts: dict) -> bool:
        """A cached report is published again into this run's --out."""
        from resp_dsl.runtime.report import publish

        publish(art.path, summary, ctx.out_dir)
        return True


OP = Report()
