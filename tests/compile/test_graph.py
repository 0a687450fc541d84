"""Lowering, prefix sharing and content keys."""

from __future__ import annotations

from pathlib import Path

from resp_dsl.compile import compile_file, compile_text
from resp_dsl.graph import CACHE_SCHEME, Graph, Node

ROOT = Path(__file__).resolve().parents[2]


def _graph(name):
    r = compile_file(ROOT / "recipes" / name)
    assert r.ok
    return r.graph


def test_table3_arms_share_the_path_to_30_percent():
    g = _graph("paper_table3_regen_ratio.prune")
    prunes = [n for n in g.nodes.values() if n.op == "prune"]
    by_target = {}
    for n in prunes:
        by_target.setdefault(n.params["target"], []).append(n)
    assert [len(by_target[t]) for t in (0.1, 0.2, 0.3)] == [1, 1, 1]  # run once
    assert len(by_target[0.4]) == 6  # one branch per ρ
    assert len(by_target[0.3][0].arms) == 6
    regen_from_30 = [n for n in g.nodes.values() if n.op == "regenerate" and n.inputs["model"] == by_target[0.3][0].id]
    assert sorted(n.params["rho"] for n in regen_from_30) == [0.2, 0.4, 0.6, 0.8, 1.0]  # ρ=0 keeps the traces
    assert sum(n.op == "load_model" for n in g.nodes.values()) == 1


def test_table1_shape():
    g = _graph("paper_table1.prune")
    ops = [n.op for n in g.nodes.values()]
    assert ops.count("load_model") == 1
    assert ops.count("calibrate") == 4  # task + self_generated, per dataset
    # the dense evaluation is one node per task, shared by all four arms
    dense = [n for n in g.nodes.values() if n.op == "eval" and n.inputs["model"] == "load_model"]
    assert len(dense) == 2 and all(len(n.arms) == 4 for n in dense)
    gisp = [n for n in g.nodes.values() if n.op == "prune" and "gisp[dataset=gsm8k]" in n.arms]
    assert [n.params["steps"] for n in gisp] == [56, 28, 28]  # 112 steps, checkpointed at 0.2/0.3
    assert ops.count("report") == 2


def test_milestones_lower_to_a_chain_with_regeneration():
    r = compile_text('model "Qwen/Qwen3-8B"\ncalibrate self_generated from gsm8k n=8\nscore taylor decode_only\n'
                     "schedule milestones [0.1..0.3] regen ρ=0.5\n", "m.prune")
    assert r.ok, r.diagnostics
    chain = [n.op for n in r.graph.topological_order()]
    assert chain == ["load_model", "calibrate", "score", "prune", "regenerate", "score", "prune", "regenerate",
                     "score", "prune"]
    regen = [n for n in r.graph.nodes.values() if n.op == "regenerate"]
    assert all(n.params["rho"] == 0.5 for n in regen)


def test_topological_order_puts_parents_first():
    g = _graph("paper_table2_path_contrast.prune")
    seen = set()
    for n in g.topological_order():
        assert set(n.inputs.values()) <= seen
        seen.add(n.id)


def test_keys_are_stable_and_content_addressed():
    src = 'model "Qwen/Qwen3-8B"\ncalibrate task from gsm8k n=8\nscore taylor\nprune to 0.2\n'
    a = compile_text(src, "a.prune").graph
    b = compile_text("# a comment changes nothing\n" + src.replace("n=8", "n=8 "), "b.prune").graph
    c = compile_text(src.replace("n=8", "n=9"), "c.prune").graph
    ka = {n.op: a.key(n.id) for n in a.nodes.values()}
    kb = {n.op: b.key(n.id) for n in b.nodes.values()}
    kc = {n.op: c.key(n.id) for n in c.nodes.values()}
    assert ka == kb
    assert ka["load_model"] == kc["load_model"]
    assert all(ka[op] != kc[op] for op in ("calibrate", "score", "prune"))  # a parent change reaches every child
    assert all(len(k) == 64 for k in ka.values())


def test_key_covers_local_file_contents(tmp_path):
    data = tmp_path / "mine.jsonl"
    data.write_text('{"question": "1+1?", "answer": "#### 2"}\n')
    src = ('task mine from "mine.jsonl"\nmodel "Qwen/Qwen3-8B"\ncalibrate task from mine n=1\nscore taylor\n'
           "prune to 0.2\neval mine at [0.2]\n")
    (tmp_path / "r.prune").write_text(src)
    g1 = compile_file(tmp_path / "r.prune").graph
    keys1 = {n.op: g1.key(n.id) for n in g1.nodes.values()}
    data.write_text('{"question": "1+2?", "answer": "#### 3"}\n')
    g2 = compile_file(tmp_path / "r.prune").graph
    keys2 = {n.op: g2.key(n.id) for n in g2.nodes.values()}
    assert keys1["load_model"] == keys2["load_model"]
    assert keys1["calibrate"] != keys2["calibrate"] and keys1["eval"] != keys2["eval"]


