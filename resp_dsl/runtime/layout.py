"""Where a node's cache entry lives, given its key (the store in store.py follows this).

    <root>/v1/<key[:2]>/<key>/    a complete entry (artifacts + manifest.json)

``root`` is ``--cache DIR``, else $RESP_DSL_CACHE, else ~/.cache/resp-dsl.
"""

from __future__ import annotations

import os
from pathlib import Path

SCHEME_DIR = "v1"


def default_root() -> Path:
    env = os.environ.get("RESP_DSL_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "resp-dsl"


def entry_dir(root: str | Path, key: str) -> Path:
    return Path(root).expanduser() / SCHEME_DIR / key[:2] / key
