"""`eval TASK on calibration`: parsing, IR, lowering (the `draw` param) and keys. Torch-free.

The errors of the statement are in tests/check/bad/eval_on_calibration_*.prune.
"""

from __future__ import annotations

import pytest

from resp_dsl.compile.run_options import apply_run_options
from helpers.graphs import ON_CALIBRATION, compile_ok

def _evals(graph) -> dict[str, dict]:
    return {n.id: n.params for n in graph.nodes.values() if n.op == "eval"}


def test_on_calibration_is_a_clause_of_eval_and_marks_the_eval_spec():
    ir = compile_ok(ON_CALIBRATION).ir
    for arm in ir.arms:
        assert [e.on_calibration for e in arm.evals] == [False, True]
        assert arm.evals[1].task.name == "tiny_gsm" and arm.evals[1].points == (0.2,)


def test_each_seed_evaluates_its_own_draw_and_other_evals_have_no_draw_param():
    evals = _evals(compile_ok(ON_CALIBRATION).graph)
    draws = {nid: p["draw"] for nid, p in evals.items() if "draw" in p}
    assert draws == {"main[seed=0]/eval/tiny_gsm/calibration@0.2": {"split": "validation", "n": 4, "seed": 0},
                     "main[seed=1]/eval/tiny_gsm/calibration@0.2": {"split": "validation", "n": 4, "seed": 1}}
    for nid in draws:  # the draw fixes the split and the number of problems
        assert evals[nid]["split"] == "validation" and evals[nid]["limit"] is None
    plain = [p for nid, p in evals.items() if nid not in draws]
    assert len(plain) == 2 and all("draw" not in p and p["split"] == "test" and p["limit"] == 10 for p in plain)


def test_a_recipe_without_on_calibration_keeps_every_key_of_before():
    """Keys computed on the main branch before `on calibration` existed (c9242b2): experiments are cached
    under them. A hub model and a hub task, so that no local file's checksum enters them."""
    src = """\
model "Qwen/Qwen3-0.6B"
repeat seeds [0, 1]
calibrate self_generated from gsm8k n=8 max_tokens=64
score taylor decode_only
eval gsm8k at [dense, 0.2] limit=10
prune to 0.2
report table rows=arm cols=sparsity by task over seed
"""
    res = compile_ok(src)
    got = {nid: res.graph.key(nid) for nid in res.graph.nodes}
    assert got == {
        "load_model": "37a2c2c29701ae04e056415ad33a14325f03d58750c1ce261d83f5f9150c1070",
        "main[seed=0]/calibrate/self_generated": "28fd9ad5c030ba8454d58d3cb8c65af4ec8c2fa13642e5198cbdcd7bcd92e874",
        "main[seed=0]/score@0": "786bf79fe76ae9bb83b29deeb9ec50300e3eb5d38b2445f8da4696cc9d60509c",
        "main[seed=0]/prune@0.2": "e54e4ce466d2803e83b1e22c8eff840ae6c9ab53966e73d95c798245a51218fb",
        "eval/gsm8k@0": "5d1368364773edb6d9f3ef0767f108f3842ace2db254f5ce7741a36f84362100",
        "main[seed=0]/eval/gsm8k@0.2": "2de203b97a0adb268bf65cc95d76c5cef0d3ba150081fd10023e360ffb3e6c1f",
        "main[seed=1]/calibrate/self_generated": "1b59a1c767eed0c2a8a7ca72923bd11be00625544f532c99a6ff847d8bb46dab",
        "main[seed=1]/score@0": "bedb16f1240fbd047800628892d2e3732b30b4f2a96b156a9b88f2a35c331dba",
        "main[seed=1]/prune@0.2": "fcf774d128c7a58455e3f673890d9900448a814e8a9638a51330949292ce0b5f",
        "main[seed=1]/eval/gsm8k@0.2": "a5e69e7b69a4310d01b33b1d1122915756a3dcc1a81fad7187873589af61d7d0",
        # the report's key under report version 4 (the heatmap's new layout; version 3: e56f30ece3db...,
        # version 2: f6c18d7ae2c7...)
        "report/table1": "8d167edc219cad1ffcc62ced92452528f6093298ee7ab07754ce0606658ebc7a",
    }
    # adding an eval on calibration adds nodes and changes no other (the report is left out here)
    more = compile_ok(src.replace("prune to", "eval gsm8k on calibration at 0.2\nprune to")
                    .replace("report table rows=arm cols=sparsity by task over seed\n", ""))
    new = {nid: more.graph.key(nid) for nid in more.graph.nodes}
    assert {nid: k for nid, k in new.items() if nid in got} == \
        {nid: k for nid, k in got.items() if nid != "report/table1"}
    assert sorted(set(new) - set(got)) == ["main[seed=0]/eval/gsm8k/calibration@0.2",
                                           "main[seed=1]/eval/gsm8k/calibration@0.2"]


def test_the_draw_enters_the_key():
    a = compile_ok(ON_CALIBRATION)
    b = compile_ok(ON_CALIBRATION.replace("n=4", "n=5"))
    ka = {nid: a.graph.key(nid) for nid in a.graph.nodes if nid.endswith("calibration@0.2")}
    kb = {nid: b.graph.key(nid) for nid in b.graph.nodes if nid.endswith("calibration@0.2")}
    assert ka.keys() == kb.keys() and len(ka) == 2 and not set(ka.values()) & set(kb.values())


@pytest.mark.parametrize("limit,seed,expected", [(2, None, (2, [0, 1])), (100, None, (4, [0, 1]))])
def test_run_limit_caps_the_draw_like_the_calibration(limit, seed, expected):
    g = apply_run_options(compile_ok(ON_CALIBRATION).graph, limit=limit, seed=seed)
    cal = sorted((n.params["seed"], n.params["n"]) for n in g.nodes.values() if n.op == "calibrate")
    draws = sorted((p["draw"]["seed"], p["draw"]["n"]) for p in _evals(g).values() if "draw" in p)
    assert draws == cal == [(s, expected[0]) for s in expected[1]]


def test_run_seed_moves_the_draw_with_the_calibration():
    g = apply_run_options(compile_ok(ON_CALIBRATION.replace("repeat seeds [0, 1]\n", "")).graph, seed=7)
    (cal,) = [n.params for n in g.nodes.values() if n.op == "calibrate"]
    (draw,) = [p["draw"] for p in _evals(g).values() if "draw" in p]
    assert cal["seed"] == draw["seed"] == 7 and cal["n"] == draw["n"] == 4


def test_plan_says_which_problems():
    from resp_dsl.cli.plan import build_plan

    res = compile_ok(ON_CALIBRATION)
    notes = {n["id"]: n["cost"]["note"] for n in build_plan(res, cache_root="/nonexistent")["nodes"]
             if n["op"] == "eval"}
    assert notes["main[seed=1]/eval/tiny_gsm/calibration@0.2"].startswith("4 calibration problems (validation, seed 1) ×")
    assert notes["main[seed=1]/eval/tiny_gsm@0.2"].startswith("10 problems ×")
