"""The bundled tiny-reasoner loads offline with stock transformers and answers fixed problems."""

import json

import pytest

torch = pytest.importorskip("torch")

from resp_dsl import zoo  # noqa: E402

# Test-split problems the trained model answers correctly under greedy decoding (a regression
# check: a broken tokenizer, template, checkpoint or loader fails it).
FIXED = (0, 1, 2, 3, 4, 5, 6, 7)


@pytest.fixture(scope="module")
def bundled():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = zoo.path("tiny-reasoner")
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    return model, tok


def test_config_is_qwen3_with_gqa_and_explicit_head_dim(bundled):
    model, _ = bundled
    c = model.config
    assert c.model_type == "qwen3" and c.num_key_value_heads < c.num_attention_heads
    assert c.head_dim != c.hidden_size // c.num_attention_heads
    assert c.num_hidden_layers >= 6 and c.tie_word_embeddings
    n = sum(p.numel() for p in model.parameters())
    assert 1e6 < n < 5e6


def test_weights_are_small_enough_to_ship():
    size = sum(f.stat().st_size for f in zoo.path("tiny-reasoner").iterdir())
    assert size < 20 * 2**20


def test_answers_fixed_problems_greedy(bundled):
    model, tok = bundled
    rows = [json.loads(line) for line in zoo.data_path("tiny-reasoner", "test").read_text().splitlines()]
    probs = [rows[i] for i in FIXED]
    prompts = [tok.apply_chat_template([{"role": "user", "content": r["question"]}], add_generation_prompt=True,
                                       enable_thinking=True, tokenize=False) for r in probs]
    enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**enc, do_sample=False, max_new_tokens=120)
    texts = tok.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=False)
    for r, text in zip(probs, texts):
        gold = r["answer"].rsplit("####", 1)[1].strip()
        assert text.startswith("<think>") and f"</think> #### {gold}<|im_end|>" in text, (r["question"], text)


def test_thinking_off_prompt_is_answered_without_a_trace(bundled):
    model, tok = bundled
    row = json.loads(zoo.data_path("tiny-reasoner", "test").read_text().splitlines()[0])
    p = tok.apply_chat_template([{"role": "user", "content": row["question"]}], add_generation_prompt=True,
                                enable_thinking=False, tokenize=False)
    enc = tok(p, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**enc, do_sample=False, max_new_tokens=20)
    text = tok.decode(out[0, enc["input_ids"].shape[1]:])
    assert text.startswith(" #### ") and "<think>" not in text
