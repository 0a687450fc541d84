"""`export uniform round=...` (issue 12, item 7): a stock-shaped export that is actually smaller."""

from __future__ import annotations


import pytest

pytest.importorskip("torch")

from resp_dsl.compile import compile_text  # noqa: E402
from resp_dsl.runtime.interpreter import run_graph  # noqa: E402
from resp_dsl.runtime.store import Store  # noqa: E402

from helpers.graphs import Quiet  # noqa: E402


def test_rounded_uniform_export_is_smaller_than_padded_and_loads_with_stock_transformers(tmp_path, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    text = (f'model "{tiny_model_dir}" dtype fp32 device cpu\nprotect none\ncalibrate task from tiny_gsm n=4 '
            'max_tokens=16\nscore taylor full\nbasis structures\nprune to 0.3\n'
            'export uniform to "padded" at final\nexport uniform round=both to "rounded" at final\n')
    r = compile_text(text, str(tmp_path / "r.prune"))
    assert r.ok, r.diagnostics
    rounded = [n for n in r.graph.nodes.values() if n.op == "export" and n.params["round"] == "both"]
    assert rounded and "scores" in rounded[0].inputs  # ranked within blocks by the prune's scores
    run_graph(r.graph, store=Store(tmp_path / "c"), out_dir=tmp_path / "o", reporter=Quiet())
    sizes = {}
    for name in ("padded", "rounded"):
        m = AutoModelForCausalLM.from_pretrained(tmp_path / "o" / name)  # stock loader, no remote code
        sizes[name] = sum(p.numel() for p in m.parameters())
        shapes = {(layer.mlp.gate_proj.out_features, layer.self_attn.q_proj.out_features) for layer in m.model.layers}
        assert len(shapes) == 1  # the same sizes in every block
    dense = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(tiny_model_dir).parameters())
    assert sizes["rounded"] < sizes["padded"] <= dense


def test_round_is_for_uniform_exports_only():
    r = compile_text('model "Qwen/Qwen3-8B"\ncalibrate task from gsm8k\nscore taylor\nprune to 0.2\n'
                     'export per_layer round=heads to "x"\n', "r.prune")
    assert [d.code for d in r.diagnostics] == ["incompatible-options"]
    r = compile_text('model "Qwen/Qwen3-8B"\ncalibrate task from gsm8k\nscore taylor\nprune to 0.2\n'
                     'export uniform round=rows to "x"\n', "r.prune")
    assert [d.code for d in r.diagnostics] == ["unknown-value"]
