"""Designs of a bundled model (`resp_dsl.zoo.spec.DESIGNS`): looked up by name, trained only to --out."""

import json
from pathlib import Path

import pytest

from resp_dsl.zoo.spec import DESIGNS, MODELS, get

ROOT = Path(__file__).resolve().parents[2]


def test_every_design_is_a_complete_spec_for_its_model():
    from resp_dsl.zoo.tokenizer import TOKENIZERS

    for name, designs in DESIGNS.items():
        assert name in MODELS
        for design, spec in designs.items():
            assert get(name, design) is spec
            assert spec.name == name and spec.design == design and spec.task == MODELS[name].task
            assert design != MODELS[name].design  # an adopted design lives in MODELS only
            assert spec.model.tokenizer in TOKENIZERS
            m = spec.model
            assert m.num_attention_heads % m.num_key_value_heads == 0
            assert int(0.1 * m.num_hidden_layers) >= 1  # the protection rule protects a block


def test_an_adopted_design_name_selects_the_bundled_spec():
    # The command recorded while tiny-rlm's weights were the design "gqa16-l12" still runs.
    assert get("tiny-rlm", "gqa16-l12") is MODELS["tiny-rlm"]
    assert MODELS["tiny-rlm"].design_flag == ""
    assert get("tiny-rlm", "gqa8-chars").design_flag == " --design gqa8-chars"
    # The replaced weights' spec is a design again, so their recorded commands run with --design wide-bpe.
    assert get("tiny-rlm", "wide-bpe").design_flag == " --design wide-bpe"


def test_unknown_design_lists_the_available_ones():
    with pytest.raises(LookupError, match="available: gqa16-l12, wide-bpe, gqa8-chars"):
        get("tiny-rlm", "nope")
    with pytest.raises(LookupError, match="available: none"):
        get("tiny-reasoner", "wide-bpe")


def test_bpe_config_is_known_without_torch_and_the_replaced_spec_resumes_its_record():
    cfg = MODELS["tiny-rlm"].model.config_dict()
    assert cfg["vocab_size"] == 1024 and "tokenizer" not in cfg
    assert MODELS["tiny-rlm"].model.to_dict()["tokenizer"] == "bpe1024"
    # The replaced weights' recorded spec is the design's (a character spec records no tokenizer field),
    # so `--design gqa8-chars` resumes their checkpoint.
    old = DESIGNS["tiny-rlm"]["gqa8-chars"]
    assert "tokenizer" not in old.model.to_dict()
    record = json.loads((ROOT / "training" / "tiny-rlm" / "model" / "training.json").read_text())
    assert record["model_spec"] == old.model.to_dict()


def test_cli_refuses_a_design_without_out_and_an_unknown_design(capsys):
    from resp_dsl.cli import main

    assert main(["zoo", "train", "tiny-rlm", "--design", "gqa8-chars", "--steps", "1"]) == 2
    assert "needs --out" in capsys.readouterr().err
    assert main(["zoo", "train", "tiny-rlm", "--design", "nope", "--out", "x"]) == 2
    assert "unknown design 'nope'" in capsys.readouterr().err
