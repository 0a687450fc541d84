"""export: write a loadable pruned model into the run's --out (a side effect, verified on every reuse)."""

from __future__ import annotations

import math
from pathlib import Path

from resp_dsl.ops.base import Cost, Op, Params, PlanState, human, write_json
from resp_dsl.ops.prune import kept_params
from resp_dsl.vocab import ExportFormat, ExportRound


class ExportParams(Params):
    format: ExportFormat
    path: str
    round: ExportRound = "none"  # uniform: pad to the widest block, or round counts (needs the scores input)


def uniform_export_params(cfg, target: float, protect: dict) -> tuple[int, int, list[int]]:
    """(fewest, most) parameters a `uniform` export of a model pruned to ``target`` can keep,
    and the protected blocks.

    A uniform export pads every block to the widest kept counts, so one block kept dense
    (protected) makes the whole export dense-sized: fewest == most == the dense count. Without
    protection the size depends on the selection: from ``kept_params`` (every block pruned
    alike) up to the dense count (one block left whole).
    """
    from resp_dsl.sparsity import protected_blocks

    prot = protected_blocks(cfg.num_hidden_layers, first_fraction=protect.get("first_fraction", 0.0),
                            last=protect.get("last", False), blocks=tuple(protect.get("blocks", ())))
    dense = cfg.total_params()
    if prot or target <= 0:
        return dense, dense, prot
    return kept_params(cfg, target), dense, prot


class Export(Op):
    name = "export"
    version = 1
    params = ExportParams
    inputs = ("model",)
    doc = "write a loadable pruned model"
    runs_on_driver = True

    def cost(self, node, state: PlanState) -> Cost:
        p = node.params
        c = Cost(note=f"{p['format']} -> {p['path']}")
        pr = state.prunes.get(node.inputs.get("model", ""))
        if p["format"] == "uniform" and state.config and pr:
            low, high, prot = uniform_export_params(state.config, pr["target"], pr["protect"])
            c.params_kept = high if prot else low
            if low == high:
                c.note += f"  keeps all {human(high)} params: dense-sized (blocks kept dense pad every block)"
            elif p.get("round", "none") != "none":
                c.note += f"  round={p['round']}: keeps about {human(low)} params (counts rounded to the mean)"
            else:
                c.note += f"  keeps {human(low)}-{human(high)} params (padded to the widest block)"
        return c

    def run(self, ctx, node, inputs, out: Path) -> dict:
        from resp_dsl.runtime import exports
        from resp_dsl.runtime.context import OpError

        p = node.params
        try:
            target = exports.export_target(ctx.out_dir, p)
        except exports.ExportProblem as exc:
            raise OpError(str(exc), hint="export paths are relative to --out") from None
        why = exports.may_replace(target, inputs["model"].key, ctx.overwrite_exports)
        if why:
            raise OpError(why, hint="pass --overwrite-exports to `resp-dsl run` to replace an earlier export, or "
                                    "choose another `export ... to` path or --out")
        files = exports.write(ctx, p, inputs["model"], target, inputs.get("scores"))
        write_json(out / exports.EXPORT_RECORD, {"path": p["path"], "format": p["format"], "files": files})
        if ctx.key:
            ctx.store.note_export(ctx.key, target)
        return {"path": p["path"]}

    def present(self, ctx, node, art, summary: dict, artifacts: dict) -> bool:
        """The export directory is verified against the checksums its entry records and, when it is
        missing or differs, written again (the entry itself is not rewritten)."""
        from resp_dsl.runtime import exports
        from resp_dsl.runtime.context import OpError
        from resp_dsl.runtime.store import CorruptEntryError

        record = art.json(exports.EXPORT_RECORD)
        files = record.get("files")
        if not isinstance(files, dict) or not files:
            raise CorruptEntryError(art.key, art.path, [f"{exports.EXPORT_RECORD} records no checksums"])
        try:
            target = exports.export_target(ctx.out_dir, node.params)
        except exports.ExportProblem as exc:
            raise OpError(str(exc), hint="export paths are relative to --out") from None
        store = ctx.store
        stamps = (store.read_index("xstamps", art.key) or {}).get(str(target))
        problems, fresh = exports.verify(target, files, stamps)
        if not problems:
            _remember_export(store, art.key, target, fresh)
            return True
        model_art = artifacts[node.inputs["model"]]
        with store.lock(art.key, timeout=math.inf,
                        on_wait=lambda s: ctx.log(f"waiting for another run to finish {node.id}")):
            problems, fresh = exports.verify(target, files, None)
            if not problems:
                _remember_export(store, art.key, target, fresh)
                return True
            if problems != ["missing"]:
                ctx.log(f"warning: the export of {node.id} at {target} does not match what was exported "
                        f"({'; '.join(problems[:3])}); it is exported again")
            why = exports.may_replace(target, model_art.key, ctx.overwrite_exports, recorded=files)
            if why:
                raise OpError(why, hint="pass --overwrite-exports to replace an earlier export")
            scores_art = artifacts.get(node.inputs.get("scores", ""))
            written = exports.write(ctx, node.params, model_art, target, scores_art)
        if written != files:
            ctx.log(f"warning: the re-export of {node.id} differs from the first one; its entry is recomputed")
            return False
        _, fresh = exports.verify(target, files, None)
        _remember_export(store, art.key, target, fresh)
        return True


def _remember_export(store, key: str, target: Path, fresh: dict) -> None:
    import contextlib

    store.note_export(key, target)
    all_stamps = store.read_index("xstamps", key) or {}
    if all_stamps.get(str(target)) != fresh:
        all_stamps[str(target)] = fresh
        with contextlib.suppress(OSError):
            store.write_index("xstamps", key, all_stamps)


OP = Export()
