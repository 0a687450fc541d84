"""The whole engine on the bundled tiny reasoning model (skipped until the lead's model is built)."""

import copy
import hashlib
import json

import pytest
import torch

from resp_dsl import load_pruned, zoo
from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.calib import CalibSample
from resp_dsl.pruning.export import ExportError, export_model
from resp_dsl.pruning.scoring import score_structures
from resp_dsl.pruning.select import select_structures

MODEL_DIR = zoo.path("tiny-reasoner", must_exist=False)
pytestmark = pytest.mark.skipif(not (MODEL_DIR / "config.json").is_file(), reason="tiny-reasoner not built yet")


def _samples(tok, n=4):
    rows = [json.loads(line) for line in zoo.data_path("tiny-reasoner", "validation").read_text().splitlines()[:n]]
    out = []
    for r in rows:
        prompt = tok.apply_chat_template([{"role": "user", "content": r["question"]}],
                                         add_generation_prompt=True, tokenize=False)
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        a_ids = tok(r["answer"], add_special_tokens=False)["input_ids"]
        out.append(CalibSample(p_ids + a_ids, len(p_ids)))
    return out


def test_prune_export_reload_tiny_reasoner(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    digest = hashlib.sha256((MODEL_DIR / "model.safetensors").read_bytes()).hexdigest()
    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32).eval()
    samples = _samples(tok)
    scores = score_structures(model, samples, method="taylor", loss="decode_only", batch_size=2)
    sel = select_structures(model, scores, target=0.3)
    assert 0.25 < sel.achieved <= 0.3, sel.achieved
    physical = apply_selection(copy.deepcopy(model), sel, "physical")
    masked = apply_selection(copy.deepcopy(model), sel, "masked")
    ids = torch.tensor([samples[0].input_ids])
    with torch.no_grad():
        # The trained model's logits reach ~15, so fp32 rounding from different matmul shapes is
        # ~1e-5 absolute: compare relative to the logit scale in fp32, and exactly in fp64.
        ref = masked(input_ids=ids).logits
        diff = (physical(input_ids=ids).logits - ref).abs().max()
        assert diff < 1e-5 * max(1.0, ref.abs().max().item()), diff
        d64 = (copy.deepcopy(physical).double()(input_ids=ids).logits - copy.deepcopy(masked).double()(input_ids=ids).logits)
        assert d64.abs().max() < 1e-10, d64.abs().max()
    with pytest.raises(ExportError, match="overlaps the source"):
        export_model(physical, tok, MODEL_DIR, overwrite=True)
    out = export_model(physical, tok, tmp_path / "pruned", metadata={"recipe_key": "test"})
    with torch.no_grad():
        again = load_pruned(out)(input_ids=ids).logits
        assert (again - ref).abs().max() < 1e-5 * max(1.0, ref.abs().max().item())
    assert hashlib.sha256((MODEL_DIR / "model.safetensors").read_bytes()).hexdigest() == digest
