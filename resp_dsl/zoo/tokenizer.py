"""The character-level tokenizer of the bundled tiny models.

One token per character keeps arithmetic learnable by a model of a few million
parameters. The chat markers are single special tokens, and the chat template
follows Qwen3's, including its thinking switch::

    tok.apply_chat_template([{"role": "user", "content": q}],
                            add_generation_prompt=True, enable_thinking=True,
                            tokenize=False)
    # '<|im_start|>user\\n' + q + '<|im_end|>\\n<|im_start|>assistant\\n'

With ``enable_thinking=False`` the prompt ends with an empty ``<think></think>``
block, as Qwen3's does, and the model answers without a trace.
"""

from __future__ import annotations

import string

PAD = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
THINK = "<think>"
END_THINK = "</think>"
UNK = "<unk>"
SPECIAL_TOKENS = (PAD, IM_START, IM_END, THINK, END_THINK, UNK)

# Printable ASCII without the vertical tab / form feed, plus newline.
CHARACTERS = tuple(dict.fromkeys("\n" + "".join(c for c in string.printable if c not in "\r\x0b\x0c\t")))

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}"
    "{{ '<think></think>' }}"
    "{%- endif -%}"
    "{%- endif -%}"
)


def vocabulary() -> dict[str, int]:
    """Token -> id: the special tokens first, then one id per character."""
    tokens = list(SPECIAL_TOKENS) + list(CHARACTERS)
    return {t: i for i, t in enumerate(tokens)}


def build_tokenizer():
    """Build the tokenizer as a `transformers.PreTrainedTokenizerFast`.

    Characters outside printable ASCII map to ``<unk>``; tabs are expanded by
    callers that feed free text (see `normalize_text`).
    """
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    vocab = vocabulary()
    # BPE without merges over an unsplit input is exactly one token per character.
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNK, fuse_unk=False))
    core.decoder = decoders.Fuse()
    core.add_special_tokens(list(SPECIAL_TOKENS))
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=None,
        eos_token=IM_END,
        pad_token=PAD,
        unk_token=UNK,
        padding_side="left",
        model_max_length=4096,
        clean_up_tokenization_spaces=False,
    )
    tok.chat_template = CHAT_TEMPLATE
    return tok


def normalize_text(text: str) -> str:
    """Map free text onto the tokenizer's alphabet (tabs to spaces, others dropped)."""
    text = text.replace("\t", "    ").replace("\r\n", "\n").replace("\r", "\n")
    allowed = set(CHARACTERS)
    return "".join(c for c in text if c in allowed)
