"""Where the runtime tests find local copies of real data. Never a machine path."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GSM8K_ENV = "RESP_DSL_GSM8K_DIR"


def gsm8k_location(env=os.environ) -> Path:
    """$RESP_DSL_GSM8K_DIR, else ../shared/data/gsm8k beside the checkout."""
    return Path(env[GSM8K_ENV]).expanduser() if env.get(GSM8K_ENV) else REPO.parent / "shared" / "data" / "gsm8k"
