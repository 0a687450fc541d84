"""`repeat seeds`: arms repeated over calibration seeds share every node the seed does not reach (issue 14).

Torch-free: parsing, IR, lowering and prefix sharing, report nodes.
"""

from __future__ import annotations

from resp_dsl.compile.pipeline import compile_text

HEAD = """\
use stdlib/tasks
model "zoo:tiny-reasoner" dtype fp32 device cpu
protect last block
calibrate self_generated from tiny_gsm n=4 max_tokens=32
score taylor decode_only
eval tiny_gsm at [dense, 0.2, 0.3] limit=20
"""


def _compile(body: str):
    res = compile_text(HEAD + body, name="r.prune")
    assert res.ok, [f"{d.span.line}: {d.message}" for d in res.diagnostics]
    return res


def _nodes(graph, op: str) -> list:
    return [n for n in graph.nodes.values() if n.op == op]


RESP = """\
repeat seeds [0, 1, 2]
schedule milestones [0.2, 0.3] regen ρ=1.0
export per_layer to "out/{arm}-{seed}-{sparsity}"
"""


def test_each_seed_is_an_arm_with_that_calibration_seed():
    ir = _compile(RESP).ir
    assert [a.label for a in ir.arms] == ["main[seed=0]", "main[seed=1]", "main[seed=2]"]
    assert [a.calibration.seed for a in ir.arms] == [0, 1, 2]
    assert [a.exports[0].path for a in ir.arms] == [f"out/main[seed={s}]-{s}-{{sparsity}}" for s in (0, 1, 2)]


def test_seeds_share_the_model_and_the_dense_eval_but_not_what_the_seed_reaches():
    g = _compile(RESP).graph
    assert len(_nodes(g, "load_model")) == 1
    evals = _nodes(g, "eval")
    dense = [e for e in evals if e.inputs["model"] == _nodes(g, "load_model")[0].id]
    assert len(dense) == 1 and len(dense[0].arms) == 3  # one dense evaluation for all seeds
    assert len(evals) == 1 + 3 * 2  # + one per seed at 20% and 30%
    cal = _nodes(g, "calibrate")
    assert sorted(n.params["seed"] for n in cal) == [0, 1, 2]
    # regeneration seeds derive from the calibration seed: one regenerate per seed, all different
    regen = _nodes(g, "regenerate")
    assert sorted(n.params["seed"] for n in regen) == [0, 1, 2]
    for op in ("score", "prune"):
        assert all(len(n.arms) == 1 for n in _nodes(g, op)), op


THREE_ARMS = """\
repeat seeds [0, 1]
arm resp:
    schedule milestones [0.2, 0.3] regen ρ=1.0
arm wanda:
    score wanda
    prune to [0.2, 0.3]
arm mag:
    score magnitude
    prune to [0.2, 0.3]
"""


def test_arms_that_draw_no_calibration_are_not_repeated_and_arms_share_a_seed_calibration():
    res = _compile(THREE_ARMS)
    assert [a.label for a in res.ir.arms] == ["resp[seed=0]", "resp[seed=1]", "wanda[seed=0]", "wanda[seed=1]", "mag"]
    cal = _nodes(res.graph, "calibrate")
    assert sorted((n.params["seed"], sorted(n.arms)) for n in cal) == [
        (0, ["resp[seed=0]", "wanda[seed=0]"]), (1, ["resp[seed=1]", "wanda[seed=1]"])]


def test_repeat_inside_a_loop_and_an_arm_scope():
    body = """\
for rho in [0, 1.0]:
    arm resp:
        repeat seeds [3, 4]
        schedule milestones [0.2, 0.3] regen ρ=rho
arm other:
    prune to [0.2, 0.3]
"""
    ir = _compile(body).ir
    assert [a.label for a in ir.arms] == ["resp[rho=0,seed=3]", "resp[rho=0,seed=4]", "resp[rho=1.0,seed=3]",
                                          "resp[rho=1.0,seed=4]", "other"]
    assert ir.arms[-1].repeat is None and ir.arms[-1].calibration.seed == 0


def test_report_nodes_carry_over_and_compare_inputs_are_the_two_arms():
    body = THREE_ARMS + """\
report table rows=arm cols=sparsity over seed
report compare resp vs wanda at 0.3 by task
"""
    g = _compile(body).graph
    table = g.nodes["report/table1"]
    cmp = g.nodes["report/compare1"]
    assert table.params["over"] == "seed" and table.params["a"] is None
    assert (cmp.params["a"], cmp.params["b"], cmp.params["at"], cmp.params["by"]) == ("resp", "wanda", 0.3, "task")
    assert len(table.inputs) == len(_nodes(g, "eval"))
    # only the evaluations of the two arms (a magnitude-only eval would key the report for nothing)
    assert all(any(a.startswith(("resp", "wanda")) for a in g.nodes[nid].arms) for nid in cmp.inputs)
    assert len(cmp.inputs) == 1 + 2 * 2 * 2  # dense + {resp, wanda} x 2 seeds x {0.2, 0.3}


def test_over_seed_changes_the_report_key_only():
    plain = _compile(RESP + "report table rows=arm cols=sparsity\n").graph
    over = _compile(RESP + "report table rows=arm cols=sparsity over seed\n").graph
    from resp_dsl.files import canonical_json

    def sig(g):
        return {n.id: canonical_json([n.op, n.params, sorted(n.inputs.items())]) for n in g.nodes.values()
                if n.op != "report"}

    assert sig(plain) == sig(over)
    assert plain.nodes["report/table1"].params != over.nodes["report/table1"].params


def test_run_seed_option_refuses_a_recipe_repeated_over_seeds():
    import pytest

    from resp_dsl.compile.run_options import SelectionError, apply_run_options

    g = _compile(RESP).graph
    with pytest.raises(SelectionError, match="repeats arms over calibration seeds"):
        apply_run_options(g, seed=7)
    small = apply_run_options(g, limit=2)  # --limit keeps the seeds apart
    assert sorted(n.params["seed"] for n in small.nodes.values() if n.op == "calibrate") == [0, 1, 2]
    plain = _compile("schedule milestones [0.2, 0.3] regen ρ=1.0\n").graph
    assert {n.params["seed"] for n in apply_run_options(plain, seed=7).nodes.values() if n.op == "calibrate"} == {7}
