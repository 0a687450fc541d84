"""tiny-rlm: loads offline with stock transformers; its card's figures are reproducible on a small slice."""

import json

import pytest

from resp_dsl import zoo
from resp_dsl.zoo_build import card as zcard

MODEL_DIR = zoo.path("tiny-rlm", must_exist=False)
built = pytest.mark.skipif(not (MODEL_DIR / "config.json").is_file(), reason="tiny-rlm not built yet")


def _card() -> dict:
    return zcard.read_card(MODEL_DIR)


@pytest.fixture(scope="module")
def bundled():
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32).eval()
    return model, tok


@built
def test_config_is_deep_qwen3_with_several_kv_groups_and_explicit_head_dim(bundled):
    model, _ = bundled
    c = model.config
    assert type(model).__name__ == "Qwen3ForCausalLM" and c.model_type == "qwen3"
    assert c.num_hidden_layers >= 10 and int(0.1 * c.num_hidden_layers) >= 1
    assert 2 <= c.num_key_value_heads < c.num_attention_heads
    assert c.head_dim != c.hidden_size // c.num_attention_heads
    assert c.tie_word_embeddings and model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    assert 1e6 < sum(p.numel() for p in model.parameters()) < 16e6  # "tens of MB at most" (issue #11)
    g = model.generation_config
    assert g.do_sample and g.temperature == 0.6 and g.top_p == 0.95 and g.top_k == 20


