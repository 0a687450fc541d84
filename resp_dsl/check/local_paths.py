"""Local files and directories that a recipe names exist (models, task files, text corpora)."""

from __future__ import annotations

from resp_dsl import codes as C

from pathlib import Path

from resp_dsl.diagnostics import Diagnostic


def _base(recipe) -> Path:
    return Path(recipe.file).parent if not recipe.file.startswith("<") else Path.cwd()


def resolve_local(recipe, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else _base(recipe) / p


def export_path_problem(path: str) -> str | None:
    """Why an export path from recipe text may not be used, or None.

    An export lands in a directory strictly inside the run's ``--out``: a relative path
    without ``..``, not empty and not ``.``. An absolute destination can only come from the
    command line (``--out``), never from recipe text, so a recipe cannot make a run replace
    a directory elsewhere.
    """
    text = path.strip()
    if not text or Path(text) == Path("."):
        return "the export path is empty or names --out itself"
    if text.startswith("~") or Path(text).is_absolute():
        return "an export path from a recipe must be relative to --out (choose the destination with --out)"
    if ".." in Path(text).parts:
        return "an export path must not leave --out through `..`"
    if "\0" in text:
        return "an export path must not contain a NUL character"
    return None


def check(recipe, ctx) -> list[Diagnostic]:
    out, seen = [], set()

    def need(path, span, what, is_dir=False):
        if (path, span) in seen:
            return
        seen.add((path, span))
        p = resolve_local(recipe, path)
        ok = p.is_dir() if is_dir else p.is_file()
        if not ok and not (not is_dir and Path(path).is_file()):
            out.append(Diagnostic(C.LOCAL_PATH_MISSING, span, f'{what} "{path}" does not exist',
                                  notes=(f"looked at {p}",)))

    for task in recipe.tasks.values():
        if task.source == "local" and task.path:
            need(task.path, task.span, "task file")
    for arm in recipe.arms:
        if arm.model is not None and arm.model.kind == "local":
            need(arm.model.source, arm.model.span, "model directory", is_dir=True)
        c = arm.calibration
        if c is not None and c.text_file:
            need(c.text_file, c.span, "calibration text file")
        elif c is not None and c.task_file:
            need(c.task_file, c.span, "calibration file")
        for ev in arm.evals:
            if ev.task.source == "local" and ev.task.path:
                need(ev.task.path, ev.span, "task file")
        for ex in arm.exports:
            problem = export_path_problem(ex.path)
            if problem and (ex.path, ex.span) not in seen:
                seen.add((ex.path, ex.span))
                out.append(Diagnostic(C.EXPORT_PATH_ESCAPES, ex.span, f'export path "{ex.path}": {problem}',
                                      hint='write a path inside --out, e.g. to "exports/{arm}-{sparsity}", '
                                           "and pick the destination with `resp-dsl run --out DIR`"))
    return out
