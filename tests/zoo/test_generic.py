"""The generic-text corpus is read from a standard library's sources: the running one, or RESP_DSL_STDLIB_DIR."""

import pytest

from resp_dsl.zoo import generic


@pytest.fixture
def fresh_corpus():
    generic.docstrings.cache_clear()
    yield
    generic.docstrings.cache_clear()


def test_the_corpus_can_be_read_from_another_pythons_sources(tmp_path, monkeypatch, fresh_corpus):
    running = generic.corpus_checksum()
    doc = "Return the thing that this function computes, in a sentence long enough to be kept as text."
    (tmp_path / "mod.py").write_text(f'"""{doc}"""\n\n\ndef f():\n    """short"""\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text(f'"""{doc} (a test module: skipped)"""\n')
    monkeypatch.setenv(generic.STDLIB_ENV, str(tmp_path))
    generic.docstrings.cache_clear()
    assert generic.docstrings() == (doc,)
    assert generic.corpus_checksum() != running
    monkeypatch.delenv(generic.STDLIB_ENV)
    generic.docstrings.cache_clear()
    assert generic.corpus_checksum() == running


def test_a_missing_stdlib_dir_is_a_clear_error(tmp_path, monkeypatch, fresh_corpus):
    monkeypatch.setenv(generic.STDLIB_ENV, str(tmp_path / "nope"))
    with pytest.raises(SystemExit, match="RESP_DSL_STDLIB_DIR=.*not a directory"):
        generic.docstrings()
