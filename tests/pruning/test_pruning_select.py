"""Global selection: exact targets, protection, chaining against the dense reference."""

import json

import pytest

from resp_dsl.models.factory import tiny_random_model
from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.scoring import score_structures
from resp_dsl.pruning.select import ProtectSpec, Selection, select_structures
from resp_dsl.pruning.state import dense_dims, structure_params

from helpers.models import random_samples

NO_PROTECT = ProtectSpec(first_fraction=0.0, last=False)


@pytest.fixture(scope="module")
def model_and_scores():
    model = tiny_random_model("qwen3", num_hidden_layers=6)
    return model, score_structures(model, random_samples(), method="taylor")


@pytest.mark.parametrize("normalize", ["type", "none", "reference", "block"])
@pytest.mark.parametrize("target", [0.05, 0.2, 0.37, 0.5])
def test_params_target_met_within_one_structure_never_above(model_and_scores, target, normalize):
    model, scores = model_and_scores
    sel = select_structures(model, scores, target=target, normalize=normalize)
    sp = structure_params(dense_dims(model))
    total = 6 * (4 * sp["head"] + 2 * sp["kv"] + 96 * sp["channel"])
    biggest = (sp["head"] + sp["kv"]) / total  # a last head of a group frees its KV head too
    assert sel.achieved <= target + 1e-12
    assert target - sel.achieved < biggest
    assert sel.achieved == sel.achieved_params


@pytest.mark.parametrize("unit", ["heads", "kv_groups"])
def test_structures_basis_is_exact(model_and_scores, unit):
    model, scores = model_and_scores
    for target in (0.1, 0.25, 0.4):
        sel = select_structures(model, scores, target=target, basis="structures", unit=unit)
        total = 6 * ((4 if unit == "heads" else 2) + 96)
        assert target - 1 / total < sel.achieved <= target + 1e-12


def test_protected_blocks_are_untouched(model_and_scores):
    model, scores = model_and_scores
    sel = select_structures(model, scores, target=0.3, protect=ProtectSpec(first_fraction=0.34, blocks=(3,)))
    assert sel.protected == [0, 1, 3, 5]
    for i in sel.protected:
        assert sel.layers[i] == {"q_heads": [0, 1, 2, 3], "kv_heads": [0, 1], "channels": list(range(96))}
    assert any(len(sel.layers[i]["channels"]) < 96 for i in (2, 4))


def test_unreachable_target_is_an_error(model_and_scores):
    model, scores = model_and_scores
    with pytest.raises(ValueError, match="unreachable"):
        select_structures(model, scores, target=0.9, protect=ProtectSpec(first_fraction=0.5))


def test_chained_prune_measures_against_dense(model_and_scores):
    model, _ = model_and_scores
    import copy

    m = copy.deepcopy(model)
    first = select_structures(m, score_structures(m, random_samples()), target=0.1, protect=NO_PROTECT)
    apply_selection(m, first, mode="physical")
    second = select_structures(m, score_structures(m, random_samples()), target=0.2, protect=NO_PROTECT)
    assert 0.19 < second.achieved <= 0.2
    for a, b in zip(first.layers, second.layers):  # only ever removes more
        for k in a:
            assert set(b[k]) <= set(a[k])
    apply_selection(m, second, mode="physical")
    with pytest.raises(ValueError, match="already at"):
        select_structures(m, score_structures(m, random_samples()), target=0.1, protect=NO_PROTECT)


def test_a_block_can_lose_everything(model_and_scores):
    model, scores = model_and_scores
    sel = select_structures(model, scores, target=0.75, protect=NO_PROTECT, normalize="none")
    assert any(not l["channels"] for l in sel.layers)


def test_selection_is_json_serialisable(model_and_scores):
    model, scores = model_and_scores
    sel = select_structures(model, scores, target=0.3, unit="kv_groups")
    back = Selection.from_dict(json.loads(sel.to_json()))
    assert back == sel


def test_kv_group_unit_removes_whole_groups(model_and_scores):
    model, scores = model_and_scores
    sel = select_structures(model, scores, target=0.5, unit="kv_groups", normalize="type")
    for layer in sel.layers:
        assert layer["q_heads"] == [h for g in layer["kv_heads"] for h in (2 * g, 2 * g + 1)]
    assert any(len(l["kv_heads"]) < 2 for l in sel.layers)
