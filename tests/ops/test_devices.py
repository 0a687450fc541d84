"""`model ... devices=N`: one copy of a model over N GPUs, checked statically, shown by plan, asked of Ray (#13)."""

from __future__ import annotations

from resp_dsl.compile import compile_text

BASE = ('use stdlib/tasks\nmodel "Qwen/Qwen3-32B" dtype bf16 {opts}\ncalibrate self_generated from gsm8k n=8\n'
        'score taylor decode_only on heads, channels\nprune to 0.2\neval gsm8k at [dense, 0.2] limit=10\n')


def _compile(opts: str):
    return compile_text(BASE.format(opts=opts), name="r.prune")


def _load(res):
    return next(n for n in res.graph.nodes.values() if n.op == "load_model")


def test_devices_enter_the_params_and_the_key_only_when_not_one():
    one, default, two = _compile("device cuda devices=1"), _compile("device cuda"), _compile("device cuda devices=2")
    assert "devices" not in _load(one).params and "devices" not in _load(default).params
    assert one.graph.key(_load(one).id) == default.graph.key(_load(default).id)
    assert _load(two).params["devices"] == 2
    assert two.graph.key(_load(two).id) != default.graph.key(_load(default).id)


def test_devices_need_cuda_and_at_least_one():
    assert [d.code for d in _compile("devices=2").diagnostics] == ["incompatible-options"]
    assert [d.code for d in _compile("device cpu devices=2").diagnostics] == ["incompatible-options"]
    assert [d.code for d in _compile("device cuda devices=0").diagnostics] == ["out-of-range"]
    assert [d.code for d in _compile("device cuda devices=1.5").diagnostics]


def test_plan_shows_the_spread_and_ray_asks_for_that_many_gpus():
    from resp_dsl.ops import OPS
    from resp_dsl.ops.base import PlanState
    from resp_dsl.registry import resolve
    from resp_dsl.runtime.ray_executor import placement

    res = _compile("device cuda devices=2")
    load = _load(res)
    note = OPS["load_model"].cost(load, PlanState(config=resolve("Qwen/Qwen3-32B"))).note
    assert "over 2 GPUs" in note and "per GPU" in note
    score = next(n for n in res.graph.nodes.values() if OPS[n.op].shard_kind(n.params) == "score")
    assert placement(res.graph, score) == {"num_cpus": 1.0, "num_gpus": 2.0}
    assert placement(res.graph, load, gpus_per_eval=None)["num_gpus"] == 2.0


def test_device_auto_is_resolved_before_torch_sees_it(monkeypatch):
    """`device auto` (the default of every recipe that names no device) picks cuda, then mps, then
    cpu; it used to reach torch as the string "auto" and fail in load_model."""
    import pytest

    torch = pytest.importorskip("torch")
    from resp_dsl.models.loading import resolve_device

    assert resolve_device("cuda:1") == "cuda:1" and resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == resolve_device(None) == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"


def test_a_recipe_without_a_device_loads_the_model(tmp_path):
    import pytest

    pytest.importorskip("torch")
    from resp_dsl import zoo
    from resp_dsl.runtime.context import load_base

    model, _ = load_base({"path": str(zoo.path("tiny-reasoner")), "dtype": "fp32", "device": "auto"})
    assert next(model.parameters()).device.type in ("cpu", "cuda", "mps")
