"""The shipped paper recipes run the authors' method (docs/fidelity.md), read off their plans.

No torch: plans are built offline from the registry's Qwen3-8B config. The plan of every
shipped recipe is also kept as a golden file (tests/compile/golden/recipes/NAME.plan.json), so a
change to any node key of a shipped recipe shows up in review.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resp_dsl.cli.plan import build_plan
from resp_dsl.compile import compile_file
from resp_dsl.sparsity import linear_targets, path_intervals, regeneration_seed

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted((ROOT / "recipes").glob("*.prune"))
GOLDEN = Path(__file__).resolve().parent / "golden" / "recipes"


def _plan(name: str, **overrides) -> dict:
    r = compile_file(ROOT / "recipes" / f"{name}.prune", display=f"recipes/{name}.prune",
                     overrides=overrides or None)
    assert r.ok, r.diagnostics
    return build_plan(r, cache_root=GOLDEN / "no-such-cache")


def _arm_nodes(plan: dict, arm: str, op: str) -> list[dict]:
    return [n for n in plan["nodes"] if n["op"] == op and arm in n["arms"]]


def _path(plan: dict, arm: str) -> list[dict]:
    """The prune nodes on an arm's path, from the dense model on (shared prefixes included)."""
    nodes = {n["id"]: n for n in plan["nodes"]}
    evals = _arm_nodes(plan, arm, "eval")
    end = max((nodes[e["inputs"]["model"]] for e in evals), key=lambda n: n["params"].get("target", 0))
    out = []
    while end["op"] == "prune":
        out.append(end)
        end = nodes[end["inputs"]["model"]]
    return out[::-1]


@pytest.fixture(scope="module")
def table1() -> dict:
    return _plan("paper_table1")


@pytest.mark.parametrize("dataset", ["gsm8k", "mathqa"])
def test_table1_runs_the_authors_schedule(table1, dataset):
    for arm in ("gisp", "resp", "resp_no_regen"):
        path = _path(table1, f"{arm}[dataset={dataset}]")
        assert sum(n["params"]["steps"] for n in path) == 112, arm  # 112 linear steps to 40%, re-scored each
        assert [n["params"]["target"] for n in path][-1] == 0.4
        starts = [n["params"]["start"] for n in path]
        assert starts == [0.0] + [n["params"]["target"] for n in path[:-1]]  # a chain, not branches
        assert all(n["params"]["basis"] == "structures" for n in path)
    # Regeneration only in the RESP arm, at every milestone, each with its own sampling seed.
    regen = _arm_nodes(table1, f"resp[dataset={dataset}]", "regenerate")
    assert [n["params"]["milestone"] for n in regen] == [0.1, 0.2, 0.3]
    assert all(n["params"]["rho"] == 1.0 for n in regen)
    assert len({regeneration_seed(n["params"]["seed"], n["params"]["milestone"]) for n in regen}) == 3
    for arm in ("gisp", "resp_no_regen", "wanda"):
        assert not _arm_nodes(table1, f"{arm}[dataset={dataset}]", "regenerate"), arm


@pytest.mark.parametrize("dataset", ["gsm8k", "mathqa"])
def test_table1_scores_calibration_and_sampling(table1, dataset):
    def scores(arm):
        return {(n["params"]["method"], n["params"]["loss"], n["params"]["normalize"])
                for n in _arm_nodes(table1, f"{arm}[dataset={dataset}]", "score")}

    assert scores("resp") == {("taylor", "decode_only", "reference")}
    assert scores("gisp") == {("taylor", "full", "reference")}  # GISP's own constants (docs/fidelity.md)
    # Wanda-sp as GISP's code runs it: FLAP's structured Wanda (o_proj / down_proj columns), every
    # token's activations, the same fraction of every unprotected block, block by block.
    assert {(m, l) for m, l, _ in scores("wanda")} == {("wanda", "full")}
    assert {(n["params"]["variant"], n["params"]["allocate"])
            for n in _arm_nodes(table1, f"wanda[dataset={dataset}]", "score")} == {("outputs", "sequential")}
    for arm in ("resp", "resp_no_regen", "gisp"):  # global ranking: the default stays out of the key
        assert all("allocate" not in n["params"] for n in _arm_nodes(table1, f"{arm}[dataset={dataset}]", "score"))
    for arm in ("resp", "resp_no_regen", "gisp", "wanda"):
        (cal,) = _arm_nodes(table1, f"{arm}[dataset={dataset}]", "calibrate")
        assert cal["params"]["n"] == 500
    (cal,) = _arm_nodes(table1, f"resp[dataset={dataset}]", "calibrate")
    assert (cal["params"]["source"], cal["params"]["max_tokens"]) == ("self_generated", 2048)
    # T=0.6 from the recipe; top_p / top_k from Qwen3-8B's generation_config.
    assert (cal["params"]["temperature"], cal["params"]["top_p"], cal["params"]["top_k"]) == (0.6, 0.95, 20)
    shots = {"gsm8k": 8, "mathqa": 0}[dataset]
    for ev in _arm_nodes(table1, f"resp[dataset={dataset}]", "eval"):
        p = ev["params"]
        assert (p["temperature"], p["top_k"], p["seed"], p["shots"]) == (0.6, 20, 0, shots)
        assert p["extractor"] == "Qwen/Qwen3-30B-A3B-Instruct-2507"  # the paper's answer extractor


