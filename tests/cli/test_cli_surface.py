"""What users of lm-eval, torchtune and snakemake expect of the CLI (issue 12, item 14), torch-free parts."""

from __future__ import annotations

import argparse
import importlib
import json

from resp_dsl.cli import COMMANDS, main
from resp_dsl.compile.pipeline import compile_text
from resp_dsl.compile.run_options import SelectionError, ancestors, apply_run_options, match

RECIPE = """\
use stdlib/tasks
model "zoo:tiny-reasoner"
calibrate self_generated from tiny_gsm n=16 max_tokens=32 seed=0
score taylor decode_only
schedule milestones [0.1, 0.2] regen ρ=1.0
eval tiny_gsm at [dense, 0.2] limit=50
"""


def _graph():
    res = compile_text(RECIPE, name="r.prune")
    assert res.ok, [d.message for d in res.diagnostics]
    return res.graph


def test_every_flag_of_every_command_has_help():
    missing = []

    def walk(p, path):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sp in a.choices.items():
                    walk(sp, path + [name])
            elif not isinstance(a, (argparse._HelpAction, argparse._VersionAction)) and not a.help:
                missing.append(" ".join(path + [a.option_strings[0] if a.option_strings else a.dest]))

    for name, (mod, _) in COMMANDS.items():
        p = argparse.ArgumentParser(prog=name)
        importlib.import_module(mod).add_arguments(p)
        walk(p, [name])
    assert missing == []


def test_ls_lists_tasks_methods_ops_and_models_with_descriptions(capsys):
    assert main(["ls", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"tasks", "methods", "ops", "models"} <= set(data)
    assert [m["name"] for m in data["methods"]] == ["taylor", "wanda", "magnitude", "flap"]
    assert {t["name"] for t in data["tasks"]} >= {"gsm8k", "mathqa", "tiny_gsm", "jsonl:PATH"}
    assert {o["name"] for o in data["ops"]} >= {"load_model", "calibrate", "prune", "eval", "report"}
    assert "zoo:tiny-reasoner" in {m["name"] for m in data["models"]}
    for section in ("tasks", "methods", "ops", "models"):
        assert all(item["doc"] for item in data[section]), section
    assert main(["ls", "tasks"]) == 0
    text = capsys.readouterr().out
    assert "tiny_gsm" in text and "max_new_tokens=160" in text


def test_limit_and_seed_change_the_keys():
    g = _graph()
    small = apply_run_options(g, limit=4)
    seeded = apply_run_options(g, seed=7)
    by_op = lambda graph, op: [n for n in graph.nodes.values() if n.op == op]  # noqa: E731
    assert {n.params["limit"] for n in by_op(small, "eval")} == {4}
    assert {n.params["n"] for n in by_op(small, "calibrate")} == {4}
    assert {n.params["seed"] for n in by_op(seeded, "eval") + by_op(seeded, "calibrate") + by_op(seeded, "regenerate")} == {7}
    for other in (small, seeded):
        changed = {nid for nid in g.nodes if g.key(nid) != other.key(nid)}
        assert changed and "load_model" not in changed
    assert apply_run_options(g) is g


def test_until_selects_a_node_and_what_it_needs():
    g = _graph()
    (prune,) = match(g, "*/prune@0.1")
    sub = ancestors(g, [prune])
    assert {g.nodes[n].op for n in sub} == {"load_model", "calibrate", "score", "prune"}
    try:
        match(g, "main/prune@0.15")
    except SelectionError as exc:
        assert "did you mean" in (exc.hint or "")
    else:
        raise AssertionError("an unknown node must be refused")
