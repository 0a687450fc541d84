"""What every generation backend returns, and the checkpoint protocol they share.

No torch here: the interpreter and ``plan`` can read ``Generation`` records without it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol

FINISH_REASONS = ("eos", "stop", "length")

# The Python API's sampling defaults (generate, evaluate_direct / evaluate_lm_eval, the zoo's
# card and evaluation helpers): Qwen3's thinking-mode temperature and top-p, no top-k cut.
# Recipes do not use them: a recipe's sampling comes from the model's generation_config
# unless it sets its own (registry.sampling_from).
TEMPERATURE = 0.6
TOP_P = 0.95
TOP_K = 0


@dataclasses.dataclass(frozen=True)
class Generation:
    """One prompt's continuation.

    ``token_ids`` are the generated ids (prompt excluded) up to and including the EOS token
    or the token that completed a stop string; ``text`` is their decoding with a trailing
    EOS removed and everything from a stop string on cut off (lm-eval's ``until``).
    ``finish_reason`` is ``"eos"``, ``"stop"`` (a stop string) or ``"length"``.
    """

    prompt: str
    text: str
    token_ids: list[int]
    n_prompt_tokens: int
    finish_reason: str

    def to_record(self, index: int) -> dict[str, Any]:
        """A JSON record for checkpoints and trace files."""
        return {"index": index, "prompt_sha": prompt_sha(self.prompt), **dataclasses.asdict(self)}

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Generation:
        return cls(prompt=rec["prompt"], text=rec["text"], token_ids=list(rec["token_ids"]),
                   n_prompt_tokens=int(rec["n_prompt_tokens"]), finish_reason=rec["finish_reason"])


def prompt_sha(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]


class Checkpoint(Protocol):
    """Where a backend saves finished prompts per batch (``store.JsonlCheckpoint`` fits)."""

    def load(self) -> dict[int, dict[str, Any]]: ...

    def append(self, records: Iterable[dict[str, Any]]) -> None: ...


# progress(done, total): prompts finished so far (resumed ones included) out of all prompts.
Progress = Callable[[int, int], None]


def resume(prompts: list[str], checkpoint: Checkpoint | None) -> dict[int, Generation]:
    """Finished generations from ``checkpoint`` whose prompt is still the same, by index."""
    if checkpoint is None:
        return {}
    done = {}
    for i, rec in checkpoint.load().items():
        if 0 <= i < len(prompts) and rec.get("prompt_sha") == prompt_sha(prompts[i]):
            done[i] = Generation.from_record(rec)
    return done


def shard_part(order: list[int], checkpoint: Checkpoint | None) -> list[int]:
    """The prompt indices this call continues: all of ``order``, or the active shard's part of it
    (``sharding``; its results reach the driver through ``checkpoint``)."""
    from resp_dsl import sharding

    shard = sharding.active()
    if not isinstance(shard, sharding.Shard):
        return order
    if checkpoint is None:
        raise RuntimeError("a generation shard needs a checkpoint to return its prompts through")
    return sharding.take(order, shard)


def end_shard() -> None:
    """Stop the op after a shard's prompts (``sharding.ShardFinished``); no-op for a whole node."""
    from resp_dsl import sharding

    if isinstance(sharding.active(), sharding.Shard):
        raise sharding.ShardFinished()


AUTO_BATCH = "auto"
DEFAULT_BATCH = 64
AUTO_BATCH_START = {"cuda": 256, "cpu": DEFAULT_BATCH}  # `auto`: first try; halved on out-of-memory


def parse_batch_size(text: str) -> int | str:
    """A CLI batch size: a whole number >= 1 or `auto` (ValueError otherwise)."""
    if text == AUTO_BATCH:
        return AUTO_BATCH
    n = int(text)
    if n < 1:
        raise ValueError(f"batch size must be >= 1 or auto, got {text}")
    return n


def first_batch_size(batch_size: int | str, device_type: str) -> int:
    """The batch to start with: the given number, or for `auto` a large one for the device."""
    return AUTO_BATCH_START.get(device_type, DEFAULT_BATCH) if batch_size == AUTO_BATCH else int(batch_size)


def check_sampling(*, max_new_tokens: int, temperature: float, top_p: float, top_k: int, batch_size: int | str) -> None:
    """Reject impossible sampling settings before any work."""
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0 (0 keeps all tokens), got {top_k}")
    if batch_size != AUTO_BATCH and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be >= 1 or {AUTO_BATCH!r}, got {batch_size!r}")


def save_generations(path: Any, gens: list[Generation], **meta: Any) -> None:
    """Write generations as JSONL, one record per prompt (``index``, the fields of
    ``Generation``, and ``meta`` such as sampling settings and the source model key)."""
    import json
    from pathlib import Path

    with open(Path(path), "w", encoding="utf-8") as f:
        for i, g in enumerate(gens):
            f.write(json.dumps({**g.to_record(i), **({"meta": meta} if meta else {})}, ensure_ascii=False,
                               sort_keys=True) + "\n")


def load_generations(path: Any) -> list[Generation]:
    """Read a file written by ``save_generations``, in index order."""
    import json
    from pathlib import Path

    recs = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    recs.sort(key=lambda r: r["index"])
    if [r["index"] for r in recs] != list(range(len(recs))):
        raise ValueError(f"{path}: generation indices are not 0..{len(recs) - 1}")
    return [Generation.from_record(r) for r in recs]
