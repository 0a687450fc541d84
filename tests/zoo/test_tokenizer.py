"""The character-level tokenizer and its Qwen3-like chat template."""

from resp_dsl.zoo.tokenizer import IM_END, build_tokenizer, normalize_text


def test_one_token_per_character_and_lossless_round_trip():
    tok = build_tokenizer()
    text = "Mia has 12 apples.\n  She buys 3*4=12 more!"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(text)
    assert tok.decode(ids) == text


def test_special_tokens_are_single_tokens():
    tok = build_tokenizer()
    ids = tok("<think>1+1=2.</think> #### 2" + IM_END, add_special_tokens=False)["input_ids"]
    assert ids[0] == tok.convert_tokens_to_ids("<think>")
    assert ids[-1] == tok.eos_token_id
    assert len(ids) == 1 + len("1+1=2.") + 1 + len(" #### 2") + 1


def test_chat_template_has_qwen3_thinking_switch():
    tok = build_tokenizer()
    msgs = [{"role": "user", "content": "How many?"}]
    on = tok.apply_chat_template(msgs, add_generation_prompt=True, enable_thinking=True, tokenize=False)
    off = tok.apply_chat_template(msgs, add_generation_prompt=True, enable_thinking=False, tokenize=False)
    assert on == "<|im_start|>user\nHow many?<|im_end|>\n<|im_start|>assistant\n"
    assert off == on + "<think></think>"


def test_unknown_characters_map_to_unk_and_normalize_drops_them():
    tok = build_tokenizer()
    ids = tok("é", add_special_tokens=False)["input_ids"]
    assert ids == [tok.unk_token_id]
    assert normalize_text("a\tb\u00e9c\r\n") == "a    bc\n"
