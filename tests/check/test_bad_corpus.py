"""Every file in tests/check/bad/ states its expected diagnostics inline:

    score wanda2  # E: unknown score method "wanda2" [unknown-value]

``# E@N:`` puts the expectation on line N. Expected and actual must match exactly:
each expectation by (line, code, message substring), and no unexpected diagnostic.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from resp_dsl.compile import check_file
from resp_dsl.diagnostics import render_all

BAD = Path(__file__).resolve().parent / "bad"
EXPECT = re.compile(r"#\s*E(?:@(\d+))?:\s*(.*?)\s*\[([a-z0-9-]+)\]")


def expectations(path: Path) -> list[tuple[int, str, str]]:
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for m in EXPECT.finditer(line):
            out.append((int(m.group(1) or lineno), m.group(3), m.group(2)))
    return out


CASES = sorted(BAD.glob("*.prune"))


def test_corpus_is_large_enough():
    assert len(CASES) >= 50


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_bad_recipe(path: Path):
    expected = expectations(path)
    assert expected, f"{path.name} states no expectation"
    result = check_file(path, display=path.name)
    actual = [(d.span.line, d.code, d.message) for d in result.diagnostics if d.span.file == path.name]
    shown = render_all(result.diagnostics, result.sources)
    for line, code, text in expected:
        assert any(l == line and c == code and text in m for l, c, m in actual), \
            f"expected {code} on line {line} ({text!r}); got:\n{shown}"
    for line, code, message in actual:
        assert any(l == line and c == code and t in message for l, c, t in expected), \
            f"unexpected diagnostic {code} on line {line}: {message}\n{shown}"
    from resp_dsl.codes import severity

    # a bad recipe fails check unless all it expects are warnings
    assert result.ok == all(severity(c) == "warning" for _, c, _ in expected)