@built
def test_model_directory_is_small_and_ships_safetensors():
    files = {f.name for f in MODEL_DIR.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json", "training.json"} <= files
    assert not any(f.endswith((".bin", ".pt")) for f in files)
    assert sum(f.stat().st_size for f in MODEL_DIR.iterdir()) < 64 * 2**20


@built
def test_dense_greedy_figures_reproduce_on_a_slice(bundled):
    """The first problems of the card's dense greedy run give the same per-problem results again."""
    sec = _card()["sections"].get("dense")
    if sec is None:
        pytest.skip("the dense section of the card is not measured yet")
    from resp_dsl.zoo_build.evaluate import accuracy

    model, tok = bundled
    k = 12
    res = accuracy(model, tok, name="tiny-rlm", n=k, temperature=0.0, batch_size=k)
    stored = sec["figures"]["greedy"]["correct_bits"]
    assert len(stored) == sec["figures"]["greedy"]["n"] and stored.count("1") == sec["figures"]["greedy"]["correct"]
    assert res["correct_bits"] == stored[:k]
    if "text_sha6" in sec["figures"]["greedy"]:  # the generated texts themselves, not only their verdicts
        assert res["text_sha6"] == sec["figures"]["greedy"]["text_sha6"][: 6 * k]


@built
def test_worst_single_structure_reproduces_on_a_slice(bundled):
    sec = _card()["sections"].get("sensitivity")
    if sec is None:
        pytest.skip("the sensitivity section of the card is not measured yet")
    from resp_dsl.zoo_build.evaluate import generate_on_task

    f = sec["figures"]
    key = (f["worst"]["kind"], f["worst"]["layer"], f["worst"]["index"])
    worst = next(r for r in f["profile"] if (r["kind"], r["layer"], r["index"]) == key)
    assert "correct_bits" in worst  # kept for this check, whether the profile is complete or partial
    model, tok = bundled
    k = 12
    pruned = zcard.without(model, worst["kind"], worst["layer"], worst["index"])
    _, _, correct, _ = generate_on_task(pruned, tok, name="tiny-rlm", n=k, split="validation", temperature=0.0,
                                        batch_size=k)
    assert "".join("1" if c else "0" for c in correct) == worst["correct_bits"][:k]


def test_single_structure_layouts_remove_exactly_one_structure():
    from resp_dsl.models.adapters import DenseDims
    from resp_dsl.pruning.state import full_layout

    dims = DenseDims(num_layers=3, hidden_size=16, num_heads=4, num_kv_heads=2, head_dim=8, intermediate_size=10)
    full = full_layout(dims)
    items = zcard.single_structures(dims, n_channels=5, seed=0)
    assert len(items) == 3 * 4 + 3 * 2 + 5
    assert items == zcard.single_structures(dims, n_channels=5, seed=0)
    lay = zcard.layout_without(dims, "kv_group", 1, 1)
    assert lay[1]["kv_heads"] == [0] and lay[1]["q_heads"] == [0, 1] and lay[0] == full[0] and lay[2] == full[2]
    lay = zcard.layout_without(dims, "head", 2, 3)
    assert lay[2]["q_heads"] == [0, 1, 2] and lay[2]["kv_heads"] == [0, 1]
    lay = zcard.layout_without(dims, "channel", 0, 4)
    assert 4 not in lay[0]["channels"] and len(lay[0]["channels"]) == 9


def test_wilson_interval():
    from resp_dsl.zoo_build.evaluate import wilson

    lo, hi = wilson(450, 500)
    assert 0.870 < lo < 0.875 and 0.921 < hi < 0.926  # 90% of 500
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0


def test_card_names_the_command_of_every_missing_section(tmp_path):
    training = {"training": {"parameters": 2_000_000, "commands": ["resp-dsl zoo train tiny-rlm"]},
                "train_spec": {"task_batch": 16, "generic_batch": 6}, "model_spec": {}}
    text = zcard.render("tiny-rlm", {"sections": {}}, training)
    for section in zcard.SECTIONS:
        assert f"resp-dsl zoo card tiny-rlm --section {section}" in text
    assert "Not measured yet" in text and "`resp-dsl zoo train tiny-rlm`" in text


def test_cli_card_takes_sections():
    import argparse

    from resp_dsl.cli import zoo as zoo_cli

    parser = argparse.ArgumentParser()
    zoo_cli.add_arguments(parser)
    args = parser.parse_args(["card", "tiny-rlm", "--section", "dense", "--section", "taylor"])
    assert args.section == ["dense", "taylor"] and args.n is None
    with pytest.raises(SystemExit):
        parser.parse_args(["card", "tiny-rlm", "--section", "everything"])


def test_card_json_if_present_is_consistent():
    if not (MODEL_DIR / "card.json").is_file():
        pytest.skip("no card yet")
    card = json.loads((MODEL_DIR / "card.json").read_text())
    for name, sec in card["sections"].items():
        assert sec["command"].startswith(f"resp-dsl zoo card tiny-rlm --section {name}")


def _acc(k, n=10, **extra):
    from resp_dsl.zoo_build.evaluate import wilson

    return {"n": n, "correct": k, "accuracy": k / n, "ci95": list(wilson(k, n)), "seed": 0, "batch_size": 64,
            "tokens_per_s": 100.0, **extra}


def test_a_complete_card_renders_every_section():
    sec = {"command": "c", "seconds": 1.0, "measured": "now", "threads": 1, "n": 10, "seed": 0}
    profile = [{"kind": k, "layer": layer, "index": i, "accuracy": 0.5, "drop_points": float(layer + i),
                "correct_bits": "01"} for k, n in (("head", 2), ("kv_group", 1), ("channel", 1))
               for layer in range(2) for i in range(n)]
    sens = zcard._sensitivity_figures([True, False], profile, len(profile), 2, 0)
    assert sens["complete"] and sens["worst"]["drop_points"] == 2.0
    assert sum("correct_bits" in r for r in sens["profile"]) == 1  # only the worst keeps its bits
    partial = zcard._sensitivity_figures([True, False], profile[:3], len(profile), 2, 0)
    assert not partial["complete"] and all("correct_bits" in r for r in partial["profile"])
    card = {"sections": {
        "dense": {**sec, "figures": {"greedy": _acc(9), "sampled": _acc(8)}},
        "diversity": {**sec, "figures": {"n": 10, "seeds": [0, 1], "differ": 7, "differ_fraction": 0.7, "tokens": 900,
                                         "entropy_T": 0.2, "entropy_T1": 0.4, "nll_T1": 0.3,
                                         "entropy_temperature": 0.6, "accuracy_seeds": [0.8, 0.9]}},
        "sensitivity": {**sec, "figures": sens},
        "magnitude": {**sec, "figures": {"protected": [0, 9], "targets": {"0.2": {"achieved": 0.2, **_acc(5)}}}},
        "taylor": {**sec, "figures": {"target": 0.3, "calibration_n": 128, "loss": "decode_only", "mean": 0.5,
                                      "stdev": 0.1, "min": 0.4, "max": 0.6,
                                      "runs": [{"calibration_seed": s, "achieved": 0.3, **_acc(5)} for s in range(3)]}},
    }}
    text = zcard.render("tiny-rlm", card, {})
    assert "Not measured yet" not in text
    assert "7/10 = 70.0%" in text and "Worst single structure in the screen: head 1 of block 1 (+2 points)" in text
    assert "**Partial**" in zcard.render_sensitivity("tiny-rlm", {**sec, "figures": partial})
