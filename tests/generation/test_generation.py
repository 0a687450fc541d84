"""The hf generation backend: equals transformers' greedy generate, batch-independent seeded
sampling, EOS and stop strings, resume from a checkpoint; the vllm backend's missing-extra error."""

from __future__ import annotations

import sys

import pytest

torch = pytest.importorskip("torch")

from resp_dsl.generation import get_backend  # noqa: E402
from resp_dsl.generation.base import Generation, load_generations, save_generations  # noqa: E402
from resp_dsl.generation.hf import generate  # noqa: E402
from resp_dsl.generation.sampling import filter_logits, row_rng, sample_next  # noqa: E402
from resp_dsl.runtime.store import JsonlCheckpoint, Store  # noqa: E402

PROMPTS = ["Hello there", "What is 2+2? Think.", "a", "The quick brown fox jumps", "<|im_start|>user\nhi"]


@pytest.fixture(scope="module")
def tok():
    from resp_dsl.zoo.tokenizer import build_tokenizer

    return build_tokenizer()


@pytest.fixture(scope="module")
def model():
    from resp_dsl.models.factory import tiny_random_model

    return tiny_random_model("qwen3", seed=0)


def _hf_greedy(model, tok, prompt, n):
    enc = tok(prompt, return_tensors="pt", add_special_tokens=False)
    out = model.generate(**enc, do_sample=False, max_new_tokens=n, pad_token_id=tok.pad_token_id,
                         eos_token_id=tok.eos_token_id)
    return out[0, enc["input_ids"].shape[1]:].tolist()


def test_greedy_batched_equals_transformers_generate(model, tok):
    gens = generate(model, tok, PROMPTS, max_new_tokens=12, temperature=0.0, batch_size=3)
    assert [g.prompt for g in gens] == PROMPTS  # input order, although batches are sorted by length
    for p, g in zip(PROMPTS, gens):
        assert g.token_ids == _hf_greedy(model, tok, p, 12)
        assert g.n_prompt_tokens == len(tok(p, add_special_tokens=False)["input_ids"])
        assert g.finish_reason == "length" and g.text == tok.decode(g.token_ids)


def test_sampling_is_seeded_per_prompt_not_per_batch(model, tok):
    kw = dict(max_new_tokens=16, temperature=1.0, top_p=0.95, top_k=50, seed=7)
    a = generate(model, tok, PROMPTS, batch_size=5, **kw)
    b = generate(model, tok, PROMPTS, batch_size=1, **kw)
    c = generate(model, tok, PROMPTS, batch_size=2, **kw)
    assert [g.token_ids for g in a] == [g.token_ids for g in b] == [g.token_ids for g in c]
    # other prompts in the batch (longer, shorter, different) do not change prompt 0's sample
    mixed = generate(model, tok, [PROMPTS[0], "zz", "a much longer prompt than the first one"], batch_size=3, **kw)
    assert mixed[0].token_ids == a[0].token_ids
    d = generate(model, tok, PROMPTS, batch_size=5, **{**kw, "seed": 8})
    assert [g.token_ids for g in a] != [g.token_ids for g in d]
    # identical prompts at different indices draw different samples
    same = generate(model, tok, ["Hello there"] * 4, batch_size=4, **kw)
    assert len({tuple(g.token_ids) for g in same}) > 1


def test_eos_and_stop_strings(model, tok):
    greedy = _hf_greedy(model, tok, PROMPTS[1], 12)
    eos_id = greedy[3]
    first = greedy.index(eos_id)
    old = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = [eos_id]
    try:
        (g,) = generate(model, tok, [PROMPTS[1]], max_new_tokens=12, temperature=0.0)
    finally:
        model.generation_config.eos_token_id = old
    assert g.finish_reason == "eos" and g.token_ids == greedy[: first + 1]
    assert g.text == tok.decode(greedy[:first])  # the EOS itself is not in the text
    full = tok.decode(greedy)
    stop = full[5:7]
    (s,) = generate(model, tok, [PROMPTS[1]], max_new_tokens=12, temperature=0.0, stop=[stop, "never"])
    assert s.finish_reason == "stop" and s.text == full[: full.find(stop)]
    assert stop in tok.decode(s.token_ids) and len(s.token_ids) < 12


class _CrashAfter(JsonlCheckpoint):
    """A checkpoint that dies (like kill -9 of the process) after ``n`` batches were saved."""

    def __init__(self, path, n):
        super().__init__(path)
        self.n = n

    def append(self, records):
        super().append(records)
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt("simulated crash")


def test_resume_from_checkpoint_gives_identical_results(model, tok, tmp_path):
    kw = dict(max_new_tokens=10, temperature=0.6, top_p=0.95, seed=3, batch_size=2)
    ref = generate(model, tok, PROMPTS, **kw)
    store = Store(tmp_path)
    path = store.partial_dir("gen0123") / "generations.jsonl"
    with pytest.raises(KeyboardInterrupt):
        generate(model, tok, PROMPTS, checkpoint=_CrashAfter(path, 1), **kw)
    assert len(JsonlCheckpoint(path).load()) == 2
    seen = []
    resumed = generate(model, tok, PROMPTS, checkpoint=JsonlCheckpoint(path),
                       progress=lambda done, total: seen.append((done, total)), **kw)
    assert resumed == ref
    assert seen == [(2, 5), (4, 5), (5, 5)]  # resumed prompts count as done from the start
    # a changed prompt at a saved index is regenerated, not reused
    changed = list(PROMPTS)
    changed[0] = "Goodbye"
    again = generate(model, tok, changed, checkpoint=JsonlCheckpoint(path), **kw)
    assert again[0].prompt == "Goodbye" and again[1:] == ref[1:]
    assert Generation.from_record(again[2].to_record(2)) == again[2]
    save_generations(tmp_path / "traces.jsonl", again, temperature=0.6, model="abc")
    assert load_generations(tmp_path / "traces.jsonl") == again
    assert '"meta": {"model": "abc", "temperature": 0.6}' in (tmp_path / "traces.jsonl").read_text()


