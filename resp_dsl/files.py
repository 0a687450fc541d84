"""Files, safely: the one sha256 of a file, atomic text/JSON writes, canonical JSON. Stdlib only
(the front end imports it; no torch).

Every write goes through an unpredictable temporary file in the target's own directory
(``mkstemp``: created exclusively, never through a planted link), is flushed to disk, gets the
user's umask, and replaces the target with one ``os.replace``: a reader sees the old file or the
new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

CHUNK = 1 << 20

# What the bundled models keep beside their weights: the measured model card and the training record.
MODEL_CARD_JSON = "card.json"
TRAINING_RECORD_JSON = "training.json"


def is_documentation(name: str) -> bool:
    """A file beside a model's weights (or a data set's files) that documents it and cannot change
    what loading it gives: a README or any Markdown, a licence or notice, a dot-file, the bundled
    models' card and training record. A directory's checksum leaves these out
    (``graph.checksum_path``), so editing a model card never invalidates what was computed from
    the model."""
    return (name.startswith(".") or name.lower().endswith(".md") or name.upper().startswith(("LICENSE", "NOTICE"))
            or name in (MODEL_CARD_JSON, TRAINING_RECORD_JSON))


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value (sorted keys, no spaces, no NaN): what content keys hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file in the same directory + rename)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same directory + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | os.PathLike[str], data: Any, *, indent: int = 2) -> Path:
    """Write ``data`` as readable JSON (sorted keys, trailing newline) to ``path`` atomically."""
    return write_text_atomic(path, json.dumps(data, indent=indent, sort_keys=True, ensure_ascii=False) + "\n")
