"""Designs of a bundled model (`resp_dsl.zoo.spec.DESIGNS`): looked up by name, trained only to --out."""

import pytest

from resp_dsl.zoo.spec import DESIGNS, MODELS, get


def test_every_design_is_a_complete_spec_for_its_model():
    from resp_dsl.zoo.tokenizer import TOKENIZERS

    for name, designs in DESIGNS.items():
        assert name in MODELS
        for design, spec in designs.items():
            assert get(name, design) is spec
            assert spec.name == name and spec.design == design and spec.task == MODELS[name].task
            assert spec.model.tokenizer in TOKENIZERS
            m = spec.model
            assert m.num_attention_heads % m.num_key_value_heads == 0
            assert int(0.1 * m.num_hidden_layers) >= 1  # the protection rule protects a block


def test_unknown_design_lists_the_available_ones():
    with pytest.raises(LookupError, match="available: wide-bpe"):
        get("tiny-rlm", "nope")
    with pytest.raises(LookupError, match="available: none"):
        get("tiny-reasoner", "wide-bpe")


def test_bpe_design_config_is_known_without_torch():
    spec = get("tiny-rlm", "wide-bpe")
    cfg = spec.model.config_dict()
    assert cfg["vocab_size"] == 1024 and "tokenizer" not in cfg
    # The bundled spec's recorded form is unchanged by the new field (checkpoints made before it resume).
    assert "tokenizer" not in MODELS["tiny-rlm"].model.to_dict()
    assert spec.model.to_dict()["tokenizer"] == "bpe1024"


def test_cli_refuses_a_design_without_out_and_an_unknown_design(capsys):
    from resp_dsl.cli import main

    assert main(["zoo", "train", "tiny-rlm", "--design", "wide-bpe", "--steps", "1"]) == 2
    assert "needs --out" in capsys.readouterr().err
    assert main(["zoo", "train", "tiny-rlm", "--design", "nope", "--out", "x"]) == 2
    assert "unknown design 'nope'" in capsys.readouterr().err
