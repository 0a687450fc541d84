"""Export/reload round trips for every format, safety of the writer, and lm-eval on the reloaded model."""

import copy
import json

import pytest
import torch
from transformers import AutoModelForCausalLM

from resp_dsl import load_pruned
from resp_dsl.models.factory import tiny_random_model
from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.export import ExportError, export_model
from resp_dsl.pruning.scoring import score_structures
from resp_dsl.pruning.select import ProtectSpec, select_structures
from resp_dsl.zoo.tokenizer import build_tokenizer

from helpers.models import random_samples

TOL = 1e-5


@pytest.fixture(scope="module")
def pruned():
    """Per family: (physically pruned model, masked twin) at 0.35 with non-uniform blocks."""
    out = {}
    for family in ("qwen3", "llama", "qwen2", "mistral"):
        base = tiny_random_model(family, seed=5)
        scores = score_structures(base, random_samples(), method="taylor")
        sel = select_structures(base, scores, target=0.35, normalize="none",
                                protect=ProtectSpec(first_fraction=0.25, last=False))
        out[family] = (apply_selection(copy.deepcopy(base), sel, "physical"),
                       apply_selection(copy.deepcopy(base), sel, "masked"), sel)
    return out


def _logits(model):
    ids = torch.randint(1, 100, (2, 9), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits[mask.bool()]


@pytest.mark.parametrize("family", ["qwen3", "llama", "qwen2", "mistral"])
@pytest.mark.parametrize("fmt", ["per_layer", "uniform", "masked"])
def test_round_trip_every_format(pruned, tmp_path, family, fmt):
    physical, masked, sel = pruned[family]
    want = _logits(masked)
    out = export_model(physical, build_tokenizer(), tmp_path / "out", format=fmt, metadata={"recipe_key": "k1"})
    model = load_pruned(out)
    assert (_logits(model) - want).abs().max().item() < TOL
    meta = json.loads((out / "resp_dsl.json").read_text())
    assert meta["recipe_key"] == "k1" and meta["format"] == fmt
    assert meta["layers"] == sel.layers
    assert abs(meta["achieved_sparsity"] - sel.achieved) < 1e-12
    assert not list(out.glob("*.bin")) and list(out.glob("*.safetensors"))
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == family
    if fmt == "per_layer":
        assert [l["num_attention_heads"] for l in config["resp_pruned_layers"]] == [len(l["q_heads"]) for l in sel.layers]
        remote = AutoModelForCausalLM.from_pretrained(out, trust_remote_code=True)
        assert (_logits(remote) - want).abs().max().item() < TOL
        assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in physical.parameters())
    else:
        assert "auto_map" not in config and "resp_pruned_layers" not in config
        stock = AutoModelForCausalLM.from_pretrained(out)  # no remote code needed
        assert (_logits(stock) - want).abs().max().item() < TOL


def test_reloaded_per_layer_model_can_be_pruned_further(pruned, tmp_path):
    physical, _, _ = pruned["qwen3"]
    model = load_pruned(export_model(physical, None, tmp_path / "a"))
    sel = select_structures(model, score_structures(model, random_samples()), target=0.5,
                            protect=ProtectSpec(first_fraction=0.25, last=False))
    assert 0.45 < sel.achieved <= 0.5
    apply_selection(model, sel)


def test_uniform_export_of_uniform_layout_is_smaller(tmp_path):
    base = tiny_random_model("llama")
    layout = {"layers": [{"q_heads": [0, 1], "kv_heads": [0], "channels": list(range(48))}] * 4}
    model = apply_selection(base, layout, "physical")
    out = export_model(model, None, tmp_path / "u", format="uniform")
    config = json.loads((out / "config.json").read_text())
    assert (config["num_attention_heads"], config["num_key_value_heads"], config["intermediate_size"]) == (2, 1, 48)
    assert config["head_dim"] == 24


def test_refuses_non_empty_dir_and_source(pruned, tmp_path):
    physical, _, _ = pruned["llama"]
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_model(physical, None, tmp_path / "busy")
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    src = export_model(physical, None, tmp_path / "src")
    reloaded = load_pruned(src)
    with pytest.raises(ExportError, match="overlaps the source"):
        export_model(reloaded, None, src, overwrite=True)
    # overwrite replaces only a directory that carries our export marker, never a user's directory
    with pytest.raises(ExportError, match="not an export made by resp-dsl"):
        export_model(physical, None, tmp_path / "busy", overwrite=True)
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    (tmp_path / "src" / "extra.txt").write_text("stale")
    export_model(physical, None, tmp_path / "src", overwrite=True)
    assert not (tmp_path / "src" / "extra.txt").exists()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "busy")
    with pytest.raises(ExportError, match="symbolic link"):
        export_model(physical, None, link, overwrite=True)
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_corrupt_export_is_refused(pruned, tmp_path):
    physical, _, _ = pruned["qwen3"]
    out = export_model(physical, None, tmp_path / "c")
    f = out / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_pruned(out)


def test_lm_eval_hflm_on_reloaded_model(pruned, tmp_path):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    physical, masked, _ = pruned["qwen3"]
    tok = build_tokenizer()
    model = load_pruned(export_model(physical, tok, tmp_path / "e"))
    requests = [
        Instance("loglikelihood", {}, ("Question: 2+3?\n", "Answer: 5"), 0),
        Instance("loglikelihood", {}, ("1 2 3", " 4"), 1),
    ]
    got = HFLM(pretrained=model, tokenizer=tok, device="cpu", batch_size=2).loglikelihood(requests)
    want = HFLM(pretrained=masked, tokenizer=tok, device="cpu", batch_size=2).loglikelihood(requests)
    assert len(got) == 2
    for (a, ga), (b, gb) in zip(got, want):
        assert a < 0 and abs(a - b) < 1e-4 and ga == gb


NON_UNIFORM = {"layers": [
    {"q_heads": [1, 2, 3], "kv_heads": [0, 1], "channels": list(range(0, 96, 3))},
    {"q_heads": [], "kv_heads": [], "channels": []},
    {"q_heads": [0, 2], "kv_heads": [0, 1], "channels": [1, 2]},
    {"q_heads": [3], "kv_heads": [1], "channels": list(range(50))},
]}


@pytest.mark.parametrize("family", ["qwen3", "llama"])
@pytest.mark.parametrize("fmt", ["per_layer", "uniform"])
def test_non_uniform_layout_with_empty_block_round_trips(tmp_path, family, fmt):
    base = tiny_random_model(family, seed=7)
    physical = apply_selection(copy.deepcopy(base), NON_UNIFORM, "physical")
    masked = apply_selection(copy.deepcopy(base), NON_UNIFORM, "masked")
    out = export_model(physical, None, tmp_path / "nu", format=fmt)
    want = _logits(masked)
    loaded = load_pruned(out)
    assert (_logits(loaded) - want).abs().max().item() < TOL
    if fmt == "per_layer":
        assert [a.self_attn.kv_map for a in loaded.model.layers] == [(0, 1, 1), (), (0, 1), (0,)]
        remote = AutoModelForCausalLM.from_pretrained(out, trust_remote_code=True)
        assert (_logits(remote) - want).abs().max().item() < TOL
