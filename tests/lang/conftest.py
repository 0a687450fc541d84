"""Shared fixtures for the language tests; registers ``--update-golden``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@pytest.fixture
def update_golden(request) -> bool:
    """``pytest tests/lang --update-golden`` (pytest reads this conftest's options only when
    tests/lang is on the command line), or RESP_DSL_UPDATE_GOLDEN=1 from anywhere."""
    try:
        flag = bool(request.config.getoption("--update-golden"))
    except ValueError:
        flag = False
    return flag or os.environ.get("RESP_DSL_UPDATE_GOLDEN") == "1"


@pytest.fixture
def golden(update_golden):
    """``golden(expected_path, actual)``: compare with the stored file, or (re)write it with --update-golden."""

    def check(expected: Path, actual: str) -> None:
        if update_golden or not expected.exists():
            expected.write_text(actual, encoding="utf-8")
            if not update_golden:
                pytest.fail(f"created {expected.name}; review it and rerun")
            return
        assert actual == expected.read_text(encoding="utf-8"), \
            f"{expected.name} differs; run pytest tests/lang --update-golden and review the diff"

    return check


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
