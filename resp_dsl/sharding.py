"""One node's work cut into shards, and the shards' results joined exactly.

Two kinds of node split (no torch, no project imports at module level; the library reads the
active shard through ``active()``):

- **Generation** (calibrate self_generated, regenerate, eval with the direct harness): shard
  ``k`` of ``N`` continues only the prompts ``take(order, shard)`` (the prompts sorted longest
  first, dealt round-robin so the shards get similar work), writes them into the node's
  generation checkpoint and stops the op with ``ShardFinished``. Every prompt index draws its
  sampling noise from its own seeded stream, so a prompt's continuation does not depend on its
  shard; the driver joins the shards' checkpoint lines (``merge_jsonl``) into the node's partial
  dir and runs the op once more, which finds every prompt done and writes the artifact the
  one-process run writes.
- **Taylor scores**: shard ``k`` runs forward + backward on the calibration batches
  ``take(range(n_batches), shard)`` and returns the scorer's additive accumulators (the gradient,
  or per-row sums) through ``ShardFinished``; ``pruning.scoring.reduce_partials`` adds the
  shards' in shard order in float64, and the op runs once more with ``Reduced(partials)`` active,
  turning them into the scores.

    with running(Shard(0, 2)):
        OPS["eval"].run(ctx, node, inputs, out)   # raises ShardFinished after its half of the prompts
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` of one node's work."""

    index: int
    count: int

    def __post_init__(self):
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count} does not exist")

    @property
    def name(self) -> str:
        return f"shard-{self.index}-of-{self.count}"


@dataclass(frozen=True)
class Reduced:
    """The reduced accumulators of every shard of a score node: the op finishes from them."""

    partials: dict[str, Any]


class ShardFinished(Exception):
    """Raised by the library when the active shard's part is done; ``payload`` is what it returns
    (score accumulators; None for generation, whose results are in the checkpoint)."""

    def __init__(self, payload: Any = None):
        super().__init__("shard finished")
        self.payload = payload


_ACTIVE: contextvars.ContextVar[Shard | Reduced | None] = contextvars.ContextVar("resp_dsl_shard", default=None)


def active() -> Shard | Reduced | None:
    """The shard (or reduced partials) the running op works on, None for a whole node."""
    return _ACTIVE.get()


@contextlib.contextmanager
def running(work: Shard | Reduced | None) -> Iterator[None]:
    token = _ACTIVE.set(work)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def take(items: Sequence[Any], shard: Shard) -> list[Any]:
    """The items of ``shard``: dealt round-robin, so that items sorted by cost spread evenly.

    >>> take([7, 3, 5, 1, 0], Shard(1, 2))
    [3, 1]
    """
    return list(items[shard.index::shard.count])


def merge_jsonl(parts: Sequence[bytes]) -> bytes:
    """JSONL checkpoints joined in the order given: complete lines only (a torn last line of a
    part is dropped), each distinct line once (shards return the records they were sent too).
    The checkpoint verifies every record on load and lets a later one of an index win."""
    out = bytearray()
    seen: set[bytes] = set()
    for data in parts:
        end = data.rfind(b"\n")
        for line in data[: end + 1].splitlines(keepends=True) if end >= 0 else ():
            if line.strip() and line not in seen:
                seen.add(line)
                out += line
    return bytes(out)
