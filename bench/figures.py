"""What every bench reports: a list of figures, written as JSON with ``--json FILE``.

    figs = [Figure("median wall time", 0.93, "s", target="<= 2", met=0.93 <= 2)]
    write_figures(args.json, figs)          # {"figures": [{"figure": ..., "value": ..., ...}]}

A figure's value is a number, or a string where the measurement could not be made (the reason).
``met`` is None when the figure has no target.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    figure: str
    value: float | int | str
    unit: str = ""
    target: str | None = None
    met: bool | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Figure:
        if not isinstance(d, dict) or "figure" not in d or "value" not in d:
            raise ValueError(f"a figure needs 'figure' and 'value', got {d!r}")
        unknown = set(d) - {"figure", "value", "unit", "target", "met"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)} in figure {d.get('figure')!r}")
        return cls(str(d["figure"]), d["value"], str(d.get("unit") or ""), d.get("target"), d.get("met"))


def add_json_argument(parser) -> None:
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON (what `python -m bench` reads)")


def write_figures(path: str | Path | None, figures: list[Figure]) -> None:
    if path:
        Path(path).write_text(json.dumps({"figures": [f.to_dict() for f in figures]}, indent=1) + "\n")


def read_figures(path: str | Path) -> list[Figure]:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or not isinstance(data.get("figures"), list):
        raise ValueError(f"{path}: expected an object with a 'figures' list")
    return [Figure.from_dict(d) for d in data["figures"]]
