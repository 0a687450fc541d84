"""The tests find real GSM8K without any machine path (issue 12, item 17)."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.data import GSM8K_ENV, REPO, gsm8k_location

TESTS = Path(__file__).resolve().parents[1]


def test_gsm8k_dir_comes_from_the_env_var_or_beside_the_checkout(tmp_path):
    assert gsm8k_location({GSM8K_ENV: str(tmp_path)}) == tmp_path
    assert gsm8k_location({}) == REPO.parent / "shared" / "data" / "gsm8k"


def test_no_test_names_a_machine_path():
    pattern = re.compile(r"""["'](/work|/root|/home|/Users|C:\\\\)[/\\\\]""")
    bad = [str(p.relative_to(TESTS)) for p in TESTS.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert bad == []
