"""Selection of the structures to remove, against an exact sparsity target.

Sparsity is always measured against the original dense model: removed structure parameters
(attention and MLP projections) over those of the dense model (basis="params"), or removed
structures over all structures (basis="structures"). A model already at 0.1 pruned "to 0.2"
ends at 0.2 overall. Never above the target:

- ``allocate="global"``: the cut is the longest prefix of the global ranking (every unprotected
  block's heads and channels together) that does not exceed the target, so the achieved sparsity
  is below the target by less than one structure.
- ``allocate="uniform"``: every unprotected block loses the same fraction f of its heads (or KV
  groups) and of its channels, its own lowest-scored ones (FLAP's and GISP's structured Wanda-sp;
  normalisation plays no part inside one block and type). f is the largest fraction (a step of
  one head or one channel) whose cut stays within the target; a block whose head cut empties a KV
  group (its K/V rows go too) removes correspondingly fewer channels, so the target still holds and
  the achieved sparsity falls short of it by less than one head and one channel per block.
  ``allocate="sequential"`` is the same plan, scored block by block
  (``pruning.schedule.select_sequential``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import torch

from resp_dsl.kernels import ranking
from resp_dsl.pruning.scoring import StructureScores
from resp_dsl import vocab
from resp_dsl.sparsity import protected_blocks
from resp_dsl.pruning.state import (
    dense_dims, full_layout, kept_layout, layout_params, linear_biases, structure_params,
)

BASES = vocab.BASES
ALLOCATIONS = vocab.ALLOCATIONS
UNITS = ("heads", "kv_groups")


@dataclass(frozen=True)
class ProtectSpec:
    """Blocks never pruned: the first `first_fraction` of blocks (int(f·L), as the reference), the last, and `blocks`."""

    first_fraction: float = 0.1
    last: bool = True
    blocks: tuple[int, ...] = ()

    def protected(self, n_layers: int) -> list[int]:
        return protected_blocks(n_layers, first_fraction=self.first_fraction, last=self.last, blocks=self.blocks)


@dataclass
class Selection:
    """Per-block kept structures in dense indices, plus the sparsity reached. JSON-serialisable."""

    target: float
    basis: str
    unit: str
    normalize: str
    achieved: float
    achieved_params: float
    achieved_structures: float
    protected: list[int]
    dense: dict
    layers: list[dict[str, list[int]]] = field(default_factory=list)
    allocate: str = ALLOCATIONS[0]

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "Selection":
        return cls(**d)


def params_sparsity(layout, dims, bias) -> float:
    """Removed structure parameters over the dense model's (removed / total: exact for exact fractions)."""
    total = layout_params(full_layout(dims), dims, bias)
    return (total - layout_params(layout, dims, bias)) / total


def structures_sparsity(layout, dims, unit: str = "heads") -> float:
    """Removed structures over all structures: query heads (or KV heads) plus channels."""
    key, n = ("q_heads", dims.num_heads) if unit == "heads" else ("kv_heads", dims.num_kv_heads)
    total = dims.num_layers * (n + dims.intermediate_size)
    return (total - sum(len(l[key]) + len(l["channels"]) for l in layout)) / total


def sparsity_of(layout, dims, bias) -> tuple[float, float]:
    """(params sparsity, structures sparsity over query heads + channels) of a layout."""
    return params_sparsity(layout, dims, bias), structures_sparsity(layout, dims)


@dataclass(frozen=True)
class _Budget:
    """What a selection may remove: the dense total, what is gone already, and each structure's cost."""

    dims: object
    bias: dict
    sp: dict
    layout: list
    total: float
    removed_before: float
    head_cost: float
    kv_cost: float
    ch_cost: float
    budget: float


