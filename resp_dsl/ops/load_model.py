"""load_model: a hub id, a local directory or a bundled (`zoo:`) model; its artifact says where the weights are."""

from __future__ import annotations

from pathlib import Path

from resp_dsl.ops.base import DTYPE_BYTES, Cost, Op, Params, PlanState, human, write_json
from resp_dsl.vocab import Backend, Dtype


class LoadModelParams(Params):
    model: str
    dtype: Dtype
    device: str
    backend: Backend
    revision: str | None = None
    devices: int = 1  # GPUs one copy of the model spans (accelerate device_map; vLLM tensor_parallel_size)


class LoadModel(Op):
    name = "load_model"
    version = 1
    params = LoadModelParams
    inputs = ()
    doc = "load a hub id, local directory or zoo model"
    omit_when_default = ("devices",)

    def cost(self, node, state: PlanState) -> Cost:
        c = Cost()
        if state.config:
            c.params_kept = state.config.total_params()
            c.memory_bytes = c.params_kept * DTYPE_BYTES.get(node.params["dtype"], 2)
        devices = self.params(**node.params).devices
        if devices > 1:
            c.note = f"over {devices} GPUs (accelerate device_map; vLLM tensor_parallel_size={devices})"
            if c.memory_bytes is not None:
                c.note += f", about {human(c.memory_bytes / devices, 'B')} of weights per GPU"
        return c

    def preflight(self, node) -> str | None:
        if node.params.get("backend") != "vllm":
            return None
        from resp_dsl.generation.vllm import BackendUnavailable, require_vllm

        try:
            require_vllm()
        except BackendUnavailable as exc:
            return str(exc)
        return None

    def run(self, ctx, node, inputs, out: Path) -> dict:
        from resp_dsl.runtime.context import resolve_model

        p = node.params
        path, local = resolve_model(p["model"])
        spec = {"source": p["model"], "path": path, "local": local, "dtype": p["dtype"], "device": p["device"],
                "revision": p["revision"], "backend": p["backend"]}
        devices = self.params(**p).devices
        if devices > 1:  # recorded only when used, so that single-device artifacts stay as they were
            spec["devices"] = devices
        if spec["backend"] == "vllm":
            from resp_dsl.generation import get_backend

            get_backend("vllm")  # fails now, with the extra to install, if vLLM is missing
        model, _ = ctx.base_model(spec)
        n_params = sum(t.numel() for t in model.parameters())
        write_json(out / "model.json", {"base": spec, "selection": None, "parameters": n_params,
                                        "model_type": model.config.model_type})
        return {"parameters": n_params}


OP = LoadModel()
