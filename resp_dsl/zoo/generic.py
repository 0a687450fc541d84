"""The generic-text corpus of the bundled model: the standard library's docstrings.

It plays the role C4 plays for a real LLM: text the model learned a little of,
so that generic calibration gives meaningful but misaligned gradients. It is
read at run time from the installed interpreter's own source files (parsed
with `ast`, never imported), so no third-party text is vendored. The corpus
therefore depends on the Python version; its checksum is recorded with the
model. To reproduce a model trained under another Python (its training record
names the checksum), point ``RESP_DSL_STDLIB_DIR`` at a copy of that version's
standard-library sources.
"""

from __future__ import annotations

import ast
import hashlib
import os
import sysconfig
from functools import lru_cache
from pathlib import Path

from resp_dsl.zoo.tokenizer import normalize_text

MIN_CHARS = 80


STDLIB_ENV = "RESP_DSL_STDLIB_DIR"


def stdlib_root() -> Path:
    """Where the corpus is read: ``$RESP_DSL_STDLIB_DIR`` if set, else the running interpreter's stdlib."""
    override = os.environ.get(STDLIB_ENV)
    if not override:
        return Path(sysconfig.get_paths()["stdlib"])
    if not Path(override).is_dir():
        raise SystemExit(f"{STDLIB_ENV}={override}: not a directory of Python standard-library sources")
    return Path(override)


def _stdlib_sources() -> list[Path]:
    root = stdlib_root()
    skip = ("site-packages", "test", "tests", "idlelib", "lib2to3", "turtledemo", "__pycache__")
    files = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).parts
        if any(part in skip for part in rel):
            continue
        files.append(path)
    return files


@lru_cache(maxsize=1)
def docstrings() -> tuple[str, ...]:
    """Every docstring of at least MIN_CHARS characters, in a fixed order."""
    out: list[str] = []
    for path in _stdlib_sources():
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node, clean=True)
                if doc:
                    doc = normalize_text(doc).strip()
                    if len(doc) >= MIN_CHARS:
                        out.append(doc)
    return tuple(out)


def corpus_checksum() -> str:
    h = hashlib.sha256()
    for d in docstrings():
        h.update(d.encode())
        h.update(b"\0")
    return h.hexdigest()


def split_docstrings() -> dict[str, tuple[str, ...]]:
    """A deterministic train / validation split (every 20th docstring is held out)."""
    docs = docstrings()
    return {
        "train": tuple(d for i, d in enumerate(docs) if i % 20 != 0),
        "validation": tuple(d for i, d in enumerate(docs) if i % 20 == 0),
    }
