"""Randomly initialised Qwen3 models for the speed figures, large enough that matrix work dominates.

    >>> model = random_qwen3("150m", seed=0)        # ~150M params, float32, eval mode
    >>> model = random_qwen3("150m", vocab_size=102)  # blocks unchanged, a small tokenizer's vocabulary

A size is a row of ``SIZES``: explicit head_dim, grouped-query attention (3 query heads per KV
head), tied embeddings. The weights come from ``seed`` alone (the global RNG is restored after).
"""

from __future__ import annotations

SIZES: dict[str, dict] = {
    # 18 x 6.88M block params + 32768 x 768 tied embedding = 149M
    "150m": dict(hidden_size=768, num_hidden_layers=18, num_attention_heads=12, num_key_value_heads=4,
                 head_dim=64, intermediate_size=2304, vocab_size=32768),
}
# what `--model` accepts in the benches: "random-150m" and the like
MODEL_CHOICES = tuple(f"random-{size}" for size in SIZES)


def size_of(choice: str) -> str:
    """The ``SIZES`` key of a ``--model`` value such as "random-150m"."""
    size = choice.removeprefix("random-")
    if not choice.startswith("random-") or size not in SIZES:
        raise ValueError(f"unknown model {choice!r}: choose one of {', '.join(MODEL_CHOICES)}")
    return size


def qwen3_config(size: str = "150m", **overrides):
    from transformers import Qwen3Config

    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}: choose one of {', '.join(SIZES)}")
    kwargs = dict(SIZES[size], tie_word_embeddings=True, max_position_embeddings=4096, rms_norm_eps=1e-6,
                  bos_token_id=None, eos_token_id=None, pad_token_id=0)
    kwargs.update(overrides)
    return Qwen3Config(**kwargs)


def random_qwen3(size: str = "150m", *, seed: int = 0, attn_implementation: str = "sdpa", **overrides):
    """A float32 Qwen3 of ``size`` in eval mode, its weights drawn from ``seed`` (transformers' own init)."""
    import torch
    from transformers import AutoModelForCausalLM

    config = qwen3_config(size, **overrides)
    config._attn_implementation = attn_implementation
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    finally:
        torch.random.set_rng_state(state)
    model.generation_config.eos_token_id = None  # a random model never stops early: every run has equal length
    return model.eval()


def save_random_qwen3(directory, size: str = "150m", *, seed: int = 0, **overrides):
    """Write ``random_qwen3(size, seed=seed)`` to ``directory`` (config + safetensors); returns the path."""
    from pathlib import Path

    path = Path(directory)
    random_qwen3(size, seed=seed, **overrides).save_pretrained(path)
    return path


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())
