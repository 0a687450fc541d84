"""`calibrate SOURCE [from TASK|CORPUS|"file"] [n=.. seed=.. max_tokens=.. ...]`: the calibration data
of an arm (generic text, task prompts or self-generated reasoning traces).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resp_dsl import codes as C
from resp_dsl import vocab as V
from resp_dsl.diagnostics import Span
from resp_dsl.ir import models as M
from resp_dsl.ir.statements.task import lookup_task
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope

GENERIC_CORPORA = ("c4", "wikitext", "stdlib_docs")  # stdlib_docs: the bundled model's generic corpus


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    options = ("n", "seed", "max_tokens", "temperature", "top_p", "top_k", "split", "shots")
    src = a.head(V.CALIBRATION_SOURCES, "calibration source",
                 "`calibrate` needs a source: generic, task or self_generated")
    if src is None:
        return
    frm = a.clause("from")
    fields: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    for key in ("n", "seed", "max_tokens", "top_k", "shots"):
        v = a.opt(key)
        if v is not None:
            fields[key] = b.number(v, key, integer=True)
            spans[key] = v.span
    for key in ("temperature", "top_p"):
        v = a.opt(key)
        if v is not None:
            fields[key] = b.number(v, key)
            spans[key] = v.span
    v = a.opt("split")
    if v is not None:
        fields["split"] = b.word(v, V.SPLITS, "split")
    a.finish(options, ("from",))
    if src is None or any(x is None for x in fields.values()):
        return
    if src == "generic":
        if frm is None:
            dataset, text_file = "c4", None
        elif isinstance(frm.values[0], A.String):
            dataset, text_file = frm.values[0].value, frm.values[0].value
        else:
            dataset = b.word(frm.values[0], GENERIC_CORPORA, "generic corpus")
            text_file = None
            if dataset is None:
                return
    else:
        if frm is None:
            b.sink.add(C.MISSING_ARGUMENT, cmd.span, f"`calibrate {src}` needs `from TASK`",
                       hint=f"e.g. calibrate {src} from gsm8k n=128")
            return
        task = lookup_task(b, frm.values[0], "calibration task")
        if task is None:
            return
        dataset = task.path if task.source == "local" else task.name
        text_file = None
        fields["task_file"] = task.path if task.source == "local" else None
    b.set(scope, "calibration", M.CalibrationSpec(source=src, dataset=dataset, text_file=text_file,
                                                  span=cmd.span, spans=spans, **fields), cmd.span)
