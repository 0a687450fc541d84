"""Where the cuts go: `allocate=uniform` (the same fraction of every unprotected block) and
`allocate=sequential` (FLAP's block-by-block order, as GISP's code runs its Wanda-sp), and the
Wanda-sp `outputs` variant those baselines score with."""

import copy

import pytest
import torch

from resp_dsl.models.factory import tiny_random_model
from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.calib import make_batches
from resp_dsl.pruning.schedule import prune_iterative, select_sequential
from resp_dsl.pruning.scoring import score_structures
from resp_dsl.pruning.select import ProtectSpec, select_structures, select_uniform, uniform_plan
from resp_dsl.pruning.state import dense_dims, structure_params

from helpers.models import random_samples

PROTECT = ProtectSpec(first_fraction=0.2, last=True)  # 6 blocks: 0 (int(0.2*6)=1) and 5 protected


@pytest.fixture(scope="module")
def model():
    return tiny_random_model("qwen3", num_hidden_layers=6)


def _counts(sel, i):
    l = sel.layers[i]
    return len(l["q_heads"]), len(l["kv_heads"]), len(l["channels"])


@pytest.mark.parametrize("basis", ["params", "structures"])
@pytest.mark.parametrize("unit", ["heads", "kv_groups"])
@pytest.mark.parametrize("target", [0.1, 0.25, 0.4])
def test_uniform_cuts_every_block_alike_and_never_passes_the_target(model, basis, unit, target):
    scores = score_structures(model, random_samples(), method="wanda", variant="outputs")
    sel = select_structures(model, scores, target=target, basis=basis, unit=unit, protect=PROTECT, allocate="uniform")
    assert sel.allocate == "uniform" and sel.protected == [0, 5]
    assert sel.achieved <= target + 1e-12
    dims = dense_dims(model)
    sp = structure_params(dims)
    if basis == "params":  # short by less than a head (or group) and a channel per block, with their K/V
        step = 4 * (sp["head"] + sp["kv"] + sp["channel"]) * (2 if unit == "kv_groups" else 1)
        assert target - sel.achieved < step / (6 * (4 * sp["head"] + 2 * sp["kv"] + 96 * sp["channel"]))
    else:
        assert target - sel.achieved < 4 * 2 / (6 * ((4 if unit == "heads" else 2) + 96))
    units = {_counts(sel, i)[0 if unit == "heads" else 1] for i in range(1, 5)}
    assert len(units) == 1  # the same number of heads (groups) in every cut block
    if basis == "structures" or unit == "kv_groups":  # nothing to pay back: the channels are uniform too
        assert len({_counts(sel, i)[2] for i in range(1, 5)}) == 1
    for i in (0, 5):
        assert _counts(sel, i) == (4, 2, 96)


def test_uniform_takes_each_blocks_own_lowest_scores(model):
    scores = score_structures(model, random_samples(), method="wanda", variant="outputs")
    sel = select_structures(model, scores, target=0.3, basis="structures", protect=PROTECT, allocate="uniform")
    for i in range(1, 5):
        ls, kept = scores.layers[i], sel.layers[i]
        removed_ch = [c for c in range(96) if c not in kept["channels"]]
        assert max(ls.channels[removed_ch]) <= min(ls.channels[kept["channels"]])
        removed_h = [h for h in range(4) if h not in kept["q_heads"]]
        assert max(ls.heads[removed_h]) <= min(ls.heads[kept["q_heads"]])


