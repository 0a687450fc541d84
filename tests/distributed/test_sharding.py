"""Sharding without Ray: the shard split, the JSONL merge, and the exact Taylor reduction."""

from __future__ import annotations

import random

import pytest

from resp_dsl import sharding
from resp_dsl.sharding import (
    Reduced,
    Shard,
    ShardFinished,
    merge_jsonl,
    take,
)


def shard_kind(op: str, params: dict):
    from resp_dsl.ops import OPS

    return OPS[op].shard_kind(params)


def test_take_deals_every_item_to_exactly_one_shard():
    items = list(range(11))
    parts = [take(items, Shard(k, 3)) for k in range(3)]
    assert sorted(i for part in parts for i in part) == items
    assert [len(p) for p in parts] == [4, 4, 3]
    with pytest.raises(ValueError):
        Shard(2, 2)


def test_merge_jsonl_keeps_complete_lines_in_order():
    assert merge_jsonl([b'{"index": 0}\n{"index": 1', b'{"index": 2}\n{"index": 0}\n', b""]) == b'{"index": 0}\n{"index": 2}\n'


def test_shard_kind_follows_what_a_node_samples():
    assert shard_kind("calibrate", {"source": "self_generated"}) == "generation"
    assert shard_kind("calibrate", {"source": "task"}) is None
    assert shard_kind("regenerate", {"rho": 0.0}) is None
    assert shard_kind("regenerate", {"rho": 0.5}) == "generation"
    assert shard_kind("eval", {"harness": "direct"}) == "generation"
    assert shard_kind("eval", {"harness": "lm_eval"}) is None
    assert shard_kind("score", {"method": "taylor"}) == "score"
    assert shard_kind("score", {"method": "wanda"}) is None
    assert shard_kind("prune", {}) is None


def _model_and_samples():
    torch = pytest.importorskip("torch")
    from resp_dsl.models.factory import tiny_random_model
    from resp_dsl.pruning.calib import CalibSample

    torch.manual_seed(0)
    model = tiny_random_model("qwen3", seed=0, num_hidden_layers=3)
    rng = random.Random(0)
    vocab = model.config.vocab_size
    samples = []
    for _ in range(11):
        n = rng.randint(6, 20)
        samples.append(CalibSample([rng.randrange(vocab) for _ in range(n)], n_prompt=rng.randint(1, n - 1)))
    return model, samples


def _sharded_scores(model, samples, count, **kwargs):
    from resp_dsl.pruning.scoring import reduce_partials, score_structures

    parts = []
    for k in range(count):
        with sharding.running(Shard(k, count)), pytest.raises(ShardFinished) as done:
            score_structures(model, samples, **kwargs)
        parts.append(done.value.payload)
    with sharding.running(Reduced(reduce_partials(parts))):
        return score_structures(model, samples, **kwargs)


@pytest.mark.parametrize("variant", ["elementwise", "vectorized"])
@pytest.mark.parametrize("count", [2, 3, 5])
def test_sharded_taylor_equals_single_process_scores(variant, count):
    torch = pytest.importorskip("torch")
    from resp_dsl.pruning.scoring import score_structures

    model, samples = _model_and_samples()
    kwargs = {"method": "taylor", "loss": "decode_only", "variant": variant, "batch_size": 2}
    whole = score_structures(model, samples, **kwargs).to_tensors()
    sharded = _sharded_scores(model, samples, count, **kwargs).to_tensors()
    assert whole.keys() == sharded.keys()
    for name, t in whole.items():
        if t.dtype == torch.long:
            assert torch.equal(t, sharded[name]), name
        elif variant == "elementwise":  # sums of |W ⊙ G|: every score to 1e-6 relative
            assert torch.allclose(sharded[name], t, rtol=1e-6, atol=0), (name, (sharded[name] - t).abs().max())
        else:  # |Σ W ⊙ G| cancels inside a structure: to 1e-6 of the block's largest score
            assert (sharded[name] - t).abs().max() <= 1e-6 * t.abs().max(), name


def test_more_shards_than_batches_still_add_up():
    torch = pytest.importorskip("torch")
    from resp_dsl.pruning.scoring import score_structures

    model, samples = _model_and_samples()
    kwargs = {"method": "taylor", "loss": "decode_only", "variant": "elementwise", "batch_size": 8}  # 2 batches
    whole = score_structures(model, samples, **kwargs).to_tensors()
    sharded = _sharded_scores(model, samples, 3, **kwargs).to_tensors()
    for name, t in whole.items():
        assert torch.allclose(sharded[name].to(t.dtype), t, rtol=1e-6, atol=0), name


def test_reduction_is_float64_and_in_the_given_order():
    torch = pytest.importorskip("torch")
    from resp_dsl.pruning.scoring import reduce_partials

    a = {"x": torch.tensor([1e8], dtype=torch.float32)}
    b = {"x": torch.tensor([1.0], dtype=torch.float32), "y": torch.tensor([2.0])}
    total = reduce_partials([a, b, {"x": torch.tensor([-1e8])}])
    assert total["x"].dtype == torch.float64 and total["x"].item() == 1.0  # fp32 would lose the 1
    assert total["y"].item() == 2.0


def test_auto_shards_fill_the_cluster_with_tasks_of_the_node_size():
    from resp_dsl.runtime.ray_executor import auto_shards

    assert auto_shards({"num_cpus": 1, "num_gpus": 1}, {"CPU": 64, "GPU": 8}) == 8
    assert auto_shards({"num_cpus": 1, "num_gpus": 2}, {"CPU": 64, "GPU": 8}) == 4
    assert auto_shards({"num_cpus": 1, "num_gpus": 0}, {"CPU": 6, "GPU": 8}) == 6
    assert auto_shards({"num_cpus": 1, "num_gpus": 4}, {"CPU": 6, "GPU": 2}) == 1
