"""The card's sensitivity section: a screen, then a confirmation on problems the screen did not see.

Run on the bundled tiny-reasoner with a handful of structures and problems (the real section
measures every head and KV group of tiny-rlm on 100 + 400 validation problems).
"""

import pytest

from resp_dsl.zoo_build import card as zcard

STRUCTURES = [("head", 1, 0), ("kv_group", 2, 1), ("channel", 3, 5)]


@pytest.fixture(scope="module")
def reasoner():
    torch = pytest.importorskip("torch")
    from resp_dsl.zoo_build.evaluate import load_bundled

    torch.set_num_threads(1)
    return load_bundled("tiny-reasoner")


@pytest.fixture
def few(monkeypatch):
    """Three structures, and a bar every one of them is over (so each goes to the confirmation)."""
    monkeypatch.setattr(zcard, "single_structures", lambda dims, n_channels, seed: list(STRUCTURES))
    monkeypatch.setattr(zcard, "COST_LIMIT_POINTS", -101.0)


def _measure(model, tok, **kw):
    return zcard.measure_sensitivity(model, tok, "tiny-reasoner", n=3, seed=0, confirm_n=4, **kw)


def test_screen_then_confirmation_on_unseen_problems(reasoner, few):
    model, tok = reasoner
    f = _measure(model, tok)
    assert f["complete"] and f["measured_structures"] == 3 and f["n"] == 3
    assert f["confirm"]["start"] == 3 and f["confirm"]["n"] == 4 and f["confirm"]["flagged"] == 3
    # the confirmation's dense baseline is problems 4-7, not the screen's 1-3
    dense7 = zcard._greedy_without(model, tok, "tiny-reasoner", None, 7, 0)
    assert f["confirm"]["dense_bits"] == "".join("1" if c else "0" for c in dense7[3:])
    assert f["dense_bits"] == "".join("1" if c else "0" for c in dense7[:3])
    for r in f["profile"]:
        c = r["confirm"]
        without = zcard._greedy_without(model, tok, "tiny-reasoner", (r["kind"], r["layer"], r["index"]), 4, 3)
        assert c["n"] == 4 and c["only_dense"] - c["only_without"] == round(
            sum(dense7[3:]) - sum(without))
        assert c["drop_points"] == pytest.approx(100 * (sum(dense7[3:]) - sum(without)) / 4)
        lo, hi = c["ci95_points"]
        assert -100 <= lo <= c["drop_points"] <= hi <= 100
    s = f["summary"]
    assert sum(v["confirmed"] for v in s.values()) == 3 and sum(v["over_limit"] for v in s.values()) == 3
    assert f["worst_confirmed"]["drop_points"] == max(r["confirm"]["drop_points"] for r in f["profile"])
    text = zcard.render_sensitivity("tiny-reasoner", {"command": "c", "seconds": 1, "measured": "now", "figures": f})
    assert "Confirmation" in text and "over the bar (confirmed, n=4)" in text and "validation problems 4-7" in text


def test_no_confirmation_when_nothing_is_over_the_bar(reasoner, monkeypatch):
    monkeypatch.setattr(zcard, "single_structures", lambda dims, n_channels, seed: list(STRUCTURES[:1]))
    monkeypatch.setattr(zcard, "COST_LIMIT_POINTS", 101.0)
    model, tok = reasoner
    f = _measure(model, tok)
    assert f["complete"] and f["confirm"] is None and "confirm" not in f["profile"][0]


def test_resume_keeps_the_screen_and_finishes_the_confirmation(reasoner, few, monkeypatch):
    model, tok = reasoner
    full = _measure(model, tok)
    # a call interrupted after the screen: no confirmation stored yet
    partial = dict(full, complete=False, profile=[{k: v for k, v in r.items() if k != "confirm"} for r in full["profile"]])
    calls = []
    real = zcard._greedy_without
    monkeypatch.setattr(zcard, "_greedy_without", lambda m, t, name, key, n, start: calls.append((key, n, start))
                        or real(m, t, name, key, n, start))
    saved = []
    again = _measure(model, tok, resume=partial, save=saved.append)
    assert [c for c in calls if c[2] == 0] == [(None, 3, 0)]  # the screen: only its dense baseline, to check it
    assert sorted(c[0] for c in calls if c[2] == 3 and c[0]) == sorted(STRUCTURES)
    assert [r["confirm"] for r in again["profile"]] == [r["confirm"] for r in full["profile"]]
    assert again["complete"]


def test_workers_give_the_same_figures(reasoner, few):
    model, tok = reasoner
    serial = _measure(model, tok)
    parallel = _measure(model, tok, workers=2, threads=2)
    assert parallel["profile"] == serial["profile"] and parallel["confirm"] == serial["confirm"]


def test_the_card_command_adds_the_confirmation_to_a_profile_measured_without_it(reasoner, few, monkeypatch, tmp_path):
    import json
    import shutil

    from resp_dsl import zoo

    model, tok = reasoner
    model_dir = tmp_path / "model"
    shutil.copytree(zoo.path("tiny-reasoner"), model_dir)
    full = _measure(model, tok)
    old = {k: v for k, v in full.items() if k not in ("confirm", "worst_confirmed")}  # a card from before the stage
    old["profile"] = [{k: v for k, v in r.items() if k != "confirm"} for r in full["profile"]]
    (model_dir / "card.json").write_text(json.dumps({"sections": {"sensitivity": {
        "command": "c", "n": 3, "seed": 0, "threads": 1, "seconds": 50.0, "measured": "then", "figures": old}}}))
    calls = []
    real = zcard._greedy_without
    monkeypatch.setattr(zcard, "_greedy_without", lambda m, t, name, key, n, start: calls.append((key, n, start))
                        or real(m, t, name, key, n, start))
    monkeypatch.setattr(zcard, "SENSITIVITY_N", 3)
    monkeypatch.setitem(zcard.DEFAULT_N, "sensitivity", 3)
    monkeypatch.setattr(zcard, "CONFIRM_N", 4)
    zcard.write_card("tiny-reasoner", sections=["sensitivity"], threads=1, model_dir=model_dir)
    stored = zcard.read_card(model_dir)["sections"]["sensitivity"]
    assert [c for c in calls if c[2] == 0] == [(None, 3, 0)]  # the screen was kept, not re-run
    assert [r["confirm"] for r in stored["figures"]["profile"]] == [r["confirm"] for r in full["profile"]]
    assert stored["figures"]["complete"] and stored["seconds"] >= 50.0
    assert "Confirmation" in (model_dir / "README.md").read_text()


def test_resume_from_a_screen_interrupted_before_its_confirmation(reasoner, few):
    """A save made during the screen stores `confirm: null`; resuming it must not trip over that."""
    model, tok = reasoner
    saved = []
    full = _measure(model, tok)
    partial = dict(full, complete=False, confirm=None, profile=[{k: v for k, v in r.items() if k != "confirm"}
                                                                 for r in full["profile"][:2]])
    again = _measure(model, tok, resume=partial, save=saved.append)
    assert again["complete"] and [r["confirm"] for r in again["profile"]] == [r["confirm"] for r in full["profile"]]