def _budget(model, *, target: float, basis: str, unit: str) -> _Budget:
    if basis not in BASES:
        raise ValueError(f"unknown sparsity basis {basis!r}: choose one of {', '.join(BASES)}")
    if unit not in UNITS:
        raise ValueError(f"unknown head unit {unit!r}: choose one of {', '.join(UNITS)}")
    if not 0.0 <= target < 1.0:
        raise ValueError(f"target sparsity {target} must be in [0, 1)")
    dims = dense_dims(model)
    bias = linear_biases(model)
    sp = structure_params(dims, bias=bias)
    layout = kept_layout(model)
    if basis == "params":
        total = layout_params(full_layout(dims), dims, bias)
        removed_before = total - layout_params(layout, dims, bias)
        costs = sp["head"], sp["kv"], sp["channel"]
    else:
        n_heads = dims.num_heads if unit == "heads" else dims.num_kv_heads
        total = dims.num_layers * (n_heads + dims.intermediate_size)
        removed_before = round(structures_sparsity(layout, dims, unit) * total)
        costs = 1, 0, 1
    budget = target * total - removed_before
    if budget < -1e-9 * total:
        raise ValueError(
            f"the model is already at {removed_before / total:.4f} sparsity ({basis}), above the target {target}")
    return _Budget(dims, bias, sp, layout, total, removed_before, *costs, budget)


