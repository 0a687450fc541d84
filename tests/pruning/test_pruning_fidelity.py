"""The authors' choices, checked on hand-computed examples and on the bundled model:
sparsity counted in structures, the authors' normalisation constants."""

import pytest
import torch

from resp_dsl.models.factory import tiny_random_model
from resp_dsl.pruning.scoring import LayerScores, StructureScores, score_structures
from resp_dsl.pruning.select import ProtectSpec, select_structures

NO_PROTECT = ProtectSpec(first_fraction=0.0, last=False)


def _layer(heads, channels):
    t = lambda xs: torch.tensor(xs, dtype=torch.float64)  # noqa: E731
    return LayerScores(heads=t(heads), kv=t([0.0]), channels=t(channels), head_index=torch.arange(len(heads)),
                       kv_index=torch.arange(1), channel_index=torch.arange(len(channels)))


@pytest.fixture(scope="module")
def two_blocks():
    """2 blocks, hidden 8, 2 query heads sharing 1 KV head, head_dim 4, 3 MLP channels."""
    model = tiny_random_model("qwen3", num_hidden_layers=2, hidden_size=8, num_attention_heads=2,
                              num_key_value_heads=1, head_dim=4, intermediate_size=3)
    scores = StructureScores([_layer([64.0, 200.0], [9.0, 30.0, 2.0]), _layer([100.0, 12.0], [40.0, 5.0, 18.0])])
    return model, scores


def test_reference_normalisation_reproduces_the_authors_formula(two_blocks):
    model, scores = two_blocks
    # By hand: head / (4·head_dim·hidden) = head / 128, channel / (3·intermediate) = channel / 9.
    # Block 0: heads 0.5, 1.5625; channels 1.0, 3.33, 0.222. Block 1: heads 0.78125, 0.09375;
    # channels 4.44, 0.556, 2.0. 40% of the 10 structures = 4 lowest: b1 head 1, b0 channel 2,
    # b0 head 0, b1 channel 1.
    sel = select_structures(model, scores, target=0.4, basis="structures", normalize="reference", protect=NO_PROTECT)
    assert sel.layers == [{"q_heads": [1], "kv_heads": [0], "channels": [0, 1]},
                          {"q_heads": [0], "kv_heads": [0], "channels": [0, 2]}]
    assert sel.achieved_structures == pytest.approx(0.4)
    # Per-parameter ("type") weighs heads differently (head / 64, channel / 24) and keeps b0 head 0.
    other = select_structures(model, scores, target=0.4, basis="structures", normalize="type", protect=NO_PROTECT)
    assert other.layers[0]["q_heads"] == [0, 1] and other.layers[0]["channels"] == [1]


def test_structures_basis_removes_floor_of_the_structure_count_on_the_bundled_model():
    from transformers import AutoModelForCausalLM

    from resp_dsl import zoo

    model = AutoModelForCausalLM.from_pretrained(zoo.path("tiny-reasoner"), dtype=torch.float32)
    scores = score_structures(model, [], method="magnitude")
    cfg = model.config
    n = cfg.num_hidden_layers * (cfg.num_attention_heads + cfg.intermediate_size)  # every block, protected too
    for target in (0.2, 0.3, 0.4):
        sel = select_structures(model, scores, target=target, basis="structures", normalize="reference",
                                protect=ProtectSpec(first_fraction=0.1, last=True))
        kept = sum(len(l["q_heads"]) + len(l["channels"]) for l in sel.layers)
        assert n - kept == int(target * n)  # floor(t·N) structures removed, none of the protected block
        last = sel.layers[-1]
        assert len(last["q_heads"]) == cfg.num_attention_heads and len(last["channels"]) == cfg.intermediate_size


def test_check_and_engine_protect_the_same_blocks():
    """`protect first 58% blocks` on 50 blocks: check/plan said 0-28, the engine protected 0-27."""
    from resp_dsl.ir.models import ProtectSpec as RecipeProtect

    for frac, n in ((0.58, 50), (0.1, 36), (0.1, 6), (0.29, 100), (0.07, 100), (1 / 3, 6)):
        engine = ProtectSpec(first_fraction=frac, last=True, blocks=(-2,)).protected(n)
        recipe = RecipeProtect(first_fraction=frac, last=True, blocks=(-2,)).resolve(n)
        assert engine == recipe
    assert ProtectSpec(first_fraction=0.58, last=False).protected(50) == list(range(29))
    assert ProtectSpec(first_fraction=0.1, last=True).protected(36) == [0, 1, 2, 35]  # the paper's Qwen3-8B
