"""What parallel workers buy, before renting them: critical path and makespan of a plan.

Pure Python over the plan's per-node costs and the graph's dependencies (`plan --workers N`).
Each cost unit (tokens to generate, forward+backward passes, forward passes) is scheduled on
its own, as if it were the only work: a node's duration is its cost in that unit. With
``shards`` > 1, a node the Ray executor splits (``Op.shard_kind``) becomes that
many equal tasks. The schedule is greedy list scheduling by longest remaining path (HLFET):
the makespan it reports is achievable, and never below ``max(critical path, total / workers)``.

    >>> s = schedule(["a", "b", "c"], {"c": ["a", "b"]}, {"a": 4, "b": 4, "c": 1}, workers=2)
    >>> (s.total, s.critical_path, s.makespan)
    (9, 5.0, 5.0)
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

UNITS = {"tokens_generated": "tokens to generate", "forward_backward": "fwd+bwd passes", "forward": "forward passes"}


@dataclass(frozen=True)
class Schedule:
    total: float  # one worker: the sum of every node's work
    critical_path: float  # the longest dependency chain: no number of workers goes below it
    makespan: float  # `workers` workers, greedy list scheduling
    workers: int
    path: tuple[str, ...] = field(default=())  # the nodes of the critical path, first to last

    @property
    def speedup(self) -> float:
        return self.total / self.makespan if self.makespan else 1.0


def critical_path(ids: Sequence[str], deps: Mapping[str, Sequence[str]], work: Mapping[str, float]
                  ) -> tuple[float, tuple[str, ...]]:
    """Length and nodes of the heaviest chain; ``ids`` in dependency order."""
    best: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for n in ids:
        parent = max(deps.get(n, ()), key=lambda p: best[p], default=None)
        best[n] = work.get(n, 0) + (best[parent] if parent is not None else 0)
        via[n] = parent
    if not best:
        return 0, ()
    end = max(reversed(ids), key=lambda n: best[n])  # on a tie, the chain that goes on longest
    path = []
    cur: str | None = end
    while cur is not None:
        path.append(cur)
        cur = via[cur]
    return best[end], tuple(reversed(path))


def schedule(ids: Sequence[str], deps: Mapping[str, Sequence[str]], work: Mapping[str, float], *, workers: int,
             split: Mapping[str, int] | None = None) -> Schedule:
    """The makespan of running ``ids`` on ``workers`` workers; node ``n`` runs as ``split[n]``
    equal tasks (default 1), all of which must finish before its children start."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    split = split or {}
    children: dict[str, list[str]] = {n: [] for n in ids}
    for n in ids:
        for p in deps.get(n, ()):
            children[p].append(n)
    level: dict[str, float] = {}  # longest remaining path from a node's start (the priority)
    for n in reversed(ids):
        level[n] = work.get(n, 0) / max(1, split.get(n, 1)) + max((level[c] for c in children[n]), default=0)
    total = sum(work.get(n, 0) for n in ids)
    length, path = critical_path(ids, deps, {n: work.get(n, 0) / max(1, split.get(n, 1)) for n in ids})
    waiting = {n: len(deps.get(n, ())) for n in ids}
    ready_at = {n: 0.0 for n in ids}
    free = [0.0] * workers  # a heap of the times the workers become free
    order = {n: i for i, n in enumerate(ids)}
    ready = [(-level[n], order[n], n) for n in ids if waiting[n] == 0]
    heapq.heapify(ready)
    end = 0.0
    while ready:
        _, _, n = heapq.heappop(ready)
        pieces = max(1, split.get(n, 1))
        finish = 0.0
        for _ in range(pieces):
            start = max(heapq.heappop(free), ready_at[n])
            done = start + work.get(n, 0) / pieces
            heapq.heappush(free, done)
            finish = max(finish, done)
        end = max(end, finish)
        for c in children[n]:
            ready_at[c] = max(ready_at[c], finish)
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, (-level[c], order[c], c))
    return Schedule(total, length, end, workers, path)


def plan_schedules(nodes: Sequence[dict], *, workers: int, shards: int = 1) -> dict[str, Schedule]:
    """One schedule per cost unit for the nodes of ``plan --format json`` (dependency order)."""
    from resp_dsl.ops import OPS

    ids = [n["id"] for n in nodes]
    deps = {n["id"]: list(n["inputs"].values()) for n in nodes}
    split = {n["id"]: shards for n in nodes if shards > 1 and OPS[n["op"]].shard_kind(n["params"])}
    return {unit: schedule(ids, deps, {n["id"]: n["cost"][unit] or 0 for n in nodes}, workers=workers, split=split)
            for unit in UNITS}
