"""Exported models as side effects of export nodes: confined, recorded, verified, rewritten only when needed.

An export node's store entry (``export.json``) records the relative path, the format and the
sha256 and size of every file of the export directory. The directory itself lives in the
run's ``--out``, outside the store:

- its path is confined to ``--out`` (``export_path_problem``; checked again here on the
  resolved path, so a symlink or a loop value cannot lead outside either);
- a run that reuses the node verifies the directory against ``export.json`` (files of at
  least ``LARGE_FILE`` bytes only when their size/mtime/inode changed since the last full
  hash) and writes it again, with a warning, when it is missing or does not match; the
  entry itself is never rewritten, and a re-export is byte-identical to the first;
- an existing directory is replaced only when it carries our marker (``resp_dsl.json``):
  silently when it is an export of the same model, with ``--overwrite-exports`` otherwise.

Nothing here imports torch at module level: a fully cached run verifies exports without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from resp_dsl.check.local_paths import export_path_problem
from resp_dsl.runtime.store import sha256_file, verify_files

EXPORT_RECORD = "export.json"
MARKER = "resp_dsl.json"  # written by resp_dsl.pruning.export into every export directory


class ExportProblem(Exception):
    """An export that may not be written where the recipe asks."""


def export_target(out_dir: Path, params: dict) -> Path:
    """Where an export node writes: ``params["path"]`` inside ``out_dir``, or ``ExportProblem``."""
    rel = str(params["path"])
    problem = export_path_problem(rel)
    if problem:
        raise ExportProblem(f'export path "{rel}": {problem}')
    root = Path(out_dir).resolve()
    target = (root / rel).resolve()
    if root not in target.parents:
        raise ExportProblem(f'export path "{rel}" resolves to {target}, outside --out ({root})')
    return target


def checksums(directory: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every regular file under ``directory``, by relative path."""
    out = {}
    for f in sorted(directory.rglob("*")):
        if f.is_file() and not f.is_symlink():
            out[f.relative_to(directory).as_posix()] = {"sha256": sha256_file(f), "size": f.stat().st_size}
    return out


def verify(directory: Path, files: dict[str, dict[str, Any]], stamps: dict | None = None,
           ) -> tuple[list[str], dict[str, list]]:
    """Problems of ``directory`` against recorded ``files`` (empty: identical), and fresh stamps.

    ``stamps`` ({relpath: [size, mtime_ns, inode, sha256]}) from an earlier full verification
    let large files skip re-hashing when unchanged; pass None to hash everything.
    """
    if not directory.is_dir():
        return ["missing"], {}
    return verify_files(directory, files, stamps)


def marker_of(directory: Path) -> dict | None:
    """The export marker of ``directory`` (None: not an export made by resp-dsl)."""
    try:
        data = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def may_replace(directory: Path, model_key: str, overwrite: bool, *, recorded: dict | None = None) -> str | None:
    """Why ``directory`` must not be replaced by an export of ``model_key``, or None.

    Replaceable: an empty directory; one whose marker names the same model (a damaged copy
    of this very export); with ``overwrite``, one whose marker names another model; and an
    export whose marker itself was damaged or deleted when ``recorded`` (this node's recorded
    files) covers every file in it, so nothing but export files can be lost. Never: a
    directory without a marker that holds anything else (a user's directory).
    """
    if not directory.exists() and not directory.is_symlink():
        return None
    if directory.is_symlink() or not directory.is_dir():
        return f"{directory} exists and is not a directory"
    if not any(directory.iterdir()):
        return None
    marker = marker_of(directory)
    if marker is None:
        present = {f.relative_to(directory).as_posix() for f in directory.rglob("*") if not f.is_dir()}
        if recorded and present <= set(recorded):
            return None
        return (f"{directory} exists and is not an export made by resp-dsl (no {MARKER}); "
                "it is never replaced: choose another export path or --out")
    if (marker.get("metadata") or {}).get("recipe_key") == model_key or overwrite:
        return None
    return f"{directory} holds an earlier export of another model; pass --overwrite-exports to replace it"


def rounded_model(ctx, params: dict, model_art, scores_art):
    """The model a `uniform round=...` export writes: the pruned blocks' counts rounded to their mean
    (``pruning.select.round_uniform``, best-scored structures kept), applied to the base model."""
    import copy

    from safetensors.torch import load_file

    from resp_dsl.pruning.apply import apply_selection
    from resp_dsl.pruning.scoring import StructureScores
    from resp_dsl.pruning.select import Selection, round_uniform
    from resp_dsl.runtime.context import OpError

    info = model_art.json("model.json")
    if info.get("selection") is None or scores_art is None:
        raise OpError("`round` needs a pruned model and the scores it was selected with",
                      hint="export the dense model without round=")
    base, _ = ctx.base_model(info["base"])
    scores = StructureScores.from_tensors(load_file(str(scores_art.file("scores.safetensors"))))
    try:
        selection = round_uniform(base, scores, Selection.from_dict(model_art.json("selection.json")), params["round"])
    except ValueError as exc:
        raise OpError(f"cannot round this selection to a uniform layout: {exc}") from None
    model = copy.deepcopy(base)
    apply_selection(model, selection, mode="physical")
    return model.eval(), selection


def write(ctx, params: dict, model_art, target: Path, scores_art=None) -> dict[str, dict[str, Any]]:
    """Export the model of ``model_art`` into ``target`` (which ``may_replace`` allowed); returns
    the checksums of what was written. A uniform export with ``round`` writes the rounded model
    (``rounded_model``; ``scores_art``: the scores the prune selected with).

    The export is written into a fresh sibling directory and swapped into place, so a reader
    sees the old directory or the new one, never a mix, and a crash leaves the old one.
    """
    import shutil
    import tempfile

    from resp_dsl.pruning.export import ExportError, export_model
    from resp_dsl.runtime.context import OpError, fresh_tokenizer

    if params.get("round", "none") != "none":
        model, _ = rounded_model(ctx, params, model_art, scores_art)
    else:
        model, _ = ctx.model(model_art)
    # A tokenizer fresh from the model directory: the one generation used carries padding
    # state, which would make this export differ from a re-export in a later run.
    tok = fresh_tokenizer(model_art.json("model.json")["base"])
    source = Path(model_art.json("model.json")["base"]["path"]).resolve()
    if source.exists() and (target == source or source in target.parents or target in source.parents):
        raise OpError(f"refusing to export into {target}: it overlaps the source model at {source}",
                      hint="choose another export path or --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.export-"))
    try:
        export_model(model, tok, stage / "x", format=params.get("format", "per_layer"),
                     metadata={"recipe_key": model_art.key})
        _umask_tree(stage / "x")
        files = checksums(stage / "x")
        if target.exists() or target.is_symlink():
            os.rename(target, stage / "old")
        os.rename(stage / "x", target)
    except ExportError as exc:
        raise OpError(str(exc), hint="choose another export path or --out") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return files


def _umask_tree(directory: Path) -> None:
    """Give an export the permissions of the user's umask (mkdtemp creates 0700 / 0600)."""
    from resp_dsl.files import umask

    mask = umask()
    os.chmod(directory, 0o777 & ~mask)
    for p in directory.rglob("*"):
        if p.is_symlink():
            continue
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)
