"""`resp-dsl eval DIR` and `zoo eval --model DIR` on every model format (issue 12, item 5)."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from resp_dsl.cli import main
from resp_dsl.models.factory import tiny_random_model
from resp_dsl.pruning.apply import apply_selection
from resp_dsl.pruning.export import export_model
from resp_dsl.pruning.scoring import score_structures
from resp_dsl.pruning.select import ProtectSpec, select_structures
from resp_dsl.zoo.tokenizer import build_tokenizer

from helpers.models import random_samples


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """A dense model and its 35% per_layer, uniform and masked exports."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("models")
    tok = build_tokenizer()
    base = tiny_random_model("qwen3", seed=5)
    base.config.eos_token_id, base.config.pad_token_id = tok.eos_token_id, tok.pad_token_id
    base.save_pretrained(root / "dense", safe_serialization=True)
    tok.save_pretrained(root / "dense")
    sel = select_structures(base, score_structures(base, random_samples(), method="taylor"), target=0.35,
                            normalize="none", protect=ProtectSpec(first_fraction=0.25, last=False))
    physical = apply_selection(copy.deepcopy(base), sel, "physical")
    dirs = {"dense": root / "dense"}
    for fmt in ("per_layer", "uniform", "masked"):
        dirs[fmt] = export_model(physical, tok, root / fmt, format=fmt)
    return dirs


@pytest.mark.parametrize("fmt", ["dense", "per_layer", "uniform", "masked"])
def test_eval_any_model_directory(model_dirs, fmt, capsys, tmp_path):
    samples = tmp_path / "samples.jsonl"
    code = main(["eval", str(model_dirs[fmt]), "--task", "tiny_gsm", "--limit", "3", "--max-new-tokens", "4",
                 "--threads", "1", "--json", "--log-samples", str(samples)])
    out = capsys.readouterr()
    assert code == 0, out.err
    res = json.loads(out.out)
    assert res["n"] == 3 and res["task"] == "tiny_gsm" and 0 <= res["accuracy"] <= 1
    assert res["temperature"] == 0.6 and res["shots"] == 0  # stdlib/tasks' settings for tiny_gsm
    recs = [json.loads(x) for x in samples.read_text().splitlines()]
    assert len(recs) == 3 and set(recs[0]) == {"id", "prompt", "output", "pred", "target", "correct"}


def test_zoo_eval_of_a_per_layer_export_does_not_crash(model_dirs, capsys):
    code = main(["zoo", "eval", "--model", str(model_dirs["per_layer"]), "--n", "2", "--threads", "1", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["n"] == 2


def test_eval_of_a_missing_directory_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "m").mkdir()
    assert main(["eval", str(tmp_path / "m"), "--limit", "1"]) == 2
    assert "no config.json" in capsys.readouterr().err