def test_table1_shares_the_common_prefix(table1):
    """RESP and RESP-without-regeneration share everything up to the first regeneration (0 -> 0.1)."""
    a = _path(table1, "resp[dataset=gsm8k]")
    b = _path(table1, "resp_no_regen[dataset=gsm8k]")
    assert a[0]["key"] == b[0]["key"] and a[1]["key"] != b[1]["key"]


def test_table3_branches_share_the_path_to_30():
    plan = _plan("paper_table3_regen_ratio")
    prunes = [n for n in plan["nodes"] if n["op"] == "prune"]
    to_30 = [n for n in prunes if n["params"]["target"] <= 0.3]
    assert sum(n["params"]["steps"] for n in to_30) == 84 and len(to_30) == 3  # run once for all six ρ
    to_40 = [n for n in prunes if n["params"]["target"] == 0.4]
    assert len(to_40) == 6 and all(n["params"]["steps"] == 28 for n in to_40)
    regen = sorted(n["params"]["rho"] for n in plan["nodes"] if n["op"] == "regenerate"
                   and n["params"]["milestone"] == 0.3)
    assert regen == [0.2, 0.4, 0.6, 0.8, 1.0]  # ρ=0 keeps the traces: no node


def test_quickstart_steps_is_a_parameter():
    assert sum(n["params"]["steps"] for n in _plan("quickstart")["nodes"] if n["op"] == "prune") == 16
    assert sum(n["params"]["steps"] for n in _plan("quickstart", steps="12")["nodes"] if n["op"] == "prune") == 12


def test_path_intervals_follow_one_grid():
    assert path_intervals(0.0, [0.1, 0.2, 0.3, 0.4], (), 112) == [(0.0, 0.1, 28), (0.1, 0.2, 28), (0.2, 0.3, 28),
                                                                   (0.3, 0.4, 28)]
    # an evaluation point inside the path is a checkpoint; the steps around it stay on the grid
    assert path_intervals(0.0, [0.4], [0.25], 8) == [(0.0, 0.25, 5), (0.25, 0.4, 3)]
    # without steps: one step per milestone (the one-shot-per-milestone schedule)
    assert path_intervals(0.1, [0.2, 0.3], [0.25]) == [(0.1, 0.2, 1), (0.2, 0.25, 1), (0.25, 0.3, 1)]
    # the grid of a chained segment continues from its start
    assert path_intervals(0.3, [0.4], (), 28) == [(0.3, 0.4, 28)]
    assert linear_targets(0.4, 4) == [0.1, 0.2, 0.3, 0.4]


def test_regeneration_seeds_differ_by_milestone_and_are_stable():
    seeds = [regeneration_seed(0, m) for m in (0.1, 0.2, 0.3)]
    assert len(set(seeds)) == 3 and 0 not in seeds
    assert seeds == [regeneration_seed(0, m) for m in (0.1, 0.2, 0.30000000000000004)]
    assert regeneration_seed(1, 0.1) != seeds[0]


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_shipped_recipe_plans_are_golden(path: Path, golden):
    """A changed node key of a shipped recipe shows up here (and needs a CHANGELOG line)."""
    golden(GOLDEN / f"{path.stem}.plan.json", json.dumps(_plan(path.stem), indent=1, sort_keys=True,
                                                         ensure_ascii=False) + "\n")