def test_key_includes_scheme_and_version():
    g = Graph()
    g.add(Node("m", "load_model", 1, {"model": "x"}, {}))
    k = g.key("m")
    g2 = Graph()
    g2.add(Node("m", "load_model", 2, {"model": "x"}, {}))
    assert k != g2.key("m") and isinstance(CACHE_SCHEME, int)


def test_graph_exports(run_cli):
    import json

    code, out, _ = run_cli("graph", "recipes/paper_table3_regen_ratio.prune", "--format", "json")
    assert code == 0 and len(json.loads(out)["nodes"]) > 10
    code, out, _ = run_cli("graph", "recipes/quickstart.prune", "--format", "dot")
    assert code == 0 and out.startswith("digraph") and "->" in out
    code, out, _ = run_cli("graph", "recipes/quickstart.prune", "--format", "mermaid")
    assert code == 0 and out.startswith("flowchart LR") and "-->" in out


def test_plan_reports_costs_and_cache_state(tmp_path, run_cli):
    import json

    code, out, _ = run_cli("plan", "recipes/paper_table1.prune", "--format", "json", "--cache", tmp_path)
    assert code == 0
    data = json.loads(out)
    assert data["header"]["params"] == 8_190_735_360
    assert data["header"]["protected_blocks"] == [0, 1, 2, 35]
    cal = next(n for n in data["nodes"] if n["op"] == "calibrate" and n["params"]["source"] == "self_generated")
    assert cal["cost"]["tokens_generated"] == 500 * 2048
    assert not any(n["cached"] for n in data["nodes"])
    code, text, _ = run_cli("plan", "recipes/paper_table1.prune", "--cache", tmp_path)
    assert code == 0 and "load_model" in text and "8.19B params" in text


def test_long_chains_do_not_exhaust_the_stack():
    import io

    from rich.console import Console

    from resp_dsl.cli.plan import build_plan, render_tree

    r = compile_text('model "Qwen/Qwen3-8B"\ncalibrate self_generated from gsm8k n=2\nscore taylor\n'
                     "schedule milestones [0.0005..0.75 step 0.0005] regen ρ=0.5\n", "long.prune")
    assert r.ok and len(r.graph.nodes) > 4000  # deeper than Python's recursion limit
    data = build_plan(r, cache_root="/nonexistent-resp-dsl-cache")
    tree, footer = render_tree(data)
    Console(file=io.StringIO(), width=200).print(tree)
    assert footer.startswith(f"{len(r.graph.nodes)} nodes")


def test_a_directory_checksum_follows_content_not_modification_times(tmp_path):
    """A fresh clone gives the bundled model's files new mtimes: keys must not change (they did:
    every golden plan of a zoo recipe and every cache entry broke in a new checkout)."""
    import os

    from resp_dsl.graph import checksum_path

    d = tmp_path / "model"
    d.mkdir()
    (d / "config.json").write_text("{}")
    (d / "model.safetensors").write_bytes(b"\0" * 1000)
    before = checksum_path(str(d))
    for f in d.iterdir():
        os.utime(f, (1_000_000_000, 1_000_000_000))
    assert checksum_path(str(d)) == before
    (d / "model.safetensors").write_bytes(b"\1" + b"\0" * 999)  # same size, other content
    assert checksum_path(str(d)) != before


def test_a_directory_checksum_leaves_out_the_documentation_beside_the_weights(tmp_path):
    """Re-measuring a bundled model's card (card.json, README.md) or adding a licence must not
    invalidate every result computed from the model (it did: a card update recomputed a whole
    miniature table); any file loading reads still counts."""
    from resp_dsl.graph import checksum_path

    d = tmp_path / "model"
    d.mkdir()
    (d / "config.json").write_text("{}")
    (d / "model.safetensors").write_bytes(b"\0" * 1000)
    (d / "merges.txt").write_text("a b\n")  # a tokenizer file, though .txt
    before = checksum_path(str(d))
    for name in ("README.md", "card.json", "training.json", "LICENSE", ".gitattributes", "NOTES.md"):
        (d / name).write_text("edited")
        assert checksum_path(str(d)) == before, name
    for name in ("config.json", "merges.txt", "tokenizer.json"):
        (d / name).write_text('{"x": 1}')
        assert checksum_path(str(d)) != before, name
        before = checksum_path(str(d))