def test_sample_next_matches_transformers_warpers():
    from transformers.generation.logits_process import TopKLogitsWarper, TopPLogitsWarper

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 40, generator=g) * 3
    ours = filter_logits(logits, temperature=0.7, top_p=0.8, top_k=10)
    ref = TopPLogitsWarper(0.8)(None, TopKLogitsWarper(10)(None, logits / 0.7))
    assert torch.equal(torch.isinf(ours), torch.isinf(ref))
    # greedy, and draws only ever land on kept tokens with the kept tokens' frequencies
    assert torch.equal(sample_next(logits, torch.zeros(6), temperature=0), logits.argmax(-1))
    rng = row_rng(0, 0)
    row = logits[:1].repeat(4000, 1)
    draws = sample_next(row, torch.tensor([rng.random() for _ in range(4000)], dtype=torch.float64),
                        temperature=0.7, top_p=0.8, top_k=10)
    kept = ~torch.isinf(ours[0])
    assert bool(kept[draws].all())
    expected = ours[0].softmax(-1)
    freq = torch.bincount(draws, minlength=40).double() / 4000
    assert float((freq - expected).abs().max()) < 0.03


def test_bad_settings_and_backends(model, tok, monkeypatch):
    with pytest.raises(ValueError, match="top_p must be in"):
        generate(model, tok, ["x"], max_new_tokens=2, top_p=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, tok, ["x"], max_new_tokens=0)
    with pytest.raises(ValueError, match="tokenizes to nothing"):
        generate(model, tok, [""], max_new_tokens=2)
    assert get_backend("hf") is generate
    with pytest.raises(ValueError, match="unknown generation backend 'tgi'"):
        get_backend("tgi")
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm now fails, as on our machines
    from resp_dsl.generation.vllm import BackendUnavailable

    with pytest.raises(BackendUnavailable, match=r"pip install 'resp-dsl\[vllm\]'"):
        get_backend("vllm")
    from resp_dsl.generation import vllm as vllm_backend

    with pytest.raises(BackendUnavailable, match="resp-dsl"):
        vllm_backend.generate("some/model", tok, ["x"], max_new_tokens=2)


def test_dropping_finished_rows_cuts_empty_cache_layers_too():
    """A block pruned to zero KV heads caches [B, 0, T, D]; transformers' batch_select_indices skips
    it, and the next step then failed to append ("Expected size 6 but got size 5")."""
    import torch
    from transformers import DynamicCache

    from resp_dsl.generation.hf import select_cache_rows

    cache = DynamicCache()
    cache.update(torch.randn(6, 2, 3, 4), torch.randn(6, 2, 3, 4), 0)
    cache.update(torch.randn(6, 0, 3, 4), torch.randn(6, 0, 3, 4), 1)  # every KV head pruned
    rows = torch.tensor([0, 2, 3, 4, 5])
    select_cache_rows(cache, rows)
    assert cache.layers[0].keys.shape[0] == 5 and cache.layers[1].keys.shape[0] == 5
    cache.update(torch.randn(5, 0, 1, 4), torch.randn(5, 0, 1, 4), 1)  # the next step appends
    assert cache.layers[1].keys.shape == (5, 0, 4, 4)


def test_auto_batch_halves_on_out_of_memory_and_samples_the_same(monkeypatch):
    """`--batch-size auto` (issue 12, item 14): a batch that does not fit is split, rows keep their seeds."""
    import torch

    from resp_dsl.generation import hf
    from resp_dsl.models.factory import tiny_random_model
    from resp_dsl.zoo.tokenizer import build_tokenizer

    tok = build_tokenizer()
    model = tiny_random_model("qwen3", seed=0)
    prompts = [f"{i} + {i} =" for i in range(6)]
    want = hf.generate(model, tok, prompts, max_new_tokens=5, temperature=0.8, seed=3, batch_size=2)
    real, sizes = hf._generate_batch, []

    def small_memory(model, prompt_ids, *a, **kw):
        sizes.append(len(prompt_ids))
        if len(prompt_ids) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(model, prompt_ids, *a, **kw)

    monkeypatch.setattr(hf, "_generate_batch", small_memory)
    got = hf.generate(model, tok, prompts, max_new_tokens=5, temperature=0.8, seed=3, batch_size="auto")
    assert [g.token_ids for g in got] == [g.token_ids for g in want]
    assert sizes[:4] == [6, 3, 1, 1]
    import pytest

    with pytest.raises(torch.OutOfMemoryError):
        hf.generate(model, tok, prompts, max_new_tokens=5, temperature=0.8, seed=3, batch_size=4)