def test_a_kv_group_emptied_by_the_head_cut_is_paid_for_with_channels(model):
    dims = dense_dims(model)
    sp = structure_params(dims)
    scores = score_structures(model, random_samples(), method="magnitude")
    plan = uniform_plan(model, target=0.45, basis="params", protect=PROTECT)
    sel = select_uniform(model, scores, plan)
    h, c = plan.counts[1]
    assert h >= 2  # at 45% a block loses at least half its heads: some block empties a group
    emptied = [i for i in range(1, 5) if _counts(sel, i)[1] < 2]
    assert emptied
    for i in emptied:
        back = -(-(2 - _counts(sel, i)[1]) * sp["kv"] // sp["channel"])
        assert _counts(sel, i)[2] == 96 - c + back
    assert sel.achieved <= 0.45


def test_uniform_refuses_what_it_cannot_reach(model):
    scores = score_structures(model, random_samples(), method="magnitude")
    with pytest.raises(ValueError, match="unreachable"):
        select_structures(model, scores, target=0.9, protect=ProtectSpec(first_fraction=0.5), allocate="uniform")
    with pytest.raises(ValueError, match="select_sequential"):
        select_structures(model, scores, target=0.2, allocate="sequential")


def test_sequential_scores_each_block_on_the_model_whose_earlier_blocks_are_cut(model):
    samples = random_samples()
    kwargs = {"method": "wanda", "variant": "outputs", "loss": "full"}
    sel_kw = {"basis": "structures", "protect": PROTECT, "allocate": "sequential"}
    work = copy.deepcopy(model)
    got = select_sequential(work, samples, target=0.3, score_kwargs=kwargs, select_kwargs=sel_kw, mode="masked")
    assert got.allocate == "sequential"
    # The same procedure written out: block i is cut by scores of the model with blocks < i cut as found.
    plan = uniform_plan(model, target=0.3, basis="structures", protect=PROTECT)
    ref = copy.deepcopy(model)
    for i in sorted(plan.counts):
        sel = select_uniform(ref, score_structures(ref, samples, **kwargs), plan, blocks=[i])
        assert sel.layers[i] == got.layers[i]
        apply_selection(ref, sel, mode="masked")
    # and it differs from scoring every block on the dense model's activations
    uniform = select_structures(model, score_structures(model, samples, **kwargs), target=0.3,
                                basis="structures", protect=PROTECT, allocate="uniform")
    assert [_counts(uniform, i) for i in range(6)] == [_counts(got, i) for i in range(6)]
    assert uniform.layers != got.layers
    # a scorer that reads no activations gives the uniform cut
    mag = select_sequential(copy.deepcopy(model), samples, target=0.3, score_kwargs={"method": "magnitude"},
                            select_kwargs=sel_kw, mode="masked")
    assert mag.layers == select_structures(model, score_structures(model, [], method="magnitude"), target=0.3,
                                           basis="structures", protect=PROTECT, allocate="uniform").layers


def test_iterative_sequential_steps_compose(model):
    work = copy.deepcopy(model)
    history = prune_iterative(work, random_samples(), target=0.4, steps=2, mode="physical",
                              score_kwargs={"method": "wanda", "variant": "outputs"},
                              select_kwargs={"basis": "structures", "protect": PROTECT, "allocate": "sequential"})
    assert [round(s.target, 6) for s in history] == [0.2, 0.4]
    assert all(s.allocate == "sequential" and s.achieved <= s.target + 1e-12 for s in history)
    for before, after in zip(history, history[1:]):
        for a, b in zip(before.layers, after.layers):
            assert set(b["channels"]) <= set(a["channels"]) and set(b["q_heads"]) <= set(a["q_heads"])


def test_wanda_outputs_variant_is_flaps_structured_wanda():
    """mean_i |W_ij| · sqrt(mean_t x_tj²) over o_proj's columns (summed per head) and down_proj's,
    by plain hooks; the q/k/v/gate/up rows take no part."""
    model = tiny_random_model("qwen3", num_hidden_layers=2)
    samples = random_samples()
    inputs = {}
    handles = [lin.register_forward_pre_hook(lambda m, a, key=(i, name): inputs.setdefault(key, []).append(a[0]))
               for i, layer in enumerate(model.model.layers)
               for name, lin in (("o", layer.self_attn.o_proj), ("down", layer.mlp.down_proj))]
    rows = {}
    with torch.no_grad():
        for batch in make_batches(samples, 2, loss="full"):
            inputs.clear()
            model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
            mask = torch.cat([batch.targets > 0, torch.zeros_like(batch.targets[:, :1], dtype=torch.bool)], 1)
            for k, v in inputs.items():
                rows.setdefault(k, []).append(v[0][mask])
    for h in handles:
        h.remove()
    scores = score_structures(model, samples, method="wanda", variant="outputs", loss="full")
    for i, (got, layer) in enumerate(zip(scores.layers, model.model.layers)):
        for name, lin, have in (("o", layer.self_attn.o_proj, got.heads), ("down", layer.mlp.down_proj, got.channels)):
            x = torch.cat(rows[(i, name)]).double()
            metric = lin.weight.double().abs().mean(0) * x.pow(2).mean(0).sqrt()
            want = metric.reshape(-1, model.config.head_dim).sum(1) if name == "o" else metric
            torch.testing.assert_close(have.double(), want, rtol=1e-4, atol=1e-9)
        assert torch.all(got.kv == 0)
    default = score_structures(model, samples, method="wanda", loss="full")
    assert default.meta["variant"] == "all_weights" and not torch.allclose(default.layers[0].heads,
                                                                           scores.layers[0].heads)
