"""`check`/`plan` say how large a uniform export will be and warn when it is dense-sized (issue 12, item 7)."""

from __future__ import annotations

import json

from resp_dsl.compile import compile_text
from resp_dsl.ops.export import uniform_export_params
from resp_dsl.ops.prune import kept_params
from resp_dsl.registry import resolve

BASE = ('use stdlib/tasks\nmodel "zoo:tiny-reasoner" dtype fp32 device cpu\nscore magnitude\n{protect}'
        'prune to 0.4\nexport {fmt} to "m" at final\n')


def _codes(text):
    return [d.code for d in compile_text(text, name="r.prune").diagnostics]


def test_a_uniform_export_with_protected_blocks_is_dense_sized():
    assert "uniform-export-dense" in _codes(BASE.format(protect="protect last block\n", fmt="uniform"))
    assert "uniform-export-dense" not in _codes(BASE.format(protect="protect last block\n", fmt="per_layer"))
    assert "uniform-export-dense" not in _codes(BASE.format(protect="", fmt="uniform"))


def test_plan_reports_the_parameters_a_uniform_export_keeps(run_cli, tmp_path):
    cfg = resolve("zoo:tiny-reasoner")
    none = {"first_fraction": 0.0, "last": False, "blocks": []}
    low, high, prot = uniform_export_params(cfg, 0.4, none)
    assert (low, high, prot) == (kept_params(cfg, 0.4), cfg.total_params(), [])
    assert uniform_export_params(cfg, 0.4, {**none, "last": True})[:2] == (cfg.total_params(),) * 2
    p = tmp_path / "r.prune"
    p.write_text(BASE.format(protect="protect last block\n", fmt="uniform"))
    code, out, err = run_cli("plan", p, "--format", "json")
    assert code == 0
    export = next(n for n in json.loads(out)["nodes"] if n["op"] == "export")
    assert export["cost"]["params_kept"] == cfg.total_params() and "dense-sized" in export["cost"]["note"]
