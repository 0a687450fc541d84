"""`model SOURCE [dtype D] [device D] [backend B] [revision R] [devices=N]`: the model an arm prunes
(a hub id, a local directory or ``zoo:<name>``); ``devices=N`` spreads one copy of it over N GPUs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from resp_dsl import codes as C
from resp_dsl import vocab as V
from resp_dsl.diagnostics import suggest
from resp_dsl.ir import models as M
from resp_dsl.ir.values import show
from resp_dsl.syntax import ast as A

MODEL_OPTIONS = ("dtype", "device", "backend", "revision", "devices")

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    src_v = a.take()
    if src_v is None:
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`model` needs a hub id, a local directory or zoo:<name>",
                   hint='e.g. model "Qwen/Qwen3-8B" dtype bf16')
        a.finish()
        return
    source = b.text(src_v, "model")
    opts: dict[str, A.Value] = {}
    while a.pos:  # `dtype bf16` pairs
        key = a.take()
        if isinstance(key, A.Name) and key.value in MODEL_OPTIONS:
            val = a.take()
            if val is None:
                b.sink.add(C.MISSING_ARGUMENT, key.span, f"`{key.value}` needs a value")
            else:
                opts[key.value] = val
        else:
            b.sink.add(C.UNKNOWN_OPTION, key.span, f"unexpected argument {show(key)} to `model`",
                       suggest(key.value, MODEL_OPTIONS) if isinstance(key, A.Name) else None)
    for k in MODEL_OPTIONS:
        v = a.opt(k)
        if v is not None:
            opts[k] = v
    a.finish(MODEL_OPTIONS)
    if source is None:
        return
    kind = "zoo" if source.startswith("zoo:") else (
        "local" if source.startswith((".", "/", "~")) or Path(source).is_dir() else "hub")
    if kind == "zoo":
        from resp_dsl.zoo import MODELS

        if source[4:] not in MODELS:  # the zoo: namespace is local: an unknown name is an error now
            b.sink.add(C.UNKNOWN_VALUE, src_v.span, f'unknown bundled model "{source}"',
                       suggest(source, tuple(f"zoo:{m}" for m in MODELS)) or "bundled models: " + ", ".join(f"zoo:{m}" for m in MODELS))
            return
    fields: dict[str, Any] = {"source": source, "kind": kind, "span": cmd.span}
    if "dtype" in opts:
        fields["dtype"] = b.word(opts["dtype"], V.DTYPES, "dtype")
    if "backend" in opts:
        fields["backend"] = b.word(opts["backend"], V.BACKENDS, "backend")
    if "device" in opts:
        dev = b.text(opts["device"], "device")
        if dev is not None and not (dev in ("auto", "cpu", "cuda", "mps") or dev.startswith("cuda:")):
            b.sink.add(C.UNKNOWN_VALUE, opts["device"].span, f'unknown device "{dev}"',
                       suggest(dev, ("auto", "cpu", "cuda", "mps")))
            dev = None
        fields["device"] = dev
    if "revision" in opts:
        fields["revision"] = b.text(opts["revision"], "revision")
    if "devices" in opts:
        fields["devices"] = b.number(opts["devices"], "devices", integer=True)
        if fields["devices"] is not None and fields["devices"] < 1:
            b.sink.add(C.OUT_OF_RANGE, opts["devices"].span, f"devices={fields['devices']}: a model needs at least 1 device")
            fields["devices"] = None
        elif fields["devices"] is not None and fields["devices"] > 1 and fields.get("device", "auto") != "cuda":
            b.sink.add(C.INCOMPATIBLE_OPTIONS, opts["devices"].span,
                       f"devices={fields['devices']} spreads the model over several GPUs and needs `device cuda`",
                       hint="write `device cuda devices=N` (not cpu, auto or one cuda:K)")
            fields["devices"] = None
    if any(fields.get(k, "") is None for k in ("dtype", "backend", "device", "revision", "devices")):
        return
    b.set(scope, "model", M.ModelSpec(**fields), cmd.span)
