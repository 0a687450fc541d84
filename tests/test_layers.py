"""The layering contract of pyproject.toml ([tool.importlinter]) holds (issue #9).

`cli > zoo_build > runtime > evaluation > generation | pruning > tasks > models | kernels > zoo`,
and the front end never imports torch, transformers, safetensors, datasets or lm-eval (not even lazily).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_layers_hold():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed: pip install -e '.[dev]'")
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout
