"""The card's status line names every design target the weights miss (pure Python, no torch)."""

from resp_dsl.zoo.spec import get
from resp_dsl.zoo_build.card import _status


def _card(greedy: float, *, complete: bool = True, over: int = 0) -> dict:
    sens = {"figures": {
        "complete": complete, "limit_points": 5.0, "confirm": {"n": 400},
        "summary": {"head": {"confirmed_over_limit": over}, "kv_group": {"confirmed_over_limit": 0}},
        "worst_confirmed": {"kind": "kv_group", "layer": 9, "index": 0, "drop_points": 20.25},
    }}
    return {"sections": {"dense": {"figures": {"greedy": {"accuracy": greedy}}}, "sensitivity": sens}}


def test_a_model_that_meets_its_targets_has_no_status():
    assert _status(get("tiny-rlm"), _card(0.93)) == ""


def test_accuracy_and_redundancy_shortfalls_are_both_named():
    text = _status(get("tiny-rlm"), _card(0.69, over=3))
    assert text.startswith("> **Status: below its design targets.** Dense greedy accuracy is 69.0%")
    assert "3 single structures cost more than the 5-point bar" in text
    assert "kv group 0 of block 9, +20.2 points" in text


def test_redundancy_is_only_claimed_from_a_complete_confirmation():
    assert _status(get("tiny-rlm"), _card(0.95, complete=False, over=3)) == ""
    assert "not redundant" in _status(get("tiny-rlm"), _card(0.95, over=1))
