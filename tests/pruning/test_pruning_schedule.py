import copy

import pytest

from resp_dsl.models.factory import tiny_random_model
from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.calib import CalibSample
from resp_dsl.pruning.schedule import linear_targets, mix_calibration, prune_iterative, prune_with_milestones
from resp_dsl.pruning.scoring import score_structures
from resp_dsl.pruning.select import ProtectSpec, round_uniform, select_structures
from resp_dsl.pruning.state import kept_layout

from helpers.models import random_samples

SELECT = {"protect": ProtectSpec(first_fraction=0.25, last=True)}


def test_linear_targets_end_exactly_on_target():
    assert linear_targets(0.4, 4) == [0.1, 0.2, 0.3, 0.4]
    assert linear_targets(0.4, 1) == [0.4]
    assert len(linear_targets(0.5, 112)) == 112


def test_iterative_pruning_reaches_target_and_only_removes():
    model = tiny_random_model("qwen3", num_hidden_layers=6)
    seen = []
    history = prune_iterative(model, random_samples(), target=0.3, steps=4, select_kwargs=SELECT,
                              on_step=lambda step, sel, m: seen.append((step, kept_layout(m))))
    assert [round(h.target, 6) for h in history] == [0.075, 0.15, 0.225, 0.3]
    assert all(h.target - 0.05 < h.achieved <= h.target for h in history)
    for (_, a), (_, b) in zip(seen, seen[1:]):
        for la, lb in zip(a, b):
            assert set(lb["channels"]) <= set(la["channels"])


def test_iterative_is_deterministic():
    a = prune_iterative(tiny_random_model("llama"), random_samples(), target=0.2, steps=2, select_kwargs=SELECT)
    b = prune_iterative(tiny_random_model("llama"), random_samples(), target=0.2, steps=2, select_kwargs=SELECT)
    assert [s.layers for s in a] == [s.layers for s in b]


def test_milestones_regenerate_and_mix():
    model = tiny_random_model("qwen3", num_hidden_layers=6)
    fresh = random_samples(seed=9)
    calls, mixes = [], []
    history = prune_with_milestones(
        model, random_samples(), milestones=[0.1, 0.2, 0.3], steps=6, rho=0.6, seed=1,
        regenerate=lambda m, t: calls.append(t) or fresh, select_kwargs=SELECT,
        on_milestone=lambda t, m, s: mixes.append(s))
    assert calls == [0.1, 0.2]
    assert [round(h.target, 6) for h in history] == [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
    assert sum(s in fresh for s in mixes[0]) == 3


def test_mix_calibration():
    old = [CalibSample([1, i], 1) for i in range(10)]
    new = [CalibSample([2, i], 1) for i in range(10)]
    assert mix_calibration(old, new, 0.0, 0) == old
    assert mix_calibration(old, new, 1.0, 0) == new
    mixed = mix_calibration(old, new, 0.3, 7)
    assert mixed == mix_calibration(old, new, 0.3, 7)
    swapped = [i for i, s in enumerate(mixed) if s != old[i]]
    assert len(swapped) == 3 and all(mixed[i] == new[i] for i in swapped)
    with pytest.raises(ValueError, match="regeneration ratio"):
        mix_calibration(old, new, 1.5, 0)


def test_round_uniform_gives_equal_counts():
    model = tiny_random_model("qwen3", num_hidden_layers=6)
    scores = score_structures(model, random_samples())
    sel = select_structures(model, scores, target=0.3, normalize="none", **SELECT)
    uni = round_uniform(model, scores, sel)
    counts = {(len(l["q_heads"]), len(l["kv_heads"]), len(l["channels"]))
              for i, l in enumerate(uni.layers) if i not in uni.protected}
    assert len(counts) == 1
    apply_selection(copy.deepcopy(model), uni)
