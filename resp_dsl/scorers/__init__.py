"""The scorers, by name: the one table that the language, `plan`, the op schemas and the engine read.

A new scorer is one file in this package and one line here (see ``base.py``).
"""

from __future__ import annotations

from resp_dsl.scorers.base import Scorer
from resp_dsl.scorers.flap import FLAP
from resp_dsl.scorers.magnitude import MAGNITUDE
from resp_dsl.scorers.taylor import TAYLOR
from resp_dsl.scorers.wanda import WANDA

SCORERS: dict[str, Scorer] = {s.name: s for s in (
    TAYLOR,
    WANDA,
    MAGNITUDE,
    FLAP,
)}

TOKEN_SCOPES = ("decode_only", "full")  # which calibration tokens a scorer reads (Taylor: its loss)