def select_structures(
    model,
    scores: StructureScores,
    *,
    target: float,
    basis: str = "params",
    protect: ProtectSpec = ProtectSpec(),
    normalize: str = "type",
    unit: str = "heads",
    allocate: str = ALLOCATIONS[0],
) -> Selection:
    """Choose the structures to keep so that `model` reaches `target` sparsity (of the dense model)."""
    if allocate not in ALLOCATIONS:
        raise ValueError(f"unknown allocation {allocate!r}: choose one of {', '.join(ALLOCATIONS)}")
    if allocate == "sequential":
        raise ValueError("allocate='sequential' re-scores block by block and needs the calibration samples: "
                         "use resp_dsl.pruning.schedule.select_sequential")
    if allocate == "uniform":
        plan = uniform_plan(model, target=target, basis=basis, protect=protect, unit=unit)
        return select_uniform(model, scores, plan, normalize=normalize)
    if normalize not in ranking.NORMALIZATIONS:
        raise ValueError(f"unknown normalisation {normalize!r}: choose one of {', '.join(ranking.NORMALIZATIONS)}")
    b = _budget(model, target=target, basis=basis, unit=unit)
    dims, bias, sp, layout, total, removed_before, budget = b.dims, b.bias, b.sp, b.layout, b.total, \
        b.removed_before, b.budget
    head_cost, kv_cost, ch_cost = b.head_cost, b.kv_cost, b.ch_cost
    if len(scores.layers) != dims.num_layers:
        raise ValueError(f"scores cover {len(scores.layers)} blocks, the model has {dims.num_layers}")
    protected = protect.protected(dims.num_layers)
    rep = dims.heads_per_group

    # Candidates: (layer, kind, dense index), normalised score, cost, KV group id for head candidates.
    cand, norm_scores, costs, groups = [], [], [], []
    group_cost: list[float] = []
    for i, ls in enumerate(scores.layers):
        if i in protected:
            continue
        live_heads = ls.head_index.tolist()
        kv_live = ls.kv_index.tolist()
        if unit == "heads":
            heads_s = _normalize(ls.heads, normalize, sp["head"], 4 * dims.head_dim * dims.hidden_size)
            gid = {}
            for g in kv_live:
                gid[g] = len(group_cost)
                group_cost.append(kv_cost)
            for h, s in zip(live_heads, heads_s.tolist()):
                cand.append((i, "q_heads", h)); norm_scores.append(s); costs.append(head_cost)
                groups.append(gid[h // rep])
        else:
            head_score = dict(zip(live_heads, ls.heads.tolist()))
            raw, gcost = [], []
            for g, s in zip(kv_live, ls.kv.tolist()):
                members = [h for h in live_heads if h // rep == g]
                raw.append(s + sum(head_score[h] for h in members))
                gcost.append(kv_cost + len(members) * (head_cost if basis == "params" else 0))
            if basis == "structures":
                gcost = [1] * len(kv_live)
            per_group_params = sp["kv"] + rep * sp["head"]
            group_s = _normalize(torch.tensor(raw, dtype=torch.float64), normalize, per_group_params,
                                 4 * dims.head_dim * dims.hidden_size * rep)
            for g, s, c in zip(kv_live, group_s.tolist(), gcost):
                cand.append((i, "kv_heads", g)); norm_scores.append(s); costs.append(c); groups.append(-1)
        ch_s = _normalize(ls.channels, normalize, sp["channel"], 3 * dims.intermediate_size)
        for c, s in zip(ls.channel_index.tolist(), ch_s.tolist()):
            cand.append((i, "channels", c)); norm_scores.append(s); costs.append(ch_cost); groups.append(-1)

    removed = set()
    if cand and budget > 0:
        order = ranking.rank_ascending(torch.tensor(norm_scores, dtype=torch.float64))
        extra = ranking.group_release_costs(order, torch.tensor(groups, dtype=torch.long),
                                            torch.tensor(group_cost, dtype=torch.float64))
        in_order = torch.tensor(costs, dtype=torch.float64)[order] + extra
        k = ranking.cut_prefix(in_order, budget)
        if k == len(cand) and float(in_order.sum()) < budget - 1e-9 * total:
            reachable = (removed_before + float(in_order.sum())) / total
            raise ValueError(f"target {target} is unreachable: protecting blocks {protected} "
                             f"leaves at most {reachable:.4f} sparsity ({basis})")
        removed = {cand[j] for j in order[:k].tolist()}
    elif budget > 1e-9 * total:
        raise ValueError(f"target {target} is unreachable: every block is protected")

    new_layout = []
    for i, l in enumerate(layout):
        q = [h for h in l["q_heads"] if (i, "q_heads", h) not in removed]
        kv = [g for g in l["kv_heads"] if (i, "kv_heads", g) not in removed]
        q = [h for h in q if h // rep in kv]
        kv = [g for g in kv if any(h // rep == g for h in q)]  # a KV head with no query head goes
        ch = [c for c in l["channels"] if (i, "channels", c) not in removed]
        new_layout.append({"q_heads": q, "kv_heads": kv, "channels": ch})
    p_sparsity = params_sparsity(new_layout, dims, bias)
    s_sparsity = structures_sparsity(new_layout, dims, unit)
    return Selection(
        target=float(target), basis=basis, unit=unit, normalize=normalize,
        achieved=p_sparsity if basis == "params" else s_sparsity,
        achieved_params=p_sparsity, achieved_structures=s_sparsity, protected=protected,
        dense=dims.to_dict(), layers=new_layout,
    )


@dataclass(frozen=True)
class UniformPlan:
    """A uniform cut, fixed before any score is read: per unprotected block, how many head units
    (query heads, or KV groups with unit "kv_groups") and MLP channels it has lost once cut, in
    dense counts (a block that already lost more keeps what it has)."""

    target: float
    basis: str
    unit: str
    protected: list[int]
    fraction: float
    counts: dict[int, tuple[int, int]]
    kv_per_channel: float = 0.0  # channels a block keeps back for each KV group its head cut empties


def uniform_plan(model, *, target: float, basis: str = "params", protect: ProtectSpec = ProtectSpec(),
                 unit: str = "heads") -> UniformPlan:
    """The largest fraction f (a breakpoint k/H or k/C) whose uniform cut of the unprotected blocks
    stays within `target` (a KV group that empties is paid for with channels, ``select_uniform``)."""
    b = _budget(model, target=target, basis=basis, unit=unit)
    dims, layout, total, removed_before, budget = b.dims, b.layout, b.total, b.removed_before, b.budget
    head_cost, kv_cost, ch_cost = b.head_cost, b.kv_cost, b.ch_cost
    protected = protect.protected(dims.num_layers)
    rep = dims.heads_per_group
    key, n_units = ("q_heads", dims.num_heads) if unit == "heads" else ("kv_heads", dims.num_kv_heads)
    n_ch = dims.intermediate_size
    blocks = [i for i in range(dims.num_layers) if i not in protected]
    now = {i: (n_units - len(layout[i][key]), n_ch - len(layout[i]["channels"])) for i in blocks}
    unit_cost = head_cost if unit == "heads" else kv_cost + rep * head_cost

    def cut(f: float) -> tuple[float, dict[int, tuple[int, int]]]:
        extra, counts = 0.0, {}
        for i in blocks:
            h0, c0 = now[i]
            h = max(h0, math.floor(f * n_units + 1e-9))
            c = max(c0, math.floor(f * n_ch + 1e-9))
            extra += (h - h0) * unit_cost + (c - c0) * ch_cost
            counts[i] = (h, c)
        return extra, counts

    fits = lambda f: cut(f)[0] <= budget * (1 + 1e-12) + 1e-9  # noqa: E731
    points = sorted({k / n_units for k in range(n_units + 1)} | {k / n_ch for k in range(n_ch + 1)})
    lo, hi = 0, len(points) - 1  # points[0] = 0 always fits; find the last point that fits
    if not blocks or not fits(points[0]):
        lo = hi = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(points[mid]) else (lo, mid - 1)
    f = points[lo] if blocks else 0.0
    extra, counts = cut(f)
    if budget - extra > 1e-9 * total and (not blocks or lo == len(points) - 1):  # every unprotected structure cut
        raise ValueError(f"target {target} is unreachable: protecting blocks {protected} "
                         f"leaves at most {(removed_before + extra) / total:.4f} sparsity ({basis})")
    return UniformPlan(target=float(target), basis=basis, unit=unit, protected=protected, fraction=f, counts=counts,
                       kv_per_channel=kv_cost / ch_cost if unit == "heads" else 0.0)


def select_uniform(model, scores: StructureScores, plan: UniformPlan, *, normalize: str = "type",
                   blocks: list[int] | None = None) -> Selection:
    """Cut `blocks` (default: every block of the plan) to the plan's counts, each block's own
    lowest-scored live structures going first; the other blocks keep what `model` has."""
    dims = dense_dims(model)
    rep = dims.heads_per_group
    layout = kept_layout(model)
    if len(scores.layers) != dims.num_layers:
        raise ValueError(f"scores cover {len(scores.layers)} blocks, the model has {dims.num_layers}")
    new_layout = [dict(l) for l in layout]
    for i in (plan.counts if blocks is None else blocks):
        h, c = plan.counts[i]
        ls, l = scores.layers[i], layout[i]
        live_heads = ls.head_index.tolist()
        if plan.unit == "heads":
            units, unit_scores, key, n = live_heads, ls.heads, "q_heads", dims.num_heads
        else:
            head_score = dict(zip(live_heads, ls.heads.tolist()))
            units, key, n = ls.kv_index.tolist(), "kv_heads", dims.num_kv_heads
            unit_scores = torch.tensor([s + sum(head_score[m] for m in live_heads if m // rep == g)
                                        for g, s in zip(units, ls.kv.tolist())], dtype=torch.float64)
        drop_units = max(0, h - (n - len(l[key])))
        gone_u = {units[j] for j in ranking.rank_ascending(unit_scores)[:drop_units].tolist()}
        if plan.unit == "heads":
            q = [x for x in l["q_heads"] if x not in gone_u]
            kv = [g for g in l["kv_heads"] if any(x // rep == g for x in q)]  # a KV head with no query head goes
        else:
            kv = [g for g in l["kv_heads"] if g not in gone_u]
            q = [x for x in l["q_heads"] if x // rep in kv]
        emptied = len(l["kv_heads"]) - len(kv) if plan.unit == "heads" else 0
        drop_ch = max(0, c - (dims.intermediate_size - len(l["channels"])) - math.ceil(emptied * plan.kv_per_channel))
        chans = ls.channel_index.tolist()
        gone_c = {chans[j] for j in ranking.rank_ascending(ls.channels)[:drop_ch].tolist()}
        new_layout[i] = {"q_heads": q, "kv_heads": kv, "channels": [x for x in l["channels"] if x not in gone_c]}
    bias = linear_biases(model)
    p_sparsity = params_sparsity(new_layout, dims, bias)
    s_sparsity = structures_sparsity(new_layout, dims, plan.unit)
    return Selection(
        target=plan.target, basis=plan.basis, unit=plan.unit, normalize=normalize,
        achieved=p_sparsity if plan.basis == "params" else s_sparsity, achieved_params=p_sparsity,
        achieved_structures=s_sparsity, protected=list(plan.protected), dense=dims.to_dict(), layers=new_layout,
        allocate="uniform",
    )


def _normalize(scores: torch.Tensor, mode: str, params: float, reference: float) -> torch.Tensor:
    s = scores.double()
    mean = float(s.mean()) if s.numel() else 0.0
    return ranking.normalize_scores(s, mode=mode, params=params, reference=reference, block_mean=mean)


ROUNDING = ("heads", "channels", "both")


def round_uniform(model, scores: StructureScores, selection: Selection, which: str = "both") -> Selection:
    """Round `selection` so every pruned block keeps the same counts (for a stock "uniform" export).

    Each non-protected block keeps K KV heads with R query heads each (``which`` heads or both) and
    C channels (channels or both), K, R and C the rounded means of the selection's blocks; within a
    block the highest-scored structures among those `scores` cover stay (a block may get back some
    the selection removed). The achieved sparsity is recomputed (it moves by the rounding); protected
    blocks stay as they are. `model` supplies the dense dimensions.
    """
    if which not in ROUNDING:
        raise ValueError(f"unknown rounding {which!r}: choose one of {', '.join(ROUNDING)}")
    dims = dense_dims(model)
    rep = dims.heads_per_group
    pruned = [i for i in range(dims.num_layers) if i not in selection.protected]
    if not pruned:
        return selection
    layers = [selection.layers[i] for i in pruned]
    n_kv = round(sum(len(l["kv_heads"]) for l in layers) / len(layers))
    n_q = sum(len(l["q_heads"]) for l in layers) / len(layers)
    n_rep = min(rep, round(n_q / n_kv)) if n_kv else 0
    n_ch = round(sum(len(l["channels"]) for l in layers) / len(layers))
    new_layout = [dict(l) for l in selection.layers]
    for i in pruned:
        ls = scores.layers[i]
        live_heads, live_kv, live_ch = ls.head_index.tolist(), ls.kv_index.tolist(), ls.channel_index.tolist()
        if which in ("heads", "both"):
            head_score = dict(zip(live_heads, ls.heads.tolist()))
            kv_score = dict(zip(live_kv, ls.kv.tolist()))
            groups = []
            for g in live_kv:
                members = sorted((h for h in live_heads if h // rep == g), key=lambda h: -head_score[h])
                if len(members) >= n_rep:
                    groups.append((kv_score[g] + sum(head_score[h] for h in members[:n_rep]), g, members[:n_rep]))
            groups.sort(key=lambda t: -t[0])
            if len(groups) < n_kv:
                raise ValueError(f"block {i} has too few live KV groups for a uniform {n_kv}×{n_rep} layout")
            chosen = sorted(groups[:n_kv], key=lambda t: t[1])
            new_layout[i]["q_heads"] = sorted(h for _, _, m in chosen for h in m)
            new_layout[i]["kv_heads"] = [g for _, g, _ in chosen]
        if which in ("channels", "both"):
            ch_score = dict(zip(live_ch, ls.channels.tolist()))
            new_layout[i]["channels"] = sorted(sorted(live_ch, key=lambda c: -ch_score[c])[:n_ch])
    bias = linear_biases(model)
    p_sparsity = params_sparsity(new_layout, dims, bias)
    s_sparsity = structures_sparsity(new_layout, dims, selection.unit)
    return Selection(
        target=selection.target, basis=selection.basis, unit=selection.unit, normalize=selection.normalize,
        achieved=p_sparsity if selection.basis == "params" else s_sparsity, achieved_params=p_sparsity,
        achieved_structures=s_sparsity, protected=list(selection.protected), dense=dims.to_dict(),
        layers=new_layout,
    )
