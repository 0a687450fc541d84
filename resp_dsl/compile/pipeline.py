"""One entry point per use: ``check_file`` (diagnostics only) and ``compile_file`` (+ graph)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from resp_dsl import codes as C
from resp_dsl.check import CheckContext, run_checks
from resp_dsl.diagnostics import Diagnostic, has_errors
from resp_dsl.graph import Graph
from resp_dsl.ir.build import build
from resp_dsl.ir.models import RecipeIR
from resp_dsl.syntax.imports import Loaded, load

IMPORT_ERRORS = (C.UNKNOWN_IMPORT, C.IMPORT_CYCLE)
# What a file that could not be `use`d may have defined: not reported after a failed import.
MAYBE_FROM_IMPORT = (C.UNKNOWN_TASK, C.UNKNOWN_NAME, C.UNKNOWN_PARAM, C.NO_EFFECT, C.MISSING_MODEL,
                     C.MISSING_SCORE, C.MISSING_CALIBRATION, C.MISSING_SCHEDULE, C.UNUSED_PARAM, C.UNUSED_TASK)


@dataclass
class CompileResult:
    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    ir: RecipeIR | None = None
    graph: Graph | None = None
    ctx: CheckContext | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def _run(loaded: Loaded, overrides, model_config, want_graph: bool) -> CompileResult:
    try:
        return _run_stages(loaded, overrides, model_config, want_graph)
    except Exception as exc:  # a bug must still reach the user as a diagnostic, not a traceback
        import traceback

        from resp_dsl.diagnostics import Span

        where = traceback.extract_tb(exc.__traceback__)[-1]
        res = CompileResult(loaded.file, list(loaded.diagnostics), dict(loaded.sources))
        res.diagnostics.append(Diagnostic(
            C.INTERNAL_ERROR, Span.point(loaded.file),
            f"internal error: {type(exc).__name__}: {exc}".splitlines()[0],
            notes=(f"at {where.filename}:{where.lineno} ({where.name}); please report this with the recipe",)))
        return res


def _run_stages(loaded: Loaded, overrides, model_config, want_graph: bool) -> CompileResult:
    res = CompileResult(loaded.file, list(loaded.diagnostics), dict(loaded.sources))
    # A `use` that failed does not stop the checks of the rest of the file; only what the
    # missing file might have defined is not reported (it would echo the import error).
    import_failed = any(d.code in IMPORT_ERRORS for d in res.diagnostics)
    if not loaded.ok or has_errors([d for d in res.diagnostics if d.code not in IMPORT_ERRORS]):
        return _sorted(res)
    ir, diags = build(loaded, overrides)
    if import_failed:
        diags = [d for d in diags if d.code not in MAYBE_FROM_IMPORT]
    res.ir = ir
    res.diagnostics.extend(diags)
    res.ctx = CheckContext(model_config=model_config)
    if ir is not None:  # all errors of a file: check what did build, even after errors
        res.diagnostics.extend(d for d in run_checks(ir, res.ctx, partial=has_errors(diags) or import_failed)
                               if not (import_failed and d.code in MAYBE_FROM_IMPORT))
    if res.ok and ir is not None and (want_graph or ir.reports):
        from resp_dsl.compile.lower import lower

        graph = lower(ir)
        graph.imports = list(loaded.imports)
        res.diagnostics.extend(_dry_run_reports(graph, ir))
        if want_graph and res.ok:
            res.graph = graph
    if not res.diagnostics and not loaded.statements:
        res.diagnostics.append(Diagnostic(C.EMPTY_RECIPE, _first_span(loaded.file), "the file contains no statements"))
    return _sorted(res)


def _dry_run_reports(graph: Graph, ir: RecipeIR) -> list[Diagnostic]:
    """Each op's static check of its nodes (a report built from placeholder rows now), so that
    one that cannot work fails before any compute."""
    from resp_dsl.ops import OPS

    out = []
    for node in graph.nodes.values():
        problem = OPS[node.op].static_problem(node)
        if problem:
            code, message, hint = problem
            out.append(Diagnostic(code, node.span, message, hint=hint))
    return out


def _first_span(file: str):
    from resp_dsl.diagnostics import Span

    return Span.point(file)


def _sorted(res: CompileResult) -> CompileResult:
    res.diagnostics.sort(key=lambda d: (d.span.file != res.file, d.span.file, d.span.line, d.span.col, d.code))
    return res


def check_file(path: str | Path, *, overrides: dict[str, str] | None = None, model_config=None,
               display: str | None = None) -> CompileResult:
    return _run(load(path, name=display), overrides, model_config, want_graph=False)


def compile_file(path: str | Path, *, overrides: dict[str, str] | None = None, model_config=None,
                 display: str | None = None) -> CompileResult:
    return _run(load(path, name=display), overrides, model_config, want_graph=True)


def compile_text(text: str, name: str = "<string>", *, overrides=None, model_config=None,
                 graph: bool = True) -> CompileResult:
    return _run(load(text=text, name=name), overrides, model_config, want_graph=graph)
