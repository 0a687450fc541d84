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


# --- the BPE tokenizer (bpe1024) ------------------------------------------------------------------


def test_bpe_keeps_digits_single_merges_words_and_round_trips():
    from resp_dsl.zoo.tokenizer import build_tokenizer as build

    tok = build("bpe1024")
    text = "Omar had 120 shells.\n  Then 3*4=12 more!"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    pieces = tok.convert_ids_to_tokens(ids)
    assert tok.decode(ids) == text
    assert [p for p in pieces if any(c.isdigit() for c in p)] == ["1", "2", "0", "3", "4", "1", "2"]
    assert " shells" in pieces and len(ids) < len(text) * 0.7


def test_bpe_shares_the_special_tokens_ids_and_chat_template():
    from resp_dsl.zoo.tokenizer import SPECIAL_TOKENS
    from resp_dsl.zoo.tokenizer import build_tokenizer as build

    chars, bpe = build("chars"), build("bpe1024")
    assert [bpe.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS] == [chars.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS]
    assert (bpe.eos_token_id, bpe.pad_token_id, bpe.unk_token_id) == (chars.eos_token_id, chars.pad_token_id, chars.unk_token_id)
    msgs = [{"role": "user", "content": "How many?"}]
    for think in (True, False):
        kw = dict(add_generation_prompt=True, enable_thinking=think, tokenize=False)
        assert bpe.apply_chat_template(msgs, **kw) == chars.apply_chat_template(msgs, **kw)
    ids = bpe("<think>1+1=2.</think> #### 2" + IM_END, add_special_tokens=False)["input_ids"]
    assert ids[0] == bpe.convert_tokens_to_ids("<think>") and ids[-1] == bpe.eos_token_id
    assert bpe("é", add_special_tokens=False)["input_ids"] == [bpe.unk_token_id]


def test_vocab_size_is_read_without_loading_the_tokenizer():
    from resp_dsl.zoo.tokenizer import TOKENIZERS, vocab_size
    from resp_dsl.zoo.tokenizer import build_tokenizer as build

    for kind in TOKENIZERS:
        assert vocab_size(kind) == len(build(kind))


def test_bundled_bpe_file_is_what_the_build_command_learns(tmp_path):
    """`resp-dsl zoo tokenizer bpe1024` reproduces the shipped merges (same generic corpus)."""
    import json

    import pytest

    from resp_dsl.zoo import generic
    from resp_dsl.zoo.tokenizer import bpe_path
    from resp_dsl.zoo_build.bpe import write

    shipped = json.loads(bpe_path("bpe1024").read_text())
    if shipped["resp_dsl"]["generic_corpus_sha256"] != generic.corpus_checksum():
        pytest.skip("this Python's standard-library docstrings differ from the ones the file was learned from")
    out = write("bpe1024", tmp_path / "bpe.json")
    assert out.read_text() == bpe_path("bpe1024").read_text()
    with pytest.raises(SystemExit, match="exists"):
        write("bpe1024", out)
