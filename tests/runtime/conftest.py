"""Shared fixtures of the runtime tests: offline, one thread, local data only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"

from data_paths import GSM8K_ENV, gsm8k_location  # noqa: E402


@pytest.fixture(scope="session")
def gsm8k_dir() -> Path:
    d = gsm8k_location()
    if (d / "train.jsonl").is_file() and (d / "test.jsonl").is_file():
        return d
    pytest.skip(f"real GSM8K data (train.jsonl, test.jsonl) not found in {d}; set {GSM8K_ENV}=DIR to run these tests")


@pytest.fixture(autouse=True)
def _one_thread():
    try:
        import torch
    except ImportError:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def check_golden(request):
    """``check_golden(name, text)``: compare with golden/<name>; --update-golden (or
    RESP_DSL_UPDATE_GOLDEN=1) rewrites it."""
    update = request.config.getoption("--update-golden") or os.environ.get("RESP_DSL_UPDATE_GOLDEN") == "1"
    return lambda name, text: _check_golden(name, text, update)


def _check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path} is missing; run with RESP_DSL_UPDATE_GOLDEN=1 and review the diff"
    assert text == path.read_text(encoding="utf-8"), f"output differs from golden {path.name}"
