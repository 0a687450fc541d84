"""The one conftest: the offline environment, golden files, and the fixtures every folder shares.

The tests mirror the package (`tests/syntax` for `resp_dsl/syntax`, `tests/ops` for `resp_dsl/ops`,
...); helpers are the package `tests/helpers` (graphs built from the op schemas, tiny models, data
locations). Nothing here names a machine path: real GSM8K comes from $RESP_DSL_GSM8K_DIR or
`../shared/data/gsm8k` beside the checkout, and a test that needs it skips, saying so, when absent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Tests never reach a hub: everything is local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files (tests/*/golden) from the current output; review the diff")


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread in every test: the cores are shared, and results must not depend on the count."""
    try:
        import torch
    except ImportError:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# -- golden files ------------------------------------------------------------------------------------

@pytest.fixture
def update_golden(request) -> bool:
    """``pytest --update-golden`` or RESP_DSL_UPDATE_GOLDEN=1: rewrite golden files instead of comparing."""
    return bool(request.config.getoption("--update-golden")) or os.environ.get("RESP_DSL_UPDATE_GOLDEN") == "1"


@pytest.fixture
def golden(update_golden):
    """``golden(expected_path, actual)``: compare with the stored file, or (re)write it with --update-golden."""

    def check(expected: Path, actual: str) -> None:
        if update_golden or not expected.exists():
            expected.parent.mkdir(parents=True, exist_ok=True)
            expected.write_text(actual, encoding="utf-8")
            if not update_golden:
                pytest.fail(f"created {expected.name}; review it and rerun")
            return
        assert actual == expected.read_text(encoding="utf-8"), \
            f"{expected.name} differs; run pytest --update-golden and review the diff"

    return check


@pytest.fixture
def check_golden(request, golden):
    """``check_golden(name, text)``: `golden` on the file ``golden/<name>`` beside the test module."""
    folder = Path(str(request.fspath)).parent / "golden"
    return lambda name, text: golden(folder / name, text)


# -- the command line --------------------------------------------------------------------------------

@pytest.fixture
def run_cli():
    """Run `python -m resp_dsl ...` in a subprocess: (returncode, stdout, stderr)."""
    import subprocess

    def run(*args, cwd=ROOT, input=None, env=None):
        e = dict(os.environ, **(env or {}))
        p = subprocess.run([sys.executable, "-m", "resp_dsl", *map(str, args)], cwd=cwd, capture_output=True,
                           text=True, input=input, env=e, timeout=120)
        return p.returncode, p.stdout, p.stderr

    return run


# -- data and models ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def gsm8k_dir() -> Path:
    from helpers.data import GSM8K_ENV, gsm8k_location

    d = gsm8k_location()
    if (d / "train.jsonl").is_file() and (d / "test.jsonl").is_file():
        return d
    pytest.skip(f"real GSM8K data (train.jsonl, test.jsonl) not found in {d}; set {GSM8K_ENV}=DIR to run these tests")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Qwen3 on disk (4 blocks) with the bundled tokenizer."""
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


@pytest.fixture
def samples():
    """Random calibration samples (prompt + decode tokens) for the pruning tests."""
    from helpers.models import random_samples

    return random_samples()
