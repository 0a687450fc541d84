"""The bundled tiny models and their task data.

>>> from resp_dsl import zoo
>>> zoo.path("tiny-reasoner")            # HF-format directory, loads offline
>>> zoo.data_path("tiny-reasoner", "test")  # GSM8K-schema JSONL
>>> zoo.path("tiny-rlm")                 # the deeper, redundant, stochastic one

What each model is (architecture, training, task) is in `resp_dsl.zoo.spec.MODELS`;
this module is the one place that knows where their files lie. Nothing here imports torch.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from resp_dsl.zoo.spec import MODELS as _SPECS

ROOT = Path(__file__).resolve().parent
MODELS = tuple(_SPECS)
SPLITS = ("train", "validation", "test")


class ZooError(LookupError):
    pass


def _check_name(name: str) -> None:
    if name not in MODELS:
        raise ZooError(f"unknown bundled model {name!r}; available: {', '.join(MODELS)}")


def path(name: str = "tiny-reasoner", *, must_exist: bool = True) -> Path:
    """The model directory of a bundled model (config.json, model.safetensors, tokenizer)."""
    _check_name(name)
    p = ROOT / name / "model"
    if must_exist and not (p / "config.json").is_file():
        raise ZooError(f"bundled model {name!r} is not built at {p}; run `resp-dsl zoo train {name}`")
    return p


def data_path(name: str = "tiny-reasoner", split: str = "test") -> Path:
    """The JSONL file of one split of a bundled model's task (GSM8K schema: question, answer)."""
    _check_name(name)
    if split not in SPLITS:
        raise ZooError(f"unknown split {split!r}; available: {', '.join(SPLITS)}")
    return ROOT / name / "data" / f"{split}.jsonl"


def model_for_task(task: str) -> str:
    """The bundled model whose data a bundled task (``tiny_gsm``, ``tiny_gsm_hard``) reads."""
    for name, spec in _SPECS.items():
        if spec.task == task:
            return name
    raise ZooError(f"no bundled model has the task {task!r}")


def task_data_path(task: str, split: str) -> Path:
    """The JSONL split of a bundled task."""
    return data_path(model_for_task(task), split)


def is_bundled_task(task: str) -> bool:
    return any(spec.task == task for spec in _SPECS.values())


def available() -> list[dict]:
    """What `resp-dsl ls` shows about bundled models."""
    out = []
    for name in MODELS:
        p = ROOT / name / "model"
        out.append({"name": name, "path": str(p), "built": (p / "config.json").is_file(),
                    "data": {s: str(data_path(name, s)) for s in SPLITS}})
    return out


def write_data(name: str = "tiny-reasoner", out: Path | None = None, *, force: bool = False) -> Path:
    """Generate the task's splits and write them atomically as JSONL."""
    _check_name(name)
    out = Path(out) if out else ROOT / name / "data"
    out.mkdir(parents=True, exist_ok=True)
    splits = _SPECS[name].task_generator().generate_all_splits()
    for split, problems in splits.items():
        target = out / f"{split}.jsonl"
        if target.exists() and not force:
            raise ZooError(f"{target} exists; pass --force to replace it")
        fd, tmp = tempfile.mkstemp(prefix=f".{split}-", suffix=".jsonl", dir=out)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for p in problems:
                fh.write(json.dumps(p.to_json(), ensure_ascii=False) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    return out
