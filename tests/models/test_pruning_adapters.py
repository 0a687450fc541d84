import pytest
from transformers import GPT2Config

from resp_dsl.models.adapters import UnsupportedModelError, get_adapter
from resp_dsl.models.factory import random_config, tiny_random_model

from helpers.models import FAMILIES


@pytest.mark.parametrize("family", FAMILIES)
def test_adapter_reads_head_dim_from_config(family):
    config = random_config(family)
    dims = get_adapter(config).dense_dims(config)
    assert dims.head_dim == 24 != config.hidden_size // config.num_attention_heads
    assert (dims.num_heads, dims.num_kv_heads, dims.heads_per_group) == (4, 2, 2)


def test_unsupported_family_names_supported_ones():
    with pytest.raises(UnsupportedModelError, match="gpt2.*llama, mistral, qwen2, qwen3"):
        get_adapter(GPT2Config())


def test_factory_is_deterministic_per_seed():
    a, b, c = tiny_random_model(seed=1), tiny_random_model(seed=1), tiny_random_model(seed=2)
    wa, wb, wc = (m.model.layers[0].mlp.up_proj.weight for m in (a, b, c))
    assert (wa == wb).all() and not (wa == wc).all()
    assert 100_000 < sum(p.numel() for p in a.parameters()) < 1_000_000
