"""Generation backends: ``hf`` (transformers, batched, KV cache) and ``vllm`` (optional extra).

Both share one signature::

    generate(model, tokenizer, prompts, *, max_new_tokens, temperature=0.6, top_p=0.95,
             top_k=0, seed=0, batch_size=64, stop=None, progress=None, checkpoint=None)
        -> list[Generation]

    gen = get_backend("hf")
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from resp_dsl.generation.base import FINISH_REASONS, Generation

BACKENDS: dict[str, str] = {
    "hf": "resp_dsl.generation.hf",
    "vllm": "resp_dsl.generation.vllm",
}


def get_backend(name: str) -> Callable[..., list[Generation]]:
    """The ``generate`` function of backend ``name``; for ``vllm``, fails now if vllm is missing."""
    if name not in BACKENDS:
        raise ValueError(f"unknown generation backend {name!r}: choose one of {', '.join(BACKENDS)}")
    module: Any = importlib.import_module(BACKENDS[name])
    if name == "vllm":
        module.require_vllm()  # stop before any work, naming the extra
    return module.generate


__all__ = ["BACKENDS", "FINISH_REASONS", "Generation", "get_backend"]
