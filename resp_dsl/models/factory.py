"""Small randomly initialised models of every supported family, built from configs (no download).

    >>> model = tiny_random_model("qwen3", seed=0)
    >>> model.config.head_dim != model.config.hidden_size // model.config.num_attention_heads
    True
"""

from __future__ import annotations

import torch
import transformers
from transformers import AutoModelForCausalLM

from resp_dsl.families import FAMILIES, supported

FALLBACK_VOCAB = 128

# GQA with 2 query heads per KV head, and head_dim != hidden/heads wherever the family allows it
# (Qwen3-0.6B has hidden 1024, 16 heads, head_dim 128): bugs that assume hidden/heads show up.
_COMMON = dict(
    hidden_size=64, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
    head_dim=24, intermediate_size=96, max_position_embeddings=256, rms_norm_eps=1e-6,
    tie_word_embeddings=False,
)


def _default_vocab() -> int:
    try:
        from resp_dsl.zoo.tokenizer import build_tokenizer
    except ImportError:
        return FALLBACK_VOCAB
    return len(build_tokenizer())


def random_config(family: str = "qwen3", **overrides):
    """A small config of `family` (one of ``families.FAMILIES``); keyword overrides win."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}: choose one of {supported()}")
    fam = FAMILIES[family]
    cls = getattr(transformers, fam.config_class)
    kwargs = {**_COMMON, **fam.config_defaults, **overrides}
    kwargs.setdefault("vocab_size", _default_vocab())
    return cls(**kwargs)


def tiny_random_model(family: str = "qwen3", *, seed: int = 0, **config_overrides):
    """A float32 model in eval mode with weights drawn from `seed` (a few hundred K params by default)."""
    attn = config_overrides.pop("attn_implementation", "sdpa")
    config = random_config(family, **config_overrides)
    config._attn_implementation = attn
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        # The default init is tiny (std 0.02): scale up so heads and channels differ visibly in importance.
        with torch.no_grad():
            for p in model.parameters():
                if p.dim() == 1:
                    p.add_(torch.randn_like(p) * 0.1)
    finally:
        torch.random.set_rng_state(gen_state)
    return model.eval()
