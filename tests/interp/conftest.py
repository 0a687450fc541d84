"""A tiny random model on disk, shared by the interpreter tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    import torch

    from resp_dsl.models.factory import tiny_random_model
    from resp_dsl.zoo.tokenizer import build_tokenizer

    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("model")
    model = tiny_random_model("qwen3", seed=0, num_hidden_layers=4)
    tok = build_tokenizer()
    model.config.eos_token_id = tok.eos_token_id
    model.config.pad_token_id = tok.pad_token_id
    model.save_pretrained(d, safe_serialization=True)
    tok.save_pretrained(d)
    return d
